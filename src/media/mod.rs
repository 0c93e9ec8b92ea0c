//! Photo intake: sniff the bytes (never trust the name), bound size and pixel count before
//! decoding (decompression bombs), decode for real, make a thumbnail, and keep both files in
//! one storage interface.

pub mod evidence;
pub mod storage;

use crate::error::Code;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use std::io::Cursor;

pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// 50 megapixels: more than any phone camera, far less than a bomb.
pub const MAX_PIXELS: u64 = 50_000_000;
const MAX_SIDE: u32 = 16_000;
const THUMB_SIDE: u32 = 480;

#[derive(Debug, PartialEq, Eq)]
pub enum MediaError {
    Empty,
    TooLarge(usize),
    NotImage,
    Unsupported(String),
    TooManyPixels(u32, u32),
    Corrupt,
}

impl MediaError {
    pub fn code(&self) -> Code {
        match self {
            Self::Empty => Code::EmptyFile,
            Self::TooLarge(_) => Code::FileTooLarge,
            Self::NotImage => Code::NotAnImage,
            Self::Unsupported(_) => Code::UnsupportedImage,
            Self::TooManyPixels(..) => Code::ImageTooLarge,
            Self::Corrupt => Code::CorruptImage,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Empty => "上传的文件是空的".into(),
            Self::TooLarge(n) => format!("照片不能超过20MB（本文件约{}MB）", n / 1024 / 1024),
            Self::NotImage => "上传的文件不是图片，请上传JPEG、PNG或WebP格式的照片".into(),
            Self::Unsupported(f) => format!("不支持{f}格式，请上传JPEG、PNG或WebP格式的照片"),
            Self::TooManyPixels(w, h) => format!("图片尺寸{w}×{h}过大（上限5000万像素），可能是异常文件"),
            Self::Corrupt => "图片已损坏或不完整，无法读取".into(),
        }
    }
}

/// A checked photo, ready to store.
pub struct Processed {
    /// 64-bit difference hash: near-identical pictures differ in few bits
    pub phash: u64,
    /// The four perceptual hashes the platform-wide re-use search compares (of the thumbnail)
    pub signature: evidence::Signature,
    /// EXIF DateTimeOriginal, read as Beijing time unless the photo says otherwise
    pub taken_at: Option<i64>,
    /// EXIF GPS position (WGS-84)
    pub gps: Option<(f64, f64)>,
    pub content_type: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
    pub original: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub sha256: String,
}

/// Checks and decodes a photo (CPU-bound: call it off the async threads).
pub fn intake(bytes: &[u8]) -> Result<Processed, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(MediaError::TooLarge(bytes.len()));
    }
    let format = image::guess_format(bytes).map_err(|_| MediaError::NotImage)?;
    let (content_type, extension) = match format {
        ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        ImageFormat::Png => ("image/png", "png"),
        ImageFormat::WebP => ("image/webp", "webp"),
        other => return Err(MediaError::Unsupported(format!("{other:?}"))),
    };
    // JPEG decoders pad a cut-off file with grey; a half-uploaded photo must be refused instead.
    if format == ImageFormat::Jpeg && !jpeg_complete(bytes) {
        return Err(MediaError::Corrupt);
    }
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|_| MediaError::Corrupt)?;
    if width as u64 * height as u64 > MAX_PIXELS || width > MAX_SIDE || height > MAX_SIDE {
        return Err(MediaError::TooManyPixels(width, height));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| MediaError::Corrupt)?;
    let phash = dhash(&img);
    let (taken_at, gps) = exif_evidence(bytes);
    // A thumbnail is never larger than the photo (`thumbnail` would scale a small one up).
    let thumb = if img.width() <= THUMB_SIDE && img.height() <= THUMB_SIDE {
        img.to_rgb8()
    } else {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgb8()
    };
    let mut thumbnail = Vec::new();
    JpegEncoder::new_with_quality(&mut thumbnail, 80).encode_image(&thumb).map_err(|_| MediaError::Corrupt)?;
    let signature = evidence::Signature::of(&image::DynamicImage::ImageRgb8(thumb));
    Ok(Processed {
        phash,
        signature,
        taken_at,
        gps,
        content_type,
        extension,
        width,
        height,
        original: bytes.to_vec(),
        thumbnail,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// Difference hash: shrink to 9×8 grey pixels and record whether each is darker than its right
/// neighbour. Re-encoded, resized or slightly cropped copies stay within a few bits.
pub fn dhash(img: &image::DynamicImage) -> u64 {
    let small = img.resize_exact(9, 8, image::imageops::FilterType::Triangle).to_luma8();
    let mut h = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            h = (h << 1) | (small.get_pixel(x, y)[0] < small.get_pixel(x + 1, y)[0]) as u64;
        }
    }
    h
}

