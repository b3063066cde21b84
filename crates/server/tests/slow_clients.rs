//! Slow, silent and greedy clients, over real sockets: every socket is
//! closed within its limit (a half-open head, a slow body, an idle
//! kept-alive connection), one address cannot take every place, and the
//! server's cap makes room by closing the socket waiting longest. Timeouts
//! are short here (about a second); `melodora serve`'s defaults are in
//! README's security section.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use melodora_music::Store;
use melodora_server::{AppOptions, SocketLimits};

/// Limits of about a second, so the tests are quick.
fn quick_limits() -> SocketLimits {
    SocketLimits {
        header_timeout: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(1),
        min_body_rate: 1024,
        body_rate_window: Duration::from_secs(2),
        send_timeout: Duration::from_secs(2),
        ..SocketLimits::default()
    }
}

fn server(sockets: SocketLimits) -> SocketAddr {
    let options = AppOptions {
        sockets,
        ..common::quick()
    };
    common::start(options, Store::open_in_memory(true).unwrap())
}

/// A connection to `addr` from the loopback address `source`
/// (127.0.0.2 and the like are all this machine).
fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let source: IpAddr = source.parse().unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(source, 0)).unwrap();
        socket.connect(addr).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Reads (and drops) whatever the server sends until it closes the
/// connection; how long that took, or `None` if it was still open after
/// `limit`.
fn time_to_close(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        let left = limit.checked_sub(started.elapsed())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            // Reset by the server: closed too.
            Err(_) => return Some(started.elapsed()),
        }
    }
}

/// Whether `stream` is still open: nothing to read and no end within 100 ms.
fn still_open(stream: &mut TcpStream) -> bool {
    time_to_close(stream, Duration::from_millis(100)).is_none()
}

/// Sends `GET path` on a kept-alive connection and reads the whole answer:
/// its status and body.
fn get_on(stream: &mut TcpStream, addr: SocketAddr, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    read_response(stream)
}

/// One HTTP/1.1 response with a Content-Length.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).expect("an answer");
        assert!(read > 0, "closed before a whole answer: {bytes:?}");
        bytes.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&bytes).to_string();
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = text[..head_end].to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse().unwrap());
        if bytes.len() >= head_end + 4 + length {
            let status = text[9..12].parse().unwrap();
            return (status, text[head_end + 4..].to_string());
        }
    }
}

fn assert_closed_between(took: Option<Duration>, from: Duration, to: Duration, what: &str) {
    let took = took.unwrap_or_else(|| panic!("{what}: still open after {to:?}"));
    assert!(
        took >= from && took <= to,
        "{what}: closed after {took:?}, expected {from:?} to {to:?}"
    );
}

