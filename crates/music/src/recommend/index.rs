//! The in-memory index the recommender searches.
//!
//! A catalog of a million songs cannot be scanned per request within a few
//! milliseconds, so the store is read once into compact arrays:
//!
//! * every song's artist (interned), popularity and valence/energy point;
//! * *entries*: a song's place in an emotion's pool. A song with audio
//!   features sits at its own point; a song without sits at the centre of
//!   each emotion whose list names it, with a small cost per list position
//!   so that list order survives;
//! * a uniform grid over the valence/energy square holding the entries with
//!   audio features, searched ring by ring outwards from a target;
//! * per emotion, the featureless entries sorted by list position (then
//!   popularity), which all sit at one point and so can be walked in order.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::id_hasher::IdHasher;

use melodora_core::Emotion;

use crate::circumplex::{center, nearest_emotion, MoodPoint};
use crate::song::fold_name;

/// What the recommender's index needs of one song.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSong<'a> {
    /// The catalog's id of the song.
    pub id: i64,
    /// Its artist, as written (the index folds case and spaces).
    pub artist: &'a str,
    /// Its valence/energy point, when it has audio features.
    pub point: Option<MoodPoint>,
    /// Spotify popularity, 0 to 100 (0 when unknown).
    pub popularity: u8,
    /// Whether `point` was heard in the song's own audio (a library song)
    /// rather than given by a catalog.
    pub heard: bool,
}

/// Where the index reads a catalog from: the store, or a catalog file in
/// the browser. Songs come in id order, then the filings.
pub trait IndexRows {
    /// One song.
    fn song(&mut self, song: IndexSong<'_>);
    /// `song_id` is filed under `emotion` at position `rank` of its list.
    fn filing(&mut self, song_id: i64, emotion: Emotion, rank: u32);
}

/// Cells per side of the grid.
pub(super) const GRID: usize = 64;

/// Score added per position down an emotion's list, for songs ranked by
/// list order rather than audio features: 100 places cost 0.1, about the
/// distance between neighbouring moods' songs.
pub(super) const RANK_COST: f32 = 0.001;

/// A song as the index knows it.
#[derive(Debug, Clone)]
pub(super) struct IndexedSong {
    pub id: i64,
    pub artist: u32,
    pub point: Option<MoodPoint>,
    pub popularity: u8,
    /// As [`IndexSong::heard`].
    pub heard: bool,
    /// Bit `e` is set when the song is in emotion `e`'s pool.
    pub pools: u8,
}

/// A song's place in one emotion's pool.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub song: u32,
    pub point: MoodPoint,
    pub rank_cost: f32,
    pub pool: Emotion,
    /// Whether `point` is the song's own (audio features) or its list's centre.
    pub has_features: bool,
}

/// Read-only search structures over one snapshot of the catalog.
pub struct CatalogIndex {
    pub(super) songs: Vec<IndexedSong>,
    pub(super) by_id: HashMap<i64, u32, BuildHasherDefault<IdHasher>>,
    pub(super) entries: Vec<Entry>,
    /// Entries with audio features, grouped by grid cell: cell `c` holds
    /// `grid[grid_start[c]..grid_start[c + 1]]`. The items copy what a
    /// search checks first, so that scanning a cell reads memory in order.
    pub(super) grid_start: Vec<u32>,
    pub(super) grid: Vec<GridItem>,
    /// Featureless entries per emotion, best list position first.
    pub(super) lists: [Vec<u32>; 7],
    /// Distinct songs in each emotion's pool.
    pub(super) pool_sizes: [u32; 7],
    /// Songs of each artist.
    pub(super) artist_songs: Vec<Vec<u32>>,
    /// Entries are grouped by song: song `s` owns
    /// `entries[song_entries[s]..song_entries[s + 1]]`.
    pub(super) song_entries: Vec<u32>,
}

impl CatalogIndex {
    /// Builds the index from the rows `feed` streams into it (see
    /// [`IndexRows`]); `feed`'s error is passed on.
    pub fn build<E>(
        feed: impl FnOnce(&mut dyn IndexRows) -> Result<(), E>,
    ) -> Result<CatalogIndex, E> {
        let mut builder = Builder::default();
        feed(&mut builder)?;
        Ok(builder.finish())
    }

    /// Number of songs indexed.
    pub fn len(&self) -> usize {
        self.songs.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.songs.is_empty()
    }

    /// Number of songs in an emotion's pool (its list, and the unlisted
    /// audio-feature songs placed there).
    pub fn pool_size(&self, emotion: Emotion) -> usize {
        self.pool_sizes[emotion as usize] as usize
    }

    /// Approximate heap bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.songs.capacity() * size_of::<IndexedSong>()
            + self.by_id.capacity() * (size_of::<(i64, u32)>() + 1)
            + self.entries.capacity() * size_of::<Entry>()
            + self.grid_start.capacity() * size_of::<u32>()
            + self.grid.capacity() * size_of::<GridItem>()
            + self.song_entries.capacity() * size_of::<u32>()
            + self
                .lists
                .iter()
                .map(|l| l.capacity() * size_of::<u32>())
                .sum::<usize>()
            + self
                .artist_songs
                .iter()
                .map(|s| s.capacity() * size_of::<u32>() + size_of::<Vec<u32>>())
                .sum::<usize>()
    }

    /// Grid cell of a point (points outside the square are clamped).
    pub(super) fn cell_of(point: MoodPoint) -> (usize, usize) {
        let clamp = |x: f32| ((x * GRID as f32) as isize).clamp(0, GRID as isize - 1) as usize;
        (clamp(point.valence), clamp(point.energy))
    }

    /// Indices of a song's entries.
    pub(super) fn entries_of(&self, song: u32) -> std::ops::Range<u32> {
        self.song_entries[song as usize]..self.song_entries[song as usize + 1]
    }

    /// Entries of one grid cell.
    pub(super) fn cell(&self, x: usize, y: usize) -> &[GridItem] {
        let c = y * GRID + x;
        &self.grid[self.grid_start[c] as usize..self.grid_start[c + 1] as usize]
    }
}

