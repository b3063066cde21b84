//! What a song is, and the link that opens it.
//!
//! Every song a user sees must open somewhere on click: the track page when
//! the Spotify id is known, otherwise a Spotify search for artist and title.

use std::fmt;

use melodora_core::Emotion;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use crate::circumplex::MoodPoint;

/// Longest title, album or artist we accept. Real titles stay far below it;
/// the cap keeps hostile files from bloating the store and the UI.
pub const MAX_TEXT_CHARS: usize = 500;

/// Longest explicit link we accept.
pub const MAX_LINK_CHARS: usize = 2048;

/// A Spotify track id: 22 base-62 characters.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct SpotifyId(String);

impl From<SpotifyId> for String {
    fn from(id: SpotifyId) -> String {
        id.0
    }
}

impl TryFrom<String> for SpotifyId {
    type Error = InvalidSpotifyId;

    /// Only a bare id: a catalog file holds ids as the store writes them.
    fn try_from(text: String) -> Result<Self, InvalidSpotifyId> {
        if is_base62_id(&text) {
            Ok(SpotifyId(text))
        } else {
            Err(InvalidSpotifyId(text))
        }
    }
}

/// Why a piece of text is not a Spotify track id or track link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Spotify track id or track link: {0:?} (expected 22 letters and digits)")]
pub struct InvalidSpotifyId(pub String);

impl SpotifyId {
    /// Accepts a bare id, a `spotify:track:<id>` URI or an
    /// `https://open.spotify.com/[intl-xx/]track/<id>[?...]` link.
    pub fn parse(text: &str) -> Result<Self, InvalidSpotifyId> {
        let trimmed = text.trim();
        let candidate = if let Some(rest) = trimmed.strip_prefix("spotify:track:") {
            rest
        } else if let Some(path) = strip_open_spotify_host(trimmed) {
            track_id_from_path(path).ok_or_else(|| InvalidSpotifyId(text.to_string()))?
        } else {
            trimmed
        };
        if is_base62_id(candidate) {
            Ok(SpotifyId(candidate.to_string()))
        } else {
            Err(InvalidSpotifyId(text.to_string()))
        }
    }

    /// The id itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `https://open.spotify.com/track/<id>`.
    pub fn track_url(&self) -> String {
        format!("https://open.spotify.com/track/{}", self.0)
    }
}

impl fmt::Display for SpotifyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_base62_id(text: &str) -> bool {
    text.len() == 22 && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn strip_open_spotify_host(text: &str) -> Option<&str> {
    ["https://open.spotify.com/", "http://open.spotify.com/"]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
}

/// `track/<id>` or `intl-xx/track/<id>`, ignoring a query or fragment.
fn track_id_from_path(path: &str) -> Option<&str> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let mut first = segments.next()?;
    if first.starts_with("intl-") {
        first = segments.next()?;
    }
    let id = segments.next()?;
    (first == "track" && segments.next().is_none()).then_some(id)
}

/// Characters left unescaped in a search path segment: letters, digits and
/// the URL-safe marks; everything else (spaces, slashes, quotes, `#`, `?`,
/// non-ASCII) is percent-encoded.
const SEARCH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A Spotify search link for a song whose track id is unknown.
pub fn search_link(artist: &str, title: &str) -> String {
    let query = format!("{artist} {title}");
    format!(
        "{SEARCH_PREFIX}{}",
        utf8_percent_encode(query.trim(), SEARCH_SEGMENT)
    )
}

const SEARCH_PREFIX: &str = "https://open.spotify.com/search/";

/// Spotify audio features that place a song on the circumplex of affect.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AudioFeatures {
    /// Musical positiveness, 0 (sad, angry) to 1 (happy, cheerful).
    pub valence: f32,
    /// Intensity and activity, 0 (calm) to 1 (fast, loud).
    pub energy: f32,
    /// Beats per minute, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tempo: Option<f32>,
}

impl AudioFeatures {
    /// The song's point in valence/energy space.
    pub fn point(&self) -> MoodPoint {
        MoodPoint::new(self.valence, self.energy)
    }
}

