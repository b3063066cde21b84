//! Importing a playlist from the Spotify Web API.
//!
//! Client-credentials flow (no user login): the app's id and secret buy a
//! bearer token at `{accounts}/api/token`, which then pages through
//! `{api}/playlists/{id}/items` 100 items at a time. Rate limiting (HTTP
//! 429) is honoured by waiting the `Retry-After` seconds. Both base URLs are
//! configurable so that tests run against a local fake server.
//!
//! Since Spotify's February 2026 Web API migration the playlist items live
//! under `/items` and each item's track under `item`; the older `track`
//! field is still read if a server sends it.

use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::song::{clean_text, SpotifyId, Track};

/// The public Web API.
pub const DEFAULT_API_BASE: &str = "https://api.spotify.com/v1";
/// The public accounts service (tokens).
pub const DEFAULT_ACCOUNTS_BASE: &str = "https://accounts.spotify.com";

/// Items per page (the API's maximum).
const PAGE_SIZE: usize = 100;
/// Largest response body read (a page of 100 full track objects is ~0.5 MB).
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;
/// Stop after this many pages (a million items) rather than loop forever on
/// a server that always says there is more.
const MAX_PAGES: usize = 10_000;

/// An app's client credentials.
#[derive(Clone)]
pub struct Credentials {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret; never printed.
    pub client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .finish()
    }
}

/// Where and how patiently to talk to Spotify.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL of the Web API (a local fake in tests).
    pub api_base: String,
    /// Base URL of the token service.
    pub accounts_base: String,
    /// Retries of one request after HTTP 429.
    pub max_retries: u32,
    /// Longest `Retry-After` we are willing to wait; longer fails the import.
    pub max_wait: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            api_base: DEFAULT_API_BASE.to_string(),
            accounts_base: DEFAULT_ACCOUNTS_BASE.to_string(),
            max_retries: 5,
            max_wait: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The tracks of a playlist, and how many items were not importable tracks
/// (podcast episodes, local files, unavailable tracks).
#[derive(Debug, Clone, PartialEq)]
pub struct Playlist {
    /// The playlist's Spotify id.
    pub id: String,
    /// Its importable tracks, in playlist order.
    pub tracks: Vec<Track>,
    /// What was left out and why, one line each.
    pub skipped: Vec<String>,
}

/// A Spotify Web API client for playlist import.
pub struct SpotifyClient {
    agent: ureq::Agent,
    config: ClientConfig,
    credentials: Credentials,
    token: Option<String>,
}

/// The playlist id in a `https://open.spotify.com/playlist/<id>` link, a
/// `spotify:playlist:<id>` URI or a bare id.
pub fn playlist_id(input: &str) -> Result<String> {
    let text = input.trim();
    let candidate = if let Some(rest) = text.strip_prefix("spotify:playlist:") {
        rest
    } else if let Some(rest) = ["https://open.spotify.com/", "http://open.spotify.com/"]
        .iter()
        .find_map(|p| text.strip_prefix(p))
    {
        let path = rest.split(['?', '#']).next().unwrap_or("");
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        let mut kind = segments.next().unwrap_or("");
        if kind.starts_with("intl-") {
            kind = segments.next().unwrap_or("");
        }
        match (kind, segments.next()) {
            ("playlist", Some(id)) => id,
            _ => "",
        }
    } else {
        text
    };
    if candidate.len() == 22 && candidate.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(candidate.to_string())
    } else {
        Err(Error::Spotify(format!(
            "{input:?} is not a playlist link, spotify:playlist: URI or 22-character playlist id"
        )))
    }
}

