//! Where a JPEG image ends, found by walking its marker segments rather than
//! by searching for the end marker (which also occurs inside embedded
//! thumbnails). Motion JPEG uses it to split a stream into images; still
//! images use it to tell a complete JPEG from a cut-off one, which lenient
//! decoders would otherwise fill with gray and call decoded.

use std::io::{ErrorKind, Read};

/// Why a JPEG's segments do not reach an end-of-image marker.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SegmentError {
    /// The data ends inside the image.
    Truncated,
    /// The structure is wrong; the message says how.
    Malformed(&'static str),
    /// The image is longer than the caller's limit (in bytes).
    TooLong(usize),
    /// Reading failed.
    Io(ErrorKind),
}

/// Copies one JPEG image from `reader`, which is positioned just after its
/// start-of-image marker, into `out` up to and including its end-of-image
/// marker; at most `max_bytes` go into `out` in all.
pub(crate) fn copy_image<R: Read>(
    reader: &mut R,
    out: &mut Vec<u8>,
    max_bytes: usize,
) -> Result<(), SegmentError> {
    Walker {
        reader,
        out,
        max_bytes,
    }
    .copy_segments()
}

/// Checks that `jpeg` (a whole file, start marker included) reaches its
/// end-of-image marker.
pub(crate) fn check_complete(jpeg: &[u8]) -> Result<(), SegmentError> {
    let Some(after_start) = jpeg.strip_prefix(&[0xFF, 0xD8]) else {
        return Err(SegmentError::Malformed("no start-of-image marker"));
    };
    let mut out = Vec::with_capacity(jpeg.len());
    copy_image(&mut &after_start[..], &mut out, jpeg.len())
}

struct Walker<'a, R> {
    reader: &'a mut R,
    out: &'a mut Vec<u8>,
    max_bytes: usize,
}

impl<R: Read> Walker<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<(), SegmentError> {
        match self.reader.read_exact(buf) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(SegmentError::Truncated),
            Err(e) => return Err(SegmentError::Io(e.kind())),
        }
        if self.out.len() + buf.len() > self.max_bytes {
            return Err(SegmentError::TooLong(self.max_bytes));
        }
        self.out.extend_from_slice(buf);
        Ok(())
    }

    fn byte(&mut self) -> Result<u8, SegmentError> {
        let mut byte = [0u8];
        self.read(&mut byte)?;
        Ok(byte[0])
    }

    /// Marker segments until end of image; after each start of scan, the
    /// entropy-coded data up to the next marker.
    fn copy_segments(&mut self) -> Result<(), SegmentError> {
        let mut marker = self.next_marker()?;
        loop {
            match marker {
                0xD9 => return Ok(()),
                0xD8 => return Err(SegmentError::Malformed("start of image inside an image")),
                0x01 | 0xD0..=0xD7 => marker = self.next_marker()?,
                _ => {
                    let length = usize::from(u16::from_be_bytes([self.byte()?, self.byte()?]));
                    if length < 2 {
                        return Err(SegmentError::Malformed(
                            "marker segment shorter than its length field",
                        ));
                    }
                    let mut payload = vec![0u8; length - 2];
                    self.read(&mut payload)?;
                    marker = if marker == 0xDA {
                        self.skip_scan()?
                    } else {
                        self.next_marker()?
                    };
                }
            }
        }
    }

    /// The next marker code, allowing fill bytes (0xFF) before it.
    fn next_marker(&mut self) -> Result<u8, SegmentError> {
        if self.byte()? != 0xFF {
            return Err(SegmentError::Malformed("expected a JPEG marker"));
        }
        loop {
            match self.byte()? {
                0xFF => continue,
                0x00 => return Err(SegmentError::Malformed("expected a JPEG marker")),
                code => return Ok(code),
            }
        }
    }

    /// Entropy-coded data: 0xFF 0x00 is a data byte, 0xFF 0xD0..=0xD7 a
    /// restart; any other 0xFF xx is the marker that ends the scan.
    fn skip_scan(&mut self) -> Result<u8, SegmentError> {
        loop {
            if self.byte()? != 0xFF {
                continue;
            }
            let mut code = self.byte()?;
            while code == 0xFF {
                code = self.byte()?;
            }
            match code {
                0x00 | 0xD0..=0xD7 => continue,
                marker => return Ok(marker),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        let img = image::GrayImage::from_pixel(16, 16, image::Luma([90]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, image::ImageFormat::Jpeg).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn a_whole_jpeg_is_complete_and_every_cut_is_not() {
        let whole = jpeg();
        assert_eq!(check_complete(&whole), Ok(()));
        for cut in [3, whole.len() / 2, whole.len() - 1] {
            assert_eq!(
                check_complete(&whole[..cut]),
                Err(SegmentError::Truncated),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_end_marker_inside_a_segment_does_not_end_the_image() {
        let whole = jpeg();
        // A comment segment holding FF D9, as an embedded thumbnail would.
        let comment = [0xFF, 0xFE, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD9];
        let with_comment = [&whole[..2], &comment[..], &whole[2..]].concat();
        assert_eq!(check_complete(&with_comment), Ok(()));
        let cut = &with_comment[..2 + comment.len() + 10];
        assert_eq!(check_complete(cut), Err(SegmentError::Truncated));
    }

    #[test]
    fn a_copy_stops_at_its_limit() {
        let whole = jpeg();
        let mut out = Vec::new();
        let result = copy_image(&mut &whole[2..], &mut out, 10);
        assert_eq!(result, Err(SegmentError::TooLong(10)));
        assert!(out.len() <= 10);
    }
}
