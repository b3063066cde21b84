//! OpenCV's `groupRectangles`: cluster raw detections, keep clusters with
//! enough members, average them, and drop small boxes nested in stronger
//! ones.

use melodora_core::FaceBox;

/// Two boxes belong together when every edge is within
/// `eps * (min width + min height) / 2` of the other's.
fn similar(a: &FaceBox, b: &FaceBox, eps: f64) -> bool {
    let delta = eps * f64::from(a.w.min(b.w) + a.h.min(b.h)) * 0.5;
    let close = |d: i32| f64::from(d.abs()) <= delta;
    close(a.x - b.x)
        && close(a.y - b.y)
        && close(a.x + a.w - b.x - b.w)
        && close(a.y + a.h - b.y - b.h)
}

/// Labels the connected components of the "similar" relation, numbering
/// classes in order of first appearance (as `cv::partition` does).
fn partition(rects: &[FaceBox], eps: f64) -> (Vec<usize>, usize) {
    let n = rects.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    // Components do not depend on the order pairs are met in, so pairs are
    // met in order of x: `similar` needs |a.x - b.x| <= delta, and delta is
    // at most eps * (w + h) / 2 of either box, so each box is only compared
    // with those starting within that reach to its right. A frame tiled
    // with thousands of small faces then costs a band of neighbours per
    // candidate, not every other candidate.
    let mut by_x: Vec<usize> = (0..n).collect();
    by_x.sort_by_key(|&i| rects[i].x);
    for (k, &i) in by_x.iter().enumerate() {
        let a = &rects[i];
        let reach = eps * f64::from(a.w + a.h) * 0.5;
        for &j in &by_x[k + 1..] {
            if f64::from(rects[j].x - a.x) > reach {
                break;
            }
            if similar(a, &rects[j], eps) {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    parent[ri.max(rj)] = ri.min(rj);
                }
            }
        }
    }
    let mut class_of_root = vec![usize::MAX; n];
    let mut labels = Vec::with_capacity(n);
    let mut classes = 0;
    for i in 0..n {
        let root = find(&mut parent, i);
        if class_of_root[root] == usize::MAX {
            class_of_root[root] = classes;
            classes += 1;
        }
        labels.push(class_of_root[root]);
    }
    (labels, classes)
}

/// OpenCV's rounding of a float to int: to nearest, ties to even.
fn round_f32(v: f32) -> i32 {
    v.round_ties_even() as i32
}

