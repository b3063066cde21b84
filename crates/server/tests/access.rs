//! Who may use a running server, over real sockets: other sites' pages are
//! refused (Origin, Sec-Fetch-Site), foreign host names are refused (DNS
//! rebinding), allowed origins and public names are let in, and long-lived
//! connections are capped and closed when idle.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use melodora_music::Store;
use melodora_server::AccessOptions;
use melodora_server::AppOptions;
use melodora_server::ConnectionLimits;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// An HTTP answer read off a raw socket: status, headers (lower-case
/// names), and the body when it has a length; a stream (no length) is not
/// read, and stays open as long as the answer is kept.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    _stream: Option<std::net::TcpStream>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn error(&self) -> String {
        let body: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not a JSON error ({e}): {:?}", self.body));
        body["error"]
            .as_str()
            .expect("an error message")
            .to_string()
    }
}

/// Sends a request with exactly the given headers (`Host` included, so
/// that it can lie) and reads the answer.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => panic!("no answer head: {:?}", String::from_utf8_lossy(&received)),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = received[head_end..].to_vec();
    let Some(length) = length else {
        return Answer {
            status,
            headers,
            body: String::new(),
            _stream: Some(stream),
        };
    };
    while body.len() < length {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buffer[..n]),
        }
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        _stream: None,
    }
}

fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    request(addr, "GET", path, headers, b"")
}

/// Opens `/ws` with the given extra headers; the hello, or the HTTP status
/// of a refused upgrade.
async fn ws_with(addr: SocketAddr, headers: &[(&str, &str)]) -> Result<(Socket, Value), u16> {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut socket, _)) => {
            let hello = next_json(&mut socket, Duration::from_secs(10))
                .await
                .expect("a hello");
            Ok((socket, hello))
        }
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("WebSocket failed otherwise: {e}"),
    }
}

/// A server camera playing a face clip, so that every path has data.
fn camera_server(options: AppOptions) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("faces.y4m");
    y4m_clip(&clip, &image(FACES), 3);
    let addr = start_with_video(options, Store::open_in_memory(true).unwrap(), Some(&clip));
    (addr, dir)
}

const EVIL: &str = "http://evil.example";

#[test]
fn pages_of_other_sites_are_refused_on_every_data_path_and_our_own_are_served() {
    let (addr, _clip) = camera_server(quick());
    let own = format!("http://{addr}");
    let feedback = br#"{"song_id":1,"verdict":"like"}"#;
    let png = image(FACES);
    // (method, path, content type, body, status for our own page)
    let paths: [(&str, &str, &str, &[u8], u16); 5] = [
        ("GET", "/video_feed", "", b"", 200),
        ("POST", "/api/analyze", "image/png", &png, 200),
        ("POST", "/api/feedback", "application/json", feedback, 204),
        ("GET", "/api/recommendations?emotion=happy", "", b"", 200),
        ("GET", "/api/health", "", b"", 200),
    ];
    for (method, path, content_type, body, own_status) in paths {
        let with = |extra: &[(&str, &str)]| {
            let mut headers = vec![
                ("Host", addr.to_string()),
                ("Content-Type", content_type.to_string()),
            ];
            headers.extend(extra.iter().map(|(n, v)| (*n, v.to_string())));
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            request(addr, method, path, &headers, body)
        };
        let foreign = with(&[("Origin", EVIL)]);
        assert_eq!(foreign.status, 403, "{method} {path} from {EVIL}");
        assert!(
            foreign.error().contains("evil.example"),
            "{}",
            foreign.error()
        );
        let null = with(&[("Origin", "null")]);
        assert_eq!(null.status, 403, "{method} {path} from a sandboxed frame");
        // An <img> or <script> of another site sends no Origin, but says where it is.
        let embedded = with(&[("Sec-Fetch-Site", "cross-site")]);
        assert_eq!(
            embedded.status, 403,
            "{method} {path} embedded by another site"
        );
        assert_eq!(
            with(&[("Origin", &own), ("Sec-Fetch-Site", "same-origin")]).status,
            own_status,
            "{method} {path} from our page"
        );
        assert_eq!(
            with(&[]).status,
            own_status,
            "{method} {path} without Origin (curl)"
        );
    }
    runtime().block_on(async {
        assert_eq!(
            ws_with(addr, &[("Origin", EVIL)]).await.err(),
            Some(403),
            "/ws from {EVIL}"
        );
        assert_eq!(ws_with(addr, &[("Origin", "null")]).await.err(), Some(403));
        let (mut socket, hello) = ws_with(addr, &[("Origin", &own)])
            .await
            .expect("our page's socket");
        assert_eq!(hello["capture"], "server", "{hello}");
        let frame = next_json(&mut socket, Duration::from_secs(30))
            .await
            .expect("frames flow");
        assert_eq!(frame["type"], "frame", "{frame}");
    });
    // The page itself may be linked to from anywhere.
    assert_eq!(
        get_with(
            addr,
            "/",
            &[
                ("Host", &addr.to_string()),
                ("Sec-Fetch-Site", "cross-site")
            ]
        )
        .status,
        200
    );
}