impl SpotifyClient {
    /// A client that signs in with `credentials` when it first needs a token.
    pub fn new(credentials: Credentials, config: ClientConfig) -> SpotifyClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .build()
            .into();
        SpotifyClient {
            agent,
            config,
            credentials,
            token: None,
        }
    }

    /// Every track of a playlist, in playlist order.
    pub fn playlist(&mut self, playlist: &str) -> Result<Playlist> {
        let id = playlist_id(playlist)?;
        let mut tracks = Vec::new();
        let mut skipped = Vec::new();
        let mut offset = 0usize;
        for _ in 0..MAX_PAGES {
            let url = format!(
                "{}/playlists/{id}/items?limit={PAGE_SIZE}&offset={offset}&additional_types=track",
                self.config.api_base.trim_end_matches('/')
            );
            let body = self.get(&url)?;
            let page: Page = serde_json::from_str(&body)
                .map_err(|e| Error::Spotify(format!("unexpected playlist page from {url}: {e}")))?;
            let count = page.items.len();
            for (i, item) in page.items.into_iter().enumerate() {
                match item.into_track() {
                    Ok(track) => tracks.push(track),
                    Err(why) => skipped.push(format!("item {}: {why}", offset + i + 1)),
                }
            }
            offset += count;
            if page.next.is_none() || count == 0 {
                return Ok(Playlist {
                    id,
                    tracks,
                    skipped,
                });
            }
        }
        Err(Error::Spotify(format!(
            "playlist {id} has more than {} pages; stopped",
            MAX_PAGES
        )))
    }

    /// GET with the bearer token: fetches a token first, refreshes it once
    /// on 401, waits out 429s.
    fn get(&mut self, url: &str) -> Result<String> {
        let mut refreshed = false;
        loop {
            let token = match &self.token {
                Some(token) => token.clone(),
                None => self.fetch_token()?,
            };
            let agent = self.agent.clone();
            let (status, body) = self.with_retries(url, || {
                agent
                    .get(url)
                    .header("Authorization", &format!("Bearer {token}"))
                    .header("Accept", "application/json")
                    .call()
            })?;
            match status {
                200 => return Ok(body),
                401 if !refreshed => {
                    refreshed = true;
                    self.token = None;
                }
                401 | 403 => {
                    return Err(Error::Spotify(format!(
                        "access denied ({status}) to {url}; the playlist may be private or the app may lack access: {}",
                        snippet(&body)
                    )))
                }
                404 => return Err(Error::Spotify(format!("not found (404): {url}"))),
                _ => return Err(Error::Spotify(format!("HTTP {status} from {url}: {}", snippet(&body)))),
            }
        }
    }

    fn fetch_token(&mut self) -> Result<String> {
        let url = format!(
            "{}/api/token",
            self.config.accounts_base.trim_end_matches('/')
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.credentials.client_id, self.credentials.client_secret
        ));
        let agent = self.agent.clone();
        let (status, body) = self.with_retries(&url, || {
            agent
                .post(&url)
                .header("Authorization", &format!("Basic {basic}"))
                .send_form([("grant_type", "client_credentials")])
        })?;
        if status != 200 {
            return Err(Error::Spotify(format!(
                "the accounts service refused the client credentials (HTTP {status}); check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET: {}",
                snippet(&body)
            )));
        }
        let token: Token = serde_json::from_str(&body)
            .map_err(|e| Error::Spotify(format!("unexpected token response from {url}: {e}")))?;
        self.token = Some(token.access_token.clone());
        Ok(token.access_token)
    }

    /// Sends a request, waiting and resending while the answer is 429.
    fn with_retries(
        &self,
        url: &str,
        send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, String)> {
        let mut attempt = 0;
        loop {
            let mut response =
                send().map_err(|e| Error::Spotify(format!("cannot reach {url}: {e}")))?;
            let status = response.status().as_u16();
            if status == 429 {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(Duration::from_secs(1), Duration::from_secs);
                attempt += 1;
                if attempt > self.config.max_retries {
                    return Err(Error::Spotify(format!(
                        "still rate limited (429) after {} retries: {url}",
                        self.config.max_retries
                    )));
                }
                if wait > self.config.max_wait {
                    return Err(Error::Spotify(format!(
                        "rate limited (429): Spotify asks to wait {} s, more than {} s; try again later",
                        wait.as_secs(),
                        self.config.max_wait.as_secs()
                    )));
                }
                tracing::info!(
                    url,
                    seconds = wait.as_secs(),
                    "rate limited by Spotify; waiting"
                );
                std::thread::sleep(wait);
                continue;
            }
            let body = response
                .body_mut()
                .with_config()
                .limit(MAX_BODY_BYTES)
                .read_to_string()
                .map_err(|e| Error::Spotify(format!("cannot read the response from {url}: {e}")))?;
            return Ok((status, body));
        }
    }
}