#[test]
fn half_open_heads_and_silent_clients_are_closed_within_the_header_timeout() {
    let addr = server(quick_limits());
    let mut half_open = TcpStream::connect(addr).unwrap();
    let mut silent = TcpStream::connect(addr).unwrap();
    let mut dripping = TcpStream::connect(addr).unwrap();
    half_open
        .write_all(format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nX-a: ").as_bytes())
        .unwrap();
    // One byte of a head every 200 ms does not buy more time: the head
    // must be whole within the timeout of its first byte.
    let mut writer = dripping.try_clone().unwrap();
    let drip = std::thread::spawn(move || {
        for byte in b"GET /api/health HTTP/1.1\r\nX-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if writer.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (from, to) = (Duration::from_millis(800), Duration::from_millis(2500));
    assert_closed_between(
        time_to_close(&mut half_open, to),
        from,
        to,
        "half-open head",
    );
    assert_closed_between(
        time_to_close(&mut dripping, to),
        Duration::ZERO,
        to,
        "dripping head",
    );
    assert!(
        time_to_close(&mut silent, Duration::from_millis(500)).is_some(),
        "silent client"
    );
    drip.join().unwrap();
    // A whole request is still answered.
    let (status, body) = common::get(addr, "/api/health");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_and_a_busy_one_is_not() {
    let addr = server(quick_limits());
    let mut idle = TcpStream::connect(addr).unwrap();
    let (status, _) = get_on(&mut idle, addr, "/api/health/live");
    assert_eq!(status, 200);
    let (from, to) = (Duration::from_millis(800), Duration::from_millis(2500));
    assert_closed_between(time_to_close(&mut idle, to), from, to, "idle keep-alive");

    // Requests 600 ms apart reuse one connection for 3 s, past both
    // timeouts: each new request starts a new spell.
    let mut busy = TcpStream::connect(addr).unwrap();
    for _ in 0..5 {
        let (status, _) = get_on(&mut busy, addr, "/api/health/live");
        assert_eq!(status, 200);
        std::thread::sleep(Duration::from_millis(600));
    }
}

/// A POST to /api/analyze announcing `length` bytes, head only.
fn upload_head(addr: SocketAddr, length: usize) -> String {
    format!(
        "POST /api/analyze HTTP/1.1\r\nHost: {addr}\r\nContent-Type: image/png\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

/// A PNG of noise (which does not compress): `side` x `side` pixels.
fn noise_png(side: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let image = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

#[test]
fn a_body_slower_than_the_minimum_rate_is_closed_and_a_slow_steady_one_gets_through() {
    let addr = server(quick_limits());
    // One byte every 700 ms of a megabyte: closed at the end of a 2-s
    // window.
    let mut crawling = TcpStream::connect(addr).unwrap();
    crawling
        .write_all(upload_head(addr, 1_000_000).as_bytes())
        .unwrap();
    let mut writer = crawling.try_clone().unwrap();
    std::thread::spawn(move || {
        while writer.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_millis(700));
        }
    });
    let (from, to) = (Duration::from_millis(1800), Duration::from_millis(4500));
    assert_closed_between(time_to_close(&mut crawling, to), from, to, "crawling body");

    // A real image at 4 KB/s, three times the floor, in bursts with
    // 250-ms pauses, for about 3 s: analysed.
    let png = noise_png(64);
    assert!(png.len() > 10_000, "{}", png.len());
    let mut steady = TcpStream::connect(addr).unwrap();
    steady
        .write_all(upload_head(addr, png.len()).as_bytes())
        .unwrap();
    let started = Instant::now();
    for chunk in png.chunks(1000) {
        steady.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(started.elapsed() > Duration::from_secs(2));
    let (status, body) = read_response(&mut steady);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"faces\""), "{body}");
}

#[test]
fn one_address_cannot_take_every_socket_and_another_is_still_served() {
    let addr = server(SocketLimits {
        max_per_client: 4,
        header_timeout: Duration::from_secs(60),
        ..SocketLimits::default()
    });
    let mut held: Vec<_> = (0..4).map(|_| connect_from("127.0.0.2", addr)).collect();
    // The fifth from that address is refused at once, with a reason.
    let mut refused = connect_from("127.0.0.2", addr);
    refused
        .write_all(format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    refused
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = refused.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(
        answer.contains("too many connections from this address"),
        "{answer}"
    );
    // Another address is served meanwhile, and the held ones stay open.
    let mut other = connect_from("127.0.0.3", addr);
    assert_eq!(get_on(&mut other, addr, "/api/health").0, 200);
    assert!(held.iter_mut().all(still_open));
    // A closed socket frees its place.
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(100));
    let mut again = connect_from("127.0.0.2", addr);
    assert_eq!(get_on(&mut again, addr, "/api/health").0, 200);
}

#[test]
fn at_the_servers_cap_the_socket_waiting_longest_makes_room_and_busy_ones_do_not() {
    let addr = server(SocketLimits {
        max_total: 4,
        header_timeout: Duration::from_secs(60),
        keep_alive_timeout: Duration::from_secs(60),
        body_rate_window: Duration::from_secs(60),
        min_body_rate: 1,
        ..SocketLimits::default()
    });
    let mut oldest = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut waiting: Vec<_> = (0..3)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            TcpStream::connect(addr).unwrap()
        })
        .collect();
    // The reaper lists the waiting sockets at least once a second.
    std::thread::sleep(Duration::from_millis(1200));
    let mut newcomer = TcpStream::connect(addr).unwrap();
    assert_eq!(get_on(&mut newcomer, addr, "/api/health/live").0, 200);
    assert!(
        time_to_close(&mut oldest, Duration::from_secs(2)).is_some(),
        "the oldest waiting socket was not closed"
    );
    assert!(
        waiting.iter_mut().all(still_open),
        "a newer socket was closed"
    );
    drop(waiting);
    drop(newcomer);

    // Four uploads in progress are busy: none is closed for a fifth,
    // which is refused at once.
    std::thread::sleep(Duration::from_millis(200));
    let mut uploads: Vec<_> = (0..4)
        .map(|_| {
            let mut upload = TcpStream::connect(addr).unwrap();
            upload
                .write_all(format!("{}x", upload_head(addr, 1000)).as_bytes())
                .unwrap();
            upload
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1200));
    let mut refused = TcpStream::connect(addr).unwrap();
    let mut answer = String::new();
    refused
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = refused.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.contains("the server is full"), "{answer}");
    assert!(uploads.iter_mut().all(still_open), "an upload was cut");
}

#[test]
fn a_websocket_is_not_held_to_the_http_timeouts() {
    let addr = server(quick_limits());
    let runtime = common::runtime();
    runtime.block_on(async {
        let mut socket = common::connect(addr).await;
        // Past the header and keep-alive timeouts, the WebSocket still
        // answers a frame.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        common::send_frame(&mut socket, common::image(common::NO_FACE)).await;
        let answer = common::next_json(&mut socket, Duration::from_secs(20))
            .await
            .expect("an answer");
        assert_eq!(answer["type"], "frame", "{answer}");
    });
}

#[test]
fn closed_and_refused_sockets_are_counted_in_the_metrics() {
    let addr = server(SocketLimits {
        max_per_client: 2,
        ..quick_limits()
    });
    let mut silent = connect_from("127.0.0.4", addr);
    let _second = connect_from("127.0.0.4", addr);
    let mut refused = connect_from("127.0.0.4", addr);
    assert!(time_to_close(&mut refused, Duration::from_secs(2)).is_some());
    assert!(time_to_close(&mut silent, Duration::from_secs(3)).is_some());
    let (status, metrics) = common::get(addr, "/metrics");
    assert_eq!(status, 200);
    let metrics = metrics.as_str().unwrap().to_string();
    for line in [
        "melodora_sockets_closed_total{reason=\"header_timeout\"}",
        "melodora_sockets_refused_total{reason=\"client_full\"} 1",
        "melodora_sockets_open ",
    ] {
        assert!(metrics.contains(line), "no {line} in\n{metrics}");
    }
}

#[test]
fn a_client_that_takes_nothing_of_a_stream_is_closed_after_the_send_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.y4m");
    common::y4m_clip(&clip, &common::image(common::FACES), 10);
    let options = AppOptions {
        sockets: quick_limits(),
        ..common::quick()
    };
    let store = Store::open_in_memory(true).unwrap();
    let addr = common::start_with_video(options, store, Some(&clip));
    // A viewer with a tiny receive window that never reads: the server's
    // writes stop going out within a frame or two.
    let runtime = common::runtime();
    let mut viewer = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            socket.connect(addr).await.unwrap()
        })
        .into_std()
        .unwrap();
    viewer.set_nonblocking(false).unwrap();
    viewer
        .write_all(format!("GET /video_feed HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    // The server's send buffer fills first (the kernel grows it to a few
    // megabytes), then nothing goes out for the send timeout: closed.
    let closed = "melodora_sockets_closed_total{reason=\"send_timeout\"} 1";
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (_, metrics) = common::get(addr, "/metrics");
        if metrics.as_str().unwrap().contains(closed) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a viewer that takes nothing was kept: {metrics}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        time_to_close(&mut viewer, Duration::from_secs(10)).is_some(),
        "counted as closed, but still open"
    );
}
