//! What played for a listener profile: each song the page's player started,
//! with the mood it was chosen for and why, newest kept. The page keeps its
//! own copy in the browser; the store's is the profile's, seen from any
//! browser that uses it (`GET /api/plays`).

use melodora_core::Emotion;
use serde::Serialize;

use crate::error::Result;

/// How many plays a profile keeps (the newest), as the page does.
pub const PLAYS_KEPT: usize = 500;
/// The longest reason kept, in characters (a longer one is cut).
pub const MAX_REASON_CHARS: usize = 300;

/// One song started by the player.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Play {
    /// When it started, milliseconds since 1970 (the server's clock).
    pub at_ms: i64,
    /// The song's id when it played (the title and artist are kept too: a
    /// library song may be removed, a catalog re-imported).
    pub song_id: i64,
    /// The song's title.
    pub title: String,
    /// The song's artist.
    pub artist: String,
    /// The Spotify track id, when the song has one.
    pub spotify_id: Option<String>,
    /// The stable mood the song was chosen for; `None` when there was none.
    pub mood: Option<Emotion>,
    /// Why it was in the list, as the page showed it.
    pub reason: String,
}

/// The store's side: plays by profile, newest first.
pub(crate) trait PlayRepository: Send {
    /// Adds a play, and drops the profile's oldest beyond [`PLAYS_KEPT`].
    fn record_play(&mut self, profile: &str, play: &Play) -> Result<()>;
    /// A profile's newest `limit` plays, newest first.
    fn plays(&self, profile: &str, limit: usize) -> Result<Vec<Play>>;
    /// Forgets a profile's plays; how many there were.
    fn forget_plays(&mut self, profile: &str) -> Result<u64>;
}

/// Now, in milliseconds since 1970.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `reason` cut to [`MAX_REASON_CHARS`] characters.
pub(crate) fn kept_reason(reason: &str) -> String {
    reason.chars().take(MAX_REASON_CHARS).collect()
}

/// A mood as kept in the store (its name), and back (unknown text: none).
pub(crate) fn mood_to_sql(mood: Option<Emotion>) -> Option<String> {
    mood.map(|m| m.to_string())
}

pub(crate) fn mood_from_sql(text: Option<String>) -> Option<Emotion> {
    text.and_then(|t| t.parse().ok())
}
