//! The crate's error type: every variant names the file, row or song it is
//! about, so that a message alone tells the user what to fix.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in the music crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} holds no catalog files (expected angry.csv, disgusted.csv, fearful.csv, happy.csv, neutral.csv, sad.csv, surprised.csv or the FER names)")]
    NoCatalogFiles { path: PathBuf },
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("{0}\nstrict import: nothing was imported")]
    Strict(RowProblem),
    /// An import that accepts no song would only empty the store (the first
    /// import replaces the default catalog), so it is refused instead.
    #[error(
        "{source_name}: no song was accepted{}; nothing was imported",
        first_problem(problems)
    )]
    NothingAccepted {
        source_name: String,
        /// Every malformed row, for the caller to list.
        problems: Vec<RowProblem>,
    },
    #[error("{path} already exists; not overwriting it")]
    WouldOverwrite { path: PathBuf },
    #[error("no song with id {0} in the catalog")]
    UnknownSong(i64),
    #[error("a profile name must be 1 to {max_chars} characters, none of them control characters")]
    BadProfileName { max_chars: usize },
    #[error("the store at {path} was written by a newer Melodora (schema version {found}, this build knows up to {known})")]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// SQLite's own message is enough; its error chain only repeats it.
    #[error("catalog store: {0}")]
    Store(rusqlite::Error),
    #[error("Spotify: {0}")]
    Spotify(String),
}

/// A row that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The file (or, for embedded and remote sources, a name for it).
    pub file: PathBuf,
    /// 1-based line in the file; 0 for problems with the file as a whole.
    pub line: u64,
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

/// " (N malformed row(s); the first: ...)", or nothing when there were none.
fn first_problem(problems: &[RowProblem]) -> String {
    match problems {
        [] => String::new(),
        [only] => format!(" (1 malformed row: {only})"),
        [first, ..] => format!(" ({} malformed rows; the first: {first})", problems.len()),
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::Store(err)
    }
}