/// A song's metadata, as read from a catalog file or the Spotify API.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Song title.
    pub title: String,
    /// Album title; empty when unknown.
    pub album: String,
    /// Artist name.
    pub artist: String,
    /// Spotify track id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spotify_id: Option<SpotifyId>,
    /// An explicit link other than a Spotify track page (e.g. a shop or
    /// video page) given by the catalog; always http(s). Not serialised:
    /// [`Song::link`] carries the link to use.
    #[serde(skip)]
    pub explicit_link: Option<String>,
    /// Spotify audio features (valence, energy, tempo), when known; they
    /// place the song in valence/energy space.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<AudioFeatures>,
    /// Spotify popularity, 0 to 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub popularity: Option<u8>,
}

impl Track {
    /// A track with only the three fields the original's files have.
    pub fn new(title: &str, album: &str, artist: &str) -> Self {
        Track {
            title: title.to_string(),
            album: album.to_string(),
            artist: artist.to_string(),
            spotify_id: None,
            explicit_link: None,
            features: None,
            popularity: None,
        }
    }

    /// The link that opens this song: the Spotify track page when the id is
    /// known, else the catalog's own link, else a Spotify search.
    pub fn link(&self) -> String {
        if let Some(id) = &self.spotify_id {
            id.track_url()
        } else if let Some(link) = &self.explicit_link {
            link.clone()
        } else {
            search_link(&self.artist, &self.title)
        }
    }
}

/// A song in the store: its metadata, the emotions it is filed under and
/// the store's id for it (used by feedback and sessions).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Song {
    /// The store's id.
    pub id: i64,
    /// Its metadata.
    #[serde(flatten)]
    pub track: Track,
    /// The link that opens it (see [`Track::link`]).
    pub link: String,
    /// Emotions whose lists name this song explicitly.
    pub emotions: Vec<Emotion>,
    /// For a song of the listener's own music library: what its audio
    /// sounds like and how to play it. `None` for catalog songs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<LibrarySong>,
}

/// A library song as the page and the CLI see it: the measures people
/// recognise and the mood heard in its audio. The file's path is not here
/// (a page never learns where a file lives; it asks for the song's audio
/// by id).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibrarySong {
    /// Length, seconds.
    pub duration_s: f64,
    /// Tempo, beats per minute (absent when no beat was found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempo_bpm: Option<f64>,
    /// Integrated loudness, LUFS (absent for silence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness_lufs: Option<f64>,
    /// Unpleasant (-1) to pleasant (1), heard from the audio.
    pub valence: f64,
    /// Calm (-1) to excited (1), heard from the audio.
    pub arousal: f64,
    /// Russell's quadrant of (valence, arousal): `"Q1"` to `"Q4"`.
    pub quadrant: String,
    /// The file's media type (`audio/mpeg`, `audio/ogg`, ...).
    pub media_type: String,
    /// The embedded cover's media type, when the file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_type: Option<String>,
    /// Where a static site keeps its copy of the file, relative to its
    /// page (`melodora site --library`); absent from a server's songs,
    /// whose audio is at `/api/library/tracks/{id}/audio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where a static site keeps the cover, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_file: Option<String>,
}

impl LibrarySong {
    /// The song's point on the circumplex (valence and energy in [0, 1],
    /// as catalog songs'), from the heard estimate in [-1, 1].
    pub fn point(&self) -> MoodPoint {
        MoodPoint::new(
            ((self.valence as f32 + 1.0) / 2.0).clamp(0.0, 1.0),
            ((self.arousal as f32 + 1.0) / 2.0).clamp(0.0, 1.0),
        )
    }

    /// The emotion pool it is filed in: the emotion nearest its point.
    pub fn emotion(&self) -> Emotion {
        crate::circumplex::nearest_emotion(self.point())
    }
}

/// Checks a title, album or artist: trimmed, at most [`MAX_TEXT_CHARS`],
/// no control characters (they would corrupt terminals and logs).
pub fn clean_text(field: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "{field} is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    Ok(value.to_string())
}

