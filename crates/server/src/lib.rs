//! HTTP + WebSocket application of Melodora, composing vision and music.
//!
//! * `/` and `/static/*`: the embedded web page (`web/`);
//! * `/ws`: the live protocol (frames in, faces, mood and songs out; see
//!   `ws`);
//! * `/api/*`: health, image analysis, recommendations, feedback (see `api`),
//!   what played per profile (see `plays`),
//!   and their OpenAPI document at `/api/openapi.json` (see `openapi`);
//! * `/video_feed`: in server camera mode, the annotated frames as MJPEG
//!   (see `capture`).
//!
//! [`site`] writes the same page, with the catalog for the browser's own
//! recommender, as a static site that needs no server.
//!
//! Every request passes `access::guard` first: it must be sent to one of
//! the server's own names (no DNS rebinding) and, except for the page
//! itself, come from the server's own pages or an allowed origin (no
//! cross-site WebSocket hijacking). Every socket is capped in all and per
//! client, and closed when a client is too slow or silent over a request's
//! head, its body, a response or between requests (`sockets`); long-lived
//! connections are also capped, and idle WebSockets closed (`connections`).
//! Every
//! response carries a Content-Security-Policy that allows only this origin,
//! and the usual hardening headers. Frames are analysed in memory and never
//! written or logged.
//!
//! The perception is `melodora-vision`'s (one frame analyzer), the music
//! `melodora-music`'s; this crate only composes them behind HTTP. Its public
//! API is what the `melodora` binary needs to start a server; it knows
//! nothing of command lines or of how models and catalogs are chosen.

mod access;
mod admission;
mod api;
mod assets;
#[cfg(feature = "camera")]
mod camera;
mod capture;
mod connections;
mod engine;
mod feed;
mod library;
mod metrics;
mod music;
mod offline;
mod openapi;
mod plays;
mod shutdown;
pub mod site;
mod sockets;
pub mod tls;
mod viewer;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, State, WebSocketUpgrade};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use melodora_vision::tracking::TrackingConfig;
use melodora_vision::StabilityConfig;

pub use access::host::machine_name;
use access::AccessPolicy;
pub use access::{AccessOptions, AllowedOrigin, PublicHost};
use admission::AnalysisSlots;
#[cfg(feature = "camera")]
pub use camera::LiveCamera;
pub use capture::{LoopingVideo, ServerCamera, MAX_FILE_FPS, MIN_FILE_FPS};
use connections::Connections;
pub use connections::{ConnectionLimits, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_PER_CLIENT};
pub use engine::{Vision, MAX_FACES_PER_FRAME, MAX_FRAME_BYTES};
pub use melodora_vision::Follow;
pub use music::{Music, MusicFailure};
use shutdown::Stopping;
pub use shutdown::{shutdown_signal, DEFAULT_GRACE};
use sockets::Sockets;
pub use sockets::{
    default_max_sockets, descriptor_limit, raise_descriptor_limit, SocketLimits, BODY_RATE_WINDOW,
    DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_SOCKETS_PER_CLIENT,
    DEFAULT_MIN_BODY_RATE, DEFAULT_SEND_TIMEOUT, MAX_HEAD_BYTES,
};
pub use tls::{TlsError, TlsIdentity};
pub use ws::{parse_command, ws_protocol_schema, Command, MAX_MESSAGE_BYTES};

