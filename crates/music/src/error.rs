//! The crate's error type: every variant names the file, row or song it is
//! about, so that a message alone tells the user what to fix.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in the music crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Read {
        /// What was being read.
        path: PathBuf,
        /// Why it could not be.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// What was being written.
        path: PathBuf,
        /// Why it could not be.
        #[source]
        source: std::io::Error,
    },
    /// A directory given to import holds none of the per-emotion files.
    #[error("{path} holds no catalog files (expected angry.csv, disgusted.csv, fearful.csv, happy.csv, neutral.csv, sad.csv, surprised.csv or the FER names)")]
    NoCatalogFiles {
        /// The directory.
        path: PathBuf,
    },
    /// A file as a whole is unusable (no header, no title column, ...).
    #[error("{path}: {message}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A strict import met a malformed row; the row and why.
    #[error("{0}\nstrict import: nothing was imported")]
    Strict(RowProblem),
    /// An import that accepts no song would only empty the store (the first
    /// import replaces the default catalog), so it is refused instead.
    #[error(
        "{source_name}: no song was accepted{}; nothing was imported",
        first_problem(problems)
    )]
    NothingAccepted {
        /// The file, directory or playlist imported.
        source_name: String,
        /// Every malformed row, for the caller to list.
        problems: Vec<RowProblem>,
    },
    /// An export would replace an existing file.
    #[error("{path} already exists; not overwriting it")]
    WouldOverwrite {
        /// The file that exists.
        path: PathBuf,
    },
    /// Feedback or a lookup named a song id the catalog does not have.
    #[error("no song with id {0} in the catalog")]
    UnknownSong(i64),
    /// A listener profile name that is empty, too long or has control
    /// characters.
    #[error("a profile name must be 1 to {max_chars} characters, none of them control characters")]
    BadProfileName {
        /// The longest name accepted, in characters.
        max_chars: usize,
    },
    /// A stored calibration that cannot be read back (or written).
    #[error("the calibration of profile {profile:?} is not valid")]
    BadCalibration {
        /// Whose calibration.
        profile: String,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// The database's schema is newer than this build understands; it is
    /// left untouched.
    #[error("the store at {path} was written by a newer Melodora (schema version {found}, this build knows up to {known})")]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// SQLite's own message is enough; its error chain only repeats it.
    #[cfg(feature = "store")]
    #[error("catalog store: {0}")]
    Store(rusqlite::Error),
    /// PostgreSQL refused or failed; its message (and the database's).
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL: {}", postgres_message(.0))]
    Postgres(postgres::Error),
    /// A `--database` URL that does not parse.
    #[cfg(feature = "store")]
    #[error("database URL: {message}")]
    DatabaseUrl {
        /// What is wrong with it.
        message: String,
        /// The parser's complaint, when there was one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The database cannot be reached.
    #[cfg(feature = "store")]
    #[error("the database at {location} cannot be reached")]
    DatabaseDown {
        /// Where it should be (never with a password).
        location: String,
        /// Why it cannot be reached.
        #[source]
        source: Box<Error>,
    },
    /// The Spotify Web API refused or failed; what it said.
    #[error("Spotify: {0}")]
    Spotify(String),
    /// A library folder or scan that cannot go ahead (the message says why).
    #[error("{0}")]
    Library(String),
}

#[cfg(feature = "store")]
impl Error {
    /// Whether the failure is the database being out of reach (down,
    /// restarting, the network gone) rather than a fault in the request
    /// or the data: a server answers 503 and retries later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            #[cfg(feature = "store")]
            Error::DatabaseDown { .. } => true,
            #[cfg(feature = "postgres")]
            Error::Postgres(error) => {
                error.is_closed()
                    || error.as_db_error().is_some_and(|db| {
                        // Class 08 (connection exception), 57P0x (shutting down).
                        let code = db.code().code();
                        code.starts_with("08") || code.starts_with("57P0")
                    })
                    || std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>())
            }
            _ => false,
        }
    }
}

/// A row that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The file (or, for embedded and remote sources, a name for it).
    pub file: PathBuf,
    /// 1-based line in the file; 0 for problems with the file as a whole.
    pub line: u64,
    /// What is wrong with the row.
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

/// The client's message with the server's detail, which the client's own
/// Display leaves out ("db error" alone).
#[cfg(feature = "postgres")]
fn postgres_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            message
        }
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for Error {
    fn from(err: postgres::Error) -> Self {
        Error::Postgres(err)
    }
}

#[cfg(feature = "store")]
impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::Store(err)
    }
}
