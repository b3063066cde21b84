//! `melodora bench --video FILE`: the full per-frame pipeline on a video
//! (detect, classify, smooth; decoding excluded), scanning every frame whole
//! and then with face tracking, with per-stage times.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use melodora_core::largest_face;
use melodora_vision::pipeline::FrameAnalyzer;
use melodora_vision::tracking::{FaceTracker, Scan, TrackingConfig};
use melodora_vision::{GrayImage, MoodTracker, StabilityConfig, VideoReader};
use serde::Serialize;

use crate::report::format_table;

/// One pass over the clip.
#[derive(Serialize)]
struct VideoTiming {
    mode: &'static str,
    frames: usize,
    fps: f64,
    /// Mean milliseconds per frame of each stage.
    detect_ms: f64,
    classify_ms: f64,
    smooth_ms: f64,
    total_ms: f64,
    /// Frames scanned whole.
    full_scans: usize,
    /// Faces found over all frames.
    faces: usize,
}

/// Most memory the decoded frames may take: they are all held at once so
/// that decoding is not timed.
const MAX_DECODED_BYTES: usize = 4 << 30;

/// Decodes up to `max_frames` frames of `path` (not timed).
fn load_frames(path: &Path, max_frames: usize) -> Result<(Vec<GrayImage>, f64)> {
    let mut reader = VideoReader::open(path).with_context(|| path.display().to_string())?;
    let fps = reader.frame_rate().unwrap_or(30.0);
    let mut frames = Vec::new();
    let mut held = 0usize;
    while frames.len() < max_frames {
        match reader
            .next_frame()
            .with_context(|| path.display().to_string())?
        {
            Some(frame) => {
                held += frame.gray.pixels().len();
                anyhow::ensure!(
                    held <= MAX_DECODED_BYTES,
                    "{}: {} decoded {}x{} frames already take {held} bytes, over the \
                     {MAX_DECODED_BYTES}-byte budget of the benchmark; ask for fewer with --frames",
                    path.display(),
                    frames.len() + 1,
                    frame.gray.width(),
                    frame.gray.height(),
                );
                frames.push(frame.gray);
            }
            None => break,
        }
    }
    anyhow::ensure!(!frames.is_empty(), "{}: no frames", path.display());
    Ok((frames, fps))
}

pub fn run(
    path: &Path,
    max_frames: usize,
    analyzer: &FrameAnalyzer,
    tracking: TrackingConfig,
    json: bool,
) -> Result<()> {
    let (frames, video_fps) = load_frames(path, max_frames)?;
    let passes = [
        pass("full scan", &frames, video_fps, analyzer, None)?,
        pass("tracking", &frames, video_fps, analyzer, Some(tracking))?,
    ];
    if json {
        for timing in &passes {
            println!("{}", serde_json::to_string(timing)?);
        }
        return Ok(());
    }
    let (first, size) = (&frames[0], frames.len());
    println!(
        "{}: {size} frames of {}x{} (decoding excluded)",
        path.display(),
        first.width(),
        first.height()
    );
    let rows: Vec<Vec<String>> = passes
        .iter()
        .map(|t| {
            vec![
                t.mode.to_string(),
                format!("{:.1}", t.fps),
                format!("{:.2}", t.detect_ms),
                format!("{:.2}", t.classify_ms),
                format!("{:.3}", t.smooth_ms),
                format!("{:.2}", t.total_ms),
                t.full_scans.to_string(),
                t.faces.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        format_table(
            &[
                "MODE",
                "FPS",
                "DETECT ms",
                "CLASSIFY ms",
                "SMOOTH ms",
                "TOTAL ms",
                "FULL SCANS",
                "FACES"
            ],
            &rows
        )
    );
    Ok(())
}

fn pass(
    mode: &'static str,
    frames: &[GrayImage],
    video_fps: f64,
    analyzer: &FrameAnalyzer,
    tracking: Option<TrackingConfig>,
) -> Result<VideoTiming> {
    let mut tracker = tracking.map(FaceTracker::new);
    let mut mood = MoodTracker::new(StabilityConfig::default());
    let (mut detect, mut classify, mut smooth) = (0.0, 0.0, 0.0);
    let (mut full_scans, mut faces_found) = (0, 0);
    let started = Instant::now();
    for (index, frame) in frames.iter().enumerate() {
        let t0 = Instant::now();
        let (faces, scan) = analyzer.find_faces(frame, tracker.as_mut())?;
        full_scans += usize::from(scan == Scan::Full);
        let t1 = Instant::now();
        let found = faces.len();
        let analysed = analyzer.classify(frame, faces)?;
        let t2 = Instant::now();
        let largest = largest_face(&analysed, |a| a.face).and_then(|a| a.probabilities.as_ref());
        let now_ms = (index as f64 * 1000.0 / video_fps) as u64;
        mood.update(now_ms, largest);
        let t3 = Instant::now();
        detect += (t1 - t0).as_secs_f64();
        classify += (t2 - t1).as_secs_f64();
        smooth += (t3 - t2).as_secs_f64();
        faces_found += found;
    }
    let total = started.elapsed().as_secs_f64();
    let per_frame_ms = |seconds: f64| seconds * 1e3 / frames.len() as f64;
    Ok(VideoTiming {
        mode,
        frames: frames.len(),
        fps: frames.len() as f64 / total,
        detect_ms: per_frame_ms(detect),
        classify_ms: per_frame_ms(classify),
        smooth_ms: per_frame_ms(smooth),
        total_ms: per_frame_ms(total),
        full_scans,
        faces: faces_found,
    })
}
