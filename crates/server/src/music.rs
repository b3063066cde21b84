//! The catalog, the recommender and the listeners' profiles as one async
//! service: the one path from a handler (HTTP or WebSocket) to the store.
//!
//! The store is synchronous (SQLite, and the blocking PostgreSQL client), so
//! every call runs on a blocking thread ([`Music::run`]), behind the one
//! store lock, recovered in one place if a holder panicked. Failures are
//! classified once ([`MusicFailure`]): an unknown song is the caller's
//! fault; a database that cannot be reached is a 503 the client may retry;
//! anything else is the server's. The store's own words (SQL, paths, the
//! driver's messages) go to the log, never to a client.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use melodora_core::{Calibration, Emotion, ErrorChain};
use melodora_music::{
    LibraryEntry, Play, Recommendation, Recommender, Request, Session, Store, Verdict,
};

use crate::metrics::MusicMetrics;

/// A music-side error, as the music crate reports it.
pub type MusicError = melodora_music::Error;

/// Why a music call failed, as handlers answer it.
#[derive(Debug, thiserror::Error)]
pub enum MusicFailure {
    /// The caller named a song the catalog does not have.
    #[error("no song with id {0}")]
    UnknownSong(i64),
    /// The database cannot be reached now; the client may retry.
    #[error("the database is unavailable")]
    Unavailable(#[source] MusicError),
    /// Anything else: the server's fault.
    #[error("the music store failed")]
    Failed(#[source] MusicError),
    /// The blocking task panicked or was cancelled.
    #[error("a music task did not finish")]
    Task(#[source] tokio::task::JoinError),
}

impl MusicFailure {
    fn classify(error: MusicError) -> MusicFailure {
        match error {
            MusicError::UnknownSong(id) => MusicFailure::UnknownSong(id),
            error if error.is_unavailable() => MusicFailure::Unavailable(error),
            error => MusicFailure::Failed(error),
        }
    }

    /// Writes the failure, with every cause, to the log: a warning for a
    /// database that is away, an error for a failure of the server's.
    pub(crate) fn log(&self, doing: &str) {
        match self {
            MusicFailure::UnknownSong(_) => {}
            MusicFailure::Unavailable(_) => {
                tracing::warn!(error = %ErrorChain(self), doing, "the database is unavailable");
            }
            MusicFailure::Failed(_) | MusicFailure::Task(_) => {
                tracing::error!(error = %ErrorChain(self), doing, "music request failed");
            }
        }
    }
}

/// The catalog and recommender, behind locks: SQLite connections are not
/// shared between threads, and the index is rebuilt after imports.
pub struct Music {
    store: Mutex<Store>,
    recommender: RwLock<Indexed>,
    metrics: MusicMetrics,
}

/// A recommender and the catalog generation its index was built from.
struct Indexed {
    generation: i64,
    recommender: Recommender,
}

impl Indexed {
    fn load(store: &Store) -> Result<Indexed, MusicError> {
        Ok(Indexed {
            generation: store.catalog_generation()?,
            recommender: Recommender::load(store)?,
        })
    }
}

impl Music {
    /// Loads the catalog from `store` and builds the recommender's index.
    pub fn new(store: Store) -> Result<Music, MusicError> {
        let recommender = Indexed::load(&store)?;
        Ok(Music {
            store: Mutex::new(store),
            recommender: RwLock::new(recommender),
            metrics: MusicMetrics::default(),
        })
    }

    /// The counts of its playlists, for `/metrics`.
    pub(crate) fn metrics(&self) -> &MusicMetrics {
        &self.metrics
    }

    /// A list for `request` in `session`, with the session moved on (the
    /// songs it has played; on a failure the caller keeps its own); from
    /// an index rebuilt first if the catalog was imported into since it was
    /// built (by another process: the server itself does not import).
    pub async fn recommend(
        self: &Arc<Self>,
        request: Request,
        mut session: Session,
    ) -> Result<(Vec<Recommendation>, Session), MusicFailure> {
        let started = Instant::now();
        let result = self
            .run("recommend", move |music| {
                let songs = music.recommend_now(&request, &mut session)?;
                Ok((songs, session))
            })
            .await;
        match &result {
            Ok(_) => self.metrics.served(started.elapsed()),
            Err(_) => self.metrics.failed(),
        }
        result
    }

    fn recommend_now(
        &self,
        request: &Request,
        session: &mut Session,
    ) -> Result<Vec<Recommendation>, MusicError> {
        let store = self.store();
        let generation = store.catalog_generation()?;
        let stale = read(&self.recommender).generation != generation;
        if stale {
            // The store lock is held, so no other thread rebuilds meanwhile.
            let fresh = Indexed::load(&store)?;
            tracing::info!(generation, "catalog changed; recommendation index rebuilt");
            *self.recommender.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        read(&self.recommender)
            .recommender
            .recommend(&store, request, session)
    }

    /// Records a like or skip.
    pub async fn feedback(
        self: &Arc<Self>,
        profile: String,
        song_id: i64,
        verdict: Verdict,
    ) -> Result<(), MusicFailure> {
        self.with_store("feedback", move |store| {
            store.record_feedback(&profile, song_id, verdict)
        })
        .await
    }

    /// `profile`'s personal calibration, if they made one.
    pub async fn calibration(
        self: &Arc<Self>,
        profile: String,
    ) -> Result<Option<Calibration>, MusicFailure> {
        self.with_store("read a calibration", move |store| {
            store.calibration(&profile)
        })
        .await
    }

    /// Keeps (or, `None`, forgets) `profile`'s personal calibration.
    pub async fn set_calibration(
        self: &Arc<Self>,
        profile: String,
        calibration: Option<Calibration>,
    ) -> Result<(), MusicFailure> {
        self.with_store("keep a calibration", move |store| {
            store.set_calibration(&profile, calibration.as_ref())
        })
        .await
    }

    /// Records that `profile`'s player started `song_id`, chosen for `mood`.
    pub async fn record_play(
        self: &Arc<Self>,
        profile: String,
        song_id: i64,
        mood: Option<Emotion>,
        reason: String,
    ) -> Result<Play, MusicFailure> {
        self.with_store("record a play", move |store| {
            store.record_play(&profile, song_id, mood, &reason)
        })
        .await
    }

    /// `profile`'s newest `limit` plays, newest first.
    pub async fn plays(
        self: &Arc<Self>,
        profile: String,
        limit: usize,
    ) -> Result<Vec<Play>, MusicFailure> {
        self.with_store("read what played", move |store| {
            store.plays(&profile, limit)
        })
        .await
    }

    /// Forgets what played for `profile`.
    pub async fn forget_plays(self: &Arc<Self>, profile: String) -> Result<u64, MusicFailure> {
        self.with_store("forget what played", move |store| {
            store.forget_plays(&profile)
        })
        .await
    }

    /// The library song `song_id` and its file; `None` for any other id.
    pub async fn library_entry(
        self: &Arc<Self>,
        song_id: i64,
    ) -> Result<Option<LibraryEntry>, MusicFailure> {
        self.with_store("find a library song", move |store| {
            store.library_entry(song_id)
        })
        .await
    }

    /// How many library songs there are (the page offers to list only
    /// them when there are some).
    pub async fn library_song_count(self: &Arc<Self>) -> Result<u64, MusicFailure> {
        self.with_store("count library songs", |store| store.library_song_count())
            .await
    }

    /// Whether the store's database answers.
    pub async fn ping(self: &Arc<Self>) -> Result<(), MusicFailure> {
        self.with_store("ping the database", |store| store.ping())
            .await
    }

    /// Number of songs in the catalog.
    pub async fn song_count(self: &Arc<Self>) -> Result<u64, MusicFailure> {
        self.with_store("count songs", |store| store.song_count())
            .await
    }

    /// Runs `work` on the store on a blocking thread, and classifies and
    /// logs its failure (`doing` names it in the log).
    async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        doing: &'static str,
        work: impl FnOnce(&mut Store) -> Result<T, MusicError> + Send + 'static,
    ) -> Result<T, MusicFailure> {
        self.run(doing, move |music| work(&mut music.store())).await
    }

    /// Runs `work` on a blocking thread, with this service, and classifies
    /// and logs its failure (`doing` names it in the log).
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        doing: &'static str,
        work: impl FnOnce(&Music) -> Result<T, MusicError> + Send + 'static,
    ) -> Result<T, MusicFailure> {
        let music = Arc::clone(self);
        let result = match tokio::task::spawn_blocking(move || work(&music)).await {
            Ok(result) => result.map_err(MusicFailure::classify),
            Err(error) => Err(MusicFailure::Task(error)),
        };
        if let Err(failure) = &result {
            failure.log(doing);
        }
        result
    }

    /// The store, whatever a panicking holder of its lock left: every
    /// store call is a transaction of its own, so nothing is half-done.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn read(index: &RwLock<Indexed>) -> std::sync::RwLockReadGuard<'_, Indexed> {
    index.read().unwrap_or_else(|e| e.into_inner())
}
