//! A listener's verdicts on songs and the profile names they are kept
//! under: shared by the store (SQLite) and by the browser, which keeps its
//! own verdicts.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A listener's verdict on a song.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The listener liked the song: it ranks higher for them.
    Like,
    /// The listener skipped the song: it ranks lower for them.
    Skip,
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "like" => Ok(Verdict::Like),
            "skip" => Ok(Verdict::Skip),
            _ => Err(format!("unknown verdict {s:?}; expected like or skip")),
        }
    }
}

/// Longest profile name, in characters: profiles name people, and each
/// stored verdict repeats its profile's name.
pub const MAX_PROFILE_CHARS: usize = 64;

/// Checks a profile name: 1 to [`MAX_PROFILE_CHARS`] characters, none of
/// them control characters. The CLI, the HTTP API and the store all apply
/// it, so a profile made in one can be used in the others.
pub fn check_profile_name(name: &str) -> Result<()> {
    let length = name.chars().count();
    if length == 0 || length > MAX_PROFILE_CHARS || name.chars().any(char::is_control) {
        return Err(Error::BadProfileName {
            max_chars: MAX_PROFILE_CHARS,
        });
    }
    Ok(())
}
