//! Neighbourhoods on the index's grid: the cells around a point ring by
//! ring, the songs nearest to a point, and a compact set of songs. Used by
//! the search for a list and by feedback, which spreads to similar songs.

use std::collections::BinaryHeap;

use super::index::{CatalogIndex, GRID};
use crate::circumplex::MoodPoint;

/// The side of one grid cell on the circumplex.
pub(super) const CELL: f32 = 1.0 / GRID as f32;

/// A fixed-size set of song indices.
pub(super) struct SongSet(Vec<u64>);

impl SongSet {
    pub fn new(len: usize) -> Self {
        SongSet(vec![0; len.div_ceil(64)])
    }
    pub fn insert(&mut self, song: u32) {
        self.0[song as usize / 64] |= 1 << (song % 64);
    }
    pub fn contains(&self, song: u32) -> bool {
        self.0[song as usize / 64] >> (song % 64) & 1 == 1
    }
}

/// Calls `visit` for each grid cell at Chebyshev distance `ring` from
/// `(cx, cy)` that lies inside the grid.
pub(super) fn for_ring_cells(
    cx: usize,
    cy: usize,
    ring: usize,
    mut visit: impl FnMut(usize, usize),
) {
    let r = ring as isize;
    let (cx, cy) = (cx as isize, cy as isize);
    let inside = |v: isize| (0..GRID as isize).contains(&v);
    for dy in -r..=r {
        let y = cy + dy;
        if !inside(y) {
            continue;
        }
        let step = if dy.abs() == r {
            1
        } else {
            (2 * r).max(1) as usize
        };
        for dx in (-r..=r).step_by(step) {
            let x = cx + dx;
            if inside(x) {
                visit(x as usize, y as usize);
            }
        }
    }
}

/// The `k` songs with audio features nearest to `point`, with distances,
/// nearest first; `skip` is left out.
pub(super) fn nearest_songs(
    index: &CatalogIndex,
    point: MoodPoint,
    k: usize,
    skip: u32,
) -> Vec<(u32, f32)> {
    #[derive(PartialEq)]
    struct Far(f32, u32);
    impl Eq for Far {}
    impl PartialOrd for Far {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Far {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
        }
    }
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Far> = BinaryHeap::with_capacity(k + 1);
    let (cx, cy) = CatalogIndex::cell_of(point);
    for ring in 0..GRID {
        let lower_bound = ring.saturating_sub(1) as f32 * CELL;
        if heap.len() == k && heap.peek().is_some_and(|far| lower_bound > far.0) {
            break;
        }
        for_ring_cells(cx, cy, ring, |x, y| {
            for item in index.cell(x, y) {
                // A song's audio-feature entries share its point: count its first.
                if item.song == skip || index.entries_of(item.song).start != item.entry {
                    continue;
                }
                let distance = item.point.distance(point);
                if heap.len() < k {
                    heap.push(Far(distance, item.song));
                } else if heap
                    .peek()
                    .is_some_and(|far| Far(distance, item.song) < *far)
                {
                    heap.pop();
                    heap.push(Far(distance, item.song));
                }
            }
        });
    }
    let mut nearest: Vec<(u32, f32)> = heap.into_iter().map(|Far(d, song)| (song, d)).collect();
    nearest.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_cells_cover_the_grid_exactly_once() {
        let mut seen = vec![0u32; GRID * GRID];
        for ring in 0..GRID {
            for_ring_cells(3, 60, ring, |x, y| seen[y * GRID + x] += 1);
        }
        assert!(seen.iter().all(|&n| n == 1));
    }
}
