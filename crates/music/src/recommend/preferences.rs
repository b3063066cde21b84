//! Feedback as score adjustments.
//!
//! A like raises the song itself a lot and *similar* songs a little; a skip
//! buries the song and lowers similar songs a little. Similar means: by the
//! same artist, or among the [`SIMILAR_NEIGHBOURS`] songs nearest in
//! valence/energy (closer ones count more). Scores are distances, so a raise
//! is a negative adjustment. The similar set is bounded per verdict, which
//! keeps the raised songs few enough to examine one by one.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::id_hasher::IdHasher;
use super::index::CatalogIndex;
use super::neighbours::{nearest_songs, SongSet};
use crate::feedback::Verdict;

/// Raise of a liked song.
pub const LIKE_SONG: f32 = 0.30;
/// Largest raise of a song similar to a liked one.
pub const LIKE_SIMILAR: f32 = 0.10;
/// Penalty of a skipped song: more than any distance in the square, so it
/// comes last.
pub const SKIP_SONG: f32 = 1.5;
/// Largest penalty of a song similar to a skipped one.
pub const SKIP_SIMILAR: f32 = 0.05;
/// How many audio-feature neighbours of a rated song count as similar.
pub const SIMILAR_NEIGHBOURS: usize = 20;
/// Neighbours farther than this do not count, however few there are.
pub const SIMILAR_RADIUS: f32 = 0.25;
/// Total raise is capped so that many likes cannot pull in a far-off mood.
pub const MAX_RAISE: f32 = 0.35;

/// Score adjustment per song index (negative raises, positive lowers).
#[derive(Default)]
pub struct Adjustments {
    by_song: HashMap<u32, f32, BuildHasherDefault<IdHasher>>,
    /// The songs in `by_song`, for a lookup cheaper than hashing (most
    /// candidates have no adjustment).
    adjusted: Option<SongSet>,
    /// Entries of the raised songs, which the search examines one by one.
    pub(super) raised_entries: Vec<u32>,
}

impl Adjustments {
    /// Builds the adjustments for a profile's verdicts (store song ids).
    pub fn new(index: &CatalogIndex, feedback: &[(i64, Verdict)]) -> Adjustments {
        let mut adjustments = Adjustments::default();
        for &(id, verdict) in feedback {
            let Some(&song) = index.by_id.get(&id) else {
                continue;
            };
            let (own, similar) = match verdict {
                Verdict::Like => (-LIKE_SONG, -LIKE_SIMILAR),
                Verdict::Skip => (SKIP_SONG, SKIP_SIMILAR),
            };
            adjustments.add(song, own);
            let indexed = &index.songs[song as usize];
            for &other in &index.artist_songs[indexed.artist as usize] {
                if other != song {
                    adjustments.add(other, similar);
                }
            }
            if let Some(point) = indexed.point {
                for (other, distance) in nearest_songs(index, point, SIMILAR_NEIGHBOURS, song) {
                    if distance < SIMILAR_RADIUS {
                        adjustments.add(other, similar * (1.0 - distance / SIMILAR_RADIUS));
                    }
                }
            }
        }
        for value in adjustments.by_song.values_mut() {
            *value = value.max(-MAX_RAISE);
        }
        let mut raised: Vec<u32> = adjustments
            .by_song
            .iter()
            .filter(|(_, &v)| v < 0.0)
            .map(|(&song, _)| song)
            .collect();
        raised.sort_unstable();
        adjustments.raised_entries = raised
            .into_iter()
            .flat_map(|song| index.entries_of(song))
            .collect();
        if !adjustments.by_song.is_empty() {
            let mut adjusted = SongSet::new(index.len());
            for &song in adjustments.by_song.keys() {
                adjusted.insert(song);
            }
            adjustments.adjusted = Some(adjusted);
        }
        adjustments
    }

    fn add(&mut self, song: u32, delta: f32) {
        *self.by_song.entry(song).or_insert(0.0) += delta;
    }

    /// The adjustment of a song (0 when it has none).
    pub fn get(&self, song: u32) -> f32 {
        match &self.adjusted {
            Some(adjusted) if adjusted.contains(song) => {
                self.by_song.get(&song).copied().unwrap_or(0.0)
            }
            _ => 0.0,
        }
    }
}
