//! The HTTP API over real sockets: its answers, hostile requests, the
//! security headers, catalog changes seen by a running server, and the
//! OpenAPI document checked against real answers.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use melodora_music::Store;
use melodora_server::MAX_FACES_PER_FRAME;
use melodora_vision::{Cascade, DetectParams, HaarDetector};
use serde_json::Value;

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
    for (step, song) in songs.iter().enumerate() {
        let reason = song["reason"].as_str().unwrap_or_default();
        let prefix = format!("lifts a sad mood (uplift mode, step {} of 10): ", step + 1);
        assert!(reason.starts_with(&prefix), "{song}");
    }

    let id = songs[0]["id"].as_i64().unwrap();
    let (status, _) = post(
        addr,
        "/api/feedback",
        "application/json",
        format!(r#"{{"song_id":{id},"verdict":"skip"}}"#).as_bytes(),
    );
    assert_eq!(status, 204);
}

/// Calibration over HTTP: PUT makes and keeps one for a profile (422 for
/// too few readings), GET reads it back, `/api/analyze?profile=` reads
/// faces through it, DELETE forgets it; the OpenAPI document has all three.
#[test]
fn a_profile_is_calibrated_read_through_and_forgotten_over_http() {
    let addr = default_server(quick());
    let (_, plain) = post(addr, "/api/analyze", "image/png", &image(FACES));
    let largest = |analysis: &Value| {
        analysis["faces"]
            .as_array()
            .unwrap()
            .iter()
            .max_by_key(|f| f["w"].as_i64().unwrap())
            .unwrap()
            .clone()
    };
    let face = largest(&plain);
    let reading = face["probabilities"].to_string();
    let (status, empty) = get(addr, "/api/calibration?profile=ana");
    assert_eq!(status, 200);
    assert!(empty["calibration"].is_null(), "{empty}");

    let few = format!(r#"{{"profile":"ana","resting":[{reading}]}}"#);
    let (status, refused) = send(addr, "PUT", "/api/calibration", few.as_bytes());
    assert_eq!(status, 422, "{refused}");
    let body = format!(
        r#"{{"profile":"ana","resting":[{}]}}"#,
        [reading.as_str(); 5].join(",")
    );
    let (status, made) = send(addr, "PUT", "/api/calibration", body.as_bytes());
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["profile"], "ana");
    let (_, kept) = get(addr, "/api/calibration?profile=ana");
    assert_eq!(kept["calibration"], made["calibration"]);

    let (status, through) = post(addr, "/api/analyze?profile=ana", "image/png", &image(FACES));
    assert_eq!(status, 200, "{through}");
    let corrected = largest(&through);
    let p = |face: &Value, e: &str| face["probabilities"][e].as_f64().unwrap();
    assert!(
        p(&corrected, "neutral") > p(&face, "neutral"),
        "{face} -> {corrected}"
    );
    let (_, other) = post(addr, "/api/analyze?profile=ben", "image/png", &image(FACES));
    assert_eq!(
        largest(&other)["probabilities"],
        face["probabilities"],
        "ben is not calibrated"
    );
    let (status, _) = post(addr, "/api/analyze?profile=", "image/png", &image(FACES));
    assert_eq!(status, 400, "an empty profile name");

    let (status, _) = send(addr, "DELETE", "/api/calibration?profile=ana", b"");
    assert_eq!(status, 204);
    let (_, gone) = get(addr, "/api/calibration?profile=ana");
    assert!(gone["calibration"].is_null(), "{gone}");
}