/// Groups raw candidate windows like `cv::groupRectangles(rects,
/// group_threshold, eps)`. With `group_threshold == 0` the candidates are
/// returned unchanged, as in OpenCV.
pub fn group_rectangles(rects: &[FaceBox], group_threshold: usize, eps: f64) -> Vec<FaceBox> {
    if group_threshold == 0 || rects.is_empty() {
        return rects.to_vec();
    }
    let (labels, classes) = partition(rects, eps);
    let mut sums = vec![[0i64; 4]; classes];
    let mut counts = vec![0usize; classes];
    for (r, &c) in rects.iter().zip(&labels) {
        let s = &mut sums[c];
        s[0] += i64::from(r.x);
        s[1] += i64::from(r.y);
        s[2] += i64::from(r.w);
        s[3] += i64::from(r.h);
        counts[c] += 1;
    }
    let averaged: Vec<FaceBox> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &n)| {
            // OpenCV: float s = 1.f / n; saturate_cast<int>(sum * s).
            let inv = 1.0f32 / n as f32;
            let avg = |v: i64| round_f32(v as i32 as f32 * inv);
            FaceBox::new(avg(s[0]), avg(s[1]), avg(s[2]), avg(s[3]))
        })
        .collect();

    let mut out = Vec::new();
    for i in 0..classes {
        let (r1, n1) = (averaged[i], counts[i]);
        if n1 <= group_threshold {
            continue;
        }
        let nested = (0..classes).any(|j| {
            let n2 = counts[j];
            if j == i || n2 <= group_threshold {
                return false;
            }
            let r2 = averaged[j];
            let dx = (f64::from(r2.w) * eps).round_ties_even() as i32;
            let dy = (f64::from(r2.h) * eps).round_ties_even() as i32;
            r1.x >= r2.x - dx
                && r1.y >= r2.y - dy
                && r1.x + r1.w <= r2.x + r2.w + dx
                && r1.y + r1.h <= r2.y + r2.h + dy
                && (n2 > n1.max(3) || n1 < 3)
        });
        if !nested {
            out.push(r1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: every pair compared.
    fn partition_all_pairs(rects: &[FaceBox], eps: f64) -> (Vec<usize>, usize) {
        let n = rects.len();
        let mut labels = vec![usize::MAX; n];
        let mut classes = 0;
        for start in 0..n {
            if labels[start] != usize::MAX {
                continue;
            }
            labels[start] = classes;
            let mut stack = vec![start];
            while let Some(i) = stack.pop() {
                for j in 0..n {
                    if labels[j] == usize::MAX && similar(&rects[i], &rects[j], eps) {
                        labels[j] = classes;
                        stack.push(j);
                    }
                }
            }
            classes += 1;
        }
        (labels, classes)
    }

    #[test]
    fn the_sweep_finds_the_same_classes_as_all_pairs() {
        // Clumps of jittered boxes of mixed sizes, some overlapping, from a
        // fixed linear congruential sequence.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |m: i32| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % m as u64) as i32
        };
        for eps in [0.2, 0.5] {
            let mut rects = Vec::new();
            for _ in 0..60 {
                let (cx, cy, size) = (next(400), next(300), 20 + next(80));
                for _ in 0..1 + next(8) {
                    let s = size + next(9) - 4;
                    rects.push(FaceBox::new(cx + next(11) - 5, cy + next(11) - 5, s, s));
                }
            }
            let (labels, classes) = partition(&rects, eps);
            assert_eq!((labels, classes), partition_all_pairs(&rects, eps));
            assert!(classes > 20 && classes < rects.len(), "{classes}");
        }
    }

    #[test]
    fn threshold_zero_returns_input() {
        let r = vec![FaceBox::new(0, 0, 10, 10), FaceBox::new(100, 0, 10, 10)];
        assert_eq!(group_rectangles(&r, 0, 0.2), r);
    }

    #[test]
    fn clusters_are_averaged_and_small_ones_dropped() {
        let mut r = vec![
            FaceBox::new(10, 10, 50, 50),
            FaceBox::new(12, 11, 50, 50),
            FaceBox::new(11, 9, 52, 52),
        ];
        r.push(FaceBox::new(300, 300, 40, 40)); // a lone box: filtered out
        let g = group_rectangles(&r, 2, 0.2);
        assert_eq!(g, vec![FaceBox::new(11, 10, 51, 51)]);
    }

    #[test]
    fn nested_weaker_cluster_is_removed() {
        let mut r = Vec::new();
        for _ in 0..6 {
            r.push(FaceBox::new(100, 100, 100, 100));
        }
        for _ in 0..3 {
            r.push(FaceBox::new(130, 130, 30, 30));
        }
        let g = group_rectangles(&r, 2, 0.2);
        assert_eq!(g, vec![FaceBox::new(100, 100, 100, 100)]);
    }

    #[test]
    fn chains_of_similar_boxes_join_one_class() {
        // a~b and b~c but not a~c: one component, like cv::partition.
        let r = vec![
            FaceBox::new(0, 0, 100, 100),
            FaceBox::new(15, 0, 100, 100),
            FaceBox::new(30, 0, 100, 100),
        ];
        let (labels, n) = partition(&r, 0.2);
        assert_eq!(n, 1);
        assert_eq!(labels, vec![0, 0, 0]);
    }
}
