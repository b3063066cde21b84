//! What an operator relies on: liveness and readiness, `/metrics`, and a
//! graceful shutdown.

mod common;

use std::time::{Duration, Instant};

use common::{get, launch, post, quick, state_for, FACES};
use futures_util::StreamExt;
use melodora_music::Store;
use melodora_server::AppOptions;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

fn metrics(addr: std::net::SocketAddr) -> String {
    let mut response = ureq::get(format!("http://{addr}/metrics")).call().unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    response.body_mut().read_to_string().unwrap()
}

/// The value of the sample named exactly `name` (labels included).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn liveness_and_readiness_answer_for_a_working_server() {
    let addr = common::default_server(quick());
    let (status, live) = get(addr, "/api/health/live");
    assert_eq!((status, live["status"].as_str()), (200, Some("live")));
    let (status, ready) = get(addr, "/api/health/ready");
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    for check in ["database", "model", "serving"] {
        assert_eq!(ready["checks"][check], "ok", "{ready}");
    }
}

#[test]
fn metrics_count_frames_faces_playlists_connections_and_responses() {
    let addr = common::default_server(quick());
    let before = metrics(addr);
    assert_eq!(sample(&before, "melodora_frames_analysed_total"), 0.0);
    assert!(
        before.contains("melodora_build_info{version=\""),
        "{before}"
    );
    assert!(before.trim_end().ends_with("# EOF"), "{before}");

    let (status, _) = post(addr, "/api/analyze", "image/png", &common::image(FACES));
    assert_eq!(status, 200);
    let (status, _) = post(addr, "/api/analyze", "image/png", b"not an image");
    assert_eq!(status, 400);
    let (status, _) = get(addr, "/api/recommendations?emotion=happy");
    assert_eq!(status, 200);

    let runtime = common::runtime();
    let mut socket = runtime.block_on(common::connect(addr));
    let during = metrics(addr);
    assert_eq!(sample(&during, "melodora_websocket_connections"), 1.0);
    assert_eq!(
        sample(&during, "melodora_websocket_connections_opened_total"),
        1.0
    );
    assert_eq!(sample(&during, "melodora_frames_analysed_total"), 1.0);
    assert!(sample(&during, "melodora_faces_detected_total") >= 2.0);
    assert_eq!(sample(&during, "melodora_frame_errors_total"), 1.0);
    assert_eq!(sample(&during, "melodora_analysis_seconds_count"), 1.0);
    assert!(sample(&during, "melodora_analysis_seconds_sum") > 0.0);
    assert_eq!(
        sample(&during, "melodora_analysis_seconds_bucket{le=\"+Inf\"}"),
        1.0
    );
    assert_eq!(sample(&during, "melodora_playlists_served_total"), 1.0);
    assert_eq!(sample(&during, "melodora_playlist_seconds_count"), 1.0);
    assert_eq!(
        sample(&during, "melodora_http_responses_total{class=\"4xx\"}"),
        1.0
    );
    assert!(sample(&during, "melodora_http_responses_total{class=\"2xx\"}") >= 3.0);

    runtime.block_on(async {
        socket.close(None).await.unwrap();
        while socket.next().await.is_some() {}
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while sample(&metrics(addr), "melodora_websocket_connections") != 0.0 {
        assert!(Instant::now() < deadline, "the gauge stays up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn shutting_down_closes_websockets_with_a_reason_and_returns_within_the_grace() {
    // Analyses of one connection at least 500 ms apart: a second frame sent
    // right after the first one's answer waits in analysis that long.
    let options = AppOptions {
        shutdown_grace: Duration::from_secs(5),
        min_frame_interval: Duration::from_millis(500),
        ..quick()
    };
    let state = state_for(options, Store::open_in_memory(true).unwrap(), None);
    let server = launch(state, None);
    let runtime = common::runtime();
    let mut socket = runtime.block_on(common::connect(server.addr));
    runtime.block_on(async {
        common::send_frame(&mut socket, common::image(FACES)).await;
        let first = common::next_json(&mut socket, Duration::from_secs(20)).await;
        assert_eq!(first.expect("an answer")["type"], "frame");
        // The second frame is in analysis when the signal comes: it is
        // still answered.
        common::send_frame(&mut socket, common::image(FACES)).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    });
    let asked = Instant::now();
    server.stop.send(()).unwrap();
    let (answered, close) = runtime.block_on(async {
        let mut answered = false;
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .expect("closed in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    answered |= text.contains("\"type\":\"frame\"");
                }
                Some(Ok(Message::Close(frame))) => break (answered, frame),
                Some(Ok(_)) => {}
                other => panic!("no close frame: {other:?}"),
            }
        }
    });
    assert!(answered, "the frame in analysis was not answered");
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Away);
    assert!(close.reason.contains("shutting down"), "{}", close.reason);
    drop(socket);
    let result = server.thread.join().unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "took {:?}",
        asked.elapsed()
    );
    // Nothing listens any more.
    assert!(std::net::TcpStream::connect(server.addr).is_err());
}

#[test]
fn a_request_that_never_ends_holds_the_shutdown_for_the_grace_and_no_longer() {
    use std::io::Write;
    let grace = Duration::from_millis(800);
    let options = AppOptions {
        shutdown_grace: grace,
        ..quick()
    };
    let state = state_for(options, Store::open_in_memory(true).unwrap(), None);
    let server = launch(state, None);
    // An upload that announces 100 kB and sends 10 bytes: in flight until
    // the grace runs out.
    let mut upload = std::net::TcpStream::connect(server.addr).unwrap();
    let head = format!(
        "POST /api/analyze HTTP/1.1\r\nHost: {}\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n0123456789",
        server.addr
    );
    upload.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    server.stop.send(()).unwrap();
    let result = server.thread.join().unwrap();
    assert!(result.is_ok(), "{result:?}");
    let took = asked.elapsed();
    assert!(
        took >= grace - Duration::from_millis(100),
        "did not wait for the request: {took:?}"
    );
    assert!(took < grace + Duration::from_secs(2), "took {took:?}");
}
