//! The HTTP API under `/api`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use melodora_core::{Calibration, Emotion, EmotionProbabilities, ErrorChain};
use melodora_music::{Mode, Request, Session, Source, Verdict, DEFAULT_LIMIT};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::engine::{FrameAnalysis, FrameError};
use crate::music::MusicFailure;
use crate::AppState;
use melodora_music::Recommendation;

/// An error answer: a status and `{"error": message}`. Made for a client's
/// fault with its reason ([`ApiError::new`]), or for the server's with a
/// generic message while the cause goes to the log
/// ([`ApiError::internal`]): a store's or driver's words never reach a
/// client.
pub struct ApiError(StatusCode, String);

/// What a client is told of a failure of the server's own.
const INTERNAL_MESSAGE: &str = "the server failed to answer this request (see its log)";

/// What a client is told while the database is away.
const UNAVAILABLE_MESSAGE: &str = "the database is unavailable; try again shortly";

impl ApiError {
    /// An answer with `status` and `message` (a client's fault, in words
    /// for the client).
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError(status, message.into())
    }

    /// A 500 for a failure of the server's: `error`, with its causes, goes
    /// to the log; the client gets a generic message.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> ApiError {
        tracing::error!(error = %ErrorChain(error), "request failed");
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE.into())
    }
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What was wrong, for people.
    error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

/// Requests that do not parse (a bad query, malformed JSON, a body over the
/// limit) get the same JSON error body as every other refusal, with the
/// status axum chose for them.
macro_rules! rejection_is_api_error {
    ($($rejection:ty),*) => {$(
        impl From<$rejection> for ApiError {
            fn from(rejection: $rejection) -> Self {
                ApiError(rejection.status(), rejection.body_text())
            }
        }
    )*};
}

rejection_is_api_error!(BytesRejection, JsonRejection, QueryRejection);

/// A JSON body whose refusal is an [`ApiError`].
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(AppJson(value))
    }
}

/// A query string whose refusal is an [`ApiError`].
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(AppQuery(value))
    }
}

/// A request body whose refusal (too large, cut off) is an [`ApiError`].
pub struct AppBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for AppBytes {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Ok(AppBytes(Bytes::from_request(request, state).await?))
    }
}

impl From<FrameError> for ApiError {
    fn from(error: FrameError) -> Self {
        let status = match error {
            FrameError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            FrameError::Decode(_) => StatusCode::BAD_REQUEST,
            FrameError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            FrameError::Analysis(_) | FrameError::Worker(_) => return ApiError::internal(&error),
        };
        ApiError(status, ErrorChain(&error).to_string())
    }
}

/// A music failure (already logged by `Music`): 404 for an unknown song,
/// 503 while the database is away (the client may retry; readiness is
/// false meanwhile), 500 otherwise; never the store's own words.
impl From<MusicFailure> for ApiError {
    fn from(failure: MusicFailure) -> Self {
        match failure {
            MusicFailure::UnknownSong(_) => ApiError(StatusCode::NOT_FOUND, failure.to_string()),
            MusicFailure::Unavailable(_) => {
                ApiError(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE.into())
            }
            MusicFailure::Failed(_) | MusicFailure::Task(_) => {
                ApiError(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE.into())
            }
        }
    }
}

/// Any path the app does not serve: a 404 with the usual JSON error body.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("nothing at {}", uri.path()))
}

/// Longest an upload to `/api/analyze` waits for a turn before a 503.
const API_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// An encoded image, as the body of `/api/analyze`.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImageBody(#[allow(dead_code)] Vec<u8>);

/// What the server runs on.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `"ok"`.
    status: &'static str,
    /// Melodora's version.
    version: &'static str,
    /// Songs in the catalog.
    songs: u64,
    /// Name of the emotion model, if its description has one.
    model: Option<String>,
    /// `"browser"` (clients send frames) or `"server"` (the server's camera).
    capture: &'static str,
    /// Long-lived connections (WebSockets and video streams).
    connections: ConnectionsHealth,
}

