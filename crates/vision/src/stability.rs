//! A stable mood from a stream of per-frame emotion probabilities.
//!
//! A classifier's answer flickers from frame to frame (a blink, a half-turned
//! head); a playlist must not. [`MoodTracker`] smooths the probabilities over
//! time with an exponential moving average whose weight depends on the time
//! between frames (so the behaviour is the same at 5 or 30 frames per
//! second), and only lets the stable mood change once a new emotion has led
//! the smoothed probabilities, above a confidence threshold, for a minimum
//! dwell time. With the defaults a new steady expression takes over in
//! about 1.1 s, and a blip of a few frames never does.

use std::time::Duration;

use melodora_core::{Emotion, EmotionProbabilities};
use serde::Serialize;

/// Tuning of [`MoodTracker`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StabilityConfig {
    /// Age at which a frame's weight in the average has halved.
    pub half_life: Duration,
    /// How long a new emotion must lead before it becomes the stable mood.
    pub dwell: Duration,
    /// Smoothed probability the leading emotion needs to count as leading.
    pub min_confidence: f32,
    /// A gap without faces longer than this starts the average afresh (the
    /// next face may be someone else); the stable mood is kept meanwhile.
    pub forget_after: Duration,
}

impl Default for StabilityConfig {
    fn default() -> Self {
        StabilityConfig {
            half_life: Duration::from_millis(250),
            dwell: Duration::from_millis(700),
            min_confidence: 0.40,
            forget_after: Duration::from_secs(3),
        }
    }
}

/// The mood the app acts on, and how sure it is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StableMood {
    /// The emotion the playlist should follow.
    pub emotion: Emotion,
    /// Smoothed probability of `emotion`.
    pub confidence: f32,
}

/// What one update produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoodUpdate {
    /// The stable mood after this frame, if one has been established.
    pub stable: Option<StableMood>,
    /// Whether this frame changed the stable mood.
    pub changed: bool,
    /// The smoothed probabilities, FER order (absent before the first face).
    pub smoothed: Option<EmotionProbabilities>,
}

/// Per-viewer smoothing and dwell state.
#[derive(Debug, Clone)]
pub struct MoodTracker {
    config: StabilityConfig,
    smoothed: Option<EmotionProbabilities>,
    last_face_ms: Option<u64>,
    /// The emotion leading the average and since when it has led.
    leader: Option<(Emotion, u64)>,
    stable: Option<StableMood>,
}

impl MoodTracker {
    /// A tracker with no history yet, smoothing as `config` says.
    pub fn new(config: StabilityConfig) -> Self {
        MoodTracker {
            config,
            smoothed: None,
            last_face_ms: None,
            leader: None,
            stable: None,
        }
    }

    /// The current stable mood.
    pub fn stable(&self) -> Option<StableMood> {
        self.stable
    }

    /// Feeds one frame taken at `now_ms` (any monotonic clock, in
    /// milliseconds): the probabilities of the face the mood follows, or
    /// `None` when the frame has no face. Frames must come in time order; a
    /// frame older than the last is treated as simultaneous.
    pub fn update(
        &mut self,
        now_ms: u64,
        probabilities: Option<&EmotionProbabilities>,
    ) -> MoodUpdate {
        let before = self.stable.map(|s| s.emotion);
        if let Some(p) = probabilities.filter(|p| p.is_finite()) {
            self.blend(now_ms, p);
            self.last_face_ms = Some(now_ms.max(self.last_face_ms.unwrap_or(0)));
            self.follow_leader(now_ms);
        } else if self.last_face_ms.is_some_and(|last| {
            now_ms.saturating_sub(last) > self.config.forget_after.as_millis() as u64
        }) {
            self.smoothed = None;
            self.leader = None;
        }
        if let (Some(stable), Some(smoothed)) = (&mut self.stable, &self.smoothed) {
            stable.confidence = smoothed.get(stable.emotion);
        }
        MoodUpdate {
            stable: self.stable,
            changed: self.stable.map(|s| s.emotion) != before,
            smoothed: self.smoothed,
        }
    }

    fn blend(&mut self, now_ms: u64, p: &EmotionProbabilities) {
        let p = p.as_array();
        let sum: f32 = p.iter().map(|v| v.max(0.0)).sum();
        let mut fresh = [0.0f32; 7];
        if sum > 0.0 {
            for (f, v) in fresh.iter_mut().zip(p) {
                *f = v.max(0.0) / sum;
            }
        }
        let old = self.smoothed.map(|old| *old.as_array());
        let smoothed = match (old, self.last_face_ms) {
            (Some(old), Some(last)) => {
                let dt = now_ms.saturating_sub(last) as f32;
                let half_life = self.config.half_life.as_millis().max(1) as f32;
                // Weight of the new frame: 1 - 0.5^(dt / half_life).
                let alpha = 1.0 - 0.5f32.powf(dt / half_life);
                let mut mixed = [0.0f32; 7];
                for i in 0..7 {
                    mixed[i] = old[i] + alpha * (fresh[i] - old[i]);
                }
                mixed
            }
            _ => fresh,
        };
        self.smoothed = Some(EmotionProbabilities::new(smoothed));
    }

