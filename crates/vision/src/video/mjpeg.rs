//! Motion JPEG: JPEG images one after another. Each image is delimited by
//! walking its marker segments ([`crate::jpeg_segments`]), then decoded with
//! the same limits as any untrusted image.

use std::io::BufRead;

use super::{read_full, VideoError, VideoFrame, MAX_MJPEG_FRAME_BYTES, MAX_VIDEO_PIXELS};
use crate::decode::{decode_image, DecodeLimits};
use crate::jpeg_segments::{self, SegmentError};
use crate::GrayImage;

/// Bytes skipped between images (padding some cameras add) before giving up.
const MAX_GAP_BYTES: usize = 1024 * 1024;

/// Frames of a Motion JPEG stream.
pub struct MjpegReader<R> {
    reader: R,
    frames_read: u64,
    jpeg: Vec<u8>,
}

impl<R: BufRead> MjpegReader<R> {
    /// A reader of the concatenated JPEGs in `reader`.
    pub fn new(reader: R) -> MjpegReader<R> {
        MjpegReader {
            reader,
            frames_read: 0,
            jpeg: Vec::new(),
        }
    }

    /// The next frame's JPEG bytes, or `None` at the end of the stream.
    pub fn next_jpeg(&mut self) -> Result<Option<&[u8]>, VideoError> {
        let frame = self.frames_read + 1;
        self.jpeg.clear();
        if !self.find_start(frame)? {
            return Ok(None);
        }
        jpeg_segments::copy_image(&mut self.reader, &mut self.jpeg, MAX_MJPEG_FRAME_BYTES)
            .map_err(|error| match error {
                SegmentError::Truncated => VideoError::Truncated { frame },
                SegmentError::Malformed(message) => VideoError::BadFrame {
                    frame,
                    message: message.into(),
                },
                SegmentError::TooLong(max) => VideoError::BadFrame {
                    frame,
                    message: format!("JPEG image over {max} bytes"),
                },
                SegmentError::Io(kind) => VideoError::Io(kind.into()),
            })?;
        self.frames_read = frame;
        Ok(Some(&self.jpeg))
    }

    /// The next decoded frame, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<VideoFrame>, VideoError> {
        let frame = self.frames_read + 1;
        let Some(jpeg) = self.next_jpeg()? else {
            return Ok(None);
        };
        let limits = DecodeLimits {
            max_pixels: MAX_VIDEO_PIXELS,
            max_bytes: MAX_MJPEG_FRAME_BYTES as u64,
        };
        let image =
            decode_image(jpeg, &limits).map_err(|error| VideoError::Decode { frame, error })?;
        Ok(Some(VideoFrame {
            gray: GrayImage::from_dynamic(&image),
            rgb: image.into_rgb8(),
        }))
    }

    /// Skips to the next start-of-image marker and consumes it; `false` at
    /// the end of the stream.
    fn find_start(&mut self, frame: u64) -> Result<bool, VideoError> {
        let mut skipped = 0usize;
        let mut previous_ff = false;
        loop {
            let mut byte = [0u8];
            if !read_full(&mut self.reader, &mut byte)? {
                return Ok(false);
            }
            match (previous_ff, byte[0]) {
                (true, 0xD8) => {
                    self.jpeg.extend_from_slice(&[0xFF, 0xD8]);
                    return Ok(true);
                }
                (_, b) => previous_ff = b == 0xFF,
            }
            skipped += 1;
            if skipped > MAX_GAP_BYTES {
                return Err(VideoError::BadFrame {
                    frame,
                    message: format!("no JPEG image in the next {MAX_GAP_BYTES} bytes"),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, RgbImage};
    use std::io::Cursor;

    fn jpeg(width: u32, height: u32, shade: u8) -> Vec<u8> {
        let img = RgbImage::from_pixel(width, height, image::Rgb([shade, shade, shade]));
        let mut bytes = Cursor::new(Vec::new());
        img.write_to(&mut bytes, ImageFormat::Jpeg).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn splits_concatenated_jpegs() {
        let (a, b) = (jpeg(32, 24, 40), jpeg(16, 16, 200));
        let stream = [a.clone(), b"\r\npadding\r\n".to_vec(), b.clone()].concat();
        let mut reader = MjpegReader::new(&stream[..]);
        assert_eq!(reader.next_jpeg().unwrap().unwrap(), &a[..]);
        assert_eq!(reader.next_jpeg().unwrap().unwrap(), &b[..]);
        assert!(reader.next_jpeg().unwrap().is_none());

        let mut reader = MjpegReader::new(&stream[..]);
        let first = reader.next_frame().unwrap().unwrap();
        assert_eq!((first.gray.width(), first.gray.height()), (32, 24));
        assert!(first.gray.pixels().iter().all(|&p| p.abs_diff(40) <= 2));
        assert_eq!(reader.next_frame().unwrap().unwrap().rgb.width(), 16);
    }

    #[test]
    fn truncated_and_corrupt_images_are_errors() {
        let a = jpeg(32, 32, 10);
        let cut = &a[..a.len() / 2];
        assert!(matches!(
            MjpegReader::new(cut).next_frame(),
            Err(VideoError::Truncated { frame: 1 })
        ));
        let stream = [a.clone(), a.clone()].concat();
        let cut = &stream[..a.len() + 40];
        let mut reader = MjpegReader::new(cut);
        assert!(reader.next_frame().unwrap().is_some());
        assert!(matches!(
            reader.next_frame(),
            Err(VideoError::Truncated { frame: 2 })
        ));
        // Valid framing around undecodable data.
        let bogus = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9];
        assert!(matches!(
            MjpegReader::new(&bogus[..]).next_frame(),
            Err(VideoError::Decode { frame: 1, .. })
        ));
        let no_marker = [0xFF, 0xD8, 0x12, 0x34];
        assert!(MjpegReader::new(&no_marker[..]).next_frame().is_err());
    }
}
