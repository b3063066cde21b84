//! The live WebSocket protocol over real sockets: frames in, faces, mood
//! and songs out; commands; flow control and admission under load; hostile
//! messages.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::SinkExt;
use melodora_server::{AppOptions, Follow};
use melodora_vision::AnalysisSettings;
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
        // Each says why: its list or its point, near the mood.
        for song in songs {
            let reason = song["reason"].as_str().unwrap_or_default();
            assert!(
                reason.starts_with("in your ") || reason.starts_with("valence "),
                "{song}"
            );
        }

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

/// On-device mode: the page analyses its camera itself and sends only the
/// mood it found; the server answers with a list for it, and refuses a
/// malformed mood without closing the connection.
#[test]
fn a_mood_found_on_the_device_gets_a_list_and_a_bad_one_an_error() {
    let addr = default_server(quick());
    runtime().block_on(async {
        let mut socket = connect(addr).await;
        async fn ask(socket: &mut Socket, text: &'static str) -> Value {
            socket.send(Message::Text(text.into())).await.unwrap();
            next_json(socket, Duration::from_secs(10)).await.unwrap()
        }
        let happy = ask(
            &mut socket,
            r#"{"type":"mood","emotion":"happy","confidence":0.83}"#,
        )
        .await;
        assert_eq!(happy["type"], "songs", "{happy}");
        assert_eq!(happy["mood"]["emotion"], "happy", "{happy}");
        assert_eq!(happy["songs"].as_array().unwrap().len(), 15, "{happy}");

        for bad in [
            r#"{"type":"mood","emotion":"bored","confidence":0.5}"#,
            r#"{"type":"mood","emotion":"sad","confidence":1.5}"#,
            r#"{"type":"mood","emotion":"sad"}"#,
        ] {
            let reply = ask(&mut socket, bad).await;
            assert_eq!(reply["type"], "error", "{bad}: {reply}");
            assert_eq!(reply["about"], "command", "{bad}: {reply}");
        }

        let sad = ask(
            &mut socket,
            r#"{"type":"mood","emotion":"sad","confidence":0.6}"#,
        )
        .await;
        assert_eq!(
            sad["mood"]["emotion"], "sad",
            "the connection is still in use: {sad}"
        );
        let refreshed = ask(&mut socket, r#"{"type":"refresh"}"#).await;
        assert_eq!(refreshed["mood"]["emotion"], "sad", "{refreshed}");
    });
}

/// A mood set by hand holds the list: the camera's moods (from frames or
/// from the device) are still reported but change nothing, until the page
/// hands the mood back; an unknown mood is an error and the connection
/// stays.
#[test]
fn a_mood_set_by_hand_holds_the_list_until_the_face_is_followed_again() {
    let addr = default_server(quick());
    runtime().block_on(async {
        let mut socket = connect(addr).await;
        async fn ask(socket: &mut Socket, text: &'static str) -> Value {
            socket.send(Message::Text(text.into())).await.unwrap();
            next_json(socket, Duration::from_secs(20)).await.unwrap()
        }
        let manual = ask(&mut socket, r#"{"type":"manual","emotion":"neutral"}"#).await;
        assert_eq!(manual["type"], "songs", "{manual}");
        assert_eq!(manual["mood"]["emotion"], "neutral", "{manual}");
        assert_eq!(manual["mood"]["confidence"], 1.0, "{manual}");
        assert_eq!(manual["songs"].as_array().unwrap().len(), 15, "{manual}");

        // A frame's faces: their mood is reported, the list stays.
        send_frame(&mut socket, image(FACES)).await;
        let frame = next_json(&mut socket, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(frame["type"], "frame", "{frame}");
        assert!(frame["mood"]["emotion"].is_string(), "{frame}");
        assert_ne!(frame["mood"]["emotion"], "neutral", "{frame}");
        assert!(
            frame.get("songs").is_none(),
            "the camera changed the list: {frame}"
        );
        // A device's mood: heard, no list.
        let device = ask(
            &mut socket,
            r#"{"type":"mood","emotion":"sad","confidence":0.9}"#,
        )
        .await;
        assert_eq!(device["type"], "songs", "{device}");
        assert!(
            device.get("songs").is_none(),
            "the device changed the list: {device}"
        );

        let bad = ask(&mut socket, r#"{"type":"manual","emotion":"bored"}"#).await;
        assert_eq!(
            (bad["type"].as_str(), bad["about"].as_str()),
            (Some("error"), Some("command")),
            "{bad}"
        );

        // Following the face again: the list follows the camera's mood.
        let follow = ask(&mut socket, r#"{"type":"manual","emotion":null}"#).await;
        assert_eq!(follow["mood"]["emotion"], "sad", "{follow}");
        assert_eq!(follow["songs"].as_array().unwrap().len(), 15, "{follow}");
    });
}

/// The hello tells an on-device page the server's own analysis options, so
/// `serve --group --dwell-ms ... --no-tracking` holds in both modes.
/// Calibration over the socket: the resting readings of the page's face
/// make a correction that every later frame is read through (the face's
/// emotion falls, neutral rises), kept for the profile (a new connection's
/// hello carries it), refused with an error when the readings are too few,
/// and forgotten with `uncalibrate`.
#[test]
fn a_calibration_corrects_later_frames_is_kept_and_can_be_forgotten() {
    let addr = default_server(quick());
    runtime().block_on(async {
        let (mut socket, hello) = connect_with_hello(addr).await;
        assert!(hello.get("calibration").is_none(), "{hello}");
        async fn ask(socket: &mut Socket, text: String) -> Value {
            socket.send(Message::Text(text.into())).await.unwrap();
            next_json(socket, Duration::from_secs(10)).await.unwrap()
        }
        async fn largest_face(socket: &mut Socket) -> Value {
            send_frame(socket, image(FACES)).await;
            let reply = next_json(socket, Duration::from_secs(30)).await.unwrap();
            let faces = reply["faces"].as_array().unwrap().clone();
            faces
                .into_iter()
                .max_by_key(|f| f["w"].as_i64().unwrap())
                .unwrap()
        }
        let before = largest_face(&mut socket).await;
        let read_as = before["emotion"].as_str().unwrap().to_string();
        assert_ne!(
            read_as, "neutral",
            "the fixture's face must not read neutral: {before}"
        );
        let reading = before["probabilities"].to_string();

        let few = ask(
            &mut socket,
            format!(r#"{{"type":"calibrate","resting":[{reading},{reading}]}}"#),
        )
        .await;
        assert_eq!(
            (&few["type"], &few["about"]),
            (&"error".into(), &"command".into()),
            "{few}"
        );
        assert!(
            few["message"].as_str().unwrap().contains("at least 5"),
            "{few}"
        );
        let nonsense = ask(
            &mut socket,
            r#"{"type":"calibrate","resting":[{"grumpy":1}]}"#.to_string(),
        )
        .await;
        assert_eq!(nonsense["type"], "error", "{nonsense}");

        let resting = [reading.as_str(); 6].join(",");
        let made = ask(
            &mut socket,
            format!(r#"{{"type":"calibrate","resting":[{resting}]}}"#),
        )
        .await;
        assert_eq!(made["type"], "calibration", "{made}");
        assert!(
            made["calibration"][read_as.as_str()].as_f64().unwrap() < 0.0,
            "{made}"
        );
        // The face reads its emotion so strongly that neutral is raised too.
        assert!(
            made["calibration"]["neutral"].as_f64().unwrap() > 0.0,
            "{made}"
        );

        let after = largest_face(&mut socket).await;
        let p = |face: &Value, e: &str| face["probabilities"][e].as_f64().unwrap();
        assert!(
            p(&after, &read_as) < p(&before, &read_as),
            "{before} -> {after}"
        );
        assert!(
            p(&after, "neutral") > p(&before, "neutral"),
            "{before} -> {after}"
        );

        // Kept for the profile: the next connection starts calibrated.
        let (mut other, hello) = connect_with_hello(addr).await;
        assert_eq!(hello["calibration"], made["calibration"], "{hello}");
        // (Frames are tracked, so crops and readings differ a little.)
        let seen = largest_face(&mut other).await;
        assert!(
            p(&seen, "neutral") > 1.5 * p(&before, "neutral"),
            "{before} -> {seen}"
        );

        let gone = ask(&mut socket, r#"{"type":"uncalibrate"}"#.to_string()).await;
        assert_eq!(gone["type"], "calibration", "{gone}");
        assert!(gone["calibration"].is_null(), "{gone}");
        let plain = largest_face(&mut socket).await;
        assert!(
            p(&plain, "neutral") < p(&after, "neutral") / 1.5,
            "{after} -> {plain}"
        );
        let (_, hello) = connect_with_hello(addr).await;
        assert!(hello.get("calibration").is_none(), "{hello}");
    });
}

/// Each connection listens as the profile its URL names: a calibration
/// and the likes made on one profile's socket are that profile's alone; a
/// name the store would refuse fails the handshake with a 400.
#[test]
fn each_socket_listens_as_the_profile_it_names() {
    let addr = default_server(quick());
    runtime().block_on(async {
        let (mut ana, hello) = connect_at(addr, "/ws?profile=ana").await;
        assert!(hello.get("calibration").is_none(), "{hello}");
        let reading = r#"{"sad":0.7,"neutral":0.2,"angry":0.1}"#;
        let resting = [reading; 5].join(",");
        ana.send(Message::Text(
            format!(r#"{{"type":"calibrate","resting":[{resting}]}}"#).into(),
        ))
        .await
        .unwrap();
        let made = next_json(&mut ana, Duration::from_secs(10)).await.unwrap();
        assert_eq!(made["type"], "calibration", "{made}");

        let (_, again) = connect_at(addr, "/ws?profile=ana").await;
        assert_eq!(again["calibration"], made["calibration"], "{again}");
        let (_, ben) = connect_at(addr, "/ws?profile=ben").await;
        assert!(
            ben.get("calibration").is_none(),
            "ana's calibration reached ben: {ben}"
        );
        let (_, default) = connect_with_hello(addr).await;
        assert!(default.get("calibration").is_none(), "{default}");

        for bad in ["/ws?profile=", &format!("/ws?profile={}", "p".repeat(65))] {
            let refused = tokio_tungstenite::connect_async(format!("ws://{addr}{bad}")).await;
            match refused {
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    assert_eq!(response.status(), 400, "{bad}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    });
    // Likes follow the profile too: ana's like is not ben's.
    let (_, songs) = get(addr, "/api/recommendations?emotion=happy&limit=1");
    let id = songs[0]["id"].as_i64().unwrap();
    runtime().block_on(async {
        let (mut ana, _) = connect_at(addr, "/ws?profile=ana").await;
        let like = format!(r#"{{"type":"feedback","song_id":{id},"verdict":"skip"}}"#);
        ana.send(Message::Text(like.into())).await.unwrap();
        let ack = next_json(&mut ana, Duration::from_secs(10)).await.unwrap();
        assert_eq!(ack["type"], "feedback", "{ack}");
        // What ana's player plays is kept for ana, with its mood.
        let played = format!(r#"{{"type":"played","song_id":{id},"mood":"happy","reason":"why"}}"#);
        ana.send(Message::Text(played.into())).await.unwrap();
        let ack = next_json(&mut ana, Duration::from_secs(10)).await.unwrap();
        assert_eq!(ack["type"], "played", "{ack}");
        assert_eq!(ack["play"]["song_id"], id, "{ack}");
    });
    let (_, plays) = get(addr, "/api/plays?profile=ana");
    assert_eq!(plays["plays"][0]["song_id"], id, "{plays}");
    assert_eq!(plays["plays"][0]["mood"], "happy", "{plays}");
    let (_, none) = get(addr, "/api/plays?profile=ben");
    assert_eq!(none["plays"], serde_json::json!([]), "{none}");
    let top = |profile: &str| {
        let (_, songs) = get(
            addr,
            &format!("/api/recommendations?emotion=happy&limit=1&profile={profile}"),
        );
        songs[0]["id"].as_i64().unwrap()
    };
    assert_ne!(top("ana"), id, "ana skipped it");
    assert_eq!(top("ben"), id, "ben did not");
}

#[test]
fn the_hello_carries_the_servers_analysis_options() {
    let mut options = quick();
    options.follow = Follow::Group;
    options.stability.dwell = Duration::from_millis(1234);
    options.tracking = None;
    let addr = default_server(options);
    runtime().block_on(async {
        let (_socket, hello) = connect_with_hello(addr).await;
        assert_eq!(hello["capture"], "browser", "{hello}");
        let analysis = &hello["analysis"];
        assert_eq!(analysis["follow"], "group", "{hello}");
        assert_eq!(analysis["dwell_ms"], 1234, "{hello}");
        assert!(analysis["full_scan_every"].is_null(), "{hello}");
        let settings: AnalysisSettings = serde_json::from_value(analysis.clone()).unwrap();
        assert_eq!(settings.tracking(), None);
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
            "a play of a missing song",
            text(r#"{"type":"played","song_id":99999999,"mood":null}"#),
            "99999999",
        ),
        (
            "a play under no known mood",
            text(r#"{"type":"played","song_id":1,"mood":"bored"}"#),
            "bored",
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
