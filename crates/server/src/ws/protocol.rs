//! The messages of the `/ws` protocol (see the parent module for the
//! conversation): commands in, one tagged [`ServerMessage`] out, serialised
//! once when it is sent.

use std::fmt::Display;

use melodora_core::{Calibration, Emotion, EmotionProbabilities};
use melodora_music::{Mode, Play, Recommendation, Source, Verdict};
use melodora_vision::{AnalysisSettings, StableMood};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::engine::FaceReport;

/// A text command from a client (the schema's `ClientMessage`); a binary
/// message is a camera frame (JPEG or PNG) instead.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ClientMessage)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Command {
    /// Match or uplift the mood from now on.
    Mode {
        /// The new mode.
        mode: Mode,
    },
    /// Which songs lists hold from now on: `all` (the default), `library`
    /// (the listener's own music) or `catalog`.
    Source {
        /// The songs to choose from.
        from: Source,
    },
    /// A like or skip of a listed song.
    Feedback {
        /// The song's catalog id.
        song_id: i64,
        /// Liked or skipped.
        verdict: Verdict,
    },
    /// Another list for the current mood.
    Refresh,
    /// The stable mood, as a page analysing its camera itself (on-device
    /// mode) found it: no frame is sent, only this when the mood changes.
    Mood {
        /// The emotion the playlist should follow.
        emotion: Emotion,
        /// How sure the page is, 0 to 1.
        confidence: f32,
    },
    /// The listener sets the mood by hand (`emotion`), or hands it back to
    /// the camera (`null` or no `emotion`): while a mood is set by hand,
    /// the camera's reading is still reported but does not change the list.
    Manual {
        /// The mood chosen; `None` to follow the face again.
        #[serde(default)]
        emotion: Option<Emotion>,
    },
    /// Personal calibration: `resting` holds the `probabilities` of the
    /// listener's face in uncalibrated frames (3 s of them, one face each)
    /// while they held a relaxed face. The server makes the correction,
    /// keeps it for the profile and applies it to every later frame.
    Calibrate {
        /// One reading per frame, as maps of probability by emotion name.
        #[schema(value_type = Vec<EmotionMap>)]
        resting: Vec<EmotionProbabilities>,
    },
    /// Forgets the profile's calibration: frames are read uncorrected.
    Uncalibrate,
    /// The page's player started a listed song: the server keeps it in the
    /// profile's history of what played (`GET /api/plays`).
    Played {
        /// The song's catalog id.
        song_id: i64,
        /// The stable mood the song was chosen for; `null` when none.
        #[serde(default)]
        mood: Option<Emotion>,
        /// Why it was listed, as the page showed it (cut to 300 characters).
        #[serde(default)]
        reason: String,
    },
}

/// Parses a text message; the error says what was wrong, for the client.
pub fn parse_command(text: &str) -> Result<Command, String> {
    serde_json::from_str(text).map_err(|e| format!("unknown command: {e}"))
}

/// Everything the server says, as JSON text with a `type` field.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    /// The first message: where frames come from.
    Hello {
        capture: Capture,
        /// In server camera mode, where the annotated stream is.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        video_feed: Option<&'static str>,
        /// In browser capture mode, how a page that analyses its camera
        /// itself (on-device mode) should: the server's own options.
        #[serde(skip_serializing_if = "Option::is_none")]
        analysis: Option<AnalysisSettings>,
        /// The profile's calibration, when it has one: frames this server
        /// analyses are corrected by it.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<EmotionMap>)]
        calibration: Option<Calibration>,
        /// Songs in the listener's own library (`melodora library add`);
        /// lists can be made of them alone (`source`).
        library_songs: u64,
    },
    /// One analysed frame; `songs` only when the list changed.
    Frame {
        seq: u64,
        width: usize,
        height: usize,
        faces: Vec<FaceReport>,
        mood: Option<StableMood>,
        status: FrameStatus,
        dropped: u64,
        mode: Mode,
        #[serde(skip_serializing_if = "Option::is_none")]
        songs: Option<Vec<Recommendation>>,
    },
    /// The answer to `mode` or `refresh`.
    Songs {
        mood: Option<StableMood>,
        mode: Mode,
        /// Absent while there is no stable mood (e.g. just after a
        /// reconnect): the page keeps the list it shows.
        #[serde(skip_serializing_if = "Option::is_none")]
        songs: Option<Vec<Recommendation>>,
    },
    /// The answer to `calibrate` and `uncalibrate`: the correction now in
    /// use (`null`: none).
    Calibration {
        /// The offsets by emotion, or `null`.
        #[schema(value_type = Option<EmotionMap>)]
        calibration: Option<Calibration>,
    },
    /// A like or skip was recorded; the list stays as it is and later
    /// lists follow the verdict.
    Feedback { song_id: i64, verdict: Verdict },
    /// A play was kept in the profile's history, as recorded.
    Played { play: Play },
    /// A frame the server had no time for (see [`crate::admission`]).
    Dropped { seq: u64, dropped: u64 },
    /// Something the client sent could not be used.
    Error { about: ErrorAbout, message: String },
}