/// How full the server is.
#[derive(Serialize, ToSchema)]
pub struct ConnectionsHealth {
    /// Open now.
    in_use: usize,
    /// Most that may be open at once (`--max-connections`).
    limit: usize,
    /// Most from one client address (`--max-connections-per-client`).
    per_client_limit: usize,
}

/// Whether the server is up, and what it runs on.
#[utoipa::path(get, path = "/api/health", tag = "melodora",
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let songs = state.music.song_count().await?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        songs,
        model: state.vision.model_name().map(str::to_string),
        capture: if state.camera.is_some() {
            "server"
        } else {
            "browser"
        },
        connections: ConnectionsHealth {
            in_use: state.connections.in_use(),
            limit: state.connections.limits().max_total,
            per_client_limit: state.connections.limits().max_per_client,
        },
    }))
}

/// The answer of the liveness and readiness checks.
#[derive(Serialize, ToSchema)]
pub struct Probe {
    /// `"live"`, `"ready"`, or `"unready"`.
    status: &'static str,
    /// Each readiness check: `"ok"` or what is wrong (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<ReadyChecks>,
}

/// What readiness checks.
#[derive(Serialize, ToSchema)]
pub struct ReadyChecks {
    /// The song store answers.
    database: String,
    /// The emotion model is loaded.
    model: String,
    /// The server is not shutting down.
    serving: String,
}

/// Longest the readiness check waits for the database.
const READY_DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether the process is up and answering (a supervisor restarts it when
/// not): nothing is checked beyond that.
#[utoipa::path(get, path = "/api/health/live", tag = "melodora",
    responses((status = 200, description = "The process answers", body = Probe)))]
pub async fn live() -> Json<Probe> {
    Json(Probe {
        status: "live",
        checks: None,
    })
}

/// Whether the server can serve users now (a load balancer sends it
/// traffic only then): its database answers within 2 s, its model is
/// loaded, and it is not shutting down. 503 otherwise, saying which check
/// failed; it turns ready again by itself when the database comes back.
#[utoipa::path(get, path = "/api/health/ready", tag = "melodora",
    responses(
        (status = 200, description = "Ready for users", body = Probe),
        (status = 503, description = "Not ready; `checks` says why", body = Probe)))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Probe>) {
    let answer = tokio::time::timeout(READY_DATABASE_WAIT, state.music.ping()).await;
    // What is wrong in words for an operator; the driver's own words are
    // in the log (`Music` logs them).
    let database = match answer {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(MusicFailure::Unavailable(_))) => "unreachable".to_string(),
        Ok(Err(_)) => "failing (see the server log)".to_string(),
        Err(_) => format!("no answer within {} s", READY_DATABASE_WAIT.as_secs_f32()),
    };
    let model = if state.vision.has_model() {
        "ok"
    } else {
        "no emotion model loaded"
    };
    let serving = if state.stopping.is_stopping() {
        "shutting down"
    } else {
        "ok"
    };
    let ready = database == "ok" && model == "ok" && serving == "ok";
    let probe = Probe {
        status: if ready { "ready" } else { "unready" },
        checks: Some(ReadyChecks {
            database,
            model: model.to_string(),
            serving: serving.to_string(),
        }),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(probe))
}

/// Faces and their emotions in an image.
///
/// The body is the encoded image itself (JPEG, PNG, ...).
#[utoipa::path(post, path = "/api/analyze", tag = "melodora",
    params(AnalyzeQuery),
    request_body(content = ImageBody, description = "An image: JPEG, PNG, BMP, WebP or GIF; at most 2 MB and 3840x2160 pixels",
        content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Every face found, with its emotion", body = FrameAnalysis),
        (status = 400, description = "Not a readable image, or a bad profile name", body = ErrorBody),
        (status = 413, description = "Image over the size limit", body = ErrorBody),
        (status = 503, description = "Too busy to analyse it now", body = ErrorBody)))]
