//! The HTTP API under `/api`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use melodora_core::Emotion;
use melodora_music::{Mode, Request, Session, Verdict, DEFAULT_LIMIT};
use serde::{Deserialize, Serialize};

use crate::engine::FrameError;
use crate::AppState;

/// An error answer: a status and `{"error": message}`.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({"error": self.1}))).into_response()
    }
}

impl From<FrameError> for ApiError {
    fn from(error: FrameError) -> Self {
        let status = match error {
            FrameError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            FrameError::Decode(_) => StatusCode::BAD_REQUEST,
            FrameError::Analysis(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, error.to_string())
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "request failed");
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

#[derive(Serialize)]
pub struct Health {
    status: &'static str,
    version: &'static str,
    songs: u64,
    model: Option<String>,
    /// `"browser"` (clients send frames) or `"server"` (the server's camera).
    capture: &'static str,
}

/// `GET /api/health`: the server is up, with what it runs on.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let music = Arc::clone(&state.music);
    let songs = tokio::task::spawn_blocking(move || music.song_count())
        .await
        .map_err(internal)?
        .map_err(internal)?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        songs,
        model: state.vision.classifier.description().name.clone(),
        capture: if state.camera.is_some() {
            "server"
        } else {
            "browser"
        },
    }))
}

/// `POST /api/analyze`: an image body (JPEG, PNG, ...) → faces and emotions.
pub async fn analyze(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let vision = Arc::clone(&state.vision);
    let analysis = tokio::task::spawn_blocking(move || vision.analyze_encoded(&body))
        .await
        .map_err(internal)??;
    Ok(Json(analysis).into_response())
}

#[derive(Deserialize)]
pub struct RecommendationQuery {
    emotion: Emotion,
    #[serde(default)]
    mode: Mode,
    limit: Option<usize>,
    profile: Option<String>,
    seed: Option<u64>,
}

/// `GET /api/recommendations?emotion=&mode=&limit=`: a list, as
/// `melodora recommend --json` prints it.
pub async fn recommendations(
    State(state): State<AppState>,
    Query(query): Query<RecommendationQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "limit must be from 1 to 1000".into(),
        ));
    }
    let request = Request {
        emotion: query.emotion,
        mode: query.mode,
        limit,
    };
    let profile = query.profile.unwrap_or_else(|| "default".into());
    let mut session = Session::new(&profile, query.seed.unwrap_or(0));
    let music = Arc::clone(&state.music);
    let songs = tokio::task::spawn_blocking(move || music.recommend(&request, &mut session))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    Ok(Json(songs).into_response())
}

#[derive(Deserialize)]
pub struct FeedbackBody {
    song_id: i64,
    verdict: Verdict,
    profile: Option<String>,
}

/// `POST /api/feedback` `{"song_id", "verdict": "like"|"skip", "profile"?}`.
pub async fn feedback(
    State(state): State<AppState>,
    Json(body): Json<FeedbackBody>,
) -> Result<StatusCode, ApiError> {
    let music = Arc::clone(&state.music);
    let profile = body.profile.unwrap_or_else(|| "default".into());
    let result =
        tokio::task::spawn_blocking(move || music.feedback(&profile, body.song_id, body.verdict))
            .await
            .map_err(internal)?;
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(melodora_music::Error::UnknownSong(id)) => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no song with id {id}"),
        )),
        Err(e) => Err(internal(e)),
    }
}