/// What played, per profile, over HTTP: POST keeps a play (the title and
/// artist are the store's, whatever else the body says), GET lists a
/// profile's newest first, DELETE forgets them; unknown songs are 404,
/// bad profiles and limits 400, and each answer has what the OpenAPI
/// document requires.
#[test]
fn what_played_is_kept_per_profile_over_http() {
    let addr = default_server(quick());
    let (_, songs) = get(addr, "/api/recommendations?emotion=sad&limit=2");
    let ids: Vec<i64> = songs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let (status, empty) = get(addr, "/api/plays?profile=ana");
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["plays"], serde_json::json!([]));
    for (id, mood) in [(ids[0], "\"sad\""), (ids[1], "null")] {
        let body = format!(
            r#"{{"profile":"ana","song_id":{id},"mood":{mood},"reason":"in your sad list","title":"<b>not this</b>"}}"#
        );
        let (status, kept) = send(addr, "POST", "/api/plays", body.as_bytes());
        assert_eq!(status, 201, "{kept}");
        assert_eq!(kept["song_id"], id);
        assert_ne!(kept["title"], "<b>not this</b>");
    }
    let (_, listed) = get(addr, "/api/plays?profile=ana");
    let plays = listed["plays"].as_array().unwrap();
    assert_eq!(plays.len(), 2, "{listed}");
    assert_eq!(plays[0]["song_id"], ids[1], "newest first");
    assert!(plays[0]["mood"].is_null());
    assert_eq!(plays[1]["mood"], "sad");
    assert_eq!(plays[1]["title"], songs[0]["title"]);
    assert_eq!(plays[1]["reason"], "in your sad list");
    let (_, one) = get(addr, "/api/plays?profile=ana&limit=1");
    assert_eq!(one["plays"].as_array().unwrap().len(), 1);
    let (_, ben) = get(addr, "/api/plays?profile=ben");
    assert_eq!(ben["plays"], serde_json::json!([]), "per profile");

    let (_, doc) = get(addr, "/api/openapi.json");
    let answer = response_schema(&doc, "/api/plays", "get");
    for name in required_properties(&doc, answer) {
        assert!(listed.get(&name).is_some(), "plays lack {name}: {listed}");
    }
    let play = &doc["components"]["schemas"]["Play"];
    for name in required_properties(&doc, play) {
        assert!(plays[0].get(&name).is_some(), "a play lacks {name}");
    }

    let unknown = br#"{"profile":"ana","song_id":987654321}"#;
    assert_eq!(send(addr, "POST", "/api/plays", unknown).0, 404);
    let nameless = format!(r#"{{"profile":"","song_id":{}}}"#, ids[0]);
    assert_eq!(send(addr, "POST", "/api/plays", nameless.as_bytes()).0, 400);
    let moodless = format!(r#"{{"song_id":{},"mood":"bored"}}"#, ids[0]);
    assert_eq!(send(addr, "POST", "/api/plays", moodless.as_bytes()).0, 422);
    for bad in [
        "/api/plays?limit=0",
        "/api/plays?limit=501",
        "/api/plays?profile=",
    ] {
        assert_eq!(get(addr, bad).0, 400, "{bad}");
    }
    let (status, _) = send(addr, "DELETE", "/api/plays?profile=ana", b"");
    assert_eq!(status, 204);
    let (_, gone) = get(addr, "/api/plays?profile=ana");
    assert_eq!(gone["plays"], serde_json::json!([]));
}

/// A request with any method and a JSON body.
fn send(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .unwrap();
    let mut response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .build()
        .new_agent()
        .run(request)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
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
    // One frame origin: Spotify's embed player, nothing else.
    let frames: Vec<&str> = csp
        .split(';')
        .map(str::trim)
        .filter(|d| d.starts_with("frame-src") || d.starts_with("child-src"))
        .collect();
    assert_eq!(frames, ["frame-src https://open.spotify.com"], "{csp}");
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
    let (status, script) = get(addr, "/static/view/playlist.js");
    assert_eq!(status, 200);
    let script = script.as_str().unwrap();
    assert!(
        script.contains("text: song.title")
            && script.contains("text: song.album")
            && script.contains("text: song.artist")
    );
    // ...and no module of the page parses text as HTML.
    for module in [
        "main.js",
        "dom.js",
        "view/playlist.js",
        "view/status.js",
        "view/importer.js",
        "view/steering.js",
        "transport/site.js",
    ] {
        let (status, script) = get(addr, &format!("/static/{module}"));
        assert_eq!(status, 200, "{module}");
        let script = script.as_str().unwrap();
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "DOMParser",
        ] {
            assert!(!script.contains(sink), "{module} uses {sink}");
        }
    }
    let (status, _) = get(addr, "/static/vendor/bootstrap/bootstrap.min.css");
    assert_eq!(status, 200);
    let (status, _) = get(addr, "/static/../Cargo.toml");
    assert_eq!(status, 404);
}

