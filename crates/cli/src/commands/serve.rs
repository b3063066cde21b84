//! `melodora serve`: the web app.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use melodora_server::ConnectionLimits;
use melodora_server::{AccessOptions, AllowedOrigin, PublicHost};
use melodora_server::{
    AppOptions, AppState, Listen, LoopingVideo, Music, ServerCamera, Vision, MAX_FILE_FPS,
    MIN_FILE_FPS,
};
use melodora_vision::tracking::TrackingConfig;

use crate::analysis_args::AnalysisArgs;
use crate::detector_args::DetectorArgs;
use crate::emotion_args::EmotionArgs;
use crate::socket_args::SocketArgs;
use crate::store_args::StoreArgs;
use crate::tls_args::TlsArgs;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on. The default serves this machine only; use
    /// 0.0.0.0:8000 to let other machines in, with HTTPS (--tls-self-signed
    /// or --tls-cert): browsers give the camera only to HTTPS pages or to
    /// localhost.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Longest a graceful shutdown (SIGTERM, Ctrl-C) may take: requests in
    /// flight finish and WebSockets are closed within it.
    #[arg(long, value_name = "S", default_value_t = melodora_server::DEFAULT_GRACE.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub shutdown_grace_s: u64,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Server camera mode: analyse this video file (Y4M or Motion JPEG),
    /// looping, and stream it annotated at /video_feed instead of using the
    /// browsers' webcams.
    #[arg(long, value_name = "FILE")]
    pub video: Option<PathBuf>,
    /// Server camera mode with a live camera: /dev/videoN (or N). Needs a
    /// build with the `camera` feature (`cargo build --release --features camera`).
    #[arg(long, value_name = "DEVICE", conflicts_with = "video")]
    pub camera: Option<String>,
    /// Frames per second to play --video at, 0.1 to 240 (default: the rate
    /// the file declares if in that range; 15 for MJPEG, which declares none).
    #[arg(long, value_name = "FPS", requires = "video")]
    pub fps: Option<f64>,
    /// Longest a frame waits for a free core before it is dropped (its
    /// client then sends a fresh one): keeps latency bounded under load.
    #[arg(long, value_name = "MS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_queue_wait_ms: u64,
    /// Also let pages from this origin (scheme://host[:port], e.g.
    /// https://app.example) use the server: WebSocket, API and video
    /// stream. Repeatable. Pages of other origins are refused.
    #[arg(long = "allowed-origin", value_name = "URL")]
    pub allowed_origins: Vec<AllowedOrigin>,
    /// Also answer to this host name (NAME or NAME:PORT): a DNS name of
    /// this machine, or the public name of a reverse proxy in front.
    /// Repeatable. Requests to other names are refused (DNS rebinding).
    #[arg(long = "public-host", value_name = "NAME")]
    pub public_hosts: Vec<PublicHost>,
    /// Most WebSockets and video streams open at once (default: as many
    /// worst-case connections as fit in half the memory, 32 to 4096).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: Option<u32>,
    /// Most WebSockets and video streams open at once from one client
    /// address (IPv6: one /64). Behind a reverse proxy every client has
    /// the proxy's address.
    #[arg(long, value_name = "N", default_value_t = melodora_server::DEFAULT_MAX_PER_CLIENT as u32,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections_per_client: u32,
    /// Seconds after which a WebSocket that sends nothing and answers no
    /// ping is closed.
    #[arg(long, value_name = "S", default_value_t = melodora_server::DEFAULT_IDLE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout_s: u64,
    #[command(flatten)]
    pub sockets: SocketArgs,
    #[command(flatten)]
    pub detector: DetectorArgs,
    #[command(flatten)]
    pub model: EmotionArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let started = Instant::now();
    // Before any limit is worked out from it.
    let descriptor_limit = melodora_server::raise_descriptor_limit();
    let stability = args.analysis.stability()?;
    let tls = args.tls.tls(args.addr, &args.store.dir()?)?;
    let vision = Vision::new(
        args.detector.finder()?,
        args.model.classifier()?,
        args.model.face_margin,
    );
    if let Some(fps) = args.fps {
        anyhow::ensure!(
            (MIN_FILE_FPS..=MAX_FILE_FPS).contains(&fps),
            "--fps must be from {MIN_FILE_FPS} to {MAX_FILE_FPS}"
        );
    }
    let vision = Arc::new(vision);
    let tracking = args.analysis.tracking();
    let camera = server_camera(&args, &vision, tracking)?;
    if let Some(camera) = &camera {
        tracing::info!(source = camera.description(), "server camera mode");
    }
    let store = args.store.open()?;
    let music = Music::new(store).context("cannot index the song catalog")?;
    let options = AppOptions {
        stability,
        follow: args.analysis.follow(),
        tracking,
        max_queue_wait: Duration::from_millis(args.max_queue_wait_ms),
        access: AccessOptions {
            allowed_origins: args.allowed_origins.clone(),
            public_hosts: args.public_hosts.clone(),
        },
        limits: connection_limits(&args),
        sockets: args.sockets.limits(descriptor_limit),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_s),
        ..AppOptions::default()
    };
    let limits = options.limits;
    let socket_limits = options.sockets;
    let state = AppState::new(vision, Arc::new(music), options, camera);
    if tls.is_none() && !args.addr.ip().is_loopback() {
        tracing::warn!(
            addr = %args.addr,
            "serving plain HTTP beyond this machine: browsers on other machines will refuse \
             the camera here; add --tls-self-signed (or --tls-cert/--tls-key)"
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let notes = tls.as_ref().map(|t| t.notes.clone()).unwrap_or_default();
    let listen = Listen {
        addr: args.addr,
        tls: tls.map(|t| t.identity),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The signal handlers are in place before the server says it is ready.
    let shutdown = {
        let _entered = runtime.enter();
        melodora_server::shutdown_signal()
    };
    runtime
        .block_on(melodora_server::serve(listen, state, shutdown, |addr| {
            tracing::info!(
                %addr,
                scheme,
                startup_ms = started.elapsed().as_millis() as u64,
                max_connections = limits.max_total,
                max_connections_per_client = limits.max_per_client,
                descriptor_limit,
                max_sockets = socket_limits.max_total,
                max_sockets_per_client = socket_limits.max_per_client,
                header_timeout_s = socket_limits.header_timeout.as_secs(),
                keep_alive_timeout_s = socket_limits.keep_alive_timeout.as_secs(),
                min_body_rate = socket_limits.min_body_rate,
                send_timeout_s = socket_limits.send_timeout.as_secs(),
                "listening"
            );
            for note in &notes {
                println!("{note}");
            }
            println!(
                "Melodora is running at {scheme}://{} (Ctrl-C to stop)",
                page_address(addr)
            );
        }))
        .with_context(|| format!("cannot serve on {}", args.addr))?;
    // Analyses still running past the grace are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(ExitCode::SUCCESS)
}

/// The address to open in a browser: `localhost` for a server bound to
/// every address (the unspecified address is not one to browse to).
fn page_address(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("localhost:{}/", addr.port())
    } else {
        format!("{addr}/")
    }
}

fn connection_limits(args: &ServeArgs) -> ConnectionLimits {
    let defaults = ConnectionLimits::default();
    ConnectionLimits {
        max_total: args
            .max_connections
            .map_or(defaults.max_total, |n| n as usize),
        max_per_client: args.max_connections_per_client as usize,
        idle_timeout: Duration::from_secs(args.idle_timeout_s),
    }
}

/// The server's own camera, if `--video` or `--camera` asks for one.
fn server_camera(
    args: &ServeArgs,
    vision: &Arc<Vision>,
    tracking: Option<TrackingConfig>,
) -> Result<Option<Arc<ServerCamera>>> {
    let camera = if let Some(path) = &args.video {
        let (path, fps) = (path.clone(), args.fps);
        let open = move || LoopingVideo::open(&path, fps);
        ServerCamera::start(open, Arc::clone(vision), tracking)?
    } else if let Some(device) = &args.camera {
        live_camera(device, vision, tracking)?
    } else {
        return Ok(None);
    };
    Ok(Some(Arc::new(camera)))
}

#[cfg(feature = "camera")]
fn live_camera(
    device: &str,
    vision: &Arc<Vision>,
    tracking: Option<TrackingConfig>,
) -> Result<ServerCamera> {
    use melodora_server::LiveCamera;
    let device = device.to_string();
    let open = move || LiveCamera::open(&device);
    Ok(ServerCamera::start(open, Arc::clone(vision), tracking)?)
}

#[cfg(not(feature = "camera"))]
fn live_camera(
    _device: &str,
    _vision: &Arc<Vision>,
    _tracking: Option<TrackingConfig>,
) -> Result<ServerCamera> {
    anyhow::bail!(
        "this melodora was built without camera support; rebuild with \
         `cargo build --release --features camera`, or use --video FILE"
    )
}
