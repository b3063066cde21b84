//! Reading video files frame by frame: YUV4MPEG2 (`.y4m`, what browsers'
//! fake cameras and `ffmpeg -f yuv4mpegpipe` produce) and Motion JPEG
//! (`.mjpeg`: concatenated JPEG images, what `ffmpeg -f mjpeg` and many
//! IP cameras produce).
//!
//! Files are read as streams (one frame in memory at a time), every size is
//! checked before it is allocated, and a truncated or corrupt file is an
//! error naming the frame, never a panic. Used by the server's camera mode
//! and by `melodora bench --video`.

mod mjpeg;
mod y4m;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::decode::DecodeError;
use crate::GrayImage;

pub use mjpeg::MjpegReader;
pub use y4m::{Y4mHeader, Y4mReader};

/// Largest frame accepted, in pixels (an 8K frame).
pub const MAX_VIDEO_PIXELS: u64 = 7680 * 4320;
/// Largest encoded MJPEG frame accepted, in bytes.
pub const MAX_MJPEG_FRAME_BYTES: usize = 32 * 1024 * 1024;

/// One decoded frame: colour for display, gray for detection.
#[derive(Debug, Clone)]
pub struct VideoFrame {
    /// The frame in colour, for display and annotation.
    pub rgb: RgbImage,
    /// The same frame in gray, for detection.
    pub gray: GrayImage,
}

/// Container formats [`VideoReader`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoFormat {
    /// YUV4MPEG2 (`.y4m`), raw planar frames.
    Y4m,
    /// Motion JPEG: JPEG images one after another.
    Mjpeg,
}

impl std::fmt::Display for VideoFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VideoFormat::Y4m => "Y4M",
            VideoFormat::Mjpeg => "MJPEG",
        })
    }
}

/// Why a video could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The file could not be read.
    #[error("cannot read video")]
    Io(#[source] std::io::Error),
    /// Neither Y4M nor a stream of JPEGs.
    #[error("not a supported video (expected a YUV4MPEG2 .y4m file or a Motion JPEG stream of concatenated JPEG images)")]
    UnknownFormat,
    /// The Y4M stream header is malformed; what is wrong with it.
    #[error("bad Y4M header: {0}")]
    BadHeader(String),
    /// A well-formed Y4M header asking for something not decoded (an
    /// interlaced or high-bit-depth stream, say); what.
    #[error("unsupported Y4M video: {0}")]
    Unsupported(String),
    /// A frame's framing is wrong.
    #[error("frame {frame}: {message}")]
    BadFrame {
        /// 1-based frame number.
        frame: u64,
        /// What is wrong.
        message: String,
    },
    /// The file ends inside a frame.
    #[error("frame {frame} is truncated")]
    Truncated {
        /// 1-based frame number.
        frame: u64,
    },
    /// An MJPEG frame is not a decodable JPEG.
    #[error("frame {frame}")]
    Decode {
        /// 1-based frame number.
        frame: u64,
        /// Why it could not be decoded.
        #[source]
        error: DecodeError,
    },
    /// The file holds a header but not one frame.
    #[error("video has no frames")]
    NoFrames,
}

impl From<std::io::Error> for VideoError {
    fn from(e: std::io::Error) -> Self {
        VideoError::Io(e)
    }
}

/// A video file read frame by frame, which can start over (for looping).
pub struct VideoReader {
    path: PathBuf,
    format: VideoFormat,
    frames: Frames,
}

enum Frames {
    Y4m(Y4mReader<BufReader<File>>),
    Mjpeg(MjpegReader<BufReader<File>>),
}

impl VideoReader {
    /// Opens `path`, recognising the format from its first bytes.
    pub fn open(path: &Path) -> Result<VideoReader, VideoError> {
        let mut file = BufReader::new(File::open(path)?);
        let format = sniff(&mut file)?;
        let frames = match format {
            VideoFormat::Y4m => Frames::Y4m(Y4mReader::new(file)?),
            VideoFormat::Mjpeg => Frames::Mjpeg(MjpegReader::new(file)),
        };
        Ok(VideoReader {
            path: path.to_owned(),
            format,
            frames,
        })
    }

    /// The container format, detected from the file's first bytes.
    pub fn format(&self) -> VideoFormat {
        self.format
    }

    /// Frames per second the file declares (Y4M does; MJPEG has no header).
    pub fn frame_rate(&self) -> Option<f64> {
        match &self.frames {
            Frames::Y4m(reader) => reader.header().frame_rate(),
            Frames::Mjpeg(_) => None,
        }
    }

    /// The next frame, or `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<VideoFrame>, VideoError> {
        match &mut self.frames {
            Frames::Y4m(reader) => reader.next_frame(),
            Frames::Mjpeg(reader) => reader.next_frame(),
        }
    }

    /// Starts again from the first frame.
    pub fn rewind(&mut self) -> Result<(), VideoError> {
        *self = VideoReader::open(&self.path)?;
        Ok(())
    }
}

fn sniff(file: &mut impl BufRead) -> Result<VideoFormat, VideoError> {
    let start = file.fill_buf()?;
    if start.starts_with(y4m::MAGIC) {
        Ok(VideoFormat::Y4m)
    } else if start.starts_with(&[0xFF, 0xD8]) {
        Ok(VideoFormat::Mjpeg)
    } else {
        Err(VideoError::UnknownFormat)
    }
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` if the stream ended first
/// (cleanly or not: callers tell by whether anything was expected).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_files_are_not_videos() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.txt");
        std::fs::write(&path, b"hello").unwrap();
        assert!(matches!(
            VideoReader::open(&path),
            Err(VideoError::UnknownFormat)
        ));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            VideoReader::open(&empty),
            Err(VideoError::UnknownFormat)
        ));
    }
}
