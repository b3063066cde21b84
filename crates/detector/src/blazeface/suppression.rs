//! Weighted non-maximum suppression, as MediaPipe's face detection graphs
//! run it: the best remaining detection and every other that overlaps it by
//! more than the threshold become one face whose box and keypoints are
//! their score-weighted mean, with the best one's score. Averaging the
//! many anchors that fire on one face steadies its box from frame to frame.

use super::FaceDetection;

/// The area two boxes share.
pub(super) fn overlap_area(a: &FaceDetection, b: &FaceDetection) -> f32 {
    let w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
    let h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
    w.max(0.0) * h.max(0.0)
}

/// Intersection over union of two boxes.
fn iou(a: &FaceDetection, b: &FaceDetection) -> f32 {
    let shared = overlap_area(a, b);
    let union = a.w * a.h + b.w * b.h - shared;
    if union > 0.0 {
        shared / union
    } else {
        0.0
    }
}

/// One face per cluster of overlapping detections, best first.
pub(super) fn weighted_suppression(
    mut detections: Vec<FaceDetection>,
    min_iou: f32,
) -> Vec<FaceDetection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut faces = Vec::new();
    while let Some(best) = detections.first().copied() {
        let (cluster, rest): (Vec<FaceDetection>, Vec<FaceDetection>) = detections
            .into_iter()
            .partition(|d| iou(&best, d) > min_iou);
        detections = rest;
        // `best` overlaps itself, so the cluster is never empty.
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        let mean = |value: &dyn Fn(&FaceDetection) -> f32| {
            cluster.iter().map(|d| d.score * value(d)).sum::<f32>() / total
        };
        let mut face = FaceDetection {
            x: mean(&|d| d.x),
            y: mean(&|d| d.y),
            w: mean(&|d| d.w),
            h: mean(&|d| d.h),
            score: best.score,
            keypoints: best.keypoints,
        };
        for k in 0..6 {
            face.keypoints[k] = (mean(&|d| d.keypoints[k].0), mean(&|d| d.keypoints[k].1));
        }
        faces.push(face);
    }
    faces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32, y: f32, score: f32) -> FaceDetection {
        FaceDetection {
            x,
            y,
            w: 10.0,
            h: 10.0,
            score,
            keypoints: [(x, y); 6],
        }
    }

    #[test]
    fn overlapping_detections_merge_by_score_and_apart_ones_stay() {
        let faces = weighted_suppression(
            vec![at(0.0, 0.0, 0.6), at(2.0, 0.0, 0.9), at(50.0, 50.0, 0.7)],
            0.3,
        );
        assert_eq!(faces.len(), 2);
        assert_eq!(faces[0].score, 0.9, "the best one's score");
        let expected = (0.6 * 0.0 + 0.9 * 2.0) / 1.5;
        assert!((faces[0].x - expected).abs() < 1e-6, "{}", faces[0].x);
        assert!((faces[0].keypoints[3].0 - expected).abs() < 1e-6);
        assert_eq!((faces[1].x, faces[1].score), (50.0, 0.7));
        assert!(weighted_suppression(Vec::new(), 0.3).is_empty());
    }
}
