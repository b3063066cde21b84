//! The server over real sockets: WebSocket protocol, flow control, limits,
//! the HTTP API and the security headers.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use futures_util::SinkExt;
use melodora_music::Store;
use melodora_server::{AppOptions, MAX_FACES_PER_FRAME};
use melodora_vision::{Cascade, DetectParams, HaarDetector};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

#[test]
fn frames_get_faces_emotions_a_mood_and_songs() {
    let addr = default_server(quick());
    runtime().block_on(async {
        let mut socket = connect(addr).await;
        send_frame(&mut socket, image(FACES)).await;
        let reply = next_json(&mut socket, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(reply["type"], "frame", "{reply}");
        assert_eq!(reply["status"], "face");
        assert_eq!(
            (reply["width"].as_u64(), reply["height"].as_u64()),
            (Some(640), Some(480))
        );
        let faces = reply["faces"].as_array().unwrap();
        assert!(faces.len() >= 2, "{reply}");
        for face in faces {
            assert_eq!(face["probabilities"].as_object().unwrap().len(), 7);
            assert!(face["w"].as_i64().unwrap() > 20);
        }
        let mood = reply["mood"]["emotion"].as_str().expect("mood settled");
        let songs = reply["songs"]
            .as_array()
            .expect("songs with the first mood");
        assert_eq!(songs.len(), 15);
        assert!(songs.iter().all(|s| s["link"]
            .as_str()
            .unwrap()
            .starts_with("https://open.spotify.com/")));

        // No new mood, no new list.
        send_frame(&mut socket, image(FACES)).await;
        let again = next_json(&mut socket, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(again["mood"]["emotion"], mood);
        assert!(again.get("songs").is_none(), "{again}");

        // A frame without faces keeps the mood.
        send_frame(&mut socket, image(NO_FACE)).await;
        let empty = next_json(&mut socket, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(empty["status"], "no_face");
        assert_eq!(empty["mood"]["emotion"], mood);

        // Commands: switch mode → a new list; feedback on a song → an
        // acknowledgement (the page keeps its list); refresh → a new list.
        socket
            .send(Message::Text(r#"{"type":"mode","mode":"uplift"}"#.into()))
            .await
            .unwrap();
        let uplift = next_json(&mut socket, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(
            (uplift["type"].as_str(), uplift["mode"].as_str()),
            (Some("songs"), Some("uplift"))
        );
        assert_eq!(uplift["songs"].as_array().unwrap().len(), 15);
        let id = songs[3]["id"].as_i64().unwrap();
        let like = format!(r#"{{"type":"feedback","song_id":{id},"verdict":"like"}}"#);
        socket.send(Message::Text(like.into())).await.unwrap();
        let after = next_json(&mut socket, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(
            (&after["type"], &after["song_id"], &after["verdict"]),
            (&"feedback".into(), &id.into(), &"like".into()),
            "{after}"
        );
        assert!(after.get("songs").is_none(), "{after}");
        socket
            .send(Message::Text(r#"{"type":"refresh"}"#.into()))
            .await
            .unwrap();
        let refreshed = next_json(&mut socket, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(refreshed["type"], "songs", "{refreshed}");
        assert_eq!(refreshed["songs"].as_array().unwrap().len(), 15);
    });
}

#[test]
fn commands_before_a_mood_settles_leave_the_pages_list_alone() {
    let addr = default_server(quick());
    runtime().block_on(async {
        let mut socket = connect(addr).await;
        socket
            .send(Message::Text(r#"{"type":"mode","mode":"uplift"}"#.into()))
            .await
            .unwrap();
        let reply = next_json(&mut socket, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(reply["type"], "songs", "{reply}");
        assert_eq!(reply["mode"], "uplift", "{reply}");
        assert!(reply["mood"].is_null(), "{reply}");
        assert!(
            reply.get("songs").is_none(),
            "no list, not an empty one: {reply}"
        );
    });
}

#[test]
fn a_flooding_client_gets_a_bounded_number_of_answers_and_the_server_stays_responsive() {
    let addr = default_server(AppOptions {
        min_frame_interval: Duration::from_millis(50),
        ..quick()
    });
    runtime().block_on(async {
        let mut socket = connect(addr).await;
        let frame = image(FACES);
        for _ in 0..100 {
            send_frame(&mut socket, frame.clone()).await;
        }
        // The server answers commands promptly while frames are pending.
        let asked = Instant::now();
        socket
            .send(Message::Text(r#"{"type":"refresh"}"#.into()))
            .await
            .unwrap();
        let mut frames = Vec::new();
        let mut answered_in = None;
        while let Some(reply) = next_json(&mut socket, Duration::from_secs(5)).await {
            match reply["type"].as_str() {
                Some("frame") => frames.push(reply),
                Some("songs") => answered_in = Some(asked.elapsed()),
                other => panic!("unexpected {other:?}: {reply}"),
            }
        }
        let answered_in = answered_in.expect("the command was answered");
        assert!(answered_in < Duration::from_secs(5), "{answered_in:?}");
        assert!(
            !frames.is_empty() && frames.len() <= 5,
            "{} frame answers to 100 frames",
            frames.len()
        );
        let dropped = frames.last().unwrap()["dropped"].as_u64().unwrap();
        assert_eq!(
            dropped + frames.len() as u64,
            100,
            "every frame is answered or counted as dropped"
        );
        // A health check over HTTP meanwhile is quick too.
        let started = Instant::now();
        let health: Value = serde_json::from_str(
            &ureq::get(format!("http://{addr}/api/health"))
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(health["status"], "ok");
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

/// The hostile-input table for the WebSocket: each message, and a word its
/// error reply must contain.
fn hostile_ws_messages() -> Vec<(&'static str, Message, &'static str)> {
    let text = |t: &str| Message::Text(t.to_owned().into());
    let binary = |b: Vec<u8>| Message::Binary(b.into());
    vec![
        (
            "binary that is not an image",
            binary(b"definitely not a jpeg".to_vec()),
            "image",
        ),
        ("empty binary", binary(Vec::new()), "image"),
        (
            "truncated PNG",
            binary(image(FACES)[..5000].to_vec()),
            "image",
        ),
        ("3 MB frame", binary(vec![0xFF; 3 * 1024 * 1024]), "at most"),
        (
            "text where JSON is expected",
            text("hello"),
            "unknown command",
        ),
        (
            "malformed JSON",
            text(r#"{"type":"mode""#),
            "unknown command",
        ),
        (
            "JSON that is not an object",
            text("[1, 2, 3]"),
            "unknown command",
        ),
        (
            "unknown command",
            text(r#"{"type":"dance"}"#),
            "unknown command",
        ),
        (
            "unknown mode",
            text(r#"{"type":"mode","mode":"sideways"}"#),
            "sideways",
        ),
        (
            "unknown verdict",
            text(r#"{"type":"feedback","song_id":1,"verdict":"love"}"#),
            "love",
        ),
        (
            "feedback for a missing song",
            text(r#"{"type":"feedback","song_id":99999999,"verdict":"like"}"#),
            "99999999",
        ),
        (
            "3 MB of text",
            text(&"x".repeat(3 * 1024 * 1024)),
            "unknown command",
        ),
    ]
}

/// Every hostile message gets an error reply naming the problem and the
/// connection goes on serving frames; a message over the transport limit
/// closes only its own connection; another client is served throughout.
#[test]
fn hostile_websocket_messages_get_errors_and_every_client_keeps_being_served() {
    let addr = default_server(quick());
    runtime().block_on(async {
        let mut bystander = connect(addr).await;
        let mut socket = connect(addr).await;
        for (what, message, expected) in hostile_ws_messages() {
            let about = if matches!(message, Message::Binary(_)) {
                "frame"
            } else {
                "command"
            };
            socket.send(message).await.unwrap();
            let reply = next_json(&mut socket, Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("{what}: no reply"));
            assert_eq!(reply["type"], "error", "{what}: {reply}");
            assert_eq!(reply["about"], about, "{what}: {reply}");
            let text = reply["message"].as_str().unwrap_or_default();
            assert!(text.contains(expected), "{what}: {reply}");
        }
        send_frame(&mut socket, image(FACES)).await;
        let reply = next_json(&mut socket, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(
            reply["type"], "frame",
            "still serving after the errors: {reply}"
        );

        let over_transport_limit = vec![0u8; melodora_server::MAX_MESSAGE_BYTES + 1];
        let _ = socket
            .send(Message::Binary(over_transport_limit.into()))
            .await;
        assert!(
            next_json(&mut socket, Duration::from_secs(10))
                .await
                .is_none(),
            "a message over the transport limit closes the connection"
        );

        send_frame(&mut bystander, image(FACES)).await;
        let reply = next_json(&mut bystander, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(reply["type"], "frame", "other clients are served: {reply}");
    });
}

/// Announces an upload of `size` bytes to /api/analyze, sends only its
/// start, and returns the status the server answers with (a server that
/// refuses early closes the connection, so a client sending the whole body
/// would race that close).
fn oversized_upload_status(addr: SocketAddr, size: usize) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /api/analyze HTTP/1.1\r\nHost: {addr}\r\nContent-Type: image/jpeg\r\nContent-Length: {size}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(&vec![0u8; 16 * 1024]);
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"))
}

#[test]
fn a_frame_full_of_faces_classifies_only_the_largest() {
    // The 12-face grid tiled 2x2.
    let grid = image::load_from_memory(&image("photo_lfw_faces_grid_640x480.png")).unwrap();
    let mut tiled = image::RgbImage::new(1280, 960);
    for (x, y) in [(0, 0), (640, 0), (0, 480), (640, 480)] {
        image::imageops::replace(&mut tiled, &grid.to_rgb8(), x, y);
    }
    let mut png = std::io::Cursor::new(Vec::new());
    tiled.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let png = png.into_inner();
    let found = HaarDetector::new(Cascade::frontal_face_default())
        .detect(
            &melodora_vision::GrayImage::from_dynamic(&image::DynamicImage::ImageRgb8(tiled)),
            &DetectParams::default(),
        )
        .unwrap();
    assert!(found.len() > MAX_FACES_PER_FRAME, "{} faces", found.len());
    let mut areas: Vec<i64> = found.iter().map(|f| f.area()).collect();
    areas.sort_unstable_by(|a, b| b.cmp(a));

    let addr = default_server(quick());
    let (status, analysis) = post(addr, "/api/analyze", "image/png", &png);
    assert_eq!(status, 200, "{analysis}");
    let faces = analysis["faces"].as_array().unwrap();
    assert_eq!(faces.len(), MAX_FACES_PER_FRAME);
    let smallest = faces
        .iter()
        .map(|f| f["w"].as_i64().unwrap() * f["h"].as_i64().unwrap())
        .min()
        .unwrap();
    assert!(
        smallest >= areas[MAX_FACES_PER_FRAME - 1],
        "the largest were kept"
    );
}

#[test]
fn the_http_api_answers() {
    let addr = default_server(quick());
    let (status, health) = get(addr, "/api/health");
    assert_eq!(status, 200);
    assert!(health["songs"].as_u64().unwrap() > 1000, "{health}");

    let (status, analysis) = post(addr, "/api/analyze", "image/png", &image(FACES));
    assert_eq!(status, 200, "{analysis}");
    assert!(
        analysis["faces"].as_array().unwrap().len() >= 2,
        "{analysis}"
    );

    let (status, songs) = get(
        addr,
        "/api/recommendations?emotion=sad&mode=uplift&limit=10",
    );
    assert_eq!(status, 200);
    let songs = songs.as_array().unwrap();
    assert_eq!(songs.len(), 10);

    let id = songs[0]["id"].as_i64().unwrap();
    let (status, _) = post(
        addr,
        "/api/feedback",
        "application/json",
        format!(r#"{{"song_id":{id},"verdict":"skip"}}"#).as_bytes(),
    );
    assert_eq!(status, 204);
}

/// One hostile HTTP request: what it is, the request, and the status it must get.
struct HostileRequest {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
}

/// The hostile-input table for HTTP.
fn hostile_requests() -> Vec<HostileRequest> {
    let get = |what, path, status| HostileRequest {
        what,
        method: "GET",
        path,
        content_type: "",
        body: Vec::new(),
        status,
    };
    let post = |what, path, content_type, body: &[u8], status| HostileRequest {
        what,
        method: "POST",
        path,
        content_type,
        body: body.to_vec(),
        status,
    };
    vec![
        post(
            "upload that is not an image",
            "/api/analyze",
            "image/jpeg",
            b"not an image",
            400,
        ),
        post("empty upload", "/api/analyze", "image/jpeg", b"", 400),
        post(
            "truncated PNG",
            "/api/analyze",
            "image/png",
            &image(FACES)[..5000],
            400,
        ),
        get("unknown emotion", "/api/recommendations?emotion=bored", 400),
        get("no emotion", "/api/recommendations", 400),
        get(
            "unknown mode",
            "/api/recommendations?emotion=sad&mode=sideways",
            400,
        ),
        get("limit 0", "/api/recommendations?emotion=sad&limit=0", 400),
        get(
            "limit not a number",
            "/api/recommendations?emotion=sad&limit=lots",
            400,
        ),
        get(
            "limit past usize",
            "/api/recommendations?emotion=sad&limit=99999999999999999999999",
            400,
        ),
        get(
            "profile name too long",
            Box::leak(
                format!(
                    "/api/recommendations?emotion=sad&profile={}",
                    "p".repeat(65)
                )
                .into_boxed_str(),
            ),
            400,
        ),
        post(
            "feedback with a profile of a megabyte",
            "/api/feedback",
            "application/json",
            format!(
                r#"{{"song_id":1,"verdict":"like","profile":"{}"}}"#,
                "p".repeat(1 << 20)
            )
            .as_bytes(),
            400,
        ),
        post(
            "feedback with a control character in the profile",
            "/api/feedback",
            "application/json",
            br#"{"song_id":1,"verdict":"like","profile":"a\u0007b"}"#,
            400,
        ),
        post(
            "feedback for a missing song",
            "/api/feedback",
            "application/json",
            br#"{"song_id":987654321,"verdict":"like"}"#,
            404,
        ),
        post(
            "malformed feedback JSON",
            "/api/feedback",
            "application/json",
            br#"{"song_id":"#,
            400,
        ),
        post(
            "feedback of the wrong shape",
            "/api/feedback",
            "application/json",
            br#"{"song_id":"x"}"#,
            422,
        ),
        post(
            "feedback not sent as JSON",
            "/api/feedback",
            "text/plain",
            br#"{"song_id":1,"verdict":"like"}"#,
            415,
        ),
        get("unknown path", "/api/nothing-here", 404),
    ]
}

/// Each hostile request gets its 4xx with a JSON `{"error"}` body, and the
/// server answers normally afterwards.
#[test]
fn hostile_http_requests_get_a_4xx_with_a_json_error() {
    let addr = default_server(quick());
    for request in hostile_requests() {
        let (status, body) = if request.method == "GET" {
            get(addr, request.path)
        } else {
            post(addr, request.path, request.content_type, &request.body)
        };
        let what = request.what;
        assert_eq!(status, request.status, "{what}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(!error.is_empty(), "{what}: no JSON error body: {body}");
    }
    // Declared over the limit and refused before the body is read.
    assert_eq!(oversized_upload_status(addr, 3 * 1024 * 1024), 413);
    let (status, health) = get(addr, "/api/health");
    assert_eq!(status, 200, "still serving: {health}");
}

#[test]
fn an_import_by_another_process_reaches_the_running_servers_lists() {
    let data = tempfile::tempdir().unwrap();
    let addr = start(quick(), Store::open(data.path()).unwrap());
    let (status, before) = get(addr, "/api/recommendations?emotion=happy");
    assert_eq!(status, 200);
    assert!(before.as_array().unwrap().len() > 1, "{before}");

    // `melodora catalog import` on the same data dir: the first import
    // replaces the default catalog under the running server.
    let csv = data.path().join("happy.csv");
    std::fs::write(&csv, ",Name,Album,Artist\n0,Brand New Song,Fresh,Someone\n").unwrap();
    let files = melodora_music::import::catalog_files(&csv, None).unwrap();
    let mut other = Store::open(data.path()).unwrap();
    other.import_files(&files, Default::default()).unwrap();

    let (status, after) = get(addr, "/api/recommendations?emotion=happy");
    assert_eq!(status, 200);
    let titles: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|song| song["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Brand New Song"], "{after}");
}

#[test]
fn pages_carry_security_headers_and_hostile_titles_stay_text() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("happy.csv");
    std::fs::write(&csv, ",Name,Album,Artist\n0,<img src=x onerror=alert(1)>,<b>bold</b>,\"<script>alert(2)</script>\"\n").unwrap();
    let mut store = Store::open_in_memory(false).unwrap();
    let files = melodora_music::import::catalog_files(&csv, None).unwrap();
    store.import_files(&files, Default::default()).unwrap();
    let addr = start(quick(), store);

    let response = ureq::get(format!("http://{addr}/")).call().unwrap();
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(
        response.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert_eq!(response.headers().get("x-frame-options").unwrap(), "DENY");

    // The API hands titles back verbatim, as JSON strings.
    let (_, songs) = get(addr, "/api/recommendations?emotion=happy");
    assert_eq!(songs[0]["title"], "<img src=x onerror=alert(1)>");
    assert_eq!(songs[0]["artist"], "<script>alert(2)</script>");

    // The page puts song fields into the DOM only as text.
    let (status, script) = get(addr, "/static/app.js");
    assert_eq!(status, 200);
    let script = script.as_str().unwrap();
    assert!(
        script.contains(".text(song.title)")
            && script.contains(".text(song.album)")
            && script.contains(".text(song.artist)")
    );
    for sink in [
        ".html(",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
    ] {
        assert!(!script.contains(sink), "app.js uses {sink}");
    }
    let (status, _) = get(addr, "/static/vendor/bootstrap/bootstrap.min.css");
    assert_eq!(status, 200);
    let (status, _) = get(addr, "/static/../Cargo.toml");
    assert_eq!(status, 404);
}

#[test]
fn server_camera_mode_pushes_analysed_frames_and_streams_them_annotated() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("faces.y4m");
    y4m_clip(&clip, &image(FACES), 3);
    let addr = start_with_video(quick(), Store::open_in_memory(true).unwrap(), Some(&clip));

    let (status, health) = get(addr, "/api/health");
    assert_eq!((status, health["capture"].as_str()), (200, Some("server")));

    runtime().block_on(async {
        let (mut socket, hello) = connect_with_hello(addr).await;
        assert_eq!(hello["capture"], "server", "{hello}");
        assert_eq!(hello["video_feed"], "/video_feed");
        // Frames come without asking, and keep coming as the clip loops.
        let mut seqs = Vec::new();
        while seqs.len() < 5 {
            let frame = next_json(&mut socket, Duration::from_secs(30))
                .await
                .expect("a pushed frame");
            assert_eq!(frame["type"], "frame", "{frame}");
            assert!(frame["faces"].as_array().unwrap().len() >= 2, "{frame}");
            if seqs.is_empty() {
                assert!(
                    frame["songs"].as_array().is_some_and(|s| s.len() == 15),
                    "{frame}"
                );
            }
            seqs.push(frame["seq"].as_u64().unwrap());
        }
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        // Frames from the client are refused; the connection lives on.
        send_frame(&mut socket, image(FACES)).await;
        let refused = loop {
            let message = next_json(&mut socket, Duration::from_secs(10))
                .await
                .unwrap();
            if message["type"] == "error" {
                break message;
            }
        };
        assert!(
            refused["message"].as_str().unwrap().contains("own camera"),
            "{refused}"
        );
        socket
            .send(Message::Text(r#"{"type":"refresh"}"#.into()))
            .await
            .unwrap();
        loop {
            let message = next_json(&mut socket, Duration::from_secs(10))
                .await
                .unwrap();
            if message["type"] == "songs" {
                break;
            }
        }
    });

    // /video_feed: a multipart stream of JPEGs with green boxes drawn on.
    let mut response = ureq::get(format!("http://{addr}/video_feed"))
        .call()
        .unwrap();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("multipart/x-mixed-replace; boundary="),
        "{content_type}"
    );
    let boundary = content_type.split("boundary=").nth(1).unwrap().to_owned();
    let mut body = std::io::BufReader::new(response.body_mut().as_reader());
    let jpeg = read_part(&mut body, &boundary);
    let frame = image::load_from_memory(&jpeg).unwrap().to_rgb8();
    assert_eq!(frame.dimensions(), (640, 480));
    let green = frame
        .pixels()
        .filter(|p| p[1] > 180 && p[0] < 80 && p[2] < 80)
        .count();
    assert!(
        green > 500,
        "face boxes drawn on the streamed frame: {green} green pixels"
    );
    let second = read_part(&mut body, &boundary);
    assert!(
        image::load_from_memory(&second).is_ok(),
        "the stream goes on"
    );
}

/// Reads one part of a multipart stream and returns its body.
fn read_part(body: &mut impl std::io::BufRead, boundary: &str) -> Vec<u8> {
    let mut line = String::new();
    body.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), format!("--{boundary}"));
    let mut length = None;
    loop {
        line.clear();
        body.read_line(&mut line).unwrap();
        if line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>().unwrap());
            }
        }
    }
    let mut part = vec![0; length.expect("a Content-Length")];
    body.read_exact(&mut part).unwrap();
    let mut end = [0; 2];
    body.read_exact(&mut end).unwrap();
    assert_eq!(&end, b"\r\n");
    part
}

#[test]
fn without_a_server_camera_there_is_no_video_feed() {
    let addr = default_server(quick());
    let (status, body) = get(addr, "/video_feed");
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("--video"),
        "{body}"
    );
}

/// Property names an object schema requires, following `$ref` and `allOf`.
fn required_properties(doc: &Value, schema: &Value) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return required_properties(doc, &doc["components"]["schemas"][name]);
    }
    let mut names: Vec<String> = schema["required"]
        .as_array()
        .map(|r| r.iter().map(|n| n.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(required_properties(doc, part));
    }
    names
}

fn response_schema<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
}

#[test]
fn the_openapi_document_covers_the_api_and_matches_its_answers() {
    let addr = default_server(quick());
    let (status, doc) = get(addr, "/api/openapi.json");
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/analyze",
            "/api/feedback",
            "/api/health",
            "/api/openapi.json",
            "/api/recommendations"
        ]
    );
    let emotions = &doc["components"]["schemas"]["Emotion"]["enum"];
    assert_eq!(emotions.as_array().unwrap().len(), 7, "{emotions}");

    // Every property the document requires is in the real answers.
    let (_, health) = get(addr, "/api/health");
    for name in required_properties(&doc, response_schema(&doc, "/api/health", "get")) {
        assert!(health.get(&name).is_some(), "health lacks {name}: {health}");
    }
    let (_, analysis) = post(addr, "/api/analyze", "image/png", &image(FACES));
    for name in required_properties(&doc, response_schema(&doc, "/api/analyze", "post")) {
        assert!(analysis.get(&name).is_some(), "analysis lacks {name}");
    }
    let face_schema = &doc["components"]["schemas"]["FaceReport"];
    let face = &analysis["faces"][0];
    for name in required_properties(&doc, face_schema) {
        assert!(face.get(&name).is_some(), "face lacks {name}: {face}");
    }
    let (_, songs) = get(addr, "/api/recommendations?emotion=happy&limit=3");
    let item = &response_schema(&doc, "/api/recommendations", "get")["items"];
    let required = required_properties(&doc, item);
    for name in ["title", "album", "artist", "link", "id"] {
        assert!(
            required.contains(&name.to_owned()),
            "{name} not required: {required:?}"
        );
    }
    for song in songs.as_array().unwrap() {
        for name in &required {
            assert!(song.get(name).is_some(), "song lacks {name}: {song}");
        }
    }
}

#[test]
fn beyond_capacity_frames_are_dropped_not_queued() {
    // One analysis at a time, and a frame may wait 5 ms for its turn: of
    // eight frames sent at once, the late ones are dropped, every client
    // hears back, and a dropped client's next frame is analysed.
    let addr = default_server(AppOptions {
        analysis_workers: 1,
        max_queue_wait: Duration::from_millis(5),
        ..quick()
    });
    runtime().block_on(async {
        let mut sockets = Vec::new();
        for _ in 0..8 {
            sockets.push(connect(addr).await);
        }
        for socket in &mut sockets {
            send_frame(socket, image(FACES)).await;
        }
        let mut kinds = Vec::new();
        for socket in &mut sockets {
            let reply = next_json(socket, Duration::from_secs(30)).await.unwrap();
            kinds.push(reply["type"].as_str().unwrap().to_owned());
        }
        let dropped = kinds.iter().filter(|k| *k == "dropped").count();
        let analysed = kinds.iter().filter(|k| *k == "frame").count();
        assert_eq!(dropped + analysed, 8, "{kinds:?}");
        assert!(dropped >= 1 && analysed >= 1, "{kinds:?}");
        let index = kinds.iter().position(|k| k == "dropped").unwrap();
        let socket = &mut sockets[index];
        send_frame(socket, image(FACES)).await;
        let retry = next_json(socket, Duration::from_secs(30)).await.unwrap();
        assert_eq!(retry["type"], "frame", "{retry}");
        assert_eq!(retry["dropped"], 1, "the drop is counted: {retry}");
    });
}
