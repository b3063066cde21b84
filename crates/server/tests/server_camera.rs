//! Server camera mode over real sockets: the server's own frames pushed
//! to every page and streamed annotated at `/video_feed`.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use melodora_music::Store;
use tokio_tungstenite::tungstenite::Message;

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