/// Bits that differ between two hashes; 0-6 means the same picture.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

pub const SAME_PICTURE: u32 = 6;

fn exif_evidence(bytes: &[u8]) -> (Option<i64>, Option<(f64, f64)>) {
    use exif::{In, Tag, Value};
    // Phones and apps often write one malformed field; the rest of the block still counts.
    let read = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(bytes))
        .or_else(|e| e.distill_partial_result(|errors| tracing::debug!(?errors, "EXIF fields skipped")));
    let Ok(exif) = read else {
        return (None, None);
    };
    let text = |tag: Tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) => v.first().map(|b| String::from_utf8_lossy(b).trim().to_string()),
        _ => None,
    };
    let taken_at = text(Tag::DateTimeOriginal).and_then(|s| {
        let naive = chrono::NaiveDateTime::parse_from_str(&s, "%Y:%m:%d %H:%M:%S").ok()?;
        let offset = text(Tag::OffsetTimeOriginal)
            .and_then(|o| {
                chrono::DateTime::parse_from_str(&format!("2000-01-01T00:00:00{o}"), "%Y-%m-%dT%H:%M:%S%:z").ok()
            })
            .map(|d| *d.offset())
            .unwrap_or_else(crate::domain::time::shanghai);
        use chrono::TimeZone;
        offset.from_local_datetime(&naive).single().map(|d| d.timestamp_millis())
    });
    let degrees = |tag: Tag, reference: Tag, negative: &str| -> Option<f64> {
        let Some(Value::Rational(r)) = exif.get_field(tag, In::PRIMARY).map(|f| &f.value) else { return None };
        if r.len() < 3 || r.iter().any(|x| x.denom == 0) {
            return None;
        }
        let v = r[0].to_f64() + r[1].to_f64() / 60.0 + r[2].to_f64() / 3600.0;
        Some(if text(reference).as_deref() == Some(negative) { -v } else { v })
    };
    let gps =
        degrees(Tag::GPSLongitude, Tag::GPSLongitudeRef, "W").zip(degrees(Tag::GPSLatitude, Tag::GPSLatitudeRef, "S"));
    (taken_at, gps)
}