#[test]
fn a_host_name_that_is_not_the_servers_is_refused_everywhere() {
    let (addr, _clip) = camera_server(quick());
    let port = addr.port();
    let rebound = format!("evil.example:{port}");
    for path in [
        "/",
        "/static/main.js",
        "/sw.js",
        "/api/health",
        "/api/openapi.json",
        "/video_feed",
        "/ws",
        "/nothing",
    ] {
        let answer = get_with(
            addr,
            path,
            &[("Host", &rebound), ("Origin", &format!("http://{rebound}"))],
        );
        assert_eq!(answer.status, 421, "{path} via {rebound}");
        assert!(
            answer.error().contains("--public-host evil.example"),
            "{}",
            answer.error()
        );
        assert!(
            answer.header("content-security-policy").is_some(),
            "refusals are hardened too"
        );
    }
    let other_port = format!("127.0.0.1:{}", port.wrapping_add(1).max(1));
    assert_eq!(get_with(addr, "/", &[("Host", &other_port)]).status, 421);
    assert_eq!(get_with(addr, "/", &[("Host", "not a host")]).status, 400);
    assert_eq!(get_with(addr, "/", &[]).status, 400, "no Host at all");
    for own in [
        format!("localhost:{port}"),
        format!("LOCALHOST.:{port}"),
        format!("[::1]:{port}"),
        addr.to_string(),
    ] {
        assert_eq!(get_with(addr, "/", &[("Host", &own)]).status, 200, "{own}");
    }
    runtime().block_on(async {
        let refused = ws_with(
            addr,
            &[("Host", &rebound), ("Origin", &format!("http://{rebound}"))],
        )
        .await;
        assert_eq!(refused.err(), Some(421));
    });
}

#[test]
fn named_origins_and_public_host_names_are_let_in() {
    let partner = "http://127.0.0.1:3000";
    let options = AppOptions {
        access: AccessOptions {
            allowed_origins: vec![
                partner.parse().unwrap(),
                "https://bücher.example".parse().unwrap(),
            ],
            public_hosts: vec!["melodora.test".parse().unwrap()],
        },
        ..quick()
    };
    let (addr, _clip) = camera_server(options);
    let host = addr.to_string();
    let answer = get_with(
        addr,
        "/api/recommendations?emotion=sad",
        &[
            ("Host", &host),
            ("Origin", partner),
            ("Sec-Fetch-Site", "same-site"),
        ],
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(partner),
        "the partner may read it"
    );
    assert!(answer
        .header("vary")
        .is_some_and(|v| v.to_ascii_lowercase().contains("origin")));
    let idn = get_with(
        addr,
        "/api/health",
        &[("Host", &host), ("Origin", "https://xn--bcher-kva.example")],
    );
    assert_eq!(
        idn.status, 200,
        "an IDN origin given in Unicode matches its punycode"
    );
    // The browser asks before a cross-origin POST of JSON.
    let preflight = request(
        addr,
        "OPTIONS",
        "/api/feedback",
        &[
            ("Host", &host),
            ("Origin", partner),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(partner)
    );
    assert!(preflight
        .header("access-control-allow-methods")
        .is_some_and(|m| m.contains("POST")));
    // Other origins still are not.
    let other = get_with(
        addr,
        "/api/health",
        &[("Host", &host), ("Origin", "http://127.0.0.1:3001")],
    );
    assert_eq!(other.status, 403);
    assert_eq!(other.header("access-control-allow-origin"), None);
    // The public name, with the page served under it.
    let public = format!("melodora.test:{}", addr.port());
    let page = get_with(
        addr,
        "/api/health",
        &[("Host", &public), ("Origin", &format!("http://{public}"))],
    );
    assert_eq!(page.status, 200);
    runtime().block_on(async {
        let (_, hello) = ws_with(addr, &[("Origin", partner)])
            .await
            .expect("the partner's socket");
        assert_eq!(hello["capture"], "server");
        // A TLS proxy on the default port passes Host through; the page's
        // origin is https.
        let (_, hello) = ws_with(
            addr,
            &[
                ("Host", "melodora.test"),
                ("Origin", "https://melodora.test"),
            ],
        )
        .await
        .expect("via the proxy");
        assert_eq!(hello["type"], "hello");
    });
}

fn limited(max_total: usize, max_per_client: usize, idle_timeout: Duration) -> AppOptions {
    AppOptions {
        limits: ConnectionLimits {
            max_total,
            max_per_client,
            idle_timeout,
        },
        ..quick()
    }
}

/// The close frame a refused connection gets instead of a hello.
async fn refused_close(addr: SocketAddr) -> (CloseCode, String) {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("the upgrade completes");
    let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("an answer")
        .expect("a message")
        .expect("a frame");
    match message {
        Message::Close(Some(frame)) => (frame.code, frame.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[test]
fn the_connection_cap_refuses_the_next_one_and_the_server_stays_responsive() {
    let addr = default_server(limited(3, 100, Duration::from_secs(60)));
    runtime().block_on(async {
        let mut open = Vec::new();
        for _ in 0..3 {
            open.push(connect(addr).await);
        }
        let (code, reason) = refused_close(addr).await;
        assert_eq!(code, CloseCode::Again, "1013: try again later ({reason})");
        assert!(reason.contains("full"), "{reason}");
        let (status, health) = get(addr, "/api/health");
        assert_eq!(
            status, 200,
            "HTTP is still answered when the sockets are full"
        );
        assert_eq!(health["connections"]["in_use"], 3, "{health}");
        assert_eq!(health["connections"]["limit"], 3, "{health}");
        send_frame(&mut open[0], image(FACES)).await;
        let reply = next_json(&mut open[0], Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(
            reply["type"], "frame",
            "open connections are still served: {reply}"
        );
        drop(open.pop());
        // The freed place is taken again once the server sees the close.
        let mut reopened = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if get(addr, "/api/health").1["connections"]["in_use"] == 2 {
                reopened = Some(connect(addr).await);
                break;
            }
        }
        assert!(reopened.is_some(), "a closed connection frees its place");
    });
}

#[test]
fn one_client_address_cannot_take_every_place() {
    let addr = default_server(limited(100, 2, Duration::from_secs(60)));
    runtime().block_on(async {
        let _a = connect(addr).await;
        let _b = connect(addr).await;
        let (code, reason) = refused_close(addr).await;
        assert_eq!(code, CloseCode::Again);
        assert!(reason.contains("from this address"), "{reason}");
    });
}

#[test]
fn video_streams_count_as_connections() {
    let (addr, _clip) = camera_server(limited(1, 100, Duration::from_secs(60)));
    let host = addr.to_string();
    let held = get_with(addr, "/video_feed", &[("Host", &host)]);
    assert_eq!(held.status, 200, "the stream takes the one place");
    let second = get_with(addr, "/video_feed", &[("Host", &host)]);
    assert_eq!(second.status, 503);
    assert!(second.error().contains("full"), "{}", second.error());
    assert_eq!(second.header("retry-after"), Some("5"));
    runtime().block_on(async {
        let (code, _) = refused_close(addr).await;
        assert_eq!(
            code,
            CloseCode::Again,
            "the stream's place is the WebSocket's too"
        );
    });
    drop(held);
    // The server sees the stream closed at its next frame (10 fps).
    let freed = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        get_with(addr, "/video_feed", &[("Host", &host)]).status == 200
    });
    assert!(freed, "a closed stream frees its place");
}

/// Opens `/ws` over a raw socket that will then neither send nor read.
fn silent_websocket(addr: SocketAddr) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(handshake.as_bytes()).unwrap();
    stream
}

/// Everything the server sent on a raw WebSocket, as (opcode, payload)
/// frames, up to the end of the connection.
fn frames_until_closed(mut stream: std::net::TcpStream) -> Vec<(u8, Vec<u8>)> {
    let mut bytes = Vec::new();
    stream
        .read_to_end(&mut bytes)
        .expect("the server ends the connection");
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a handshake answer")
        + 4;
    assert!(
        bytes.starts_with(b"HTTP/1.1 101"),
        "{:?}",
        String::from_utf8_lossy(&bytes[..head_end])
    );
    let mut frames = Vec::new();
    let mut at = head_end;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let (length, start) = match bytes[at + 1] & 0x7f {
            126 => (
                u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize,
                at + 4,
            ),
            127 => panic!("no message here is that long"),
            n => (n as usize, at + 2),
        };
        frames.push((opcode, bytes[start..start + length].to_vec()));
        at = start + length;
    }
    frames
}