#[derive(Default)]
struct Builder {
    songs: Vec<IndexedSong>,
    by_id: HashMap<i64, u32, BuildHasherDefault<IdHasher>>,
    artists: HashMap<String, u32>,
    filings: Vec<(u32, Emotion, u32)>,
}

impl IndexRows for Builder {
    fn song(&mut self, song: IndexSong<'_>) {
        let artist_key = fold_name(song.artist);
        let next = self.artists.len() as u32;
        let artist = *self.artists.entry(artist_key).or_insert(next);
        self.by_id.insert(song.id, self.songs.len() as u32);
        self.songs.push(IndexedSong {
            id: song.id,
            artist,
            point: song.point,
            popularity: song.popularity,
            heard: song.heard,
            pools: 0,
        });
    }

    fn filing(&mut self, song_id: i64, emotion: Emotion, rank: u32) {
        if let Some(&song) = self.by_id.get(&song_id) {
            self.filings.push((song, emotion, rank));
        }
    }
}

impl Builder {
    fn finish(mut self) -> CatalogIndex {
        let mut entries = Vec::with_capacity(self.songs.len() + self.filings.len());
        let mut listed = vec![false; self.songs.len()];
        for &(song, emotion, rank) in &self.filings {
            listed[song as usize] = true;
            let indexed = &mut self.songs[song as usize];
            indexed.pools |= 1 << emotion as u8;
            entries.push(match indexed.point {
                // Audio features rank a listed song by distance, not position.
                Some(point) => Entry {
                    song,
                    point,
                    rank_cost: 0.0,
                    pool: emotion,
                    has_features: true,
                },
                None => Entry {
                    song,
                    point: center(emotion),
                    rank_cost: rank as f32 * RANK_COST,
                    pool: emotion,
                    has_features: false,
                },
            });
        }
        for (song, indexed) in self.songs.iter_mut().enumerate() {
            if let (false, Some(point)) = (listed[song], indexed.point) {
                let emotion = nearest_emotion(point);
                indexed.pools |= 1 << emotion as u8;
                entries.push(Entry {
                    song: song as u32,
                    point,
                    rank_cost: 0.0,
                    pool: emotion,
                    has_features: true,
                });
            }
        }

        entries.sort_by_key(|entry| entry.song);
        let mut song_entries = vec![0u32; self.songs.len() + 1];
        for entry in &entries {
            song_entries[entry.song as usize + 1] += 1;
        }
        for s in 0..self.songs.len() {
            song_entries[s + 1] += song_entries[s];
        }

        let mut pool_sizes = [0u32; 7];
        for song in &self.songs {
            for emotion in Emotion::ALL {
                pool_sizes[emotion as usize] += u32::from(song.pools >> emotion as u8 & 1);
            }
        }

        let (grid_start, grid) = grid(&entries);
        let mut lists: [Vec<u32>; 7] = Default::default();
        for (i, entry) in entries.iter().enumerate() {
            if !entry.has_features {
                lists[entry.pool as usize].push(i as u32);
            }
        }
        for list in &mut lists {
            list.sort_by(|&a, &b| {
                let (a, b) = (&entries[a as usize], &entries[b as usize]);
                let (sa, sb) = (&self.songs[a.song as usize], &self.songs[b.song as usize]);
                a.rank_cost
                    .total_cmp(&b.rank_cost)
                    .then(sb.popularity.cmp(&sa.popularity))
                    .then(sa.id.cmp(&sb.id))
            });
        }

        let mut artist_songs = vec![Vec::new(); self.artists.len()];
        for (i, song) in self.songs.iter().enumerate() {
            artist_songs[song.artist as usize].push(i as u32);
        }

        CatalogIndex {
            songs: self.songs,
            by_id: self.by_id,
            entries,
            grid_start,
            grid,
            lists,
            pool_sizes,
            artist_songs,
            song_entries,
        }
    }
}

/// An audio-feature entry as stored in its grid cell.
#[derive(Debug, Clone, Copy)]
pub(super) struct GridItem {
    pub point: MoodPoint,
    pub song: u32,
    pub entry: u32,
    pub pool: Emotion,
}

/// Buckets the entries with audio features by grid cell (counting sort).
fn grid(entries: &[Entry]) -> (Vec<u32>, Vec<GridItem>) {
    let cell_index = |entry: &Entry| {
        let (x, y) = CatalogIndex::cell_of(entry.point);
        y * GRID + x
    };
    let mut start = vec![0u32; GRID * GRID + 1];
    for entry in entries.iter().filter(|e| e.has_features) {
        start[cell_index(entry) + 1] += 1;
    }
    for c in 0..GRID * GRID {
        start[c + 1] += start[c];
    }
    let mut fill = start.clone();
    let mut cells = vec![None; start[GRID * GRID] as usize];
    for (i, entry) in entries.iter().enumerate().filter(|(_, e)| e.has_features) {
        let c = cell_index(entry);
        cells[fill[c] as usize] = Some(GridItem {
            point: entry.point,
            song: entry.song,
            entry: i as u32,
            pool: entry.pool,
        });
        fill[c] += 1;
    }
    (
        start,
        cells
            .into_iter()
            .map(|item| item.expect("every slot filled"))
            .collect(),
    )
}