/// Behaviour shared by all connections.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// How per-frame emotions are smoothed into each viewer's mood.
    pub stability: StabilityConfig,
    /// Which face (or faces) a viewer's playlist follows.
    pub follow: Follow,
    /// Shortest time between two analyses of one connection's frames.
    pub min_frame_interval: Duration,
    /// Face tracking in each stream (a connection's frames, the server
    /// camera); `None` scans every frame whole.
    pub tracking: Option<TrackingConfig>,
    /// Frames analysed at once, over all connections (see `admission`).
    pub analysis_workers: usize,
    /// Longest a frame waits for its turn before it is dropped.
    pub max_queue_wait: Duration,
    /// Origins and names besides the server's own (see `access`).
    pub access: AccessOptions,
    /// Caps on long-lived connections and the idle timeout (see
    /// `connections`).
    pub limits: ConnectionLimits,
    /// Caps on every socket, and how long a client may take over each part
    /// of a request (see `sockets`).
    pub sockets: SocketLimits,
    /// Longest a graceful shutdown may take (see `shutdown`).
    pub shutdown_grace: Duration,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            stability: StabilityConfig::default(),
            follow: Follow::LargestFace,
            min_frame_interval: ws::DEFAULT_MIN_FRAME_INTERVAL,
            tracking: Some(TrackingConfig::default()),
            analysis_workers: admission::default_workers(),
            max_queue_wait: admission::DEFAULT_MAX_WAIT,
            access: AccessOptions::default(),
            limits: ConnectionLimits::default(),
            sockets: SocketLimits::default(),
            shutdown_grace: DEFAULT_GRACE,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Detection and classification, shared by every connection.
    pub vision: Arc<Vision>,
    /// The catalog and recommender.
    pub music: Arc<Music>,
    /// Behaviour shared by all connections.
    pub options: AppOptions,
    /// The server's own camera; `None` when browsers send their frames.
    pub camera: Option<Arc<ServerCamera>>,
    /// Turns for analyses, shared by all connections.
    pub(crate) slots: Arc<AnalysisSlots>,
    /// The open WebSockets and streams.
    pub(crate) connections: Arc<Connections>,
    /// Every open socket.
    pub(crate) sockets: Arc<Sockets>,
    /// What `/metrics` reports.
    pub(crate) metrics: Arc<metrics::Metrics>,
    /// Set when the server starts shutting down.
    pub(crate) stopping: Arc<Stopping>,
}

impl AppState {
    /// State for a server whose frames come from browsers (`camera` is `None`)
    /// or from its own camera; analysis turns and connection caps follow
    /// `options`.
    pub fn new(
        vision: Arc<Vision>,
        music: Arc<Music>,
        options: AppOptions,
        camera: Option<Arc<ServerCamera>>,
    ) -> AppState {
        let slots = AnalysisSlots::new(options.analysis_workers, options.max_queue_wait);
        let connections = Connections::new(options.limits);
        let socket_metrics = metrics::SocketMetrics::default();
        let metrics = metrics::Metrics::new(vision.metrics(), music.metrics(), &socket_metrics);
        let sockets = Sockets::new(options.sockets, socket_metrics);
        AppState {
            vision,
            music,
            options,
            camera,
            slots: Arc::new(slots),
            connections,
            sockets,
            metrics: Arc::new(metrics),
            stopping: Arc::new(Stopping::new()),
        }
    }
}

/// The whole application as a router, for a server bound to `bound`
/// (which names it answers to depends on it; see `access`). Serve it
/// with connect info (`into_make_service_with_connect_info::<SocketAddr>`):
/// connections are counted per client address.
pub fn app(state: AppState, bound: SocketAddr) -> Router {
    let access = AccessPolicy::new(
        &state.options.access,
        bound,
        access::host::machine_name().as_deref(),
    );
    Router::new()
        .route("/", get(assets::index))
        .route("/static/{*path}", get(assets::asset))
        .route("/sw.js", get(offline::worker))
        .route("/ws", get(websocket))
        .route("/video_feed", get(feed::video_feed))
        .route("/api/health", get(api::health))
        .route("/api/health/live", get(api::live))
        .route("/api/health/ready", get(api::ready))
        .route("/metrics", get(metrics::metrics))
        .route("/api/analyze", post(api::analyze))
        .route("/api/recommendations", get(api::recommendations))
        .route("/api/feedback", post(api::feedback))
        .route(
            "/api/calibration",
            get(api::calibration)
                .put(api::calibrate)
                .delete(api::uncalibrate),
        )
        .route(
            "/api/plays",
            get(plays::plays)
                .post(plays::record_play)
                .delete(plays::forget_plays),
        )
        .route("/api/library/tracks/{id}/audio", get(library::track_audio))
        .route("/api/library/tracks/{id}/cover", get(library::track_cover))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_FRAME_BYTES))
        .layer(middleware::from_fn(refuse_declared_oversize))
        .layer(middleware::from_fn_with_state(
            Arc::new(access),
            access::guard,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::count_responses,
        ))
        .with_state(state)
}

