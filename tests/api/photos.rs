use crate::both;
use crate::helpers::*;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageBuffer, Rgb};
use reqwest::StatusCode;

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| Rgb([(x % 251) as u8, (y % 241) as u8, 120]));
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85).encode_image(&img).unwrap();
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A tiny PNG whose header claims 30000×30000 pixels: a decompression bomb if decoded.
pub fn png_bomb() -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        c.extend_from_slice(&body);
        c.extend_from_slice(&crc32(&body).to_be_bytes());
        c
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

async fn upload(b: &Browser, point: &str, bytes: Vec<u8>, name: &str) -> (StatusCode, String) {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", b.csrf.clone())
        .part("photo", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let res = b.client.post(format!("{}/points/{point}/photos", b.base)).multipart(form).send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

both!(a_unit_photographs_its_point_and_bad_files_are_refused, |app: TestApp| async move {
    let b = app.login("bank").await;
    let point =
        app.id_of("SELECT p.id FROM points p JOIN users u ON u.unit_id = p.unit_id WHERE u.username = 'bank'").await;
    let before = app.scalar("SELECT COUNT(*) FROM photos").await;
    for (bytes, name, status, message) in [
        (b"this is a text file".to_vec(), "photo.jpg", StatusCode::UNPROCESSABLE_ENTITY, "上传的文件不是图片"),
        (png_bomb(), "bomb.png", StatusCode::UNPROCESSABLE_ENTITY, "图片尺寸30000×30000过大"),
        (jpeg(600, 400)[..3000].to_vec(), "cut.jpg", StatusCode::UNPROCESSABLE_ENTITY, "图片已损坏或不完整"),
        (
            vec![0xFFu8; 30 * 1024 * 1024],
            "huge.jpg",
            StatusCode::UNPROCESSABLE_ENTITY,
            "照片不能超过20MB（本文件约30MB）",
        ),
    ] {
        let (s, html) = upload(&b, &point, bytes, name).await;
        assert_eq!(s, status, "{name}");
        assert!(html.contains(message), "{name}: {message}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM photos").await, before, "nothing saved");
    let original = jpeg(1600, 1200);
    let (status, _) = upload(&b, &point, original.clone(), "大堂.jpg").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "saved, back to the point page");
    let id = app.id_of(&format!("SELECT id FROM photos WHERE owner_id = '{point}'")).await;
    let (_, html) = b.get(&format!("/points/{point}")).await;
    assert!(html.contains(&format!("/photos/{id}/thumb")) && html.contains("1600×1200"));
    let res = b.get_raw(&format!("/photos/{id}")).await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().to_vec(), original, "the original is kept byte for byte");
    let thumb = b.get_raw(&format!("/photos/{id}/thumb")).await.bytes().await.unwrap();
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (480, 360));
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_type = 'photo' AND object_id = '{id}'")).await,
        1
    );
    // Another unit can neither see nor add photos here.
    let other = app.login("unit").await;
    assert_eq!(other.get(&format!("/photos/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(upload(&other, &point, jpeg(100, 100), "x.jpg").await.0, StatusCode::NOT_FOUND);
    let (status, _, _) = b.post(&format!("/photos/{id}/delete"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM photos").await, before);
});
