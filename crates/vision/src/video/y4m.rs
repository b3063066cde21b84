//! YUV4MPEG2: a text header (`YUV4MPEG2 W640 H480 F30:1 C420jpeg ...`), then
//! per frame a `FRAME` line and raw 8-bit planes Y, U, V.
//!
//! Supported: 8-bit 4:2:0 (all siting variants), 4:2:2, 4:4:4 and mono.
//! Interlacing flags are accepted and frames read as progressive pictures.
//! Samples are full range (as in JPEG) unless the header carries ffmpeg's
//! `XCOLORRANGE=LIMITED`.

use std::io::{BufRead, Read};

use image::RgbImage;

use super::{read_full, VideoError, VideoFrame, MAX_VIDEO_PIXELS};
use crate::GrayImage;

pub(super) const MAGIC: &[u8] = b"YUV4MPEG2";
const MAX_HEADER_BYTES: u64 = 4096;

/// Chroma subsampling of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chroma {
    C420,
    C422,
    C444,
    Mono,
}

/// What the stream header declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Y4mHeader {
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Frame rate as numerator and denominator, when declared.
    pub rate: Option<(u32, u32)>,
    /// How colour is subsampled (or absent).
    pub chroma: Chroma,
    /// Luma in 16..=235 and chroma in 16..=240 rather than 0..=255.
    pub limited_range: bool,
}

impl Y4mHeader {
    /// Frames per second, if declared and non-zero.
    pub fn frame_rate(&self) -> Option<f64> {
        self.rate
            .filter(|&(n, d)| n > 0 && d > 0)
            .map(|(n, d)| f64::from(n) / f64::from(d))
    }

    /// Width and height of each chroma plane.
    fn chroma_size(&self) -> (usize, usize) {
        let half = |n: usize| n.div_ceil(2);
        match self.chroma {
            Chroma::C420 => (half(self.width), half(self.height)),
            Chroma::C422 => (half(self.width), self.height),
            Chroma::C444 => (self.width, self.height),
            Chroma::Mono => (0, 0),
        }
    }

    fn parse(line: &str) -> Result<Y4mHeader, VideoError> {
        let bad = |m: String| VideoError::BadHeader(m);
        let mut tokens = line.split(' ').filter(|t| !t.is_empty());
        if tokens.next() != Some("YUV4MPEG2") {
            return Err(bad("does not start with YUV4MPEG2".into()));
        }
        let (mut width, mut height, mut rate) = (None, None, None);
        let mut chroma = Chroma::C420;
        let mut limited_range = false;
        for token in tokens {
            // The tag is one character, which in a hostile file may be
            // several bytes long.
            let mut chars = token.chars();
            let tag = chars.next().map(String::from).unwrap_or_default();
            let value = chars.as_str();
            match tag.as_str() {
                "W" => width = Some(parse_dimension("width", value)?),
                "H" => height = Some(parse_dimension("height", value)?),
                "F" => {
                    rate = Some(
                        parse_ratio(value)
                            .ok_or_else(|| bad(format!("bad frame rate {value:?}")))?,
                    )
                }
                "C" => chroma = parse_chroma(value)?,
                "X" if value.eq_ignore_ascii_case("COLORRANGE=LIMITED") => limited_range = true,
                // Interlacing, pixel aspect and other extensions do not change
                // how the planes are laid out.
                _ => {}
            }
        }
        let width = width.ok_or_else(|| bad("no width (W)".into()))?;
        let height = height.ok_or_else(|| bad("no height (H)".into()))?;
        let pixels = width as u64 * height as u64;
        if pixels > MAX_VIDEO_PIXELS {
            return Err(bad(format!(
                "{width}x{height} is over the limit of {MAX_VIDEO_PIXELS} pixels"
            )));
        }
        Ok(Y4mHeader {
            width,
            height,
            rate,
            chroma,
            limited_range,
        })
    }
}

fn parse_dimension(name: &str, value: &str) -> Result<usize, VideoError> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 && n <= 65_535 => Ok(n),
        _ => Err(VideoError::BadHeader(format!("bad {name} {value:?}"))),
    }
}

fn parse_ratio(value: &str) -> Option<(u32, u32)> {
    let (n, d) = value.split_once(':')?;
    Some((n.parse().ok()?, d.parse().ok()?))
}

fn parse_chroma(value: &str) -> Result<Chroma, VideoError> {
    match value {
        "420" | "420jpeg" | "420paldv" | "420mpeg2" => Ok(Chroma::C420),
        "422" => Ok(Chroma::C422),
        "444" => Ok(Chroma::C444),
        "mono" => Ok(Chroma::Mono),
        other => Err(VideoError::Unsupported(format!(
            "colour space C{other} (supported: 8-bit 420, 422, 444, mono)"
        ))),
    }
}

