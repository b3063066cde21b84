//! A local stand-in for the Spotify Web API and accounts service, serving
//! the documented response shapes (client-credentials token, paged playlist
//! items) so that the importer is tested without the network.
//!
//! Shared by the music crate's tests and the CLI's (`#[path]`-included).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// The client id and secret the fake accepts.
pub const CLIENT_ID: &str = "fake-client";
pub const CLIENT_SECRET: &str = "fake-secret";
/// The playlist the fake serves.
pub const PLAYLIST_ID: &str = "3cEYpjA9oz9GiPac4AsH4n";
const TOKEN: &str = "fake-token-1";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// A running fake server.
pub struct FakeSpotify {
    pub base: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeSpotify {
    /// API base URL (`.../v1`).
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.base)
    }

    /// Requests for playlist pages, in order.
    pub fn page_requests(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.target.starts_with("/v1/playlists/"))
            .cloned()
            .collect()
    }
}

/// Starts a fake serving a playlist of `tracks` real tracks (plus one
/// podcast episode and one local file, which an importer must skip). When
/// `rate_limit_second_page`, the first request for the second page is
/// answered 429 with `Retry-After: 1`.
pub fn start(tracks: usize, rate_limit_second_page: bool) -> FakeSpotify {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    let items = playlist_items(tracks);
    std::thread::spawn(move || {
        let mut limited_once = false;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(request) = read_request(&mut stream) else {
                continue;
            };
            log.lock().unwrap().push(request.clone());
            let (status, extra, body) =
                respond(&request, &items, rate_limit_second_page, &mut limited_once);
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    FakeSpotify { base, requests }
}

fn respond(
    request: &Recorded,
    items: &[serde_json::Value],
    rate_limit_second_page: bool,
    limited_once: &mut bool,
) -> (&'static str, String, String) {
    if request.target == "/api/token" {
        let expected = format!(
            "Basic {}",
            base64_encode(&format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        );
        if request.method != "POST"
            || request.authorization.as_deref() != Some(expected.as_str())
            || !request.body.contains("grant_type=client_credentials")
        {
            return (
                "400 Bad Request",
                String::new(),
                r#"{"error":"invalid_client"}"#.into(),
            );
        }
        let body =
            format!(r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":3600}}"#);
        return ("200 OK", String::new(), body);
    }
    let prefix = format!("/v1/playlists/{PLAYLIST_ID}/items?");
    let Some(query) = request.target.strip_prefix(&prefix) else {
        return (
            "404 Not Found",
            String::new(),
            r#"{"error":{"status":404,"message":"Not found."}}"#.into(),
        );
    };
    if request.authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return (
            "401 Unauthorized",
            String::new(),
            r#"{"error":{"status":401}}"#.into(),
        );
    }
    let param = |name: &str| -> usize {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let (limit, offset) = (param("limit").clamp(1, 100), param("offset"));
    if rate_limit_second_page && offset > 0 && !*limited_once {
        *limited_once = true;
        return (
            "429 Too Many Requests",
            "Retry-After: 1\r\n".into(),
            String::new(),
        );
    }
    let page: Vec<_> = items.iter().skip(offset).take(limit).cloned().collect();
    let next = (offset + limit < items.len()).then(|| {
        format!(
            "https://api.spotify.com/v1/playlists/{PLAYLIST_ID}/items?offset={}&limit={limit}",
            offset + limit
        )
    });
    let body = serde_json::json!({
        "href": request.target,
        "items": page,
        "limit": limit,
        "offset": offset,
        "next": next,
        "previous": null,
        "total": items.len(),
    });
    ("200 OK", String::new(), body.to_string())
}

/// Track `i` of the fake playlist.
pub fn track_id(i: usize) -> String {
    format!("{:0>22}", format!("T{i}"))
}

fn playlist_items(tracks: usize) -> Vec<serde_json::Value> {
    let mut items: Vec<serde_json::Value> = (0..tracks)
        .map(|i| {
            serde_json::json!({
                "added_at": "2026-01-01T00:00:00Z",
                "is_local": false,
                "item": {
                    "type": "track",
                    "id": track_id(i),
                    "name": format!("Song {i}"),
                    "album": {"name": format!("Album {}", i / 10)},
                    "artists": [{"name": format!("Artist {}", i % 37)}],
                    "duration_ms": 200000,
                }
            })
        })
        .collect();
    items.insert(
        tracks.min(5),
        serde_json::json!({"is_local": false, "item": {"type": "episode", "id": "0000000000000000episode", "name": "A podcast"}}),
    );
    items.insert(
        tracks.min(7),
        serde_json::json!({"is_local": true, "item": {"type": "track", "id": null, "name": "home.mp3", "artists": [{"name": "Me"}]}}),
    );
    items
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut authorization = None;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.trim().to_string()),
            "content-length" => length = value.trim().parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        target,
        authorization,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn base64_encode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
