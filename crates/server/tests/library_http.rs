//! Library songs over HTTP: a file streamed whole and by ranges with its
//! validators, its cover typed by its bytes, 404 for every id that is not
//! a library song, a file that now links out of its folder refused, the
//! access rules of /api, and lists of library songs alone.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::*;
use melodora_music::library::{add_folder, ScanOptions};
use melodora_music::Store;
use serde_json::Value;

/// A 16-bit mono WAV of a tone.
fn wav(hz: f32, seconds: f32) -> Vec<u8> {
    let rate = 22_050u32;
    let samples: Vec<i16> = (0..(seconds * rate as f32) as usize)
        .map(|i| (8000.0 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin()) as i16)
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    for field in [
        16u32.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
        rate.to_le_bytes().to_vec(),
        (rate * 2).to_le_bytes().to_vec(),
        2u16.to_le_bytes().to_vec(),
        16u16.to_le_bytes().to_vec(),
    ] {
        out.extend_from_slice(&field);
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A small PNG: the cover.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

/// An MP3 of `frames` silent MPEG-1 layer III frames (128 kbit/s, 44.1
/// kHz) behind an ID3v2.3 tag with a title and `cover` as its front cover.
fn mp3_with_cover(frames: usize, cover: &[u8], cover_type: &str) -> Vec<u8> {
    let mut frames_of_tag = Vec::new();
    let mut frame = |id: &[u8; 4], body: &[u8]| {
        frames_of_tag.extend_from_slice(id);
        frames_of_tag.extend_from_slice(&(body.len() as u32).to_be_bytes());
        frames_of_tag.extend_from_slice(&[0, 0]);
        frames_of_tag.extend_from_slice(body);
    };
    frame(b"TIT2", b"\0Covered");
    let mut picture = vec![0u8];
    picture.extend_from_slice(cover_type.as_bytes());
    picture.extend_from_slice(&[0, 3, 0]);
    picture.extend_from_slice(cover);
    frame(b"APIC", &picture);
    let size = frames_of_tag.len() as u32;
    let syncsafe = [
        (size >> 21) as u8 & 0x7f,
        (size >> 14) as u8 & 0x7f,
        (size >> 7) as u8 & 0x7f,
        size as u8 & 0x7f,
    ];
    let mut out = b"ID3\x03\0\0".to_vec();
    out.extend_from_slice(&syncsafe);
    out.extend_from_slice(&frames_of_tag);
    for _ in 0..frames {
        // 144 * 128000 / 44100 = 417 bytes, no padding, no CRC.
        let mut frame = vec![0u8; 417];
        frame[..4].copy_from_slice(&[0xff, 0xfb, 0x90, 0x00]);
        out.extend_from_slice(&frame);
    }
    out
}

struct Library {
    _folder: tempfile::TempDir,
    _outside: tempfile::TempDir,
    addr: SocketAddr,
    /// (id, file bytes) of the tone.
    tone: (i64, Vec<u8>),
    /// Id of the song with a cover.
    covered: i64,
    /// Id of the song whose file became a link out of the folder.
    escaped: i64,
    /// Id of a catalog song.
    catalog: i64,
}

fn library() -> Library {
    let folder = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let tone = wav(440.0, 3.0);
    std::fs::write(folder.path().join("tone.wav"), &tone).unwrap();
    std::fs::write(
        folder.path().join("covered.mp3"),
        mp3_with_cover(120, PNG, "image/png"),
    )
    .unwrap();
    std::fs::write(folder.path().join("escaped.wav"), wav(330.0, 3.0)).unwrap();
    let mut store = Store::open_in_memory(true).unwrap();
    let summary = add_folder(&mut store, folder.path(), ScanOptions::default(), &|_| {}).unwrap();
    assert_eq!(summary.heard, 3, "{summary:?}");
    let entries = store.library_entries().unwrap();
    let id_of = |name: &str| entries.iter().find(|e| e.path.ends_with(name)).unwrap().id;
    let (tone_id, covered, escaped) = (
        id_of("tone.wav"),
        id_of("covered.mp3"),
        id_of("escaped.wav"),
    );
    assert_eq!(
        store
            .library_entry(covered)
            .unwrap()
            .unwrap()
            .song
            .cover_type
            .as_deref(),
        Some("image/png")
    );
    // After the scan, the file is swapped for a link to a file outside.
    std::fs::write(outside.path().join("secret.wav"), wav(550.0, 3.0)).unwrap();
    std::fs::remove_file(folder.path().join("escaped.wav")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.wav"),
        folder.path().join("escaped.wav"),
    )
    .unwrap();
    let catalog = store.songs(&[1]).unwrap()[0].id;
    let addr = start(quick(), store);
    Library {
        _folder: folder,
        _outside: outside,
        addr,
        tone: (tone_id, tone),
        covered,
        escaped,
        catalog,
    }
}

/// Status, headers and body of a GET with `headers`.
fn fetch(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, ureq::http::HeaderMap, Vec<u8>) {
    let mut request = ureq::get(format!("http://{addr}{path}"))
        .config()
        .http_status_as_error(false)
        .build();
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().read_to_vec().unwrap_or_default();
    (status, headers, body)
}

fn header<'a>(headers: &'a ureq::http::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

#[test]
fn a_library_file_is_streamed_whole_and_by_ranges_with_its_validators() {
    let library = library();
    let (id, bytes) = &library.tone;
    let path = format!("/api/library/tracks/{id}/audio");
    let size = bytes.len();

    let (status, headers, body) = fetch(library.addr, &path, &[]);
    assert_eq!(status, 200);
    assert_eq!(body, *bytes);
    assert_eq!(header(&headers, "content-type"), "audio/wav");
    assert_eq!(header(&headers, "content-length"), size.to_string());
    assert_eq!(header(&headers, "accept-ranges"), "bytes");
    let etag = header(&headers, "etag").to_string();
    let modified = header(&headers, "last-modified").to_string();
    assert!(
        etag.starts_with('"') && modified.ends_with("GMT"),
        "{etag} {modified}"
    );

    let (status, headers, body) = fetch(library.addr, &path, &[("Range", "bytes=0-99")]);
    assert_eq!(status, 206);
    assert_eq!(body, bytes[..100]);
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes 0-99/{size}")
    );
    let (status, _, body) = fetch(library.addr, &path, &[("Range", "bytes=-10")]);
    assert_eq!((status, body.as_slice()), (206, &bytes[size - 10..]));
    let (status, _, body) = fetch(library.addr, &path, &[("Range", "bytes=1000-")]);
    assert_eq!((status, body.as_slice()), (206, &bytes[1000..]));
    let (status, headers, _) = fetch(library.addr, &path, &[("Range", &format!("bytes={size}-"))]);
    assert_eq!(status, 416);
    assert_eq!(header(&headers, "content-range"), format!("bytes */{size}"));
    // Several ranges, or an If-Range the file no longer matches: the whole file.
    let (status, _, body) = fetch(library.addr, &path, &[("Range", "bytes=0-1,5-9")]);
    assert_eq!((status, body.len()), (200, size));
    let (status, _, body) = fetch(
        library.addr,
        &path,
        &[("Range", "bytes=0-9"), ("If-Range", "\"stale\"")],
    );
    assert_eq!((status, body.len()), (200, size));

    let (status, _, body) = fetch(library.addr, &path, &[("If-None-Match", &etag)]);
    assert_eq!((status, body.len()), (304, 0));
    let (status, _, _) = fetch(library.addr, &path, &[("If-Modified-Since", &modified)]);
    assert_eq!(status, 304);
}

#[test]
fn covers_are_served_typed_by_their_bytes_and_songs_without_one_are_404() {
    let library = library();
    let (status, headers, body) = fetch(
        library.addr,
        &format!("/api/library/tracks/{}/cover", library.covered),
        &[],
    );
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert_eq!(body, PNG);
    let (status, _, _) = fetch(
        library.addr,
        &format!("/api/library/tracks/{}/cover", library.tone.0),
        &[],
    );
    assert_eq!(status, 404);
    let (status, headers, _) = fetch(
        library.addr,
        &format!("/api/library/tracks/{}/audio", library.covered),
        &[],
    );
    assert_eq!(
        (status, header(&headers, "content-type")),
        (200, "audio/mpeg")
    );
}

#[test]
fn nothing_but_a_library_file_under_its_folder_is_ever_served() {
    let library = library();
    let addr = library.addr;
    for path in [
        format!("/api/library/tracks/{}/audio", library.catalog),
        format!("/api/library/tracks/{}/audio", library.escaped),
        format!("/api/library/tracks/{}/cover", library.escaped),
        "/api/library/tracks/999999/audio".into(),
        "/api/library/tracks/abc/audio".into(),
        "/api/library/tracks/-1/audio".into(),
        "/api/library/tracks/..%2F..%2F..%2Fetc%2Fpasswd/audio".into(),
        "/api/library/tracks/%2Fetc%2Fpasswd/audio".into(),
        "/api/library/tracks/1%00/audio".into(),
    ] {
        let (status, _, body) = fetch(addr, &path, &[]);
        assert_eq!(status, 404, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("root:"), "{path}");
        let answer: Value = serde_json::from_slice(&body).unwrap();
        assert!(answer["error"].is_string(), "{path}: {answer}");
    }
    // The access rules of /api hold: another site's page is refused.
    let path = format!("/api/library/tracks/{}/audio", library.tone.0);
    let (status, _, _) = fetch(addr, &path, &[("Origin", "https://evil.example")]);
    assert_eq!(status, 403);
    let (status, _, _) = fetch(addr, &path, &[("Host", "evil.example")]);
    assert_eq!(status, 421);
}

#[test]
fn lists_of_the_library_alone_hold_library_songs_with_what_was_heard() {
    let library = library();
    let (status, list) = get(
        library.addr,
        "/api/recommendations?emotion=sad&from=library",
    );
    assert_eq!(status, 200, "{list}");
    let songs = list.as_array().unwrap();
    assert_eq!(songs.len(), 3, "every library song, and no other: {list}");
    for song in songs {
        assert!(
            song["reason"].as_str().unwrap().contains("from its audio"),
            "{song}"
        );
        assert!(
            ["audio/wav", "audio/mpeg"].contains(&song["library"]["media_type"].as_str().unwrap()),
            "{song}"
        );
        assert!(
            song.get("path").is_none()
                && !song
                    .to_string()
                    .contains(Path::new("/tmp").to_str().unwrap()),
            "no file path: {song}"
        );
    }
    let (status, list) = get(
        library.addr,
        "/api/recommendations?emotion=sad&from=catalog",
    );
    assert_eq!(status, 200);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s.get("library").is_none()));
    let (status, _) = get(
        library.addr,
        "/api/recommendations?emotion=sad&from=elsewhere",
    );
    assert_eq!(status, 400);
}