pub async fn analyze(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<AnalyzeQuery>,
    AppBytes(body): AppBytes,
) -> Result<Response, ApiError> {
    // The calibration is looked up before the image waits for its turn.
    let calibration = match query.profile {
        Some(profile) => stored_calibration(&state, profile_name(Some(profile))?).await?,
        None => None,
    };
    // Uploads wait longer for a turn than live frames (nothing newer replaces them).
    let _turn = state
        .slots
        .enter_within(API_MAX_WAIT)
        .await
        .ok_or(FrameError::Busy)?;
    let vision = Arc::clone(&state.vision);
    let mut analysis = tokio::task::spawn_blocking(move || vision.analyze_encoded(&body))
        .await
        .map_err(FrameError::Worker)??;
    if let Some(calibration) = calibration {
        for face in &mut analysis.faces {
            *face = face.calibrated(&calibration);
        }
    }
    Ok(Json(analysis).into_response())
}

/// Whose eyes to read an uploaded image with.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyzeQuery {
    /// Read the faces through this profile's personal calibration, if it
    /// has one (default: uncorrected).
    profile: Option<String>,
}

/// A profile, for the calibration endpoints.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileQuery {
    /// Whose calibration (default `"default"`; 1 to 64 characters).
    profile: Option<String>,
}

/// A profile's personal calibration.
#[derive(Serialize, ToSchema)]
pub struct CalibrationAnswer {
    profile: String,
    /// Log-probability offset per emotion, added to the model's output
    /// before renormalising; `null` when the profile is not calibrated.
    #[schema(value_type = Option<BTreeMap<String, f32>>)]
    calibration: Option<Calibration>,
}

/// Readings of a relaxed face to calibrate on.
#[derive(Deserialize, ToSchema)]
pub struct CalibrateBody {
    /// Whose calibration (default `"default"`; 1 to 64 characters).
    profile: Option<String>,
    /// The `probabilities` of the face in each of at least 5 uncalibrated
    /// frames (3 s of camera), as `/api/analyze` and the WebSocket report them.
    #[schema(value_type = Vec<BTreeMap<String, f32>>)]
    resting: Vec<EmotionProbabilities>,
}

/// A profile's personal calibration, if it has one.
#[utoipa::path(get, path = "/api/calibration", tag = "melodora",
    params(ProfileQuery),
    responses(
        (status = 200, description = "The calibration, or `null`", body = CalibrationAnswer),
        (status = 400, description = "A bad profile name", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)))]
pub async fn calibration(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<ProfileQuery>,
) -> Result<Json<CalibrationAnswer>, ApiError> {
    let profile = profile_name(query.profile)?;
    let calibration = stored_calibration(&state, profile.clone()).await?;
    Ok(Json(CalibrationAnswer {
        profile,
        calibration,
    }))
}

/// Calibrates a profile on readings of their relaxed face: from then on
/// the live page (server analysis) and `/api/analyze?profile=` read their
/// faces through it. Replaces an earlier calibration. See
/// docs/CALIBRATION.md for the method and its limits.
#[utoipa::path(put, path = "/api/calibration", tag = "melodora",
    request_body = CalibrateBody,
    responses(
        (status = 200, description = "Kept; the calibration made", body = CalibrationAnswer),
        (status = 400, description = "Not JSON, or a bad profile name", body = ErrorBody),
        (status = 415, description = "Not sent as application/json", body = ErrorBody),
        (status = 422, description = "Too few readings, or readings that are not probabilities", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)))]
pub async fn calibrate(
    State(state): State<AppState>,
    AppJson(body): AppJson<CalibrateBody>,
) -> Result<Json<CalibrationAnswer>, ApiError> {
    let profile = profile_name(body.profile)?;
    let calibration = Calibration::from_resting(&body.resting)
        .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    keep_calibration(&state, profile.clone(), Some(calibration)).await?;
    Ok(Json(CalibrationAnswer {
        profile,
        calibration: Some(calibration),
    }))
}

