//! What is kept per listener on SQLite: verdicts, the songs a session has
//! seen, calibrations.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::SqliteStore;
use crate::error::{Error, Result};
use crate::feedback::Verdict;
use crate::store::import::now_secs;
use crate::store::ProfileRepository;

/// A verdict as the store keeps it.
fn verdict_to_sql(verdict: Verdict) -> i64 {
    match verdict {
        Verdict::Like => 1,
        Verdict::Skip => -1,
    }
}

impl ProfileRepository for SqliteStore {
    /// Records `profile`'s verdict on a song; a new verdict replaces the old.
    fn record_feedback(&mut self, profile: &str, song_id: i64, verdict: Verdict) -> Result<()> {
        self.require_song(song_id)?;
        let now = now_secs();
        self.conn.execute(
            "INSERT INTO feedback(profile, song_id, verdict, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(profile, song_id) DO UPDATE SET verdict = excluded.verdict, at = excluded.at",
            params![profile, song_id, verdict_to_sql(verdict), now],
        )?;
        Ok(())
    }

    /// Forgets `profile`'s verdict on a song.
    fn clear_feedback(&mut self, profile: &str, song_id: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM feedback WHERE profile = ?1 AND song_id = ?2",
            params![profile, song_id],
        )?;
        Ok(())
    }

    /// All of `profile`'s verdicts, as (song id, verdict).
    fn feedback(&self, profile: &str) -> Result<Vec<(i64, Verdict)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT song_id, verdict FROM feedback WHERE profile = ?1 ORDER BY song_id",
        )?;
        let rows = statement.query_map([profile], |row| {
            let verdict = if row.get::<_, i64>(1)? > 0 {
                Verdict::Like
            } else {
                Verdict::Skip
            };
            Ok((row.get::<_, i64>(0)?, verdict))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Songs the named session has been shown.
    fn session_seen(&self, session: &str) -> Result<HashSet<i64>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT song_id FROM session_seen WHERE session = ?1")?;
        let rows = statement.query_map([session], |row| row.get::<_, i64>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replaces the set of songs the named session has been shown.
    fn save_session(&mut self, session: &str, seen: &HashSet<i64>) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM session_seen WHERE session = ?1", [session])?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO session_seen(session, song_id)
                 SELECT ?1, id FROM songs WHERE id = ?2",
            )?;
            for song_id in seen {
                insert.execute(params![session, song_id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn calibration(&self, profile: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT offsets FROM calibrations WHERE profile = ?1",
                [profile],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn set_calibration(&mut self, profile: &str, offsets_json: Option<&str>) -> Result<()> {
        match offsets_json {
            Some(json) => self.conn.execute(
                "INSERT INTO calibrations(profile, offsets, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(profile) DO UPDATE SET offsets = excluded.offsets, at = excluded.at",
                params![profile, json, now_secs()],
            )?,
            None => self
                .conn
                .execute("DELETE FROM calibrations WHERE profile = ?1", [profile])?,
        };
        Ok(())
    }
}

impl SqliteStore {
    fn require_song(&self, song_id: i64) -> Result<()> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM songs WHERE id = ?1)",
            [song_id],
            |row| row.get(0),
        )?;
        if exists {
            Ok(())
        } else {
            Err(Error::UnknownSong(song_id))
        }
    }
}
