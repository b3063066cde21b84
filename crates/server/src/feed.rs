//! `GET /video_feed`: the server camera's annotated frames as a
//! `multipart/x-mixed-replace` MJPEG stream, which any browser shows in an
//! `<img>` (the original app's design).

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::ApiError;
use crate::AppState;

const BOUNDARY: &str = "melodoraframe";

/// Streams the newest frame each time there is one; a viewer that reads
/// slowly skips frames (nothing queues up for it). A stream holds one of the
/// server's connection places while it is open; past a limit, 503.
pub async fn video_feed(
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
) -> Response {
    let Some(camera) = state.camera.as_ref() else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({
                "error": "this server has no camera of its own; start it with --video FILE or --camera DEVICE"
            })),
        )
            .into_response();
    };
    let permit = match state.connections.open(client.ip()) {
        Ok(permit) => permit,
        Err(refusal) => {
            state.metrics.connections_refused.inc();
            let error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, refusal.to_string());
            return ([(header::RETRY_AFTER, "5")], error).into_response();
        }
    };
    let frames = camera.subscribe();
    let stopping = std::sync::Arc::clone(&state.stopping);
    // The permit lives in the stream's state: it is freed when the stream
    // ends, at the latest when the server shuts down.
    let parts = futures_util::stream::unfold((frames, permit), move |(mut frames, permit)| {
        let stopping = std::sync::Arc::clone(&stopping);
        async move {
            loop {
                tokio::select! {
                    changed = frames.changed() => changed.ok()?,
                    () = stopping.begun() => return None,
                }
                let latest = frames.borrow_and_update().clone();
                if let Some(frame) = latest {
                    return Some((Ok::<_, Infallible>(part(&frame.jpeg)), (frames, permit)));
                }
            }
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(parts),
    )
        .into_response()
}

/// One part of the multipart stream.
fn part(jpeg: &Bytes) -> Bytes {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        jpeg.len()
    );
    let mut part = Vec::with_capacity(head.len() + jpeg.len() + 2);
    part.extend_from_slice(head.as_bytes());
    part.extend_from_slice(jpeg);
    part.extend_from_slice(b"\r\n");
    Bytes::from(part)
}
