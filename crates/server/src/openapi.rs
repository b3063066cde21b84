//! The OpenAPI document served at `/api/openapi.json`, generated from the
//! handlers' annotations and the exchanged types (utoipa), so it cannot
//! drift from the code.

use utoipa::OpenApi;

use crate::{api, library, plays};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Melodora",
        description = "Emotion-aware music recommendation: faces and emotions in images, playlists for moods, \
            listener feedback, and the listener's own music library (`melodora library add`) played from its files. The live app also speaks a WebSocket protocol at `/ws` (camera frames in, \
            faces, stable mood and songs out) and, in server camera mode, streams annotated MJPEG at \
            `/video_feed`; see the project's README. Requests from other sites' pages (an `Origin` that is not \
            the server's own or an allowed one) are refused with 403, and requests to a host name the server \
            does not answer to with 421."
    ),
    paths(api::health, api::live, api::ready, api::analyze, api::recommendations, api::feedback,
        api::calibration, api::calibrate, api::uncalibrate, plays::plays, plays::record_play,
        plays::forget_plays, library::track_audio, library::track_cover,
        openapi_json),
    tags((name = "melodora", description = "Melodora's HTTP API"))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "melodora",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