/// Opens a WebSocket if there is room for it; past a connection limit the
/// upgrade still completes, so that the page can read why it was closed:
/// 1013, "try again later" (a browser sees nothing of a refused upgrade).
async fn websocket(
    upgrade: WebSocketUpgrade,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    api::AppQuery(query): api::AppQuery<WsQuery>,
) -> Response {
    let profile = match api::profile_name(query.profile) {
        Ok(profile) => profile,
        Err(error) => return error.into_response(),
    };
    let upgrade = upgrade
        .max_message_size(ws::MAX_MESSAGE_BYTES)
        .max_frame_size(ws::MAX_MESSAGE_BYTES);
    match state.connections.open(client.ip()) {
        Ok(permit) => upgrade.on_upgrade(move |socket| ws::handle(socket, state, permit, profile)),
        Err(refusal) => {
            state.metrics.connections_refused.inc();
            tracing::warn!(%client, %refusal, "WebSocket refused");
            upgrade.on_upgrade(move |socket| ws::refuse(socket, refusal))
        }
    }
}

/// Who is listening on a WebSocket.
#[derive(serde::Deserialize)]
struct WsQuery {
    /// The listener profile whose likes, skips and calibration the
    /// connection uses (default `"default"`; the page sends one of its own,
    /// kept in the browser).
    profile: Option<String>,
}

/// Content-Security-Policy: scripts, styles, images and sockets from this
/// origin only (camera frames are drawn to a canvas as blobs), WebAssembly
/// compiled from this origin's analyzer ('wasm-unsafe-eval' allows
/// compiling wasm, not JavaScript's eval), Spotify's embed player as the
/// one frame the page may hold (loaded only when the user presses play),
/// the page itself framed by nobody, no plugins.
pub const CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; \
     media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; \
     frame-src https://open.spotify.com; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Answers 413 at once when a request announces a body over the limit,
/// instead of reading [`MAX_FRAME_BYTES`] of it first (the body limit layer
/// still guards bodies of unannounced length).
async fn refuse_declared_oversize(request: Request<axum::body::Body>, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_FRAME_BYTES as u64 => {
            let message =
                format!("request body is {length} bytes; at most {MAX_FRAME_BYTES} are accepted");
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(serde_json::json!({"error": message})),
            )
                .into_response()
        }
        _ => next.run(request).await,
    }
}

async fn security_headers(request: Request<axum::body::Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Where and how the server listens.
#[derive(Debug, Clone)]
pub struct Listen {
    /// The address to bind (port 0: any free port).
    pub addr: SocketAddr,
    /// HTTPS with this certificate; plain HTTP when `None`.
    pub tls: Option<TlsIdentity>,
}

/// Serves the app until `shutdown` resolves (usually [`shutdown_signal`]),
/// then shuts down gracefully within the state's `shutdown_grace` (see
/// `shutdown`); `on_ready` gets the bound address once connections are
/// accepted. Every socket is held to the state's socket limits (see
/// `sockets`).
pub async fn serve(
    listen: Listen,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = sockets::bind(listen.addr)?;
    let bound = listener.local_addr()?;
    let tls = listen
        .tls
        .as_ref()
        .map(|identity| tokio_rustls::TlsAcceptor::from(identity.server_config()));
    let stopping = Arc::clone(&state.stopping);
    let sockets = Arc::clone(&state.sockets);
    let grace = state.options.shutdown_grace;
    let app = app(state, bound);
    // The reaper runs until every socket is closed or the grace is over.
    let _reaper = sockets::start_reaper(&sockets);
    {
        let stopping = Arc::clone(&stopping);
        tokio::spawn(async move {
            shutdown.await;
            stopping.begin();
        });
    }
    on_ready(bound);
    sockets::accept_until_stopping(
        listener,
        tls,
        app,
        Arc::clone(&sockets),
        Arc::clone(&stopping),
    )
    .await;
    // Requests in flight finish; WebSockets and streams close themselves.
    tokio::select! {
        () = sockets.all_closed() => tracing::info!("shut down"),
        () = stopping.past(grace) => tracing::warn!(
            open = sockets.open_count(),
            grace_s = grace.as_secs_f32(),
            "connections still open at the end of the shutdown grace; leaving them"
        ),
    }
    Ok(())
}
