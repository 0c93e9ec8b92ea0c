//! Photo intake: sniff the bytes (never trust the name), bound size and pixel count before
//! decoding (decompression bombs), decode for real, make a thumbnail, and keep both files in
//! one storage interface.

pub mod storage;

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
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty_file",
            Self::TooLarge(_) => "file_too_large",
            Self::NotImage => "not_an_image",
            Self::Unsupported(_) => "unsupported_image",
            Self::TooManyPixels(..) => "image_too_large",
            Self::Corrupt => "corrupt_image",
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
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgb8();
    let mut thumbnail = Vec::new();
    JpegEncoder::new_with_quality(&mut thumbnail, 80).encode_image(&thumb).map_err(|_| MediaError::Corrupt)?;
    Ok(Processed {
        content_type,
        extension,
        width,
        height,
        original: bytes.to_vec(),
        thumbnail,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// A complete JPEG has its end-of-image marker after the last start-of-scan (markers cannot occur
/// inside entropy-coded data, where 0xFF is always stuffed).
fn jpeg_complete(b: &[u8]) -> bool {
    let sos = b.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let eoi = b.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((sos, eoi), (Some(s), Some(e)) if e > s)
}

#[cfg(test)]
mod tests {
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
    }

    #[test]
    fn non_images_and_broken_images_are_refused() {
        let err = |b: &[u8]| intake(b).err().expect("refused");
        assert_eq!(err(b""), MediaError::Empty);
        assert_eq!(err(b"just some text, named photo.jpg"), MediaError::NotImage);
        let mut cut = jpeg(400, 300);
        cut.truncate(cut.len() / 3);
        assert_eq!(err(&cut), MediaError::Corrupt);
        assert_eq!(err(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").code(), "unsupported_image");
    }
}
