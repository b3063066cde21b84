//! The live WebSocket protocol at `/ws`.
//!
//! The URL may name the listener: `/ws?profile=NAME` (default `default`;
//! a name the store would refuse is a 400 before the upgrade). Likes,
//! skips and the calibration of the connection are that profile's.
//!
//! Client → server:
//! * a **binary** message is one camera frame, JPEG (or PNG) encoded, at
//!   most [`MAX_FRAME_BYTES`];
//! * a **text** message is a JSON command: `{"type":"mode","mode":"uplift"}`,
//!   `{"type":"feedback","song_id":12,"verdict":"like"}`,
//!   `{"type":"refresh"}` (another list for the current mood),
//!   `{"type":"mood","emotion":"happy","confidence":0.83}` (the stable mood
//!   a page analysing its own camera found: on-device mode sends no frames,
//!   only this, when the mood changes), `{"type":"manual","emotion":"happy"}`
//!   (the listener sets the mood by hand: the list follows it, and the
//!   camera's moods are still reported in `frame` messages but change no
//!   list), `{"type":"manual","emotion":null}` (follow the face again),
//!   `{"type":"calibrate","resting":[{"sad":0.6,"neutral":0.3,...},...]}`
//!   (personal calibration from the probabilities of uncalibrated frames
//!   of a relaxed face; kept for the profile, applied to every frame the
//!   server analyses from then on) and `{"type":"uncalibrate"}`.
//!
//! Server → client, JSON text:
//! * first, `{"type":"hello","capture":"browser"}`, or in server camera mode
//!   `{"type":"hello","capture":"server","video_feed":"/video_feed"}`: the
//!   server then pushes a `frame` message for each of its own frames and
//!   refuses binary frames from the client;
//! * `{"type":"frame","seq":n,"width":w,"height":h,"faces":[...],"mood":{...}|null,
//!   "status":"face"|"no_face","dropped":d,"songs":[...]?}` per analysed
//!   frame; `songs` only when the list changed;
//! * `{"type":"songs","mood":...,"mode":...,"songs":[...]?}` after `mode`,
//!   `refresh`, `mood` or `manual` (no `songs` while there is no stable
//!   mood yet, nor after `mood` while a mood is set by hand);
//! * `{"type":"calibration","calibration":{"sad":-1.2,...}|null}` after
//!   `calibrate` or `uncalibrate` (the hello carries the profile's
//!   calibration too, when it has one);
//! * `{"type":"feedback","song_id":12,"verdict":"like"}` once a verdict is
//!   recorded: the list stays, later lists follow it;
//! * `{"type":"dropped","seq":n,"dropped":d}` when the server was too busy
//!   to analyse a frame in time (send the next one);
//! * `{"type":"error","about":"frame"|"command","message":...}` for a bad
//!   frame (which counts as answered) or a failed command (the connection
//!   stays open).
//!
//! Liveness: the server pings every third of the idle timeout (60 s by
//! default); a connection from which nothing arrives for that long (no
//! frame, no command, no pong), or that does not take a message the server
//! sends within that time, is closed with code 1000. Browsers answer pings
//! by themselves, so an open page, paused or not, stays connected.
//!
//! Flow control: a client should send its next frame after the previous
//! answer. A frame that arrives while one is being analysed replaces any
//! frame already waiting (the waiting one is dropped and counted), so a
//! flooding client costs one analysis at a time and a bounded queue of one;
//! analyses are also spaced by a minimum interval per connection. Across
//! connections, analyses take turns (see [`crate::admission`]): a frame that
//! cannot start within a short wait is dropped, so latency stays bounded
//! when more clients send frames than the cores can analyse.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket};
use melodora_core::{Calibration, ErrorChain};
use melodora_music::{Recommendation, Request, DEFAULT_LIMIT};
use melodora_vision::tracking::{FaceTracker, TrackingConfig};
use melodora_vision::{AnalysisSettings, StableMood};
use tokio::sync::mpsc;

use crate::capture::CapturedFrame;
use crate::connections::{ConnectionPermit, Refusal};
use crate::engine::{FrameAnalysis, FrameError, MAX_FRAME_BYTES};
use crate::music::MusicFailure;
use crate::viewer::Viewer;
use crate::AppState;