/// The start of an error body, for messages.
fn snippet(body: &str) -> String {
    let mut text: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    if body.chars().count() > 200 {
        text.push('…');
    }
    text
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    items: Vec<PageItem>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct PageItem {
    item: Option<TrackObject>,
    track: Option<TrackObject>,
    #[serde(default)]
    is_local: bool,
}

#[derive(Deserialize)]
struct TrackObject {
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    album: Option<Named>,
    #[serde(default)]
    artists: Vec<Named>,
    popularity: Option<f64>,
}

#[derive(Deserialize)]
struct Named {
    name: Option<String>,
}

impl PageItem {
    fn into_track(self) -> Result<Track, String> {
        if self.is_local {
            return Err("a local file".into());
        }
        let object = self
            .item
            .or(self.track)
            .ok_or("no track (removed or unavailable)")?;
        if object.kind.as_deref().is_some_and(|k| k != "track") {
            return Err(format!(
                "a {}, not a track",
                object.kind.unwrap_or_default()
            ));
        }
        let id = object.id.ok_or("a track without an id")?;
        let spotify_id = SpotifyId::parse(&id).map_err(|e| e.to_string())?;
        let title = clean_text("title", object.name.as_deref().unwrap_or(""))?;
        let artists: Vec<String> = object.artists.into_iter().filter_map(|a| a.name).collect();
        let artist = clean_text("artist", &artists.join(", "))?;
        if title.is_empty() || artist.is_empty() {
            return Err(format!("track {id} has no title or artist"));
        }
        let album = clean_text(
            "album",
            object.album.and_then(|a| a.name).as_deref().unwrap_or(""),
        )?;
        let mut track = Track::new(&title, &album, &artist);
        track.spotify_id = Some(spotify_id);
        track.popularity = object
            .popularity
            .filter(|p| (0.0..=100.0).contains(p))
            .map(|p| p.round() as u8);
        Ok(track)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_playlist_links_uris_and_ids() {
        let id = "37i9dQZF1DXcBWIGoYBM5M";
        for input in [
            id.to_string(),
            format!("spotify:playlist:{id}"),
            format!("https://open.spotify.com/playlist/{id}?si=abc"),
            format!("https://open.spotify.com/intl-fr/playlist/{id}"),
        ] {
            assert_eq!(playlist_id(&input).unwrap(), id, "{input}");
        }
        for bad in [
            "",
            "https://open.spotify.com/track/37i9dQZF1DXcBWIGoYBM5M",
            "../../etc/passwd",
        ] {
            assert!(playlist_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_never_print_the_secret() {
        let credentials = Credentials {
            client_id: "id".into(),
            client_secret: "hunter2".into(),
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }

    #[test]
    fn items_in_both_shapes_become_tracks() {
        let page: Page = serde_json::from_str(
            r#"{"items": [
                {"item": {"type": "track", "id": "4sPmO7WMQUAf45kwMOtONw", "name": "Hello",
                          "album": {"name": "25"}, "artists": [{"name": "Adele"}], "popularity": 80}},
                {"track": {"id": "2H7PHVdQ3mXqEHXcvclTB0", "name": "Song", "album": {"name": "A"},
                           "artists": [{"name": "X"}, {"name": "Y"}]}},
                {"item": {"type": "episode", "id": "5H7PHVdQ3mXqEHXcvclTB0", "name": "Pod"}},
                {"is_local": true, "item": {"id": null, "name": "mine.mp3", "artists": []}},
                {"item": null}
            ], "next": null}"#,
        )
        .unwrap();
        let results: Vec<_> = page.items.into_iter().map(PageItem::into_track).collect();
        let first = results[0].as_ref().unwrap();
        assert_eq!(
            (
                first.title.as_str(),
                first.artist.as_str(),
                first.popularity
            ),
            ("Hello", "Adele", Some(80))
        );
        assert_eq!(results[1].as_ref().unwrap().artist, "X, Y");
        assert!(results[2..].iter().all(Result::is_err));
    }
}
