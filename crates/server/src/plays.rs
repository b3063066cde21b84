//! What played, per listener profile: `GET /api/plays` (newest first),
//! `POST /api/plays` (the page's WebSocket says `played` instead; both go
//! through the same store call) and `DELETE /api/plays`.
//!
//! A play names a song by id; its title, artist and Spotify link are the
//! store's, never the client's, so the history cannot be filled with text
//! the catalog does not hold.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use melodora_core::Emotion;
use melodora_music::{Play, PLAYS_KEPT};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{profile_name, ApiError, AppJson, AppQuery, ErrorBody};
use crate::AppState;

/// How many plays `GET /api/plays` answers when not told.
const DEFAULT_LIMIT: usize = 100;

/// Whose plays, and how many.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaysQuery {
    /// Whose history (default `"default"`; 1 to 64 characters).
    profile: Option<String>,
    /// How many of the newest, 1 to 500 (default 100).
    limit: Option<usize>,
}

/// A profile, for forgetting its plays.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaysProfileQuery {
    /// Whose history (default `"default"`; 1 to 64 characters).
    profile: Option<String>,
}

/// A profile's plays, newest first.
#[derive(Serialize, ToSchema)]
pub struct PlaysAnswer {
    profile: String,
    plays: Vec<Play>,
}

/// A song the listener's player started.
#[derive(Deserialize, ToSchema)]
pub struct PlayBody {
    /// Whose history (default `"default"`; 1 to 64 characters).
    profile: Option<String>,
    /// The song's `id`, as in a recommendation.
    song_id: i64,
    /// The stable mood it was chosen for; `null` or absent when none.
    #[serde(default)]
    mood: Option<Emotion>,
    /// Why it was listed (kept up to 300 characters).
    #[serde(default)]
    reason: String,
}

/// What played for a profile, newest first (each song its player started,
/// with the mood it was chosen for; the newest 500 are kept).
#[utoipa::path(get, path = "/api/plays", tag = "melodora",
    params(PlaysQuery),
    responses(
        (status = 200, description = "The plays, newest first", body = PlaysAnswer),
        (status = 400, description = "A bad profile name, or a limit outside 1 to 500", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)))]
pub async fn plays(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<PlaysQuery>,
) -> Result<Json<PlaysAnswer>, ApiError> {
    let profile = profile_name(query.profile)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=PLAYS_KEPT).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("limit must be 1 to {PLAYS_KEPT}"),
        ));
    }
    let plays = state.music.plays(profile.clone(), limit).await?;
    Ok(Json(PlaysAnswer { profile, plays }))
}

/// Keeps a play in the profile's history.
#[utoipa::path(post, path = "/api/plays", tag = "melodora",
    request_body = PlayBody,
    responses(
        (status = 201, description = "Kept; the play as recorded", body = Play),
        (status = 400, description = "Not JSON, or a bad profile name", body = ErrorBody),
        (status = 404, description = "No such song", body = ErrorBody),
        (status = 415, description = "Not sent as application/json", body = ErrorBody),
        (status = 422, description = "JSON that is not a play", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)))]
pub async fn record_play(
    State(state): State<AppState>,
    AppJson(body): AppJson<PlayBody>,
) -> Result<(StatusCode, Json<Play>), ApiError> {
    let profile = profile_name(body.profile)?;
    let play = state
        .music
        .record_play(profile, body.song_id, body.mood, body.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(play)))
}

/// Forgets what played for a profile.
#[utoipa::path(delete, path = "/api/plays", tag = "melodora",
    params(PlaysProfileQuery),
    responses(
        (status = 204, description = "Forgotten (or there was nothing)"),
        (status = 400, description = "A bad profile name", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)))]
pub async fn forget_plays(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<PlaysProfileQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .music
        .forget_plays(profile_name(query.profile)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