#[test]
fn idle_connections_are_closed_and_live_ones_are_not() {
    let idle = Duration::from_secs(1);
    let addr = default_server(limited(100, 100, idle));
    let silent = silent_websocket(addr);
    runtime().block_on(async {
        let mut live = connect(addr).await;
        // The live client reads (and so answers pings) for three timeouts.
        let listened = tokio::time::timeout(3 * idle, async {
            while let Some(message) = live.next().await {
                if let Ok(Message::Close(frame)) = message {
                    return Some(frame);
                }
            }
            None
        })
        .await;
        assert!(
            listened.is_err(),
            "the live client was closed: {listened:?}"
        );
        send_frame(&mut live, image(NO_FACE)).await;
        let reply = next_json(&mut live, Duration::from_secs(30)).await.unwrap();
        assert_eq!(reply["type"], "frame", "{reply}");
        let (_, health) = get(addr, "/api/health");
        assert_eq!(
            health["connections"]["in_use"], 1,
            "only the live one is open: {health}"
        );
    });
    // The silent one got its hello, pings it never answered, and a close
    // frame saying why; then the server hung up.
    let frames = frames_until_closed(silent);
    let opcodes: Vec<u8> = frames.iter().map(|(opcode, _)| *opcode).collect();
    assert_eq!(opcodes.first(), Some(&0x1), "a hello first: {opcodes:?}");
    assert!(opcodes.contains(&0x9), "pinged: {opcodes:?}");
    let (opcode, close) = frames.last().unwrap();
    assert_eq!(*opcode, 0x8, "a close frame last: {opcodes:?}");
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 1000);
    let reason = String::from_utf8_lossy(&close[2..]);
    assert!(reason.contains("idle"), "{reason}");
}