impl ServerMessage {
    /// An error reply about a frame or a command.
    pub fn error(about: ErrorAbout, message: impl Display) -> ServerMessage {
        ServerMessage::Error {
            about,
            message: message.to_string(),
        }
    }
}

/// Where a connection's frames come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Capture {
    /// The page sends its webcam's frames.
    Browser,
    /// The server analyses its own camera and pushes frames.
    Server,
}

/// Whether a frame had a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameStatus {
    Face,
    NoFace,
}

/// What an error reply is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ErrorAbout {
    /// A frame sent in; it counts as answered.
    Frame,
    /// A text command; frames in flight are unaffected.
    Command,
}

/// A number per emotion, keyed by the emotion's name: probabilities, or a
/// calibration's log-probability offsets.
#[derive(ToSchema)]
#[allow(dead_code)] // a schema only: the values are (de)serialised by their own types
struct EmotionMap {
    angry: f32,
    disgust: f32,
    fear: f32,
    happy: f32,
    neutral: f32,
    sad: f32,
    surprise: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_carries_its_type_and_optional_fields_are_left_out() {
        let hello = ServerMessage::Hello {
            capture: Capture::Server,
            video_feed: Some("/video_feed"),
            analysis: None,
            calibration: None,
            library_songs: 0,
        };
        assert_eq!(
            serde_json::to_string(&hello).unwrap(),
            r#"{"type":"hello","capture":"server","video_feed":"/video_feed","library_songs":0}"#
        );
        let hello = ServerMessage::Hello {
            capture: Capture::Browser,
            video_feed: None,
            analysis: Some(AnalysisSettings::default()),
            calibration: None,
            library_songs: 12,
        };
        assert_eq!(
            serde_json::to_string(&hello).unwrap(),
            r#"{"type":"hello","capture":"browser","analysis":{"follow":"largest_face","half_life_ms":250,"dwell_ms":700,"min_confidence":0.4,"forget_after_ms":3000,"full_scan_every":15,"detector":"haar"},"library_songs":12}"#
        );
        let frame = ServerMessage::Frame {
            seq: 3,
            width: 4,
            height: 2,
            faces: Vec::new(),
            mood: None,
            status: FrameStatus::NoFace,
            dropped: 0,
            mode: Mode::Match,
            songs: None,
        };
        assert_eq!(
            serde_json::to_string(&frame).unwrap(),
            r#"{"type":"frame","seq":3,"width":4,"height":2,"faces":[],"mood":null,"status":"no_face","dropped":0,"mode":"match"}"#
        );
        let calibration = ServerMessage::Calibration {
            calibration: Some(
                Calibration::from_offsets([0.0, 0.0, 0.0, 0.0, 0.0, -1.5, 0.0]).unwrap(),
            ),
        };
        assert_eq!(
            serde_json::to_string(&calibration).unwrap(),
            r#"{"type":"calibration","calibration":{"angry":0.0,"disgust":0.0,"fear":0.0,"happy":0.0,"neutral":0.0,"sad":-1.5,"surprise":0.0}}"#
        );
        let error = ServerMessage::error(ErrorAbout::Command, "unknown command");
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"type":"error","about":"command","message":"unknown command"}"#
        );
    }
}