/// Checks an explicit link: http or https, no spaces or control characters.
/// A Spotify track link is returned as its id instead, and a Spotify search
/// link as [`LinkValue::Derived`] (it is what [`Track::link`] builds anyway,
/// so exported catalogs import back unchanged).
pub fn parse_link(value: &str) -> Result<LinkValue, String> {
    let value = value.trim();
    if value.starts_with(SEARCH_PREFIX) {
        return Ok(LinkValue::Derived);
    }
    if let Ok(id) = SpotifyId::parse(value) {
        if value.contains('/') || value.starts_with("spotify:") {
            return Ok(LinkValue::Spotify(id));
        }
    }
    let lower = value.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(format!("link {value:?} is not an http(s) URL"));
    }
    if value.len() > MAX_LINK_CHARS {
        return Err(format!("link is longer than {MAX_LINK_CHARS} characters"));
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("link contains spaces or control characters".to_string());
    }
    Ok(LinkValue::Other(value.to_string()))
}

/// What a link column held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkValue {
    /// A Spotify track page.
    Spotify(SpotifyId),
    /// A Spotify search link: nothing to store.
    Derived,
    /// Any other http(s) link.
    Other(String),
}

/// Normalised identity of a song: case-folded artist and title with runs of
/// white space collapsed, so "Adele / Hello " and "adele / hello" are one.
pub(crate) fn song_key(artist: &str, title: &str) -> String {
    format!("{}\u{1f}{}", fold_name(artist), fold_name(title))
}

/// A name case-folded with runs of white space collapsed, for comparing
/// artists and titles as people read them.
pub(crate) fn fold_name(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_uris_and_links() {
        let id = "2H7PHVdQ3mXqEHXcvclTB0";
        for text in [
            id.to_string(),
            format!("spotify:track:{id}"),
            format!("https://open.spotify.com/track/{id}"),
            format!("https://open.spotify.com/intl-de/track/{id}?si=abc"),
        ] {
            assert_eq!(SpotifyId::parse(&text).unwrap().as_str(), id, "{text}");
        }
        for bad in [
            "",
            "short",
            "2H7PHVdQ3mXqEHXcvclTB!",
            "https://open.spotify.com/album/2H7PHVdQ3mXqEHXcvclTB0",
            "https://evil.example/track/2H7PHVdQ3mXqEHXcvclTB0",
        ] {
            assert!(SpotifyId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn search_links_escape_everything_that_could_break_the_url() {
        let link = search_link("AC/DC", "What's \"Up\"? #1 & <b>");
        assert_eq!(
            link,
            "https://open.spotify.com/search/AC%2FDC%20What%27s%20%22Up%22%3F%20%231%20%26%20%3Cb%3E"
        );
        assert_eq!(
            search_link("Kina", "Snøw"),
            "https://open.spotify.com/search/Kina%20Sn%C3%B8w"
        );
    }

    #[test]
    fn link_prefers_track_page_then_explicit_then_search() {
        let mut track = Track::new("Hello", "25", "Adele");
        assert!(track.link().starts_with("https://open.spotify.com/search/"));
        track.explicit_link = Some("https://example.com/hello".into());
        assert_eq!(track.link(), "https://example.com/hello");
        track.spotify_id = Some(SpotifyId::parse("4sPmO7WMQUAf45kwMOtONw").unwrap());
        assert_eq!(
            track.link(),
            "https://open.spotify.com/track/4sPmO7WMQUAf45kwMOtONw"
        );
    }

    #[test]
    fn rejects_hostile_text_and_links() {
        assert!(clean_text("title", "ok \u{1b}[31mred").is_err());
        assert!(clean_text("title", &"x".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert_eq!(clean_text("title", "  <script>  ").unwrap(), "<script>");
        assert!(parse_link("javascript:alert(1)").is_err());
        assert!(parse_link("https://a b").is_err());
        assert_eq!(
            parse_link("https://open.spotify.com/track/4sPmO7WMQUAf45kwMOtONw").unwrap(),
            LinkValue::Spotify(SpotifyId::parse("4sPmO7WMQUAf45kwMOtONw").unwrap())
        );
        assert_eq!(
            parse_link(&search_link("Adele", "Hello")).unwrap(),
            LinkValue::Derived
        );
        assert_eq!(
            parse_link("HTTPS://example.com/x").unwrap(),
            LinkValue::Other("HTTPS://example.com/x".into())
        );
    }
}
