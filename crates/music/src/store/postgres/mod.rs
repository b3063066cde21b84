//! The PostgreSQL backend: the same tables as SQLite, for several servers
//! sharing one catalog, its feedback and its sessions.
//!
//! One connection per store, re-opened on the next use after it is lost
//! (the database restarted, the network dropped): a server keeps running
//! while its database is away, answers 503 meanwhile, and recovers by
//! itself. Statements are prepared once per connection.

mod catalog;
mod import;
mod library;
mod plays;
mod profiles;
pub(crate) mod schema;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use melodora_core::Emotion;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Row, Statement};

use crate::error::{Error, Result};
use crate::feedback::Verdict;
use crate::song::{AudioFeatures, SpotifyId, Track};

/// How long connecting may take before the database counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A store on a PostgreSQL database.
pub(crate) struct PgStore {
    config: postgres::Config,
    location: String,
    connection: Mutex<Option<Connection>>,
}

/// An open connection and the statements prepared on it.
struct Connection {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Connection {
    fn open(config: &postgres::Config) -> Result<Connection> {
        let client = config.connect(NoTls)?;
        Ok(Connection {
            client,
            statements: HashMap::new(),
        })
    }

    /// `sql`, prepared on this connection the first time.
    fn prepared(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    fn count(&mut self, sql: &'static str) -> Result<u64> {
        let rows = self.query(sql, &[])?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0)) as u64)
    }
}

impl PgStore {
    /// Connects to `url`, migrates the database and keeps the connection.
    pub(crate) fn connect(url: &str) -> Result<PgStore> {
        let mut config: postgres::Config =
            url.parse()
                .map_err(|source: postgres::Error| Error::DatabaseUrl {
                    message: "not a PostgreSQL URL (postgres://user:password@host:port/database)"
                        .into(),
                    source: Some(Box::new(source)),
                })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("melodora");
        let location = describe(&config);
        let mut connection = Connection::open(&config).map_err(|error| Error::DatabaseDown {
            location: location.clone(),
            source: Box::new(error),
        })?;
        schema::migrate(&mut connection.client, &location)?;
        Ok(PgStore {
            config,
            location,
            connection: Mutex::new(Some(connection)),
        })
    }

    /// The connection, opened again if it was lost.
    fn connection(&self) -> Result<ConnectionGuard<'_>> {
        let mut guard = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let lost = guard.as_ref().is_none_or(|c| c.client.is_closed());
        if lost {
            *guard = None;
            let connection =
                Connection::open(&self.config).map_err(|error| Error::DatabaseDown {
                    location: self.location.clone(),
                    source: Box::new(error),
                })?;
            *guard = Some(connection);
        }
        Ok(ConnectionGuard(guard))
    }
}

/// A locked, open connection.
struct ConnectionGuard<'a>(MutexGuard<'a, Option<Connection>>);

impl std::ops::Deref for ConnectionGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0.as_ref().expect("opened by PgStore::connection")
    }
}

impl std::ops::DerefMut for ConnectionGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.0.as_mut().expect("opened by PgStore::connection")
    }
}

/// `postgres://user@host:port/database`, never the password.
fn describe(config: &postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().unwrap_or(user);
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("postgres://{at}{host}:{port}/{database}")
}

fn track_from_row(row: &Row) -> Result<Track> {
    let features = match (row.get::<_, Option<f32>>(6), row.get::<_, Option<f32>>(7)) {
        (Some(valence), Some(energy)) => Some(AudioFeatures {
            valence,
            energy,
            tempo: row.get(8),
        }),
        _ => None,
    };
    let spotify_id: Option<String> = row.get(4);
    Ok(Track {
        title: row.get(1),
        album: row.get(2),
        artist: row.get(3),
        spotify_id: spotify_id.and_then(|id| SpotifyId::parse(&id).ok()),
        explicit_link: row.get(5),
        features,
        popularity: row.get::<_, Option<i64>>(9).map(|p| p.clamp(0, 100) as u8),
    })
}

fn verdict_to_sql(verdict: Verdict) -> i16 {
    match verdict {
        Verdict::Like => 1,
        Verdict::Skip => -1,
    }
}

impl super::Backend for PgStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn ping(&self) -> Result<()> {
        self.connection()?.query("SELECT 1", &[])?;
        Ok(())
    }
}

fn each_filing(client: &mut Client, each: &mut dyn FnMut(i64, Emotion, u32)) -> Result<()> {
    let mut tx = client.transaction()?;
    each_filing_in(&mut tx, each)?;
    tx.commit()?;
    Ok(())
}

/// Every filing of a known emotion, by emotion name, rank and song (the
/// order of SQLite's, whose `TEXT` compares bytewise: `COLLATE "C"`).
fn each_filing_in(
    tx: &mut postgres::Transaction<'_>,
    each: &mut dyn FnMut(i64, Emotion, u32),
) -> Result<()> {
    let mut rows = tx.query_raw(
        "SELECT song_id, emotion, rank FROM filings ORDER BY emotion COLLATE \"C\", rank, song_id",
        std::iter::empty::<i64>(),
    )?;
    while let Some(row) = rows.next()? {
        let name: &str = row.get(1);
        if let Ok(emotion) = name.parse::<Emotion>() {
            each(row.get(0), emotion, row.get::<_, i64>(2).max(0) as u32);
        }
    }
    Ok(())
}
