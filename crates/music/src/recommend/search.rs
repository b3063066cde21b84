//! Finding the best song for a target point.
//!
//! A candidate's score is its distance to the target, plus its list-position
//! cost, plus a small seeded jitter (audio-feature songs only, so equal
//! distances do not always resolve the same way), plus feedback
//! adjustments; lower is better, ties go to the more popular song, then the
//! lower id. Jitter and skip penalties only ever add, so the distance alone
//! bounds a candidate's score from below and the grid search can stop as
//! soon as the next ring of cells is farther than the best score found.
//! Songs that feedback *raised* break that bound, so they are few by design
//! and always examined one by one.

use std::collections::{BinaryHeap, HashMap};

use melodora_core::Emotion;

use super::index::{CatalogIndex, GRID};
use super::preferences::Adjustments;
use crate::circumplex::{center, MoodPoint};

/// Largest seeded jitter added to an audio-feature song's distance: enough
/// to vary lists between sessions among near-equal songs, too little to
/// bring a song from another mood.
pub(super) const JITTER: f32 = 0.01;

const CELL: f32 = 1.0 / GRID as f32;

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

/// A scored candidate.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub entry: u32,
    pub score: f32,
    popularity: u8,
    id: i64,
}

impl Candidate {
    fn beats(&self, other: &Candidate) -> bool {
        self.score
            .total_cmp(&other.score)
            .then(other.popularity.cmp(&self.popularity))
            .then(self.id.cmp(&other.id))
            .is_lt()
    }
}

/// What one list's search may pick.
pub(super) struct Filter {
    /// Only entries of this emotion's pool (match mode), or any.
    pub pool: Option<Emotion>,
    /// Skip artists that already have `artist_cap` songs in the list.
    pub capped: bool,
}

/// Search state for building one list.
pub(super) struct Search<'a> {
    index: &'a CatalogIndex,
    adjustments: &'a Adjustments,
    seed: u64,
    /// Songs shown earlier in the session (this round).
    seen: SongSet,
    /// Songs already in this list.
    picked: SongSet,
    artist_counts: HashMap<u32, u32>,
    artist_cap: u32,
}

impl<'a> Search<'a> {
    pub fn new(
        index: &'a CatalogIndex,
        adjustments: &'a Adjustments,
        seed: u64,
        artist_cap: u32,
    ) -> Self {
        Search {
            index,
            adjustments,
            seed,
            seen: SongSet::new(index.songs.len()),
            picked: SongSet::new(index.songs.len()),
            artist_counts: HashMap::new(),
            artist_cap,
        }
    }

    /// The songs (store ids) the session has been shown this round.
    pub fn set_seen(&mut self, seen: &std::collections::HashSet<i64>) {
        self.seen = SongSet::new(self.index.songs.len());
        for id in seen {
            if let Some(&song) = self.index.by_id.get(id) {
                self.seen.insert(song);
            }
        }
    }

    /// Puts the candidate's song in the list: excluded from now on, and
    /// counted against its artist's cap.
    pub fn take(&mut self, candidate: &Candidate) -> u32 {
        let song = self.index.entries[candidate.entry as usize].song;
        self.picked.insert(song);
        *self
            .artist_counts
            .entry(self.index.songs[song as usize].artist)
            .or_insert(0) += 1;
        song
    }

    /// The best candidate for `target` under `filter`, if any is left.
    pub fn best(&self, target: MoodPoint, filter: &Filter) -> Option<Candidate> {
        let mut best: Option<Candidate> = None;
        for &entry in &self.adjustments.raised_entries {
            self.consider(entry, target, filter, &mut best);
        }
        self.search_lists(target, filter, &mut best);
        self.search_grid(target, filter, &mut best);
        best
    }

    fn search_lists(&self, target: MoodPoint, filter: &Filter, best: &mut Option<Candidate>) {
        for emotion in Emotion::ALL {
            if filter.pool.is_some_and(|pool| pool != emotion) {
                continue;
            }
            let distance = center(emotion).distance(target);
            for &entry in &self.index.lists[emotion as usize] {
                let lower_bound = distance + self.index.entries[entry as usize].rank_cost;
                if best.is_some_and(|b| lower_bound > b.score) {
                    break;
                }
                self.consider(entry, target, filter, best);
            }
        }
    }

    fn search_grid(&self, target: MoodPoint, filter: &Filter, best: &mut Option<Candidate>) {
        let (cx, cy) = CatalogIndex::cell_of(target);
        for ring in 0..GRID {
            let lower_bound = ring.saturating_sub(1) as f32 * CELL;
            if best.is_some_and(|b| lower_bound > b.score) {
                break;
            }
            for_ring_cells(cx, cy, ring, |x, y| {
                for &entry in self.index.cell(x, y) {
                    self.consider(entry, target, filter, best);
                }
            });
        }
    }

    fn consider(
        &self,
        entry_index: u32,
        target: MoodPoint,
        filter: &Filter,
        best: &mut Option<Candidate>,
    ) {
        let entry = &self.index.entries[entry_index as usize];
        if self.picked.contains(entry.song)
            || self.seen.contains(entry.song)
            || filter.pool.is_some_and(|pool| pool != entry.pool)
        {
            return;
        }
        let song = &self.index.songs[entry.song as usize];
        if filter.capped
            && self
                .artist_counts
                .get(&song.artist)
                .is_some_and(|&count| count >= self.artist_cap)
        {
            return;
        }
        let mut score =
            entry.point.distance(target) + entry.rank_cost + self.adjustments.get(entry.song);
        if entry.has_features {
            score += jitter(self.seed, song.id);
        }
        let candidate = Candidate {
            entry: entry_index,
            score,
            popularity: song.popularity,
            id: song.id,
        };
        if best.as_ref().is_none_or(|b| candidate.beats(b)) {
            *best = Some(candidate);
        }
    }
}

/// Calls `visit` for each grid cell at Chebyshev distance `ring` from
/// `(cx, cy)` that lies inside the grid.
fn for_ring_cells(cx: usize, cy: usize, ring: usize, mut visit: impl FnMut(usize, usize)) {
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
            for &entry in index.cell(x, y) {
                let entry = &index.entries[entry as usize];
                if entry.song == skip || heap.iter().any(|far| far.1 == entry.song) {
                    continue;
                }
                heap.push(Far(entry.point.distance(point), entry.song));
                if heap.len() > k {
                    heap.pop();
                }
            }
        });
    }
    let mut nearest: Vec<(u32, f32)> = heap.into_iter().map(|Far(d, song)| (song, d)).collect();
    nearest.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    nearest
}

/// A deterministic pseudo-random offset in `[0, JITTER)` per (seed, song).
fn jitter(seed: u64, id: i64) -> f32 {
    let mut x = seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 40) as f32 / (1u64 << 24) as f32 * JITTER
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

    #[test]
    fn jitter_is_deterministic_and_bounded() {
        for id in 0..1000 {
            let j = jitter(42, id);
            assert!((0.0..JITTER).contains(&j));
            assert_eq!(j, jitter(42, id));
        }
        assert_ne!(jitter(1, 7), jitter(2, 7));
    }
}
