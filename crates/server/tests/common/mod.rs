//! What the server's integration tests share: starting a server on an
//! ephemeral port, WebSocket and HTTP clients, fixture images and clips.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod postgres;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use melodora_music::Store;
use melodora_server::{
    AppOptions, AppState, Listen, LoopingVideo, Music, ServerCamera, TlsIdentity, Vision,
};
use melodora_vision::{
    Cascade, DetectParams, EmotionClassifier, FaceFinder, HaarDetector, StabilityConfig,
};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

pub fn image(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../vision/tests/fixtures/parity/images")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub const FACES: &str = "scene_05_three_faces.png";
pub const NO_FACE: &str = "noface_flat_gray_640x480.png";

/// Options for fast tests: the mood settles on the first confident frame.
pub fn quick() -> AppOptions {
    AppOptions {
        stability: StabilityConfig {
            dwell: Duration::ZERO,
            min_confidence: 0.0,
            ..StabilityConfig::default()
        },
        min_frame_interval: Duration::ZERO,
        ..AppOptions::default()
    }
}

/// Starts the app on an ephemeral port in a thread of its own.
pub fn start(options: AppOptions, store: Store) -> SocketAddr {
    start_with_video(options, store, None)
}

/// Starts the app, in server camera mode when `video` is given.
pub fn start_with_video(options: AppOptions, store: Store, video: Option<&Path>) -> SocketAddr {
    let running = launch(state_for(options, store, video), None);
    // Runs until the test process ends.
    std::mem::forget(running.stop);
    running.addr
}

/// The state of a server with the default detector and model.
pub fn state_for(options: AppOptions, store: Store, video: Option<&Path>) -> AppState {
    let vision = Arc::new(Vision::new(
        FaceFinder::Haar {
            detector: HaarDetector::new(Cascade::frontal_face_default()),
            params: DetectParams::default(),
        },
        EmotionClassifier::default_model().unwrap(),
        0.0,
    ));
    let camera = video.map(|path| {
        let path = path.to_owned();
        let open = move || LoopingVideo::open(&path, None);
        Arc::new(ServerCamera::start(open, Arc::clone(&vision), options.tracking).unwrap())
    });
    let music = Arc::new(Music::new(store).unwrap());
    AppState::new(vision, music, options, camera)
}

/// A server running in a thread of its own, until `stop` is sent (or
/// dropped).
pub struct Running {
    pub addr: SocketAddr,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub thread: std::thread::JoinHandle<std::io::Result<()>>,
}

/// Serves `state` on an ephemeral loopback port, over HTTPS with `tls`.
pub fn launch(state: AppState, tls: Option<TlsIdentity>) -> Running {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listen = Listen {
            addr: "127.0.0.1:0".parse().unwrap(),
            tls,
        };
        let shutdown = async move {
            let _ = stopped.await;
        };
        runtime.block_on(melodora_server::serve(listen, state, shutdown, |addr| {
            ready_tx.send(addr).unwrap()
        }))
    });
    let addr = ready_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server started");
    Running { addr, stop, thread }
}

pub fn default_server(options: AppOptions) -> SocketAddr {
    start(options, Store::open_in_memory(true).unwrap())
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to a server whose clients send frames (it says so first).
pub async fn connect(addr: SocketAddr) -> Socket {
    let (socket, hello) = connect_with_hello(addr).await;
    assert_eq!(hello["capture"], "browser", "{hello}");
    socket
}

/// Connects and reads the server's hello.
pub async fn connect_with_hello(addr: SocketAddr) -> (Socket, Value) {
    connect_at(addr, "/ws").await
}

/// Connects to `path` (`/ws` with a query, say) and reads the server's hello.
pub async fn connect_at(addr: SocketAddr, path: &str) -> (Socket, Value) {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .unwrap();
    let hello = next_json(&mut socket, Duration::from_secs(10))
        .await
        .expect("a hello");
    assert_eq!(hello["type"], "hello", "{hello}");
    (socket, hello)
}

/// Sends one camera frame (encoded image bytes).
pub async fn send_frame(socket: &mut Socket, frame: Vec<u8>) {
    socket.send(Message::Binary(frame.into())).await.unwrap();
}

/// The next JSON message, within `limit`.
pub async fn next_json(socket: &mut Socket, limit: Duration) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(limit, socket.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(text) = message {
            return Some(serde_json::from_str(text.as_str()).unwrap());
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

pub fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let mut response = ureq::get(format!("http://{addr}{path}"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

pub fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    let mut response = ureq::post(format!("http://{addr}{path}"))
        .config()
        .http_status_as_error(false)
        .build()
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// Writes `frames` copies of an image as a 4:4:4 Y4M clip at 10 fps.
pub fn y4m_clip(path: &Path, png: &[u8], frames: usize) {
    let rgb = image::load_from_memory(png).unwrap().to_rgb8();
    let (w, h) = rgb.dimensions();
    let mut planes = [Vec::new(), Vec::new(), Vec::new()];
    for p in rgb.pixels() {
        let [r, g, b] = p.0.map(f32::from);
        planes[0].push((0.299 * r + 0.587 * g + 0.114 * b).round() as u8);
        planes[1].push(
            (128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b)
                .round()
                .clamp(0.0, 255.0) as u8,
        );
        planes[2].push(
            (128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b)
                .round()
                .clamp(0.0, 255.0) as u8,
        );
    }
    let mut clip = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C444\n").into_bytes();
    for _ in 0..frames {
        clip.extend_from_slice(b"FRAME\n");
        planes
            .iter()
            .for_each(|plane| clip.extend_from_slice(plane));
    }
    std::fs::write(path, clip).unwrap();
}
