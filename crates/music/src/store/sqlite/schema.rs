//! The store's schema, as numbered migrations.
//!
//! `PRAGMA user_version` records how many migrations a file has seen; on
//! open, the missing ones run in order, each in its own transaction. A file
//! from a newer build (a higher version than this list knows) is refused
//! rather than guessed at. Never edit a released migration; append one.

use rusqlite::{Connection, TransactionBehavior};

/// Migration `i` brings a store from version `i` to version `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: songs, their emotion lists, imports, feedback, sessions.
    r#"
    CREATE TABLE songs (
        id          INTEGER PRIMARY KEY,
        -- normalised "artist \x1f title": one row per song, however often imported
        key         TEXT NOT NULL UNIQUE,
        title       TEXT NOT NULL,
        album       TEXT NOT NULL,
        artist      TEXT NOT NULL,
        spotify_id  TEXT UNIQUE,
        link        TEXT,
        valence     REAL,
        energy      REAL,
        tempo       REAL,
        popularity  INTEGER,
        -- 'default' (embedded catalog) or 'user'
        origin      TEXT NOT NULL
    );
    -- A song's place in an emotion's list (the original's per-emotion files).
    CREATE TABLE filings (
        song_id    INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
        emotion    TEXT NOT NULL,
        rank       INTEGER NOT NULL,
        import_id  INTEGER NOT NULL,
        PRIMARY KEY (song_id, emotion)
    ) WITHOUT ROWID;
    CREATE INDEX filings_by_emotion ON filings(emotion, rank);
    CREATE TABLE imports (
        id        INTEGER PRIMARY KEY,
        source    TEXT NOT NULL,
        at        INTEGER NOT NULL,
        accepted  INTEGER NOT NULL,
        rejected  INTEGER NOT NULL
    );
    -- Latest verdict of a profile on a song: 1 like, -1 skip.
    CREATE TABLE feedback (
        profile  TEXT NOT NULL,
        song_id  INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
        verdict  INTEGER NOT NULL CHECK (verdict IN (-1, 1)),
        at       INTEGER NOT NULL,
        PRIMARY KEY (profile, song_id)
    ) WITHOUT ROWID;
    -- Songs a named session has been shown (no repeats until the pool is used up).
    CREATE TABLE session_seen (
        session  TEXT NOT NULL,
        song_id  INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
        PRIMARY KEY (session, song_id)
    ) WITHOUT ROWID;
    CREATE TABLE meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    "#,
    // 2: a profile's personal calibration (JSON offsets by emotion name).
    r#"
    CREATE TABLE calibrations (
        profile  TEXT PRIMARY KEY,
        offsets  TEXT NOT NULL,
        at       INTEGER NOT NULL
    );
    "#,
];

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The file's schema version.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Runs the migrations a file has not seen; returns the version it had.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    let found = version(conn)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        if version(&tx)? > index as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(found)
}
