//! Spotify playlist import against a local fake of the Web API.

mod support {
    pub mod fake_spotify;
}

use std::time::{Duration, Instant};

use melodora_music::spotify::{ClientConfig, Credentials, SpotifyClient};
use support::fake_spotify::{self, CLIENT_ID, CLIENT_SECRET, PLAYLIST_ID};

fn client(fake: &fake_spotify::FakeSpotify, secret: &str) -> SpotifyClient {
    SpotifyClient::new(
        Credentials {
            client_id: CLIENT_ID.into(),
            client_secret: secret.into(),
        },
        ClientConfig {
            api_base: fake.api_base(),
            accounts_base: fake.base.clone(),
            ..ClientConfig::default()
        },
    )
}

#[test]
fn pages_through_every_item_and_waits_out_a_429() {
    let fake = fake_spotify::start(250, true);
    let started = Instant::now();
    let link = format!("https://open.spotify.com/playlist/{PLAYLIST_ID}?si=x");
    let playlist = client(&fake, CLIENT_SECRET).playlist(&link).unwrap();

    assert_eq!(playlist.tracks.len(), 250, "all tracks, in order");
    for (i, track) in playlist.tracks.iter().enumerate() {
        assert_eq!(track.title, format!("Song {i}"));
        assert_eq!(
            track.spotify_id.as_ref().unwrap().as_str(),
            fake_spotify::track_id(i)
        );
    }
    assert_eq!(
        playlist.skipped.len(),
        2,
        "the episode and the local file: {:?}",
        playlist.skipped
    );

    let pages = fake.page_requests();
    let offsets: Vec<&str> = pages
        .iter()
        .map(|r| {
            r.target
                .split("offset=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
        })
        .collect();
    // 252 items: pages at 0, 100 (rate limited, then retried) and 200.
    assert_eq!(offsets, ["0", "100", "100", "200"]);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited for Retry-After: {:?}",
        started.elapsed()
    );
    let tokens = fake
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.target == "/api/token")
        .count();
    assert_eq!(tokens, 1, "one token for the whole import");
}

#[test]
fn wrong_credentials_fail_with_a_clear_message() {
    let fake = fake_spotify::start(3, false);
    let err = client(&fake, "wrong").playlist(PLAYLIST_ID).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("SPOTIFY_CLIENT_SECRET"), "{message}");
}

#[test]
fn an_unknown_playlist_is_an_error_not_an_empty_import() {
    let fake = fake_spotify::start(3, false);
    let err = client(&fake, CLIENT_SECRET)
        .playlist("0000000000000000000000")
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}

#[test]
fn an_unreachable_server_is_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut client = SpotifyClient::new(
        Credentials {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        },
        ClientConfig {
            api_base: base.clone(),
            accounts_base: base,
            ..ClientConfig::default()
        },
    );
    let err = client.playlist(PLAYLIST_ID).unwrap_err();
    assert!(err.to_string().contains("cannot reach"), "{err}");
}