/// A JPEG with an EXIF block as a phone camera writes one: the capture time (`taken`, local
/// "YYYY:MM:DD HH:MM:SS") and, when given, the GPS position (lng, lat; WGS-84, north and east).
/// The demo's camera, and the tests' phones.
pub fn with_exif(jpeg: &[u8], taken: &str, at: Option<(f64, f64)>) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let dms = |v: f64| {
        let v = v.abs();
        let d = v.floor();
        let m = ((v - d) * 60.0).floor();
        let s = ((v - d) * 3600.0 - m * 60.0) * 1000.0;
        Value::Rational(vec![
            Rational { num: d as u32, denom: 1 },
            Rational { num: m as u32, denom: 1 },
            Rational { num: s.round() as u32, denom: 1000 },
        ])
    };
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let mut fields = vec![Field { tag: Tag::DateTimeOriginal, ifd_num: In::PRIMARY, value: ascii(taken) }];
    if let Some((lng, lat)) = at {
        fields.extend([
            Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: ascii("N") },
            Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: dms(lat) },
            Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: ascii("E") },
            Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: dms(lng) },
        ]);
    }
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    if w.write(&mut tiff, false).is_err() || jpeg.len() < 2 {
        return jpeg.to_vec();
    }
    let tiff = tiff.into_inner();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A complete JPEG has its end-of-image marker after the last start-of-scan (markers cannot occur
/// inside entropy-coded data, where 0xFF is always stuffed).
fn jpeg_complete(b: &[u8]) -> bool {
    let sos = b.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let eoi = b.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((sos, eoi), (Some(s), Some(e)) if e > s)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 85).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn a_photo_is_decoded_and_thumbnailed() {
        let p = intake(&jpeg(1200, 800)).unwrap();
        assert_eq!((p.content_type, p.width, p.height), ("image/jpeg", 1200, 800));
        let t = image::load_from_memory(&p.thumbnail).unwrap();
        assert_eq!((t.width(), t.height()), (480, 320));
        let small = intake(&jpeg(320, 240)).unwrap();
        let t = image::load_from_memory(&small.thumbnail).unwrap();
        assert_eq!((t.width(), t.height()), (320, 240), "a small photo is not scaled up");
    }

    /// A JPEG with an EXIF block (time and GPS), as phones write it.
    pub fn jpeg_with_exif(taken: &str, lng: f64, lat: f64) -> Vec<u8> {
        with_exif(&jpeg(320, 240), taken, Some((lng, lat)))
    }

    #[test]
    fn exif_time_and_position_are_read() {
        let p = intake(&jpeg_with_exif("2026:11:23 07:05:00", 116.8386, 38.3037)).unwrap();
        assert_eq!(p.taken_at.map(crate::domain::time::fmt_local).as_deref(), Some("2026-11-23 07:05:00"));
        let (lng, lat) = p.gps.unwrap();
        assert!((lng - 116.8386).abs() < 1e-5 && (lat - 38.3037).abs() < 1e-5, "{lng} {lat}");
        assert_eq!(intake(&jpeg(100, 100)).unwrap().taken_at, None);
    }

    #[test]
    fn copies_hash_close_and_different_pictures_far() {
        let a = intake(&jpeg(1200, 900)).unwrap();
        let img =
            image::load_from_memory(&jpeg(1200, 900)).unwrap().resize(600, 450, image::imageops::FilterType::Triangle);
        let mut smaller = Vec::new();
        JpegEncoder::new_with_quality(&mut smaller, 60).encode_image(&img.to_rgb8()).unwrap();
        let b = intake(&smaller).unwrap();
        assert!(distance(a.phash, b.phash) <= SAME_PICTURE, "a resized re-encode is the same picture");
        let other =
            ImageBuffer::from_fn(1200, 900, |x, y| Rgb([((x * y) % 256) as u8, 255 - (x % 256) as u8, (y % 97) as u8]));
        let mut other_bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut other_bytes, 85).encode_image(&other).unwrap();
        assert!(distance(a.phash, intake(&other_bytes).unwrap().phash) > SAME_PICTURE);
    }

    #[test]
    fn non_images_and_broken_images_are_refused() {
        let err = |b: &[u8]| intake(b).err().expect("refused");
        assert_eq!(err(b""), MediaError::Empty);
        assert_eq!(err(b"just some text, named photo.jpg"), MediaError::NotImage);
        let mut cut = jpeg(400, 300);
        cut.truncate(cut.len() / 3);
        assert_eq!(err(&cut), MediaError::Corrupt);
        assert_eq!(err(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").code(), Code::UnsupportedImage);
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

        /// Byte mutations of a real photo (EXIF block included): each is taken or refused with
        /// a catalogued reason; the decoder never panics.
        #[test]
        fn mutated_photos_are_taken_or_refused(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..24)) {
            let mut bytes = tests::jpeg_with_exif("2026:11:23 07:05:00", 116.8386, 38.3037);
            let n = bytes.len();
            for (i, v) in flips {
                bytes[i % n] = v;
            }
            match intake(&bytes) {
                Ok(p) => prop_assert!(p.width > 0 && !p.thumbnail.is_empty()),
                Err(e) => prop_assert!(!e.message().is_empty()),
            }
        }
    }
}

/// What a material submission may contain: PDF, Word, Excel and images, recognised by their
/// bytes (never by the name alone), each at most `MAX_BYTES`. Returns the kind's label (PDF,
/// Word, Excel, 图片) or the Chinese reason. CPU-bound for zips: call it off the async threads.
/// The content type of a document that `document_kind` accepted, by its extension (the bytes
/// were checked against it on upload).
pub fn document_content_type(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

pub fn document_kind(name: &str, bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.is_empty() {
        return Err(format!("“{name}”是空文件"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(format!("“{name}”超过20MB（约{}MB），请压缩或拆分后上传", bytes.len() / 1024 / 1024));
    }
    let lower = name.to_lowercase();
    if bytes.starts_with(b"%PDF-") {
        return Ok("PDF");
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return if lower.ends_with(".doc") {
            Ok("Word")
        } else if lower.ends_with(".xls") {
            Ok("Excel")
        } else {
            Err(format!("“{name}”不是可识别的Word或Excel文件"))
        };
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| format!("“{name}”已损坏，无法打开"))?;
        if zip.len() > 5_000 {
            return Err(format!("“{name}”结构异常（条目过多）"));
        }
        let has = |n: &str| zip.file_names().any(|f| f == n);
        return if has("word/document.xml") {
            Ok("Word")
        } else if has("xl/workbook.xml") {
            Ok("Excel")
        } else {
            Err(format!("“{name}”不是Word或Excel文件（压缩包请解压后上传）"))
        };
    }
    let format = image::guess_format(bytes).ok();
    if matches!(format, Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) {
        let reader = ImageReader::with_format(Cursor::new(bytes), format.expect("matched"));
        let (w, h) = reader.into_dimensions().map_err(|_| format!("“{name}”图片已损坏"))?;
        if u64::from(w) * u64::from(h) > MAX_PIXELS {
            return Err(format!("“{name}”图片尺寸{w}×{h}过大"));
        }
        return Ok("图片");
    }
    Err(format!("“{name}”的类型不受支持，请上传PDF、Word、Excel或JPEG/PNG图片"))
}