/// What on-device mode loads comes from the binary itself: the analyzer's
/// wasm and glue, the cascade and the model, each with an ETag that turns a
/// second download into a 304; and the page may compile WebAssembly.
#[test]
fn the_on_device_analyzer_and_its_model_are_served_with_etags() {
    let addr = default_server(quick());
    let fetch = |path: &str, etag: Option<&str>| {
        let mut request = ureq::get(format!("http://{addr}{path}"))
            .config()
            .http_status_as_error(false)
            .build();
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        let mut response = request.call().unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (content_type, tag, csp) = (
            header("content-type"),
            header("etag"),
            header("content-security-policy"),
        );
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        (status, content_type, tag, csp, body)
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (path, content_type, file) in [
        (
            "/static/wasm/melodora_wasm_bg.wasm",
            "application/wasm",
            "web/wasm/melodora_wasm_bg.wasm",
        ),
        (
            "/static/wasm/melodora_wasm.js",
            "text/javascript; charset=utf-8",
            "web/wasm/melodora_wasm.js",
        ),
        (
            "/static/models/emotion.onnx",
            "application/octet-stream",
            "assets/emotion.onnx",
        ),
        (
            "/static/models/haarcascade_frontalface_default.xml",
            "application/xml",
            "assets/haarcascade_frontalface_default.xml",
        ),
    ] {
        let (status, got_type, etag, _, body) = fetch(path, None);
        assert_eq!(status, 200, "{path}");
        assert_eq!(got_type.as_deref(), Some(content_type), "{path}");
        assert_eq!(body, std::fs::read(root.join(file)).unwrap(), "{path}");
        let etag = etag.expect("an ETag");
        let (again, _, _, _, empty) = fetch(path, Some(&etag));
        assert_eq!((again, empty.len()), (304, 0), "{path}");
        let (changed, _, _, _, _) = fetch(path, Some("\"other\""));
        assert_eq!(changed, 200, "{path}");
    }
    let (_, _, _, csp, _) = fetch("/", None);
    assert!(csp.unwrap().contains("'wasm-unsafe-eval'"));
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
            "/api/calibration",
            "/api/feedback",
            "/api/health",
            "/api/health/live",
            "/api/health/ready",
            "/api/library/tracks/{id}/audio",
            "/api/library/tracks/{id}/cover",
            "/api/openapi.json",
            "/api/plays",
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
    let (_, ready) = get(addr, "/api/health/ready");
    for name in required_properties(&doc, response_schema(&doc, "/api/health/ready", "get")) {
        assert!(
            ready.get(&name).is_some(),
            "readiness lacks {name}: {ready}"
        );
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
fn a_store_failure_answers_a_generic_error_without_sql_paths_or_driver_words() {
    let dir = tempfile::tempdir().unwrap();
    let addr = common::start(quick(), Store::open(dir.path()).unwrap());
    let (status, list) = get(addr, "/api/recommendations?emotion=happy&limit=1");
    assert_eq!(status, 200, "{list}");
    let song_id = list[0]["id"].as_i64().expect("a song id");
    // The feedback table goes, behind the server's back.
    let path = dir.path().join(melodora_music::STORE_FILE);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE feedback")
        .unwrap();
    let body = format!(r#"{{"song_id": {song_id}, "verdict": "like"}}"#);
    let (status, answer) = post(addr, "/api/feedback", "application/json", body.as_bytes());
    assert_eq!(status, 500, "{answer}");
    let message = answer["error"]
        .as_str()
        .expect("a JSON error")
        .to_lowercase();
    let dir_text = dir.path().display().to_string().to_lowercase();
    for leak in ["sql", "table", "feedback", "no such", "rusqlite", &dir_text] {
        assert!(
            !message.contains(leak),
            "{leak:?} reached the client: {message}"
        );
    }
    assert!(message.contains("see its log"), "{message}");
    // The server goes on serving what does not need the lost table.
    assert_eq!(get(addr, "/api/health").0, 200);
}
