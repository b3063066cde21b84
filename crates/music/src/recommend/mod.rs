//! Mood-aware recommendations.
//!
//! [`Recommender::recommend`] builds a list for an emotion in one of two
//! modes: `match` (songs of that mood) or `uplift` (start at the mood and
//! move towards positive valence across the list: the iso principle of
//! music therapy). Songs with audio features are ranked by their distance
//! to the target point on the circumplex; songs without by their position
//! in the emotion's list, popularity breaking ties. Rules on top:
//!
//! * variety: at most 2 songs per artist in a list of 15 (the cap scales
//!   with the list length), relaxed only when the catalog has nothing else;
//! * no song repeats within a [`Session`] until the pool's songs (the
//!   emotion's in match mode, the whole catalog's in uplift mode) that fit
//!   the artist cap are used up; then the pool starts a new round;
//! * feedback: likes and skips of the session's profile raise and lower the
//!   song and similar songs (see [`preferences`]);
//! * the same seed, session history and catalog give the same list.
//!
//! When an emotion's pool has fewer songs than asked for, the list is
//! filled with the songs nearest to that emotion's centre from other pools.

mod id_hasher;
mod index;
mod neighbours;
pub mod preferences;
mod reason;
mod search;

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use melodora_core::Emotion;
use serde::{Deserialize, Serialize};

pub use index::{CatalogIndex, IndexRows, IndexSong};
use preferences::Adjustments;
pub use reason::{Basis, Liking, Reason};
use search::{Candidate, Filter, Search};

use crate::circumplex::{center, uplift_target, MoodPoint};
use crate::feedback::Verdict;
use crate::song::Song;

/// How a list relates to the listener's mood.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Mood-congruent: every song near the emotion.
    #[default]
    Match,
    /// Start at the emotion, end at positive valence.
    Uplift,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "match" => Ok(Mode::Match),
            "uplift" => Ok(Mode::Uplift),
            _ => Err(format!("unknown mode {s:?}; expected match or uplift")),
        }
    }
}

/// Which songs a list may hold: the listener's own music, the catalog's,
/// or both. (Catalog songs filed in an emotion's list sit at its centre,
/// so in a mixed list they come before library songs, which sit where
/// their audio puts them: a listener who wants their own music asks for
/// it.)
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Every song.
    #[default]
    All,
    /// Only library songs (heard from the listener's own files).
    Library,
    /// Only catalog songs.
    Catalog,
}

impl Source {
    /// Whether a song (heard from a library file or not) may be listed.
    pub(crate) fn admits(self, heard: bool) -> bool {
        match self {
            Source::All => true,
            Source::Library => heard,
            Source::Catalog => !heard,
        }
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Source::All),
            "library" => Ok(Source::Library),
            "catalog" => Ok(Source::Catalog),
            _ => Err(format!(
                "unknown source {s:?}; expected all, library or catalog"
            )),
        }
    }
}

/// The list lengths the UI and CLI ask for by default.
pub const DEFAULT_LIMIT: usize = 15;

/// What to recommend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The listener's mood.
    pub emotion: Emotion,
    /// Match the mood or lift it.
    pub mode: Mode,
    /// Songs wanted.
    pub limit: usize,
    /// Which songs may be listed.
    pub from: Source,
}

/// A listener's session: whose feedback counts, the seed for tie-breaking
/// jitter, and the songs already shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The listener profile whose likes and skips weigh in.
    pub profile: String,
    /// Seed of the tie-breaking jitter, so one session's lists are
    /// reproducible and two sessions' differ.
    pub seed: u64,
    /// Ids of songs already shown; they are not shown again until the pool
    /// runs out and a new round starts.
    pub seen: HashSet<i64>,
}

impl Session {
    /// A session for `profile` that has seen nothing yet.
    pub fn new(profile: &str, seed: u64) -> Self {
        Session {
            profile: profile.to_string(),
            seed,
            seen: HashSet::new(),
        }
    }
}

