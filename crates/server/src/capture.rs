//! Server camera mode: the server reads frames itself (a video file, or a
//! camera with the `camera` feature), analyses them, and shares each result
//! with every viewer: the annotated picture for `/video_feed` and the faces
//! for the WebSocket.
//!
//! One capture thread serves all viewers; it idles while nobody watches.
//! Viewers always get the newest frame (a `watch` channel), so a slow viewer
//! misses frames rather than queueing them.

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use melodora_core::{ErrorChain, FaceBox};
use melodora_vision::annotate::draw_labelled_boxes;
use melodora_vision::tracking::{FaceTracker, TrackingConfig};
use melodora_vision::{VideoError, VideoFrame, VideoReader};
use tokio::sync::watch;

use crate::engine::{FaceReport, FrameAnalysis, FrameError, Vision};

/// Quality of the JPEG frames streamed at `/video_feed`.
const STREAM_JPEG_QUALITY: u8 = 80;
/// Pace of a file that declares no frame rate (MJPEG) unless told otherwise.
pub const DEFAULT_FILE_FPS: f64 = 15.0;
/// Slowest and fastest pace a file plays at, whether asked for (`--fps`) or
/// declared by the file: a hostile header's rate must neither stall the
/// camera for hours nor make it decode without end.
pub const MIN_FILE_FPS: f64 = 0.1;
/// See [`MIN_FILE_FPS`].
pub const MAX_FILE_FPS: f64 = 240.0;
/// Most frames skipped in one go when analysis falls behind; a source that
/// cannot even be read in real time is re-timed instead of chased.
const MAX_CATCH_UP_FRAMES: u64 = 240;
/// Longest single sleep of the capture thread, so that it notices a stop.
const MAX_SLEEP: Duration = Duration::from_millis(100);
/// Failed reads in a row after which capture gives up.
const MAX_CONSECUTIVE_FAILURES: u32 = 5;

/// Where the server's frames come from. Sources live on the capture thread
/// (camera handles often cannot move between threads), so they are opened
/// there; see [`ServerCamera::start`].
pub trait FrameSource {
    /// The next frame, blocking until there is one.
    fn next_frame(&mut self) -> Result<VideoFrame, CaptureError>;
    /// Frames per second to play at, for sources that do not pace
    /// themselves (files); `None` for live cameras.
    fn pace(&self) -> Option<f64>;
    /// What the source is, for logs.
    fn describe(&self) -> String;
    /// Whether the picture jumped (a file looped back to its start) since
    /// the last call: faces being tracked are then not where they were.
    fn take_cut(&mut self) -> bool {
        false
    }
}

/// Why one captured frame could not be published.
#[derive(Debug, thiserror::Error)]
enum ProcessError {
    #[error(transparent)]
    Analysis(#[from] FrameError),
    /// The image crate's message already ends with its cause; shown, not
    /// chained, so it is not printed twice.
    #[error("cannot encode the frame: {0}")]
    Encode(image::ImageError),
}

/// Why the server camera failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}")]
    Video {
        path: String,
        #[source]
        error: VideoError,
    },
    #[error("camera {device}: {message}")]
    Camera { device: String, message: String },
    #[error("cannot run the capture thread")]
    Thread(#[source] std::io::Error),
    #[error("the capture thread ended while opening")]
    Ended,
}

/// A video file played in a loop at its own frame rate.
pub struct LoopingVideo {
    reader: VideoReader,
    path: String,
    fps: f64,
    /// Set when the file rewound; see [`FrameSource::take_cut`].
    looped: bool,
    /// A file of one frame (a still) loops without cuts.
    still: bool,
}

impl LoopingVideo {
    /// Opens `path` and checks that its first frame can be read; `fps`
    /// overrides the rate the file declares (MJPEG declares none).
    pub fn open(path: &std::path::Path, fps: Option<f64>) -> Result<LoopingVideo, CaptureError> {
        let name = path.display().to_string();
        let error = |error| CaptureError::Video {
            path: name.clone(),
            error,
        };
        let mut reader = VideoReader::open(path).map_err(error)?;
        reader
            .next_frame()
            .map_err(error)?
            .ok_or_else(|| error(VideoError::NoFrames))?;
        let still = reader.next_frame().map_err(error)?.is_none();
        reader.rewind().map_err(error)?;
        let declared = reader.frame_rate().filter(|rate| {
            let usable = (MIN_FILE_FPS..=MAX_FILE_FPS).contains(rate);
            if !usable {
                tracing::warn!(
                    "{name} declares {rate} frames a second, outside {MIN_FILE_FPS}..={MAX_FILE_FPS}; playing it at {DEFAULT_FILE_FPS} (--fps sets the pace)"
                );
            }
            usable
        });
        let fps = fps.or(declared).unwrap_or(DEFAULT_FILE_FPS);
        Ok(LoopingVideo {
            reader,
            path: name,
            fps,
            looped: false,
            still,
        })
    }
}

impl FrameSource for LoopingVideo {
    fn next_frame(&mut self) -> Result<VideoFrame, CaptureError> {
        let error = |error| CaptureError::Video {
            path: self.path.clone(),
            error,
        };
        if let Some(frame) = self.reader.next_frame().map_err(error)? {
            return Ok(frame);
        }
        self.reader.rewind().map_err(error)?;
        self.looped = true;
        self.reader
            .next_frame()
            .map_err(error)?
            .ok_or_else(|| error(VideoError::NoFrames))
    }

