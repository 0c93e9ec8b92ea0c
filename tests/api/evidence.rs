//! Evidence checks on after-photos (EXIF time and place, re-used photos).

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A JPEG carrying EXIF capture time and GPS, as a phone camera writes it.
pub fn jpeg_with_exif(seed: u8, taken: &str, lng: f64, lat: f64) -> String {
    use exif::{Field, In, Rational, Tag, Value};
    let dms = |v: f64| {
        let d = v.floor();
        let m = ((v - d) * 60.0).floor();
        let s = ((v - d) * 3600.0 - m * 60.0) * 1000.0;
        Value::Rational(vec![
            Rational { num: d as u32, denom: 1 },
            Rational { num: m as u32, denom: 1 },
            Rational { num: s.round() as u32, denom: 1000 },
        ])
    };
    let fields = [
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![taken.as_bytes().to_vec()]),
        },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: dms(lat) },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
        Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: dms(lng) },
    ];
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let body = jpeg_bytes(seed);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&body[2..]);
    base64::engine::general_purpose::STANDARD.encode(out)
}

pub fn flags_of(d: &Value) -> Vec<String> {
    d["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "after")
        .flat_map(|p| p["flags"].as_array().unwrap().clone())
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

both!(suspicious_after_photos_are_flagged_for_the_recheck, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let (plng, plat): (f64, f64) = sqlx::query_as(&format!("SELECT lng, lat FROM points WHERE id = '{point}'"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let before = photo(21);
    let submit = |id: String, after: String| {
        let lead = &lead;
        async move {
            lead.act_ok(&id, "acknowledge", json!({})).await;
            let (status, _) = lead.act(&id, "submit_fix", json!({"note": "已整改", "photos": [after]})).await;
            assert_eq!(status, StatusCode::OK);
            id
        }
    };
    // 1. The before-photo sent back as the after-photo.
    let (status, p1) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": "一", "source": "supervision", "photos": [before.clone()]})).await;
    assert_eq!(status, StatusCode::CREATED, "{p1}");
    let id1 = submit(p1["id"].as_str().unwrap().to_string(), before.clone()).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id1}")).await;
    let f = flags_of(&d);
    assert!(f.iter().any(|x| x.contains("与整改前照片几乎相同")), "{f:?}");
    assert!(f.iter().any(|x| x.contains("没有拍摄时间信息")));
    // 2. Another problem at the same point re-uses that photo as its after-photo.
    let p2 = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "二", "source": "supervision", "allow_duplicate": true, "photos": [photo(50)]})).await;
    let code1 = p1["code"].as_str().unwrap().to_string();
    let id2 = submit(p2["id"].as_str().unwrap().to_string(), before.clone()).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id2}")).await;
    assert!(flags_of(&d).iter().any(|x| x.contains(&code1)), "{:?}", flags_of(&d));
    // 3. A genuine-looking photo taken before the problem was found, 2 km away.
    let p3 = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "三", "source": "supervision", "allow_duplicate": true, "photos": [photo(60)]})).await;
    let id3 =
        submit(p3["id"].as_str().unwrap().to_string(), jpeg_with_exif(33, "2026:01:05 09:00:00", plng + 0.02, plat))
            .await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id3}")).await;
    let f = flags_of(&d);
    assert!(f.iter().any(|x| x.contains("早于问题发现时间")), "{f:?}");
    assert!(f.iter().any(|x| x.contains("拍摄位置距点位约")), "{f:?}");
    assert!(!f.iter().any(|x| x.contains("几乎相同") || x.contains("相同或高度相似")), "{f:?}");
    // 4. A fresh photo taken at the point after the problem was found raises nothing.
    let p4 = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "四", "source": "supervision", "allow_duplicate": true, "photos": [photo(70)]})).await;
    let now = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms() + 60_000)
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let id4 = submit(p4["id"].as_str().unwrap().to_string(), jpeg_with_exif(34, &now, plng, plat)).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id4}")).await;
    assert_eq!(flags_of(&d), Vec::<String>::new());
    // The supervisor sees the warnings on the page at the re-check.
    let b = app.login("supervisor").await;
    let (_, html) = b.get(&format!("/problems/{id1}")).await;
    assert!(html.contains("⚠ 与整改前照片几乎相同") && html.contains("核查通过"));
});
