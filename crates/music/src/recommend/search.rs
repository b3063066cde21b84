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

use std::collections::BinaryHeap;

use melodora_core::Emotion;

use super::index::{CatalogIndex, GRID};
use super::neighbours::{for_ring_cells, SongSet, CELL};
use super::preferences::Adjustments;
use crate::circumplex::{center, MoodPoint};

/// Largest seeded jitter added to an audio-feature song's distance: enough
/// to vary lists between sessions among near-equal songs, too little to
/// bring a song from another mood.
pub(super) const JITTER: f32 = 0.01;

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
    /// (artist, songs in the list so far); a list is short, so a vector
    /// beats a hash map here.
    artist_counts: Vec<(u32, u32)>,
    artist_cap: u32,
    /// Which songs may be listed.
    source: super::Source,
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
            artist_counts: Vec::new(),
            artist_cap,
            source: super::Source::All,
        }
    }

    /// Lists only the songs `source` admits.
    pub fn set_source(&mut self, source: super::Source) {
        self.source = source;
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
        let artist = self.index.songs[song as usize].artist;
        match self.artist_counts.iter_mut().find(|(a, _)| *a == artist) {
            Some((_, count)) => *count += 1,
            None => self.artist_counts.push((artist, 1)),
        }
        song
    }

    /// The best candidate for `target` under `filter`, if any is left.
    pub fn best(&self, target: MoodPoint, filter: &Filter) -> Option<Candidate> {
        self.best_n(target, filter, 1).pop()
    }

    /// The `n` best candidates for `target` under `filter`, best first.
    /// One search serves a whole match-mode list, whose positions share
    /// their target.
    pub fn best_n(&self, target: MoodPoint, filter: &Filter, n: usize) -> Vec<Candidate> {
        let mut shortlist = Shortlist::new(n);
        for &entry in &self.adjustments.raised_entries {
            self.consider(entry, target, filter, &mut shortlist);
        }
        self.search_lists(target, filter, &mut shortlist);
        self.search_grid(target, filter, &mut shortlist);
        shortlist.into_sorted()
    }

    fn search_lists(&self, target: MoodPoint, filter: &Filter, shortlist: &mut Shortlist) {
        // Listed songs are catalog songs: library songs are never filed.
        if self.source == super::Source::Library {
            return;
        }
        for emotion in Emotion::ALL {
            if filter.pool.is_some_and(|pool| pool != emotion) {
                continue;
            }
            let distance = center(emotion).distance(target);
            for &entry in &self.index.lists[emotion as usize] {
                let lower_bound = distance + self.index.entries[entry as usize].rank_cost;
                if shortlist.excludes(lower_bound) {
                    break;
                }
                self.consider(entry, target, filter, shortlist);
            }
        }
    }

    fn search_grid(&self, target: MoodPoint, filter: &Filter, shortlist: &mut Shortlist) {
        let (cx, cy) = CatalogIndex::cell_of(target);
        for ring in 0..GRID {
            let lower_bound = ring.saturating_sub(1) as f32 * CELL;
            if shortlist.excludes(lower_bound) {
                break;
            }
            for_ring_cells(cx, cy, ring, |x, y| {
                for item in self.index.cell(x, y) {
                    if filter.pool.is_some_and(|pool| pool != item.pool) {
                        continue;
                    }
                    // Cheap pre-check: distance bounds the score from below
                    // (raised songs, the exception, were offered already).
                    if shortlist.excludes(item.point.distance(target)) {
                        continue;
                    }
                    self.consider(item.entry, target, filter, shortlist);
                }
            });
        }
    }

    fn consider(
        &self,
        entry_index: u32,
        target: MoodPoint,
        filter: &Filter,
        shortlist: &mut Shortlist,
    ) {
        let entry = &self.index.entries[entry_index as usize];
        if self.picked.contains(entry.song)
            || self.seen.contains(entry.song)
            || filter.pool.is_some_and(|pool| pool != entry.pool)
        {
            return;
        }
        let song = &self.index.songs[entry.song as usize];
        if !self.source.admits(song.heard) || (filter.capped && self.artist_is_full(song.artist)) {
            return;
        }
        let mut score =
            entry.point.distance(target) + entry.rank_cost + self.adjustments.get(entry.song);
        if entry.has_features {
            score += jitter(self.seed, song.id);
        }
        shortlist.offer(Candidate {
            entry: entry_index,
            score,
            popularity: song.popularity,
            id: song.id,
        });
    }

    /// Whether an artist already has as many songs in the list as allowed.
    pub fn artist_is_full(&self, artist: u32) -> bool {
        self.artist_counts
            .iter()
            .any(|&(a, count)| a == artist && count >= self.artist_cap)
    }

    /// The artist of a candidate's song.
    pub fn artist_of(&self, candidate: &Candidate) -> u32 {
        let song = self.index.entries[candidate.entry as usize].song;
        self.index.songs[song as usize].artist
    }
}

/// The best `n` candidates seen so far (a max-heap on "worse").
struct Shortlist {
    n: usize,
    heap: BinaryHeap<Worse>,
}

/// Orders candidates so that the heap's top is the worst kept.
struct Worse(Candidate);

impl PartialEq for Worse {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Worse {}
impl PartialOrd for Worse {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worse {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.0.beats(&other.0) {
            std::cmp::Ordering::Less
        } else if other.0.beats(&self.0) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    }
}

impl Shortlist {
    fn new(n: usize) -> Self {
        Shortlist {
            n,
            heap: BinaryHeap::with_capacity(n + 1),
        }
    }

    /// Whether nothing scoring at least `lower_bound` can enter any more.
    fn excludes(&self, lower_bound: f32) -> bool {
        self.heap.len() >= self.n && self.heap.peek().is_some_and(|w| lower_bound > w.0.score)
    }

    fn offer(&mut self, candidate: Candidate) {
        if self.n == 0 {
            return;
        }
        if self.heap.len() < self.n {
            self.heap.push(Worse(candidate));
        } else if self.heap.peek().is_some_and(|w| candidate.beats(&w.0)) {
            self.heap.pop();
            self.heap.push(Worse(candidate));
        }
    }

    fn into_sorted(self) -> Vec<Candidate> {
        let mut sorted: Vec<Candidate> = self
            .heap
            .into_sorted_vec()
            .into_iter()
            .map(|w| w.0)
            .collect();
        // into_sorted_vec is ascending in "worse", i.e. best first. A song
        // with several entries keeps its best.
        let mut songs = std::collections::HashSet::new();
        sorted.retain(|c| songs.insert(c.id));
        sorted
    }
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
    fn jitter_is_deterministic_and_bounded() {
        for id in 0..1000 {
            let j = jitter(42, id);
            assert!((0.0..JITTER).contains(&j));
            assert_eq!(j, jitter(42, id));
        }
        assert_ne!(jitter(1, 7), jitter(2, 7));
    }
}
