//! The PostgreSQL backend: the same tables as SQLite, for several servers
//! sharing one catalog, its feedback and its sessions.
//!
//! One connection per store, re-opened on the next use after it is lost
//! (the database restarted, the network dropped): a server keeps running
//! while its database is away, answers 503 meanwhile, and recovers by
//! itself. Statements are prepared once per connection.

mod import;
pub(crate) mod schema;

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use melodora_core::Emotion;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Row, Statement};

use super::CatalogOrigin;
use crate::circumplex::MoodPoint;
use crate::error::{Error, Result};
use crate::feedback::Verdict;
use crate::recommend::{IndexRows, IndexSong};
use crate::song::{AudioFeatures, Song, SpotifyId, Track};

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

    fn origin(&self) -> Result<CatalogOrigin> {
        let rows = self
            .connection()?
            .query("SELECT value FROM meta WHERE key = 'catalog'", &[])?;
        let value: Option<String> = rows.first().map(|row| row.get(0));
        Ok(CatalogOrigin::from_meta(value.as_deref()))
    }

    fn catalog_generation(&self) -> Result<i64> {
        let rows = self
            .connection()?
            .query("SELECT COALESCE(MAX(id), 0)::BIGINT FROM imports", &[])?;
        Ok(rows.first().map_or(0, |row| row.get(0)))
    }

    fn song_count(&self) -> Result<u64> {
        self.connection()?.count("SELECT COUNT(*) FROM songs")
    }

    fn songs(&self, ids: &[i64]) -> Result<Vec<Song>> {
        let mut connection = self.connection()?;
        let sql_songs = "SELECT id, title, album, artist, spotify_id, link, valence, energy, tempo, popularity FROM songs WHERE id = ANY($1)";
        let found = connection.query(sql_songs, &[&ids])?;
        let filed = connection.query(
            "SELECT song_id, emotion FROM filings WHERE song_id = ANY($1)",
            &[&ids],
        )?;
        let mut emotions: HashMap<i64, Vec<Emotion>> = HashMap::new();
        for row in &filed {
            let name: &str = row.get(1);
            // A name this build does not know (a newer build's) is skipped.
            if let Ok(emotion) = name.parse() {
                emotions.entry(row.get(0)).or_default().push(emotion);
            }
        }
        let mut by_id: HashMap<i64, Track> = HashMap::new();
        for row in &found {
            by_id.insert(row.get(0), track_from_row(row)?);
        }
        Ok(ids
            .iter()
            .filter_map(|&id| {
                let track = by_id.remove(&id)?;
                let mut emotions = emotions.remove(&id).unwrap_or_default();
                emotions.sort();
                Some(Song {
                    id,
                    link: track.link(),
                    track,
                    emotions,
                })
            })
            .collect())
    }

    fn all_songs(&self) -> Result<Vec<Song>> {
        let mut connection = self.connection()?;
        let mut rows = connection.client.query_raw(
            "SELECT id, title, album, artist, spotify_id, link, valence, energy, tempo, popularity FROM songs ORDER BY id",
            std::iter::empty::<i64>(),
        )?;
        let mut songs = Vec::new();
        while let Some(row) = rows.next()? {
            let track = track_from_row(&row)?;
            songs.push(Song {
                id: row.get(0),
                link: track.link(),
                track,
                emotions: Vec::new(),
            });
        }
        Ok(songs)
    }

    fn listed_ids(&self, emotion: Emotion) -> Result<Vec<i64>> {
        let rows = self.connection()?.query(
            "SELECT s.id FROM filings f JOIN songs s ON s.id = f.song_id
             WHERE f.emotion = $1
             ORDER BY f.rank, COALESCE(s.popularity, 0) DESC, s.id",
            &[&emotion.name()],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn placed_songs(&self) -> Result<Vec<(i64, MoodPoint)>> {
        let rows = self.connection()?.query(
            "SELECT id, valence, energy FROM songs s
             WHERE valence IS NOT NULL AND energy IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM filings f WHERE f.song_id = s.id)
             ORDER BY id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), MoodPoint::new(row.get(1), row.get(2))))
            .collect())
    }

    fn listed_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows = self.connection()?.query(
            "SELECT emotion, COUNT(*) FROM filings GROUP BY emotion",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get::<_, i64>(1) as u64))
            .collect())
    }

    fn counts(&self) -> Result<(u64, u64, u64)> {
        let mut connection = self.connection()?;
        Ok((
            connection.count("SELECT COUNT(*) FROM songs WHERE spotify_id IS NOT NULL")?,
            connection.count("SELECT COUNT(*) FROM songs WHERE valence IS NOT NULL")?,
            connection.count("SELECT COUNT(*) FROM imports")?,
        ))
    }

    fn each_filing(&self, each: &mut dyn FnMut(i64, Emotion, u32)) -> Result<()> {
        let mut connection = self.connection()?;
        each_filing(&mut connection.client, each)
    }

    fn index_rows(&self, sink: &mut dyn IndexRows) -> Result<()> {
        let mut connection = self.connection()?;
        // One snapshot for songs and filings alike.
        let mut tx = connection
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        {
            let mut rows = tx.query_raw(
                "SELECT id, artist, valence, energy, popularity FROM songs ORDER BY id",
                std::iter::empty::<i64>(),
            )?;
            while let Some(row) = rows.next()? {
                let point = match (row.get::<_, Option<f32>>(2), row.get::<_, Option<f32>>(3)) {
                    (Some(valence), Some(energy)) => Some(MoodPoint::new(valence, energy)),
                    _ => None,
                };
                sink.song(IndexSong {
                    id: row.get(0),
                    artist: row.get(1),
                    point,
                    popularity: row.get::<_, Option<i64>>(4).unwrap_or(0).clamp(0, 100) as u8,
                });
            }
        }
        each_filing_in(&mut tx, &mut |song_id, emotion, rank| {
            sink.filing(song_id, emotion, rank)
        })?;
        tx.commit()?;
        Ok(())
    }

    fn record_feedback(&mut self, profile: &str, song_id: i64, verdict: Verdict) -> Result<()> {
        let mut connection = self.connection()?;
        let known = connection.query("SELECT 1 FROM songs WHERE id = $1", &[&song_id])?;
        if known.is_empty() {
            return Err(Error::UnknownSong(song_id));
        }
        let now = crate::store::import::now_secs();
        connection.query(
            "INSERT INTO feedback(profile, song_id, verdict, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (profile, song_id) DO UPDATE SET verdict = excluded.verdict, at = excluded.at",
            &[&profile, &song_id, &verdict_to_sql(verdict), &now],
        )?;
        Ok(())
    }

    fn clear_feedback(&mut self, profile: &str, song_id: i64) -> Result<()> {
        self.connection()?.query(
            "DELETE FROM feedback WHERE profile = $1 AND song_id = $2",
            &[&profile, &song_id],
        )?;
        Ok(())
    }

    fn feedback(&self, profile: &str) -> Result<Vec<(i64, Verdict)>> {
        let rows = self.connection()?.query(
            "SELECT song_id, verdict FROM feedback WHERE profile = $1 ORDER BY song_id",
            &[&profile],
        )?;
        Ok(rows
            .iter()
            .map(|row| {
                let verdict = if row.get::<_, i16>(1) > 0 {
                    Verdict::Like
                } else {
                    Verdict::Skip
                };
                (row.get(0), verdict)
            })
            .collect())
    }

    fn calibration(&self, profile: &str) -> Result<Option<String>> {
        let rows = self.connection()?.query(
            "SELECT offsets FROM calibrations WHERE profile = $1",
            &[&profile],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn set_calibration(&mut self, profile: &str, offsets_json: Option<&str>) -> Result<()> {
        let mut connection = self.connection()?;
        match offsets_json {
            Some(json) => connection.query(
                "INSERT INTO calibrations(profile, offsets, at) VALUES ($1, $2, $3)
                 ON CONFLICT (profile) DO UPDATE SET offsets = excluded.offsets, at = excluded.at",
                &[&profile, &json, &crate::store::import::now_secs()],
            )?,
            None => connection.query("DELETE FROM calibrations WHERE profile = $1", &[&profile])?,
        };
        Ok(())
    }

    fn session_seen(&self, session: &str) -> Result<HashSet<i64>> {
        let rows = self.connection()?.query(
            "SELECT song_id FROM session_seen WHERE session = $1",
            &[&session],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn save_session(&mut self, session: &str, seen: &HashSet<i64>) -> Result<()> {
        let ids: Vec<i64> = seen.iter().copied().collect();
        let mut connection = self.connection()?;
        let mut tx = connection.client.transaction()?;
        tx.execute("DELETE FROM session_seen WHERE session = $1", &[&session])?;
        tx.execute(
            "INSERT INTO session_seen(session, song_id)
             SELECT $1, id FROM songs WHERE id = ANY($2)
             ON CONFLICT DO NOTHING",
            &[&session, &ids],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn import(
        &mut self,
        source: &str,
        kind: super::import::ImportKind,
        body: &mut dyn FnMut(
            &mut dyn super::import::SongTable,
            &mut super::ImportSummary,
        ) -> Result<()>,
    ) -> Result<super::ImportSummary> {
        let mut connection = self.connection()?;
        import::run(&mut connection.client, source, kind, body)
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