    fn follow_leader(&mut self, now_ms: u64) {
        let Some(smoothed) = self.smoothed else {
            return;
        };
        let (emotion, confidence) = smoothed.top();
        if confidence < self.config.min_confidence {
            self.leader = None;
            return;
        }
        let since = match self.leader {
            Some((leading, since)) if leading == emotion => since,
            _ => now_ms,
        };
        self.leader = Some((emotion, since));
        let held = Duration::from_millis(now_ms.saturating_sub(since));
        if self.stable.map(|s| s.emotion) != Some(emotion) && held >= self.config.dwell {
            self.stable = Some(StableMood {
                emotion,
                confidence,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A confident classifier's output for `emotion`.
    fn confident(emotion: Emotion, p: f32) -> EmotionProbabilities {
        let mut probabilities = [(1.0 - p) / 6.0; 7];
        probabilities[emotion as usize] = p;
        EmotionProbabilities::new(probabilities)
    }

    /// Feeds `emotion` at `fps` from `start_ms` for `duration_ms`; returns
    /// the time of the first frame whose stable mood is `emotion`.
    fn feed(
        tracker: &mut MoodTracker,
        emotion: Emotion,
        start_ms: u64,
        duration_ms: u64,
        fps: u64,
    ) -> Option<u64> {
        let step = 1000 / fps;
        let mut switched = None;
        let mut t = start_ms;
        while t < start_ms + duration_ms {
            let update = tracker.update(t, Some(&confident(emotion, 0.8)));
            if switched.is_none() && update.stable.map(|s| s.emotion) == Some(emotion) {
                switched = Some(t);
            }
            t += step;
        }
        switched
    }

    #[test]
    fn a_steady_expression_becomes_the_mood_within_one_and_a_half_seconds() {
        for fps in [5, 10, 30] {
            let mut tracker = MoodTracker::new(StabilityConfig::default());
            let first = feed(&mut tracker, Emotion::Happy, 0, 3000, fps).expect("happy settles");
            assert!(first <= 1000, "{fps} fps: first mood after {first} ms");
            let switch = feed(&mut tracker, Emotion::Sad, 3000, 3000, fps).expect("sad takes over");
            assert!(
                switch - 3000 <= 1500,
                "{fps} fps: switched after {} ms",
                switch - 3000
            );
            assert!(switch - 3000 >= 700, "{fps} fps: not before the dwell time");
        }
    }

    #[test]
    fn blips_never_switch_the_mood() {
        let mut tracker = MoodTracker::new(StabilityConfig::default());
        feed(&mut tracker, Emotion::Happy, 0, 2000, 10);
        let mut t = 2000;
        // Every second, three frames of a confident "angry" among happy ones.
        for _ in 0..10 {
            for i in 0..10 {
                let emotion = if i < 3 {
                    Emotion::Angry
                } else {
                    Emotion::Happy
                };
                let update = tracker.update(t, Some(&confident(emotion, 0.95)));
                assert_eq!(update.stable.unwrap().emotion, Emotion::Happy, "at {t} ms");
                assert!(!update.changed);
                t += 100;
            }
        }
    }

    #[test]
    fn an_unsure_classifier_does_not_switch_the_mood() {
        let mut tracker = MoodTracker::new(StabilityConfig::default());
        feed(&mut tracker, Emotion::Neutral, 0, 2000, 10);
        let mut flat = [0.14f32; 7];
        flat[Emotion::Surprise as usize] = 0.16;
        for i in 0..50 {
            let update = tracker.update(2000 + i * 100, Some(&flat.into()));
            assert_eq!(update.stable.unwrap().emotion, Emotion::Neutral);
        }
    }

    #[test]
    fn frames_without_a_face_keep_the_mood_and_a_long_gap_starts_afresh() {
        let mut tracker = MoodTracker::new(StabilityConfig::default());
        feed(&mut tracker, Emotion::Happy, 0, 2000, 10);
        for t in (2000..4000).step_by(100) {
            let update = tracker.update(t, None);
            assert_eq!(update.stable.unwrap().emotion, Emotion::Happy);
        }
        assert!(
            tracker.update(6000, None).smoothed.is_none(),
            "forgotten after the gap"
        );
        // A new face is averaged from scratch: its own dwell, no memory of happy.
        let switch = feed(&mut tracker, Emotion::Sad, 6000, 2000, 10).unwrap();
        assert!(switch - 6000 <= 800, "{}", switch - 6000);
    }

    #[test]
    fn changed_is_reported_once_per_switch() {
        let mut tracker = MoodTracker::new(StabilityConfig::default());
        let mut changes = 0;
        for (emotion, start) in [
            (Emotion::Happy, 0),
            (Emotion::Sad, 3000),
            (Emotion::Fear, 6000),
        ] {
            for t in (start..start + 3000).step_by(100) {
                changes += usize::from(tracker.update(t, Some(&confident(emotion, 0.7))).changed);
            }
        }
        assert_eq!(changes, 3);
    }

    #[test]
    fn garbage_probabilities_are_ignored() {
        let mut tracker = MoodTracker::new(StabilityConfig::default());
        let nan = [f32::NAN; 7];
        assert!(tracker.update(0, Some(&nan.into())).smoothed.is_none());
        let zeros = [0.0f32; 7];
        let update = tracker.update(100, Some(&zeros.into()));
        assert!(update.stable.is_none());
    }
}