/// Frames of a Y4M stream.
pub struct Y4mReader<R> {
    reader: R,
    header: Y4mHeader,
    frames_read: u64,
    planes: Vec<u8>,
}

impl<R: BufRead> Y4mReader<R> {
    /// Reads and checks the stream header.
    pub fn new(mut reader: R) -> Result<Y4mReader<R>, VideoError> {
        let line = read_line(&mut reader, MAX_HEADER_BYTES)?
            .ok_or_else(|| VideoError::BadHeader("file is empty".into()))?;
        let line = std::str::from_utf8(&line)
            .map_err(|_| VideoError::BadHeader("header is not text".into()))?;
        let header = Y4mHeader::parse(line)?;
        Ok(Y4mReader {
            reader,
            header,
            frames_read: 0,
            planes: Vec::new(),
        })
    }

    /// What the stream's header declared.
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// The next frame, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<VideoFrame>, VideoError> {
        let frame = self.frames_read + 1;
        let Some(line) = read_line(&mut self.reader, MAX_HEADER_BYTES)? else {
            return Ok(None);
        };
        if !line.starts_with(b"FRAME") {
            return Err(VideoError::BadFrame {
                frame,
                message: "expected a FRAME line".into(),
            });
        }
        let (w, h) = (self.header.width, self.header.height);
        let (cw, ch) = self.header.chroma_size();
        self.planes.resize(w * h + 2 * cw * ch, 0);
        if !read_full(&mut self.reader, &mut self.planes)? {
            return Err(VideoError::Truncated { frame });
        }
        self.frames_read = frame;
        Ok(Some(self.convert()))
    }

    fn convert(&self) -> VideoFrame {
        let header = &self.header;
        let (w, h) = (header.width, header.height);
        let (cw, ch) = header.chroma_size();
        let (luma, chroma) = self.planes.split_at(w * h);
        let (u_plane, v_plane) = chroma.split_at(cw * ch);
        let range = if header.limited_range {
            Range::Limited
        } else {
            Range::Full
        };
        let mut rgb = RgbImage::new(w as u32, h as u32);
        for (y, row) in rgb.rows_mut().enumerate() {
            for (x, pixel) in row.enumerate() {
                let (u, v) = if cw == 0 {
                    (128, 128)
                } else {
                    let cx = x * cw / w;
                    let cy = y * ch / h;
                    (u_plane[cy * cw + cx], v_plane[cy * cw + cx])
                };
                pixel.0 = range.to_rgb(luma[y * w + x], u, v);
            }
        }
        let gray_pixels = match range {
            Range::Full => luma.to_vec(),
            Range::Limited => luma.iter().map(|&l| range.luma(l)).collect(),
        };
        let gray = GrayImage::from_pixels(w, h, gray_pixels)
            .expect("the luma plane has width x height samples");
        VideoFrame { rgb, gray }
    }
}

#[derive(Clone, Copy)]
enum Range {
    Full,
    Limited,
}

impl Range {
    /// Luma scaled to 0..=255.
    fn luma(self, y: u8) -> u8 {
        match self {
            Range::Full => y,
            Range::Limited => ((i32::from(y) - 16) * 255 / 219).clamp(0, 255) as u8,
        }
    }

    /// BT.601 YCbCr to RGB, in 16-bit fixed point.
    fn to_rgb(self, y: u8, u: u8, v: u8) -> [u8; 3] {
        let (y, u, v) = (i32::from(y), i32::from(u) - 128, i32::from(v) - 128);
        let (y, u, v) = match self {
            Range::Full => (y << 16, u, v),
            // 255/219 for luma, 255/224 for chroma.
            Range::Limited => ((y - 16) * 76309, (u * 74711) >> 16, (v * 74711) >> 16),
        };
        let clamp = |x: i32| ((x + (1 << 15)) >> 16).clamp(0, 255) as u8;
        [
            clamp(y + 91881 * v),
            clamp(y - 22554 * u - 46802 * v),
            clamp(y + 116130 * u),
        ]
    }
}