mod protocol;
mod schema;

pub use protocol::{parse_command, Capture, Command, ErrorAbout, FrameStatus, ServerMessage};
pub use schema::ws_protocol_schema;

/// Largest WebSocket message the transport accepts; frames above
/// [`MAX_FRAME_BYTES`] but below this get an error reply and the connection
/// lives on; above it the transport closes the connection.
pub const MAX_MESSAGE_BYTES: usize = 4 * MAX_FRAME_BYTES;

type AnalysisResult = (u64, Result<FrameAnalysis, FrameError>);

/// Runs one client's connection until it closes; its place (`_permit`)
/// is freed then.
/// Serves one WebSocket for the listener `profile` (whose likes, skips and
/// calibration it uses).
pub async fn handle(
    socket: WebSocket,
    state: AppState,
    _permit: ConnectionPermit,
    profile: String,
) {
    let idle_timeout = state.connections.limits().idle_timeout;
    let mut peer = Peer {
        socket,
        send_timeout: idle_timeout,
    };
    let mut last_heard = Instant::now();
    let mut pings =
        tokio::time::interval_at((Instant::now() + idle_timeout / 3).into(), idle_timeout / 3);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let options = &state.options;
    let settings = AnalysisSettings::new(&options.stability, None, options.follow);
    let mut viewer = Viewer::new(settings, &profile, connection_seed());
    viewer.use_calibration(stored_calibration(&state, &viewer.session.profile).await);
    let (done_tx, mut done_rx) = mpsc::channel::<AnalysisResult>(1);
    let mut queue = FrameQueue::new(done_tx, state.options.tracking);
    let mut camera = state.camera.as_ref().map(|c| c.subscribe());
    let hello = ServerMessage::Hello {
        capture: if camera.is_some() {
            Capture::Server
        } else {
            Capture::Browser
        },
        video_feed: camera.is_some().then_some("/video_feed"),
        analysis: camera.is_none().then(|| {
            let options = &state.options;
            AnalysisSettings::new(
                &options.stability,
                options.tracking.as_ref(),
                options.follow,
            )
            .with_detector(state.vision.detector())
        }),
        calibration: viewer.calibration(),
        // A store that cannot count now is reported by the first list.
        library_songs: state.music.library_song_count().await.unwrap_or(0),
    };
    if peer.send_message(&hello).await.is_err() {
        return;
    }
    state.metrics.websockets_opened.inc();
    state.metrics.websockets_open.inc();
    let _open = OpenGauge(&state.metrics.websockets_open);
    loop {
        tokio::select! {
            message = peer.socket.recv() => {
                let Some(Ok(message)) = message else { break };
                last_heard = Instant::now();
                match message {
                    Message::Binary(_) if camera.is_some() => {
                        let error = ServerMessage::error(ErrorAbout::Frame, "this server analyses its own camera; it does not take frames");
                        if peer.send_message(&error).await.is_err() { break }
                    }
                    Message::Binary(frame) => {
                        if frame.len() > MAX_FRAME_BYTES {
                            let error = FrameError::TooLarge { size: frame.len(), max: MAX_FRAME_BYTES };
                            if peer.send_message(&ServerMessage::error(ErrorAbout::Frame, ErrorChain(&error))).await.is_err() { break }
                        } else {
                            queue.offer(&state, frame);
                        }
                    }
                    Message::Text(text) => {
                        let reply = command(&state, &mut viewer, &text).await;
                        if peer.send_message(&reply).await.is_err() { break }
                    }
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            Some((frame_seq, result)) = done_rx.recv() => {
                let sent = answer_frame(&state, &mut peer, &mut viewer, &mut queue, started, frame_seq, result).await;
                if sent.is_err() { break }
                queue.finished(&state);
            }
            Some(frame) = next_camera_frame(&mut camera) => {
                let reply = frame_reply(&state, &mut viewer, frame.seq, &frame.analysis, started, frame.skipped).await;
                if peer.send_message(&reply).await.is_err() { break }
            }
            () = state.stopping.begun() => {
                // The frame in analysis is answered; frames waiting are not.
                queue.waiting = None;
                if queue.in_flight {
                    if let Some((frame_seq, result)) = done_rx.recv().await {
                        let _ = answer_frame(&state, &mut peer, &mut viewer, &mut queue, started, frame_seq, result).await;
                    }
                }
                peer.close(close_code::AWAY, "the server is shutting down; reconnect in a moment".into()).await;
                break;
            }
            _ = pings.tick() => {
                if last_heard.elapsed() >= idle_timeout {
                    let reason = format!("idle: nothing heard for {} s", idle_timeout.as_secs_f32());
                    peer.close(close_code::NORMAL, reason).await;
                    break;
                }
                if peer.send(Message::Ping(Bytes::new())).await.is_err() { break }
            }
        }
    }
}

/// Sends the answer to one analysed frame: its faces, mood and songs, a
/// "dropped" note, or why it could not be analysed.
async fn answer_frame(
    state: &AppState,
    peer: &mut Peer,
    viewer: &mut Viewer,
    queue: &mut FrameQueue,
    started: Instant,
    frame_seq: u64,
    result: Result<FrameAnalysis, FrameError>,
) -> Result<(), axum::Error> {
    match result {
        Ok(analysis) => {
            let reply =
                frame_reply(state, viewer, frame_seq, &analysis, started, queue.dropped).await;
            peer.send_message(&reply).await
        }
        Err(FrameError::Busy) => {
            queue.dropped += 1;
            state.metrics.frames_dropped.inc();
            let dropped = ServerMessage::Dropped {
                seq: frame_seq,
                dropped: queue.dropped,
            };
            peer.send_message(&dropped).await
        }
        Err(error) => {
            let message = ServerMessage::error(ErrorAbout::Frame, ErrorChain(&error));
            peer.send_message(&message).await
        }
    }
}

/// Takes one off the open-WebSockets gauge when the connection ends,
/// however it ends.
struct OpenGauge<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl Drop for OpenGauge<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// How long a refused connection's close frame may take to send.
const REFUSAL_SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Closes a connection the server has no room for with 1013 ("try again
/// later") and the reason.
pub async fn refuse(socket: WebSocket, refusal: Refusal) {
    let mut peer = Peer {
        socket,
        send_timeout: REFUSAL_SEND_TIMEOUT,
    };
    peer.close(close_code::AGAIN, refusal.to_string()).await;
}

/// The client's end of the socket: every send gives up after the idle
/// timeout, so a client that stops reading cannot hold a handler forever.
struct Peer {
    socket: WebSocket,
    send_timeout: Duration,
}

impl Peer {
    async fn send(&mut self, message: Message) -> Result<(), axum::Error> {
        tokio::time::timeout(self.send_timeout, self.socket.send(message))
            .await
            .map_err(axum::Error::new)?
    }

    /// Sends a protocol message as JSON text.
    async fn send_message(&mut self, message: &ServerMessage) -> Result<(), axum::Error> {
        let text = serde_json::to_string(message).map_err(axum::Error::new)?;
        self.send(Message::Text(text.into())).await
    }

    /// Says why the server closes the connection (best effort).
    async fn close(&mut self, code: u16, reason: String) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.send(Message::Close(Some(frame))).await;
    }
}

/// The server camera's next frame; never resolves in browser mode. `None`
/// if the camera stopped.
async fn next_camera_frame(
    camera: &mut Option<tokio::sync::watch::Receiver<Option<Arc<CapturedFrame>>>>,
) -> Option<Arc<CapturedFrame>> {
    let Some(frames) = camera else {
        return std::future::pending().await;
    };
    loop {
        if frames.changed().await.is_err() {
            // The capture ended: stop listening, keep serving commands.
            *camera = None;
            return std::future::pending().await;
        }
        if let Some(frame) = frames.borrow_and_update().clone() {
            return Some(frame);
        }
    }
}

/// One connection's frames: at most one being analysed and one waiting; a
/// newer frame replaces the waiting one, which is counted as dropped.
struct FrameQueue {
    done: mpsc::Sender<AnalysisResult>,
    /// The connection's face tracker (used by one analysis at a time).
    tracker: Option<Arc<std::sync::Mutex<FaceTracker>>>,
    in_flight: bool,
    waiting: Option<Bytes>,
    next_start: Instant,
    seq: u64,
    dropped: u64,
}

impl FrameQueue {
    fn new(done: mpsc::Sender<AnalysisResult>, tracking: Option<TrackingConfig>) -> Self {
        FrameQueue {
            done,
            tracker: tracking
                .map(|config| Arc::new(std::sync::Mutex::new(FaceTracker::new(config)))),
            in_flight: false,
            waiting: None,
            next_start: Instant::now(),
            seq: 0,
            dropped: 0,
        }
    }

    /// A frame from the client: analysed now if nothing is, else kept waiting.
    fn offer(&mut self, state: &AppState, frame: Bytes) {
        if self.in_flight {
            self.dropped += u64::from(self.waiting.replace(frame).is_some());
        } else {
            self.start(state, frame);
        }
    }

    /// The analysis in flight has been answered: start the waiting frame.
    fn finished(&mut self, state: &AppState) {
        self.in_flight = false;
        if let Some(frame) = self.waiting.take() {
            self.start(state, frame);
        }
    }

    fn start(&mut self, state: &AppState, frame: Bytes) {
        self.seq += 1;
        start_analysis(
            state,
            frame,
            self.seq,
            self.next_start,
            self.tracker.clone(),
            self.done.clone(),
        );
        self.next_start = Instant::now() + state.options.min_frame_interval;
        self.in_flight = true;
    }
}

/// Analyses a frame off the async threads, no earlier than `not_before`.
fn start_analysis(
    state: &AppState,
    frame: Bytes,
    seq: u64,
    not_before: Instant,
    tracker: Option<Arc<std::sync::Mutex<FaceTracker>>>,
    done: mpsc::Sender<AnalysisResult>,
) {
    let vision = Arc::clone(&state.vision);
    let slots = Arc::clone(&state.slots);
    tokio::spawn(async move {
        tokio::time::sleep_until(not_before.into()).await;
        let Some(_turn) = slots.enter().await else {
            let _ = done.send((seq, Err(FrameError::Busy))).await;
            return;
        };
        let result = tokio::task::spawn_blocking(move || {
            let mut tracker = tracker
                .as_ref()
                .map(|t| t.lock().unwrap_or_else(|e| e.into_inner()));
            vision.analyze_encoded_in_stream(&frame, tracker.as_deref_mut())
        })
        .await
        .unwrap_or_else(|e| Err(FrameError::Worker(e)));
        let _ = done.send((seq, result)).await;
    });
}

async fn frame_reply(
    state: &AppState,
    viewer: &mut Viewer,
    seq: u64,
    analysis: &FrameAnalysis,
    started: Instant,
    dropped: u64,
) -> ServerMessage {
    let now_ms = started.elapsed().as_millis() as u64;
    let seen = viewer.observe(&analysis.faces, now_ms);
    let (mood, changed) = (seen.mood, seen.changed);
    let songs = match mood {
        // A mood set by hand holds the list; the camera's is only shown.
        _ if viewer.is_manual() => None,
        Some(mood) if changed || viewer.list_owed => {
            let songs = songs_for(state, viewer, mood).await;
            viewer.list_owed = songs.is_none();
            songs
        }
        _ => None,
    };
    ServerMessage::Frame {
        seq,
        width: analysis.width,
        height: analysis.height,
        faces: seen.faces,
        mood,
        status: if analysis.faces.is_empty() {
            FrameStatus::NoFace
        } else {
            FrameStatus::Face
        },
        dropped,
        mode: viewer.mode,
        songs,
    }
}

async fn command(state: &AppState, viewer: &mut Viewer, text: &Utf8Bytes) -> ServerMessage {
    let command = match parse_command(text.as_str()) {
        Ok(command) => command,
        Err(message) => return ServerMessage::error(ErrorAbout::Command, message),
    };
    match command {
        Command::Mode { mode } => viewer.mode = mode,
        Command::Source { from } => viewer.from = from,
        Command::Refresh => {}
        Command::Mood {
            emotion,
            confidence,
        } => {
            if !(0.0..=1.0).contains(&confidence) {
                return ServerMessage::error(
                    ErrorAbout::Command,
                    format!("a mood's confidence is from 0 to 1, not {confidence}"),
                );
            }
            viewer.report(StableMood {
                emotion,
                confidence,
            });
            if viewer.is_manual() {
                // The list stays on the mood set by hand.
                return ServerMessage::Songs {
                    mood: viewer.mood(),
                    mode: viewer.mode,
                    songs: None,
                };
            }
        }
        Command::Manual { emotion } => viewer.set_manual(emotion),
        Command::Calibrate { resting } => {
            return match Calibration::from_resting(&resting) {
                Ok(calibration) => calibrate(state, viewer, Some(calibration)).await,
                Err(e) => ServerMessage::error(ErrorAbout::Command, e),
            }
        }
        Command::Uncalibrate => return calibrate(state, viewer, None).await,
        Command::Played {
            song_id,
            mood,
            reason,
        } => {
            let profile = viewer.session.profile.clone();
            return match state
                .music
                .record_play(profile, song_id, mood, reason)
                .await
            {
                Ok(play) => ServerMessage::Played { play },
                Err(failure @ MusicFailure::UnknownSong(_)) => {
                    ServerMessage::error(ErrorAbout::Command, failure)
                }
                Err(_) => ServerMessage::error(
                    ErrorAbout::Command,
                    "cannot keep what played now (see the server log)",
                ),
            };
        }
        Command::Feedback { song_id, verdict } => {
            let profile = viewer.session.profile.clone();
            let result = state.music.feedback(profile, song_id, verdict).await;
            // The list on the page stays: it marks the song, and the next
            // list (a new mood, a mode change, a refresh) follows the verdict.
            return match result {
                Ok(()) => ServerMessage::Feedback { song_id, verdict },
                Err(failure @ MusicFailure::UnknownSong(_)) => {
                    ServerMessage::error(ErrorAbout::Command, failure)
                }
                Err(_) => ServerMessage::error(
                    ErrorAbout::Command,
                    "cannot record the verdict now (see the server log)",
                ),
            };
        }
    }
    let mood = viewer.mood();
    let songs = match mood {
        // An empty list would look like a genuine answer; the page keeps
        // its current list on an error.
        Some(mood) => match songs_for(state, viewer, mood).await {
            Some(songs) => {
                viewer.list_owed = false;
                Some(songs)
            }
            None => {
                return ServerMessage::error(
                    ErrorAbout::Command,
                    "cannot make a playlist now (see the server log)",
                )
            }
        },
        None => None,
    };
    ServerMessage::Songs {
        mood,
        mode: viewer.mode,
        songs,
    }
}

/// Keeps (or forgets) the viewer's calibration for their profile, then
/// uses it; if the store fails, the calibration in use stays as it was.
async fn calibrate(
    state: &AppState,
    viewer: &mut Viewer,
    calibration: Option<Calibration>,
) -> ServerMessage {
    let profile = viewer.session.profile.clone();
    match state.music.set_calibration(profile, calibration).await {
        Ok(()) => {
            viewer.use_calibration(calibration);
            ServerMessage::Calibration { calibration }
        }
        Err(_) => ServerMessage::error(
            ErrorAbout::Command,
            "cannot keep the calibration now (see the server log)",
        ),
    }
}

/// The calibration kept for `profile`; none if there is none, or if the
/// store cannot say (logged: frames are then read uncorrected).
async fn stored_calibration(state: &AppState, profile: &str) -> Option<Calibration> {
    match state.music.calibration(profile.to_string()).await {
        Ok(calibration) => calibration,
        Err(_) => {
            tracing::warn!("calibration not read; frames uncorrected");
            None
        }
    }
}

/// A new list for the viewer's mood; `None` if the recommender failed
/// (logged; the page keeps its current list).
async fn songs_for(
    state: &AppState,
    viewer: &mut Viewer,
    mood: StableMood,
) -> Option<Vec<Recommendation>> {
    let request = Request {
        emotion: mood.emotion,
        mode: viewer.mode,
        limit: DEFAULT_LIMIT,
        from: viewer.from,
    };
    // A failure is logged by `Music`; the viewer's session stays as it was.
    let (songs, session) = state
        .music
        .recommend(request, viewer.session.clone())
        .await
        .ok()?;
    viewer.session = session;
    Some(songs)
}

/// A per-connection seed (the clock), so that two viewers get different near-ties.
fn connection_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The default spacing of analyses per connection: at most 20 per second.
pub const DEFAULT_MIN_FRAME_INTERVAL: Duration = Duration::from_millis(50);
