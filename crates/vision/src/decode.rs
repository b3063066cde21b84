//! Decoding untrusted image bytes with limits, so that a corrupt file or a
//! decompression bomb yields an error rather than a crash or an OOM.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::jpeg_segments::{self, SegmentError};

/// Limits applied before and during decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted width x height, checked from the header before any
    /// pixel is decoded.
    pub max_pixels: u64,
    /// Largest accepted encoded size in bytes.
    pub max_bytes: u64,
}

impl Default for DecodeLimits {
    /// 50 megapixels, 256 MiB of encoded data.
    fn default() -> Self {
        Self {
            max_pixels: 50_000_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Why an image could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be read.
    #[error("cannot read file")]
    Io(#[source] std::io::Error),
    /// No bytes at all.
    #[error("file is empty")]
    Empty,
    /// More encoded bytes than [`DecodeLimits::max_bytes`].
    #[error("encoded size {size} bytes exceeds the limit of {max} bytes")]
    TooManyBytes {
        /// The encoded size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Not one of the formats Melodora decodes.
    #[error("not a supported image (expected JPEG, PNG, BMP, WebP or GIF)")]
    UnknownFormat,
    /// The header declares an image with no pixels.
    #[error("image has zero size ({width}x{height})")]
    ZeroSize {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The header declares more pixels than [`DecodeLimits::max_pixels`];
    /// refused before any pixel memory is allocated.
    #[error("image is {width}x{height} = {pixels} pixels, over the limit of {max} pixels")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Their product.
        pixels: u64,
        /// The limit.
        max: u64,
    },
    /// The data breaks off or contradicts itself.
    #[error("corrupt or truncated {format} data")]
    Corrupt {
        /// The format the header announced (`JPEG`, `PNG`, ...).
        format: &'static str,
        /// The decoder's complaint (or the JPEG segment reader's).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl From<std::io::Error> for DecodeError {
    fn from(e: std::io::Error) -> Self {
        DecodeError::Io(e)
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Bmp => "BMP",
        ImageFormat::WebP => "WebP",
        ImageFormat::Gif => "GIF",
        _ => "image",
    }
}

/// The JPEG decoder fills a cut-off image with gray and reports success; a
/// truncated upload must be an error instead, so the segments are walked
/// to the end-of-image marker first.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), DecodeError> {
    let message = match jpeg_segments::check_complete(bytes) {
        Ok(()) => return Ok(()),
        Err(SegmentError::Truncated) => "the data ends before the end-of-image marker".into(),
        Err(SegmentError::Malformed(what)) => what.to_string(),
        Err(SegmentError::TooLong(max)) => format!("longer than {max} bytes"),
        Err(SegmentError::Io(kind)) => kind.to_string(),
    };
    Err(DecodeError::Corrupt {
        format: "JPEG",
        source: message.into(),
    })
}

/// Decodes an in-memory image, enforcing `limits`.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(DecodeError::TooManyBytes {
            size: bytes.len() as u64,
            max: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::UnknownFormat)?;
    if !matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::Bmp
            | ImageFormat::WebP
            | ImageFormat::Gif
    ) {
        return Err(DecodeError::UnknownFormat);
    }
    // The image crate's messages already end with their cause, so the
    // message is kept and its chain dropped: shown once, not twice.
    let corrupt = |e: image::ImageError| DecodeError::Corrupt {
        format: format_name(format),
        source: e.to_string().into(),
    };
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes)?;
    }
    // Some decoders reject a 0-pixel side with a misleading message (BMP:
    // "dimensions ... are too large"), so look at the BMP header first.
    if let Some((width, height)) = bmp_header_size(format, bytes) {
        if width == 0 || height == 0 {
            return Err(DecodeError::ZeroSize { width, height });
        }
    }
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    let (width, height) = reader().into_dimensions().map_err(corrupt)?;
    if width == 0 || height == 0 {
        return Err(DecodeError::ZeroSize { width, height });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            pixels,
            max: limits.max_pixels,
        });
    }
    let mut reader = reader();
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(width);
    decode_limits.max_image_height = Some(height);
    // Room for the decoded image at 16-bit RGBA plus decoder scratch.
    decode_limits.max_alloc = Some(pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(decode_limits);
    reader.decode().map_err(corrupt)
}

/// Width and height from a BMP's DIB header (core or info), if present.
fn bmp_header_size(format: ImageFormat, bytes: &[u8]) -> Option<(u32, u32)> {
    if format != ImageFormat::Bmp {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let i32_at = |o: usize| Some(i32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
    let header_size = i32_at(14)?;
    if header_size == 12 {
        Some((u32::from(u16_at(18)?), u32::from(u16_at(20)?)))
    } else {
        // Height is negative for top-down bitmaps.
        Some((i32_at(18)?.unsigned_abs(), i32_at(22)?.unsigned_abs()))
    }
}

/// Reads and decodes an image file, enforcing `limits`.
pub fn load_image(path: &Path, limits: &DecodeLimits) -> Result<DynamicImage, DecodeError> {
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_bytes {
        return Err(DecodeError::TooManyBytes {
            size,
            max: limits.max_bytes,
        });
    }
    let bytes = melodora_core::read_at_most(path, limits.max_bytes)?;
    decode_image(&bytes, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(w: u32, h: u32) -> Vec<u8> {
        let img = image::GrayImage::from_pixel(w, h, image::Luma([128]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_a_png() {
        let img = decode_image(&png_bytes(5, 4), &DecodeLimits::default()).unwrap();
        assert_eq!((img.width(), img.height()), (5, 4));
    }

    #[test]
    fn rejects_empty_and_unknown_bytes() {
        let limits = DecodeLimits::default();
        assert!(matches!(
            decode_image(&[], &limits),
            Err(DecodeError::Empty)
        ));
        assert!(matches!(
            decode_image(b"hello, this is not an image", &limits),
            Err(DecodeError::UnknownFormat)
        ));
    }

    #[test]
    fn rejects_truncated_png() {
        let bytes = png_bytes(64, 64);
        let err = decode_image(&bytes[..bytes.len() / 2], &DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Corrupt { format: "PNG", .. }),
            "{err}"
        );
    }

    #[test]
    fn enforces_pixel_limit_from_header() {
        let limits = DecodeLimits {
            max_pixels: 100,
            ..DecodeLimits::default()
        };
        let err = decode_image(&png_bytes(20, 20), &limits).unwrap_err();
        assert!(
            matches!(err, DecodeError::TooManyPixels { pixels: 400, .. }),
            "{err}"
        );
    }

    #[test]
    fn enforces_byte_limit() {
        let limits = DecodeLimits {
            max_bytes: 10,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_image(&png_bytes(4, 4), &limits),
            Err(DecodeError::TooManyBytes { .. })
        ));
    }
}