/// One `\n`-terminated line of at most `limit` bytes (without the `\n`), or
/// `None` at a clean end of stream.
fn read_line(reader: &mut impl BufRead, limit: u64) -> Result<Option<Vec<u8>>, VideoError> {
    let mut line = Vec::new();
    reader.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(VideoError::BadHeader(format!(
            "line longer than {limit} bytes or cut short"
        )));
    }
    Ok(Some(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(header: &str, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = header.as_bytes().to_vec();
        for frame in frames {
            bytes.extend_from_slice(b"FRAME\n");
            bytes.extend_from_slice(frame);
        }
        bytes
    }

    #[test]
    fn reads_420_frames_with_their_header() {
        // 4x2 frame: luma ramp, chroma neutral.
        let planes: Vec<u8> = (0..8).map(|i| i * 30).chain([128; 4]).collect();
        let data = clip(
            "YUV4MPEG2 W4 H2 F30000:1001 It A1:1 C420jpeg XYSCSS=420JPEG\n",
            &[planes.clone(), planes],
        );
        let mut reader = Y4mReader::new(&data[..]).unwrap();
        let header = reader.header().clone();
        assert_eq!((header.width, header.height), (4, 2));
        assert!((header.frame_rate().unwrap() - 29.97).abs() < 0.01);
        let frame = reader.next_frame().unwrap().unwrap();
        assert_eq!(frame.gray.pixels(), &[0, 30, 60, 90, 120, 150, 180, 210]);
        // Neutral chroma gives gray RGB equal to luma.
        assert_eq!(frame.rgb.get_pixel(3, 1).0, [210, 210, 210]);
        assert!(reader.next_frame().unwrap().is_some());
        assert!(reader.next_frame().unwrap().is_none());
    }

    #[test]
    fn colours_convert_like_jpeg() {
        // Pure red in full-range BT.601: Y 76, U 85, V 255.
        let data = clip("YUV4MPEG2 W2 H2 C420\n", &[vec![76, 76, 76, 76, 85, 255]]);
        let frame = Y4mReader::new(&data[..])
            .unwrap()
            .next_frame()
            .unwrap()
            .unwrap();
        let [r, g, b] = frame.rgb.get_pixel(0, 0).0;
        assert!(r > 250 && g < 5 && b < 5, "{r} {g} {b}");
    }

    #[test]
    fn limited_range_is_expanded() {
        let data = clip(
            "YUV4MPEG2 W2 H1 Cmono XCOLORRANGE=LIMITED\n",
            &[vec![16, 235]],
        );
        let frame = Y4mReader::new(&data[..])
            .unwrap()
            .next_frame()
            .unwrap()
            .unwrap();
        assert_eq!(frame.gray.pixels(), &[0, 255]);
        assert_eq!(frame.rgb.get_pixel(1, 0).0, [255, 255, 255]);
    }

    #[test]
    fn odd_sizes_and_other_subsamplings_read_the_right_plane_sizes() {
        for (chroma, chroma_bytes) in [("420", 2 * 2 * 2), ("422", 2 * 3 * 2), ("444", 3 * 3 * 2)] {
            let header = format!("YUV4MPEG2 W3 H3 C{chroma}\n");
            let frame = vec![100; 9 + chroma_bytes];
            let data = clip(&header, &[frame.clone(), frame]);
            let mut reader = Y4mReader::new(&data[..]).unwrap();
            assert!(reader.next_frame().unwrap().is_some(), "{chroma}");
            assert!(reader.next_frame().unwrap().is_some(), "{chroma}");
            assert!(reader.next_frame().unwrap().is_none(), "{chroma}");
        }
    }

    #[test]
    fn bad_headers_and_frames_are_errors() {
        let bad_header = |text: &str| Y4mReader::new(text.as_bytes()).err().map(|e| e.to_string());
        for header in [
            "YUV4MPEG2 H2\n",
            "YUV4MPEG2 W0 H2\n",
            "YUV4MPEG2 W2 Hx\n",
            "YUV4MPEG2 W100000 H2\n",
            "YUV4MPEG2 W60000 H60000\n",
            "YUV4MPEG2 W2 H2 C420p10\n",
            "YUV4MPEG2 W2 H2 Fx\n",
            "YUV4MPEG2 W2 H2",
            "",
        ] {
            assert!(bad_header(header).is_some(), "{header:?} accepted");
        }
        let message = bad_header("YUV4MPEG2 W2 H2 C444alpha\n").unwrap();
        assert!(message.contains("C444alpha"), "{message}");

        let truncated = clip("YUV4MPEG2 W2 H2 C420\n", &[vec![1, 2, 3]]);
        let mut reader = Y4mReader::new(&truncated[..]).unwrap();
        assert!(matches!(
            reader.next_frame(),
            Err(VideoError::Truncated { frame: 1 })
        ));

        let garbage = b"YUV4MPEG2 W2 H2 C420\nFRAMX\n".to_vec();
        let mut reader = Y4mReader::new(&garbage[..]).unwrap();
        assert!(reader.next_frame().is_err());
    }

    /// Found by the `video` fuzz target: a header token starting with a
    /// two-byte character (U+0790) made the tag split panic.
    #[test]
    fn a_header_token_starting_with_a_multibyte_character_is_ignored() {
        let crash = b"YUV4MPEG2 W4 H2 P      \0   .    '    \xde\x90n\x004MPEG\x07F\n\0\0\0\0\0\0\0\0\0\0\0#";
        let mut reader = Y4mReader::new(&crash[..]).expect("W4 H2 is a valid header");
        assert!(reader.next_frame().is_err(), "the frame data is garbage");
        let header = "YUV4MPEG2 \u{790}x W2 H2 C420\n";
        assert!(Y4mReader::new(header.as_bytes()).is_ok());
    }
}
