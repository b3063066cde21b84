//! The analysis settings a server hands to pages that analyse their own
//! camera (on-device mode), so a page follows `melodora serve`'s options
//! (`--detector`, `--group`, `--dwell-ms`, `--no-tracking`, ...) exactly as
//! the server's own analysis would.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::finder::DetectorChoice;
use crate::follow::Follow;
use crate::stability::StabilityConfig;
use crate::tracking::TrackingConfig;

/// How frames become faces and faces a mood, as plain numbers for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnalysisSettings {
    /// Whose face the mood follows.
    pub follow: Follow,
    /// [`StabilityConfig::half_life`], in milliseconds.
    pub half_life_ms: u64,
    /// [`StabilityConfig::dwell`], in milliseconds.
    pub dwell_ms: u64,
    /// [`StabilityConfig::min_confidence`].
    pub min_confidence: f32,
    /// [`StabilityConfig::forget_after`], in milliseconds.
    pub forget_after_ms: u64,
    /// [`TrackingConfig::full_scan_interval`]; `None` scans every frame whole.
    pub full_scan_every: Option<u32>,
    /// Which detector finds faces (Haar when not said, as before there
    /// was a choice).
    #[serde(default)]
    pub detector: DetectorChoice,
}

impl AnalysisSettings {
    /// The settings of a pipeline built from these parts (the tracking
    /// config's margins are not carried: pages use the defaults).
    pub fn new(
        stability: &StabilityConfig,
        tracking: Option<&TrackingConfig>,
        follow: Follow,
    ) -> AnalysisSettings {
        AnalysisSettings {
            follow,
            half_life_ms: millis(stability.half_life),
            dwell_ms: millis(stability.dwell),
            min_confidence: stability.min_confidence,
            forget_after_ms: millis(stability.forget_after),
            full_scan_every: tracking.map(|t| t.full_scan_interval),
            detector: DetectorChoice::default(),
        }
    }

    /// These settings with faces found by `detector`.
    pub fn with_detector(self, detector: DetectorChoice) -> AnalysisSettings {
        AnalysisSettings { detector, ..self }
    }

    /// The mood smoothing these settings describe.
    pub fn stability(&self) -> StabilityConfig {
        StabilityConfig {
            half_life: Duration::from_millis(self.half_life_ms),
            dwell: Duration::from_millis(self.dwell_ms),
            min_confidence: self.min_confidence,
            forget_after: Duration::from_millis(self.forget_after_ms),
        }
    }

    /// The face tracking these settings describe; `None` scans every frame.
    pub fn tracking(&self) -> Option<TrackingConfig> {
        self.full_scan_every.map(|every| TrackingConfig {
            full_scan_interval: every.max(1),
            ..TrackingConfig::default()
        })
    }
}

impl Default for AnalysisSettings {
    /// `melodora serve`'s defaults.
    fn default() -> Self {
        AnalysisSettings::new(
            &StabilityConfig::default(),
            Some(&TrackingConfig::default()),
            Follow::default(),
        )
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_json_and_back_to_configs() {
        let stability = StabilityConfig {
            half_life: Duration::from_millis(400),
            dwell: Duration::from_millis(1200),
            min_confidence: 0.5,
            forget_after: Duration::from_secs(5),
        };
        let tracking = TrackingConfig {
            full_scan_interval: 7,
            ..TrackingConfig::default()
        };
        let settings = AnalysisSettings::new(&stability, Some(&tracking), Follow::Group)
            .with_detector(DetectorChoice::BlazefaceFull);
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(
            json,
            r#"{"follow":"group","half_life_ms":400,"dwell_ms":1200,"min_confidence":0.5,"forget_after_ms":5000,"full_scan_every":7,"detector":"blazeface-full"}"#
        );
        let back: AnalysisSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back.stability(), stability);
        assert_eq!(back.tracking(), Some(tracking));
        assert_eq!(back.follow, Follow::Group);
        assert_eq!(back.detector, DetectorChoice::BlazefaceFull);
        // Settings from before there was a choice find faces with Haar.
        let older = r#"{"follow":"group","half_life_ms":1,"dwell_ms":1,"min_confidence":0.5,"forget_after_ms":1,"full_scan_every":null}"#;
        let older: AnalysisSettings = serde_json::from_str(older).unwrap();
        assert_eq!(older.detector, DetectorChoice::Haar);
    }

    #[test]
    fn no_tracking_and_unknown_fields() {
        let settings = AnalysisSettings::new(&StabilityConfig::default(), None, Follow::default());
        assert_eq!(settings.tracking(), None);
        let typo = r#"{"follow":"group","half_life_ms":1,"dwell_ms":1,"min_confidence":0.5,"forget_after_ms":1,"full_scan_every":null,"dwel":3}"#;
        assert!(serde_json::from_str::<AnalysisSettings>(typo).is_err());
    }
}
