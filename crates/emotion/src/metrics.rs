//! Classification metrics for evaluating emotion models.

use melodora_core::Emotion;
use serde::Serialize;

/// Counts of (true emotion, predicted emotion) pairs, indexed like
/// [`Emotion::ALL`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfusionMatrix {
    counts: [[u64; 7]; 7],
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// Of the faces predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the faces of this class, the fraction predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Faces of this class in the evaluation set.
    pub support: u64,
}

impl ConfusionMatrix {
    /// An empty matrix.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one face of emotion `truth` predicted as `predicted`.
    pub fn add(&mut self, truth: Emotion, predicted: Emotion) {
        self.counts[truth as usize][predicted as usize] += 1;
    }

    /// Rows are true emotions, columns predictions.
    pub fn counts(&self) -> &[[u64; 7]; 7] {
        &self.counts
    }

    /// Faces counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Fraction of correct predictions (0 when empty).
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..7).map(|i| self.counts[i][i]).sum();
        ratio(correct, self.total())
    }

    /// Precision, recall and F1 of `e` (0 where undefined).
    pub fn class_metrics(&self, e: Emotion) -> ClassMetrics {
        let i = e as usize;
        let tp = self.counts[i][i];
        let predicted: u64 = (0..7).map(|r| self.counts[r][i]).sum();
        let support: u64 = self.counts[i].iter().sum();
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        ClassMetrics {
            precision,
            recall,
            f1,
            support,
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Emotion::*;

    #[test]
    fn metrics_from_a_small_matrix() {
        let mut m = ConfusionMatrix::new();
        for _ in 0..3 {
            m.add(Happy, Happy);
        }
        m.add(Happy, Sad);
        m.add(Sad, Happy);
        m.add(Sad, Sad);
        assert_eq!(m.total(), 6);
        assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        let h = m.class_metrics(Happy);
        assert!((h.precision - 0.75).abs() < 1e-12 && (h.recall - 0.75).abs() < 1e-12);
        assert_eq!(h.support, 4);
        let f = m.class_metrics(Fear);
        assert_eq!((f.precision, f.recall, f.f1, f.support), (0.0, 0.0, 0.0, 0));
        assert_eq!(m.counts()[Sad as usize][Happy as usize], 1);
    }
}