    fn take_cut(&mut self) -> bool {
        std::mem::take(&mut self.looped) && !self.still
    }

    fn pace(&self) -> Option<f64> {
        Some(self.fps)
    }

    fn describe(&self) -> String {
        format!(
            "{} ({}, {:.1} fps, looping)",
            self.path,
            self.reader.format(),
            self.fps
        )
    }
}

/// One analysed frame of the server camera.
#[derive(Debug)]
pub struct CapturedFrame {
    /// Counts frames from 1.
    pub seq: u64,
    /// The frame with face boxes and labels drawn on it.
    pub jpeg: Bytes,
    pub analysis: FrameAnalysis,
    /// Frames of the source skipped so far because analysis fell behind.
    pub skipped: u64,
}

type Latest = Option<Arc<CapturedFrame>>;

/// The running capture: a thread that reads, analyses and publishes frames
/// until this is dropped.
pub struct ServerCamera {
    frames: watch::Sender<Latest>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    description: String,
}

impl ServerCamera {
    /// Starts capturing on a thread of its own, from the source `open`
    /// opens there; returns once it is open, or with the reason it is not.
    pub fn start<S, F>(
        open: F,
        vision: Arc<Vision>,
        tracking: Option<TrackingConfig>,
    ) -> Result<ServerCamera, CaptureError>
    where
        S: FrameSource,
        F: FnOnce() -> Result<S, CaptureError> + Send + 'static,
    {
        let (frames, _) = watch::channel(None);
        let stop = Arc::new(AtomicBool::new(false));
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("melodora-capture".into())
            .spawn({
                let frames = frames.clone();
                let stop = Arc::clone(&stop);
                move || match open() {
                    Ok(mut source) => {
                        let _ = opened_tx.send(Ok(source.describe()));
                        let mut tracker = tracking.map(FaceTracker::new);
                        capture_loop(&mut source, &vision, tracker.as_mut(), &frames, &stop);
                    }
                    Err(error) => {
                        let _ = opened_tx.send(Err(error));
                    }
                }
            })
            .map_err(CaptureError::Thread)?;
        let description = opened_rx.recv().map_err(|_| CaptureError::Ended)??;
        Ok(ServerCamera {
            frames,
            stop,
            thread: Some(thread),
            description,
        })
    }

    /// Follows the newest frame; the first one is delivered as a change.
    pub fn subscribe(&self) -> watch::Receiver<Latest> {
        let mut receiver = self.frames.subscribe();
        receiver.mark_changed();
        receiver
    }

