//! `GET /metrics`: what the server has done, in the Prometheus (OpenMetrics)
//! text format, for an operator's dashboards and alerts.
//!
//! Each part counts its own work with handles it owns ([`VisionMetrics`]
//! in `Vision`, [`MusicMetrics`] in `Music`, connection and response counts
//! here); the handles share their values with the server's [`Metrics`]
//! registry, which only renders them. Every server has a registry of its
//! own (no process-wide state), so two servers in one process, as in the
//! tests, count apart.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::AppState;

/// Latency buckets from 1 ms to about 4 s, doubling.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.001, 2.0, 13)
}

/// Frame analyses, wherever the frames come from (browsers, uploads, the
/// server's camera).
#[derive(Debug, Clone)]
pub struct VisionMetrics {
    frames: Counter,
    faces: Counter,
    failures: Counter,
    seconds: Histogram,
}

impl Default for VisionMetrics {
    fn default() -> Self {
        VisionMetrics {
            frames: Counter::default(),
            faces: Counter::default(),
            failures: Counter::default(),
            seconds: Histogram::new(latency_buckets()),
        }
    }
}

impl VisionMetrics {
    /// One frame analysed in `took`, with `faces` faces.
    pub(crate) fn analysed(&self, faces: usize, took: Duration) {
        self.frames.inc();
        self.faces.inc_by(faces as u64);
        self.seconds.observe(took.as_secs_f64());
    }

    /// One frame that could not be analysed (unreadable, too large).
    pub(crate) fn failed(&self) {
        self.failures.inc();
    }
}

/// Playlists made, and how long they took.
#[derive(Debug, Clone)]
pub struct MusicMetrics {
    playlists: Counter,
    failures: Counter,
    seconds: Histogram,
}

impl Default for MusicMetrics {
    fn default() -> Self {
        MusicMetrics {
            playlists: Counter::default(),
            failures: Counter::default(),
            seconds: Histogram::new(latency_buckets()),
        }
    }
}

impl MusicMetrics {
    /// One playlist made in `took`.
    pub(crate) fn served(&self, took: Duration) {
        self.playlists.inc();
        self.seconds.observe(took.as_secs_f64());
    }

    /// A store or recommender failure.
    pub(crate) fn failed(&self) {
        self.failures.inc();
    }
}

/// Why a socket was closed or refused.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SocketReason {
    reason: &'static str,
}

/// Every socket's life: how many are open, and why the server closed or
/// refused some (see `sockets`).
#[derive(Debug, Clone, Default)]
pub struct SocketMetrics {
    pub(crate) open: Gauge,
    closed: Family<SocketReason, Counter>,
    refused: Family<SocketReason, Counter>,
    pub(crate) accept_errors: Counter,
}

impl SocketMetrics {
    /// The server closed a socket, for `reason` (a timeout's label, or
    /// `evicted`).
    pub(crate) fn closed(&self, reason: &'static str) {
        self.closed.get_or_create(&SocketReason { reason }).inc();
    }

    /// A new socket was refused at the cap `reason` names.
    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&SocketReason { reason }).inc();
    }
}

/// Responses by status class (`2xx`, `4xx`, ...).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusClass {
    class: &'static str,
}

/// The server's registry and the counts it keeps itself.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) websockets_open: Gauge,
    pub(crate) websockets_opened: Counter,
    pub(crate) connections_refused: Counter,
    pub(crate) frames_dropped: Counter,
    responses: Family<StatusClass, Counter>,
}

impl Metrics {
    pub(crate) fn new(
        vision: &VisionMetrics,
        music: &MusicMetrics,
        sockets: &SocketMetrics,
    ) -> Metrics {
        let mut registry = Registry::with_prefix("melodora");
        let info: Family<Vec<(String, String)>, Gauge> = Family::default();
        info.get_or_create(&vec![(
            "version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        )])
        .set(1);
        registry.register("build_info", "The running version", info);
        registry.register(
            "frames_analysed",
            "Frames analysed (browser frames, uploads, the server's camera)",
            vision.frames.clone(),
        );
        registry.register(
            "faces_detected",
            "Faces found in analysed frames",
            vision.faces.clone(),
        );
        registry.register(
            "frame_errors",
            "Frames that could not be analysed (unreadable, too large)",
            vision.failures.clone(),
        );
        registry.register(
            "analysis_seconds",
            "Time to detect and classify the faces of one frame",
            vision.seconds.clone(),
        );
        registry.register(
            "playlists_served",
            "Playlists made (WebSocket and HTTP API)",
            music.playlists.clone(),
        );
        registry.register(
            "playlist_seconds",
            "Time to make one playlist, store reads included",
            music.seconds.clone(),
        );
        registry.register(
            "music_errors",
            "Store or recommender failures",
            music.failures.clone(),
        );
        registry.register(
            "sockets_open",
            "Sockets open now, of every kind (page loads, API calls, WebSockets, streams)",
            sockets.open.clone(),
        );
        registry.register(
            "sockets_closed",
            "Sockets the server closed, by reason (a timeout, or to make room)",
            sockets.closed.clone(),
        );
        registry.register(
            "sockets_refused",
            "New sockets refused at a socket cap, by which cap",
            sockets.refused.clone(),
        );
        registry.register(
            "accept_errors",
            "Errors accepting a socket (out of descriptors and the like)",
            sockets.accept_errors.clone(),
        );
        let metrics = Metrics {
            websockets_open: Gauge::default(),
            websockets_opened: Counter::default(),
            connections_refused: Counter::default(),
            frames_dropped: Counter::default(),
            responses: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "websocket_connections",
            "WebSockets open now",
            metrics.websockets_open.clone(),
        );
        registry.register(
            "websocket_connections_opened",
            "WebSockets opened",
            metrics.websockets_opened.clone(),
        );
        registry.register(
            "connections_refused",
            "WebSockets and video streams refused at a connection limit",
            metrics.connections_refused.clone(),
        );
        registry.register(
            "frames_dropped",
            "Browser frames dropped because the server was busy",
            metrics.frames_dropped.clone(),
        );
        registry.register(
            "http_responses",
            "HTTP responses by status class",
            metrics.responses.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Everything, in the OpenMetrics text format.
    fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Counts every response by its status class.
pub(crate) async fn count_responses(
    State(state): State<AppState>,
    request: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let class = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    state
        .metrics
        .responses
        .get_or_create(&StatusClass { class })
        .inc();
    response
}