/// One recommended song, with the target it was chosen for and its score
/// (distance plus costs; lower is closer).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The song.
    #[serde(flatten)]
    pub song: Song,
    /// Distance to the target plus feedback and repetition costs; lower is
    /// closer.
    pub score: f32,
    /// The point in valence/energy space the song was chosen for.
    pub target: MoodPoint,
    /// Why it was chosen, in a few words: "in your happy list (#3)",
    /// "valence 0.82 / energy 0.71, close to happy", "lifts a sad mood
    /// (uplift mode, step 4 of 15): ...", "...; like a song you liked".
    pub reason: String,
}

/// A song picked by the index, before its details are read from the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// The store's id of the song.
    pub song_id: i64,
    /// As [`Recommendation::score`].
    pub score: f32,
    /// As [`Recommendation::target`].
    pub target: MoodPoint,
    /// Why the search chose it (see [`Recommendation::reason`]).
    pub reason: Reason,
}

/// The recommender: an index over one snapshot of the store's catalog.
/// Rebuild it (with [`Recommender::load`]) after an import.
pub struct Recommender {
    index: CatalogIndex,
    /// Adjustments by the feedback they were built from: feedback changes
    /// only when a listener clicks, lists are asked for far more often.
    adjustments: Mutex<AdjustmentCache>,
}

/// A profile's verdicts, as (song id, verdict) sorted by id.
type Feedback = Vec<(i64, Verdict)>;
type AdjustmentCache = HashMap<Feedback, Arc<Adjustments>>;

/// Distinct feedback sets kept in the adjustment cache.
const ADJUSTMENT_CACHE: usize = 64;

impl Recommender {
    /// A recommender over `index` (see `Recommender::load` for the
    /// store's catalog, [`crate::CatalogSnapshot`] for a catalog file's).
    pub fn new(index: CatalogIndex) -> Recommender {
        Recommender {
            index,
            adjustments: Mutex::new(HashMap::new()),
        }
    }

    /// The adjustments for a profile's feedback, cached.
    fn adjustments_for(&self, feedback: &[(i64, Verdict)]) -> Arc<Adjustments> {
        // A poisoned lock only means another thread panicked mid-insert;
        // the cache is still a valid map.
        let mut cache = self.adjustments.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = cache.get(feedback) {
            return Arc::clone(found);
        }
        let built = Arc::new(Adjustments::new(&self.index, feedback));
        if cache.len() >= ADJUSTMENT_CACHE {
            cache.clear();
        }
        cache.insert(feedback.to_vec(), Arc::clone(&built));
        built
    }

    /// The index, for statistics.
    pub fn index(&self) -> &CatalogIndex {
        &self.index
    }

    /// The song ids for `request`, given the profile's `feedback`; the session
    /// remembers them. This is the part that must be fast.
    pub fn pick(
        &self,
        request: &Request,
        session: &mut Session,
        feedback: &[(i64, Verdict)],
    ) -> Vec<Pick> {
        let index = &self.index;
        let limit = request.limit.min(index.len());
        let adjustments = self.adjustments_for(feedback);
        let mut search = Search::new(index, &adjustments, session.seed, artist_cap(limit));
        search.set_source(request.from);
        search.set_seen(&session.seen);
        let pool = (request.mode == Mode::Match).then_some(request.emotion);
        // When the ideal is not available: a new round of the pool first,
        // then keep the artist cap before keeping to the pool, and the pool
        // before dropping both.
        let ideal = Filter { pool, capped: true };
        let fallbacks = [
            Filter {
                pool: None,
                capped: true,
            },
            Filter {
                pool,
                capped: false,
            },
            Filter {
                pool: None,
                capped: false,
            },
        ];
        let mut new_round = false;
        let mut picks: Vec<Pick> = Vec::with_capacity(limit);
        if request.mode == Mode::Match {
            // All positions share one target: one search for a shortlist
            // (with room for artists over the cap), then fill greedily.
            let target = center(request.emotion);
            let uncapped = Filter {
                pool,
                capped: false,
            };
            for candidate in search.best_n(target, &uncapped, 3 * limit) {
                if picks.len() == limit {
                    break;
                }
                if !search.artist_is_full(search.artist_of(&candidate)) {
                    let song = search.take(&candidate);
                    let why = self.reason(&candidate, None, feedback, &adjustments);
                    picks.push(self.record(song, candidate.score, target, why, session));
                }
            }
        }
        for position in picks.len()..limit {
            let target = match request.mode {
                Mode::Match => center(request.emotion),
                Mode::Uplift => uplift_target(request.emotion, position, limit),
            };
            let mut found = search.best(target, &ideal);
            if found.is_none() && !new_round {
                new_round = true;
                let in_list: HashSet<i64> = picks.iter().map(|p| p.song_id).collect();
                session
                    .seen
                    .retain(|id| in_list.contains(id) || !in_pool(index, request, *id));
                search.set_seen(&session.seen);
                found = search.best(target, &ideal);
            }
            let found = found.or_else(|| {
                fallbacks
                    .iter()
                    .find_map(|filter| search.best(target, filter))
            });
            let Some(candidate) = found else { break };
            let song = search.take(&candidate);
            let uplift =
                (request.mode == Mode::Uplift).then_some((request.emotion, position + 1, limit));
            let why = self.reason(&candidate, uplift, feedback, &adjustments);
            picks.push(self.record(song, candidate.score, target, why, session));
        }
        picks
    }