/// Forgets a profile's calibration.
#[utoipa::path(delete, path = "/api/calibration", tag = "melodora",
    params(ProfileQuery),
    responses(
        (status = 204, description = "Forgotten (or there was none)"),
        (status = 400, description = "A bad profile name", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)))]
pub async fn uncalibrate(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<ProfileQuery>,
) -> Result<StatusCode, ApiError> {
    keep_calibration(&state, profile_name(query.profile)?, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn stored_calibration(
    state: &AppState,
    profile: String,
) -> Result<Option<Calibration>, ApiError> {
    Ok(state.music.calibration(profile).await?)
}

async fn keep_calibration(
    state: &AppState,
    profile: String,
    calibration: Option<Calibration>,
) -> Result<(), ApiError> {
    Ok(state.music.set_calibration(profile, calibration).await?)
}

/// What list to make.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationQuery {
    /// The listener's mood.
    #[param(inline)]
    emotion: Emotion,
    /// `match` the mood (default) or `uplift` it.
    #[serde(default)]
    #[param(inline)]
    mode: Mode,
    /// Songs in the list, 1 to 1000 (default 15).
    limit: Option<usize>,
    /// Which songs: `all` (default), `library` (the listener's own music)
    /// or `catalog`.
    #[serde(default)]
    #[param(inline)]
    from: Source,
    /// Whose likes and skips to honour (default `"default"`; 1 to 64
    /// characters).
    profile: Option<String>,
    /// Seed of the tie-breaking jitter: the same seed gives the same list.
    seed: Option<u64>,
}

/// A playlist for a mood.
///
/// The songs are those `melodora recommend --json` prints.
#[utoipa::path(get, path = "/api/recommendations", tag = "melodora",
    params(RecommendationQuery),
    responses(
        (status = 200, description = "Songs for the mood, best first", body = Vec<Recommendation>),
        (status = 400, description = "Unknown emotion or mode, a limit out of range, or a bad profile name", body = ErrorBody)))]
pub async fn recommendations(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<RecommendationQuery>,
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
        from: query.from,
    };
    let profile = profile_name(query.profile)?;
    let session = Session::new(&profile, query.seed.unwrap_or(0));
    let (songs, _) = state.music.recommend(request, session).await?;
    Ok(Json(songs).into_response())
}

/// The profile a request names, `"default"` if none; a name the store would
/// refuse (see [`melodora_music::check_profile_name`]) is a 400.
pub(crate) fn profile_name(given: Option<String>) -> Result<String, ApiError> {
    let Some(name) = given else {
        return Ok("default".into());
    };
    melodora_music::check_profile_name(&name)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok(name)
}

/// A like or skip.
#[derive(Deserialize, ToSchema)]
pub struct FeedbackBody {
    /// The song's `id`, as in a recommendation.
    song_id: i64,
    verdict: Verdict,
    /// Whose verdict it is (default `"default"`; 1 to 64 characters).
    profile: Option<String>,
}

/// A listener's like or skip of a song.
#[utoipa::path(post, path = "/api/feedback", tag = "melodora",
    request_body = FeedbackBody,
    responses(
        (status = 204, description = "Recorded; later lists follow it"),
        (status = 404, description = "No such song", body = ErrorBody),
        (status = 400, description = "Not JSON, or a bad profile name", body = ErrorBody),
        (status = 415, description = "Not sent as application/json", body = ErrorBody),
        (status = 422, description = "JSON that is not a like or skip", body = ErrorBody)))]
pub async fn feedback(
    State(state): State<AppState>,
    AppJson(body): AppJson<FeedbackBody>,
) -> Result<StatusCode, ApiError> {
    let profile = profile_name(body.profile)?;
    state
        .music
        .feedback(profile, body.song_id, body.verdict)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
