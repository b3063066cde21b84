//! A live camera as a [`FrameSource`] (cargo feature `camera`): V4L2 on
//! Linux, AVFoundation on macOS, Media Foundation on Windows, through nokhwa.
//!
//! Frames are taken in the camera's own format and converted here: Motion
//! JPEG with Melodora's limited decoder, YUYV and gray directly, so that no
//! C JPEG library is needed.

use image::RgbImage;
use melodora_vision::{decode_image, DecodeLimits, GrayImage, VideoFrame};
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};
use nokhwa::Camera;

use crate::capture::{CaptureError, FrameSource};

/// A camera streaming frames.
pub struct LiveCamera {
    camera: Camera,
    device: String,
}

impl LiveCamera {
    /// Opens `device`: `/dev/videoN` or a camera number `N`.
    pub fn open(device: &str) -> Result<LiveCamera, CaptureError> {
        let error = |message: String| CaptureError::Camera {
            device: device.to_string(),
            message,
        };
        let index = camera_index(device).ok_or_else(|| {
            error("expected a device such as /dev/video0, or a camera number".into())
        })?;
        let requested =
            RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut camera =
            Camera::new(CameraIndex::Index(index), requested).map_err(|e| error(e.to_string()))?;
        camera.open_stream().map_err(|e| error(e.to_string()))?;
        Ok(LiveCamera {
            camera,
            device: device.to_string(),
        })
    }
}

/// The camera number in `/dev/videoN` or `N`.
pub fn camera_index(device: &str) -> Option<u32> {
    device
        .strip_prefix("/dev/video")
        .unwrap_or(device)
        .parse()
        .ok()
}

impl FrameSource for LiveCamera {
    fn next_frame(&mut self) -> Result<VideoFrame, CaptureError> {
        let error = |message: String| CaptureError::Camera {
            device: self.device.clone(),
            message,
        };
        let buffer = self.camera.frame().map_err(|e| error(e.to_string()))?;
        let resolution = buffer.resolution();
        let (width, height) = (resolution.width(), resolution.height());
        let bytes = buffer.buffer();
        match buffer.source_frame_format() {
            FrameFormat::MJPEG => {
                let image = decode_image(bytes, &DecodeLimits::default())
                    .map_err(|e| error(e.to_string()))?;
                Ok(VideoFrame {
                    gray: GrayImage::from_dynamic(&image),
                    rgb: image.into_rgb8(),
                })
            }
            FrameFormat::YUYV => yuyv_frame(bytes, width as usize, height as usize)
                .ok_or_else(|| error("short YUYV frame".into())),
            FrameFormat::GRAY => {
                let gray = GrayImage::from_pixels(width as usize, height as usize, bytes.to_vec())
                    .ok_or_else(|| error("short gray frame".into()))?;
                let rgb = RgbImage::from_fn(width, height, |x, y| {
                    let v = gray.row(y as usize)[x as usize];
                    image::Rgb([v, v, v])
                });
                Ok(VideoFrame { rgb, gray })
            }
            FrameFormat::RAWRGB => {
                let rgb = RgbImage::from_raw(width, height, bytes.to_vec())
                    .ok_or_else(|| error("short RGB frame".into()))?;
                let gray = GrayImage::from_dynamic(&image::DynamicImage::ImageRgb8(rgb.clone()));
                Ok(VideoFrame { rgb, gray })
            }
            other => Err(error(format!("unsupported camera format {other}"))),
        }
    }

    fn pace(&self) -> Option<f64> {
        None
    }

    fn describe(&self) -> String {
        let format = self.camera.camera_format();
        format!("camera {} ({format})", self.device)
    }
}

/// YUYV 4:2:2 (Y0 U Y1 V per two pixels, full range as webcams send it).
fn yuyv_frame(bytes: &[u8], width: usize, height: usize) -> Option<VideoFrame> {
    if width % 2 == 1 || bytes.len() < width * height * 2 {
        return None;
    }
    let mut gray = Vec::with_capacity(width * height);
    let mut rgb = RgbImage::new(width as u32, height as u32);
    for (quad, pixels) in bytes
        .chunks_exact(4)
        .take(width * height / 2)
        .zip(rgb.as_mut().chunks_exact_mut(6))
    {
        let [y0, u, y1, v] = [quad[0], quad[1], quad[2], quad[3]];
        gray.extend_from_slice(&[y0, y1]);
        pixels[..3].copy_from_slice(&ycbcr_to_rgb(y0, u, v));
        pixels[3..].copy_from_slice(&ycbcr_to_rgb(y1, u, v));
    }
    Some(VideoFrame {
        rgb,
        gray: GrayImage::from_pixels(width, height, gray)?,
    })
}

/// Full-range BT.601, as JPEG.
fn ycbcr_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let (y, u, v) = (f32::from(y), f32::from(u) - 128.0, f32::from(v) - 128.0);
    let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    [
        clamp(y + 1.402 * v),
        clamp(y - 0.344_136 * u - 0.714_136 * v),
        clamp(y + 1.772 * u),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_give_camera_numbers() {
        assert_eq!(camera_index("/dev/video2"), Some(2));
        assert_eq!(camera_index("0"), Some(0));
        assert_eq!(camera_index("/dev/sda"), None);
        assert_eq!(camera_index("/dev/video"), None);
    }

    #[test]
    fn yuyv_frames_convert_to_gray_and_colour() {
        // Two pixels: mid gray and white, neutral chroma; then pure red-ish.
        let frame = yuyv_frame(&[128, 128, 255, 128, 76, 85, 76, 255], 2, 2).unwrap();
        assert_eq!(frame.gray.pixels(), &[128, 255, 76, 76]);
        assert_eq!(frame.rgb.get_pixel(1, 0).0, [255, 255, 255]);
        let [r, g, b] = frame.rgb.get_pixel(0, 1).0;
        assert!(r > 250 && g < 5 && b < 5, "{r} {g} {b}");
        assert!(yuyv_frame(&[0; 7], 2, 2).is_none());
    }
}