    /// What the camera reads, for logs and the health endpoint.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl Drop for ServerCamera {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn capture_loop(
    source: &mut impl FrameSource,
    vision: &Vision,
    mut tracker: Option<&mut FaceTracker>,
    frames: &watch::Sender<Latest>,
    stop: &AtomicBool,
) {
    let mut pacer = Pacer::new(source.pace());
    let mut seq = 0;
    let mut failures = 0;
    while !stop.load(Ordering::Relaxed) {
        if frames.receiver_count() == 0 {
            // Nobody watches: do not read, analyse or encode anything.
            std::thread::sleep(Duration::from_millis(50));
            pacer.restart();
            if let Some(tracker) = tracker.as_deref_mut() {
                tracker.reset();
            }
            continue;
        }
        let frame = match next_on_time(source, &mut pacer) {
            Ok(frame) => frame,
            Err(error) => {
                failures += 1;
                let error = ErrorChain(&error);
                tracing::warn!(%error, failures, "cannot read a frame");
                if failures >= MAX_CONSECUTIVE_FAILURES {
                    tracing::error!(%error, "server camera stopped after {failures} failures in a row");
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        failures = 0;
        seq += 1;
        if source.take_cut() {
            if let Some(tracker) = tracker.as_deref_mut() {
                tracker.reset();
            }
        }
        match process(vision, tracker.as_deref_mut(), frame) {
            Ok((analysis, jpeg)) => {
                frames.send_replace(Some(Arc::new(CapturedFrame {
                    seq,
                    jpeg,
                    analysis,
                    skipped: pacer.skipped,
                })));
            }
            Err(error) => tracing::warn!(error = %ErrorChain(&error), "cannot analyse a frame"),
        }
        pacer.wait(stop);
    }
}

/// Reads the frame that is due now, skipping those analysis had no time for.
fn next_on_time(
    source: &mut impl FrameSource,
    pacer: &mut Pacer,
) -> Result<VideoFrame, CaptureError> {
    let due = pacer.frames_behind();
    let behind = due.min(MAX_CATCH_UP_FRAMES);
    let mut frame = source.next_frame()?;
    for _ in 0..behind {
        frame = source.next_frame()?;
    }
    pacer.skipped += behind;
    pacer.position += behind + 1;
    if due > behind {
        // Even skipping cannot keep up (reading is slower than real time):
        // play on from here rather than chase a debt that only grows.
        pacer.retime();
    }
    Ok(frame)
}

/// Analyses a frame and encodes it with its faces drawn on.
fn process(
    vision: &Vision,
    tracker: Option<&mut FaceTracker>,
    frame: VideoFrame,
) -> Result<(FrameAnalysis, Bytes), ProcessError> {
    let analysis = vision.analyze_in_stream(&frame.gray, tracker)?;
    let mut picture = frame.rgb;
    annotate(&mut picture, &analysis.faces);
    let mut jpeg = Cursor::new(Vec::with_capacity(64 * 1024));
    JpegEncoder::new_with_quality(&mut jpeg, STREAM_JPEG_QUALITY)
        .encode_image(&picture)
        .map_err(ProcessError::Encode)?;
    Ok((analysis, Bytes::from(jpeg.into_inner())))
}

fn annotate(picture: &mut RgbImage, faces: &[FaceReport]) {
    let labelled: Vec<(FaceBox, Option<String>)> = faces
        .iter()
        .map(|f| {
            let label = format!("{} {:.0}%", f.emotion, f.confidence * 100.0);
            (FaceBox::new(f.x, f.y, f.w, f.h), Some(label))
        })
        .collect();
    draw_labelled_boxes(picture, &labelled);
}

/// Plays a file in real time: frame `n` is due `n / fps` seconds after the
/// start; frames whose time has passed are skipped.
struct Pacer {
    interval: Option<Duration>,
    start: Instant,
    /// Frames taken from the source (played or skipped) since the start.
    position: u64,
    skipped: u64,
}

impl Pacer {
    fn new(fps: Option<f64>) -> Pacer {
        Pacer {
            interval: fps
                .filter(|f| f.is_finite() && *f > 0.0)
                .map(|f| Duration::from_secs_f64(1.0 / f)),
            start: Instant::now(),
            position: 0,
            skipped: 0,
        }
    }

    fn restart(&mut self) {
        self.start = Instant::now();
        self.position = 0;
    }

    /// Moves the start so that the frame at `position` is due now.
    fn retime(&mut self) {
        if let Some(interval) = self.interval {
            let played = interval.mul_f64(self.position as f64);
            let now = Instant::now();
            self.start = now.checked_sub(played).unwrap_or(now);
        }
    }

    fn due(&self, frame: u64) -> Option<Instant> {
        let interval = self.interval?;
        Some(self.start + interval.mul_f64(frame as f64))
    }

    /// Frames whose time has already passed before the next one is read.
    fn frames_behind(&self) -> u64 {
        let Some(interval) = self.interval else {
            return 0;
        };
        let elapsed = self.start.elapsed();
        let due_now = (elapsed.as_secs_f64() / interval.as_secs_f64()) as u64;
        due_now.saturating_sub(self.position)
    }

    /// Sleeps until the next frame is due or `stop` is set.
    fn wait(&self, stop: &AtomicBool) {
        let Some(due) = self.due(self.position) else {
            return;
        };
        loop {
            let now = Instant::now();
            if due <= now || stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep((due - now).min(MAX_SLEEP));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pacer_on_time_skips_nothing_and_a_late_one_catches_up() {
        let mut pacer = Pacer::new(Some(100.0));
        assert_eq!(pacer.frames_behind(), 0);
        pacer.start -= Duration::from_millis(105);
        pacer.position = 3;
        // Frames 0..=10 were due by 105 ms; 3 were taken.
        assert_eq!(pacer.frames_behind(), 7);
        let unpaced = Pacer::new(None);
        assert_eq!(unpaced.frames_behind(), 0);
        assert!(unpaced.due(5).is_none());
    }

    /// Counts the frames read from it.
    struct CountingSource(u64);

    impl FrameSource for CountingSource {
        fn next_frame(&mut self) -> Result<VideoFrame, CaptureError> {
            self.0 += 1;
            Ok(VideoFrame {
                rgb: RgbImage::new(1, 1),
                gray: melodora_vision::GrayImage::new(1, 1),
            })
        }
        fn pace(&self) -> Option<f64> {
            Some(100.0)
        }
        fn describe(&self) -> String {
            "counting".into()
        }
    }

    #[test]
    fn a_pacer_hours_behind_skips_a_bounded_number_and_plays_on() {
        // One frame a second: the check after re-timing cannot be a frame late.
        let mut pacer = Pacer::new(Some(1.0));
        pacer.start -= Duration::from_secs(3600);
        let mut source = CountingSource(0);
        next_on_time(&mut source, &mut pacer).unwrap();
        assert_eq!(source.0, MAX_CATCH_UP_FRAMES + 1);
        assert_eq!(pacer.frames_behind(), 0, "re-timed to now");
        assert_eq!(pacer.skipped, MAX_CATCH_UP_FRAMES);
    }

    #[test]
    fn a_slow_pace_still_stops_promptly() {
        let mut pacer = Pacer::new(Some(MIN_FILE_FPS));
        pacer.position = 1; // due in ten seconds
        let stop = Arc::new(AtomicBool::new(false));
        let stopper = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                stop.store(true, Ordering::Relaxed);
            })
        };
        let started = Instant::now();
        pacer.wait(&stop);
        stopper.join().unwrap();
        // Ten seconds unless the stop was noticed mid-sleep.
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_looping_file_reports_the_cut_once_per_loop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.y4m");
        let mut bytes = b"YUV4MPEG2 W2 H2 F10:1 C444\n".to_vec();
        for _ in 0..2 {
            bytes.extend(b"FRAME\n");
            bytes.extend([128u8; 12]);
        }
        std::fs::write(&path, bytes).unwrap();
        let mut video = LoopingVideo::open(&path, None).unwrap();
        let cuts: Vec<bool> = (0..5)
            .map(|_| {
                video.next_frame().unwrap();
                video.take_cut()
            })
            .collect();
        assert_eq!(cuts, [false, false, true, false, true]);

        let path = dir.path().join("still.y4m");
        let mut bytes = b"YUV4MPEG2 W2 H2 F10:1 C444\nFRAME\n".to_vec();
        bytes.extend([128u8; 12]);
        std::fs::write(&path, bytes).unwrap();
        let mut still = LoopingVideo::open(&path, None).unwrap();
        for _ in 0..3 {
            still.next_frame().unwrap();
            assert!(!still.take_cut(), "a still keeps its tracked faces");
        }
    }

    #[test]
    fn a_declared_frame_rate_out_of_range_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        for (rate, expected) in [
            ("4294967295:1", DEFAULT_FILE_FPS),
            ("1:4294967295", DEFAULT_FILE_FPS),
            ("25:1", 25.0),
        ] {
            let path = dir.path().join("clip.y4m");
            let mut bytes = format!("YUV4MPEG2 W2 H2 F{rate} C444\nFRAME\n").into_bytes();
            bytes.extend([128u8; 12]);
            std::fs::write(&path, bytes).unwrap();
            let video = LoopingVideo::open(&path, None).unwrap();
            assert_eq!(video.pace(), Some(expected), "F{rate}");
        }
    }
}