    /// Notes a picked song in the session.
    fn record(
        &self,
        song: u32,
        score: f32,
        target: MoodPoint,
        reason: Reason,
        session: &mut Session,
    ) -> Pick {
        let song_id = self.index.songs[song as usize].id;
        session.seen.insert(song_id);
        Pick {
            song_id,
            score,
            target,
            reason,
        }
    }

    /// Why `candidate` was chosen: the entry it was found through, the
    /// mode, and the profile's likes.
    fn reason(
        &self,
        candidate: &Candidate,
        uplift: Option<(Emotion, usize, usize)>,
        feedback: &[(i64, Verdict)],
        adjustments: &Adjustments,
    ) -> Reason {
        let entry = &self.index.entries[candidate.entry as usize];
        let song = &self.index.songs[entry.song as usize];
        let point = if entry.has_features { song.point } else { None };
        let position = (entry.rank_cost / index::RANK_COST).round() as u32 + 1;
        let liked = feedback
            .iter()
            .any(|&(id, verdict)| id == song.id && verdict == Verdict::Like);
        let liking = if liked {
            Liking::Liked
        } else if adjustments.get(entry.song) < 0.0 {
            Liking::LikeALiked
        } else {
            Liking::None
        };
        Reason {
            basis: Reason::basis(entry.pool, point, position, song.heard),
            uplift,
            liking,
        }
    }
}

/// Whether a song belongs to the request's pool: the emotion's songs in
/// match mode, every song in uplift mode.
fn in_pool(index: &CatalogIndex, request: &Request, id: i64) -> bool {
    match (request.mode, index.by_id.get(&id)) {
        (_, None) => false,
        (Mode::Uplift, Some(_)) => true,
        (Mode::Match, Some(&song)) => {
            index.songs[song as usize].pools >> request.emotion as u8 & 1 == 1
        }
    }
}

/// At most 2 songs per artist in 15, scaled to the list length.
fn artist_cap(limit: usize) -> u32 {
    ((2 * limit).div_ceil(DEFAULT_LIMIT)).max(1) as u32
}

/// The recommendations for `picks`, with each song's details from `song`
/// (matched by id, not position: a song the source no longer has, e.g. an
/// index older than an import, is left out without shifting the others).
pub fn attach_songs(
    picks: Vec<Pick>,
    mut song: impl FnMut(i64) -> Option<Song>,
) -> Vec<Recommendation> {
    picks
        .into_iter()
        .filter_map(|pick| {
            Some(Recommendation {
                song: song(pick.song_id)?,
                score: pick.score,
                target: pick.target,
                reason: pick.reason.text(),
            })
        })
        .collect()
}
