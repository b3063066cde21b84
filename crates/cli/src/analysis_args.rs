//! Options that decide how frames become a mood, shared by `serve` (for
//! its own analysis and the pages that analyse on the device) and `site`.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use melodora_vision::tracking::TrackingConfig;
use melodora_vision::{AnalysisSettings, Follow, StabilityConfig};

/// Mood smoothing, whose face counts, and face tracking.
#[derive(Args, Debug, Clone)]
pub struct AnalysisArgs {
    /// Follow the mood most faces share instead of the largest face.
    #[arg(long)]
    pub group: bool,
    /// Milliseconds a new emotion must lead before the mood (and playlist) changes.
    #[arg(long, default_value_t = 700, value_name = "MS")]
    pub dwell_ms: u64,
    /// Half-life of the probability smoothing, in milliseconds.
    #[arg(long, default_value_t = 250, value_name = "MS")]
    pub half_life_ms: u64,
    /// Smoothed probability an emotion needs to become the mood.
    #[arg(long, default_value_t = 0.40, value_name = "P")]
    pub min_confidence: f32,
    /// Scan every frame whole instead of tracking faces between full scans.
    #[arg(long)]
    pub no_tracking: bool,
    /// When tracking, scan the whole frame at least every this many frames
    /// (new faces are found within that many frames).
    #[arg(long, value_name = "FRAMES", default_value_t = TrackingConfig::default().full_scan_interval,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub full_scan_every: u32,
}

impl AnalysisArgs {
    /// The mood smoothing, after checking the confidence is a probability.
    pub fn stability(&self) -> Result<StabilityConfig> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.min_confidence),
            "--min-confidence must be from 0 to 1"
        );
        Ok(StabilityConfig {
            half_life: Duration::from_millis(self.half_life_ms),
            dwell: Duration::from_millis(self.dwell_ms),
            min_confidence: self.min_confidence,
            ..StabilityConfig::default()
        })
    }

    /// Face tracking, unless `--no-tracking`.
    pub fn tracking(&self) -> Option<TrackingConfig> {
        (!self.no_tracking).then_some(TrackingConfig {
            full_scan_interval: self.full_scan_every,
            ..TrackingConfig::default()
        })
    }

    /// Whose face the mood follows.
    pub fn follow(&self) -> Follow {
        if self.group {
            Follow::Group
        } else {
            Follow::LargestFace
        }
    }

    /// All of it, as pages receive it.
    pub fn settings(&self) -> Result<AnalysisSettings> {
        Ok(AnalysisSettings::new(
            &self.stability()?,
            self.tracking().as_ref(),
            self.follow(),
        ))
    }
}
