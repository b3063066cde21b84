//! What played, per profile, on SQLite.

use rusqlite::params;

use super::SqliteStore;
use crate::error::Result;
use crate::store::plays::{mood_from_sql, mood_to_sql, Play, PlayRepository, PLAYS_KEPT};

impl PlayRepository for SqliteStore {
    fn record_play(&mut self, profile: &str, play: &Play) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO plays(profile, at_ms, song_id, title, artist, spotify_id, mood, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                profile,
                play.at_ms,
                play.song_id,
                play.title,
                play.artist,
                play.spotify_id,
                mood_to_sql(play.mood),
                play.reason
            ],
        )?;
        tx.execute(
            "DELETE FROM plays WHERE profile = ?1 AND id NOT IN
               (SELECT id FROM plays WHERE profile = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2)",
            params![profile, PLAYS_KEPT as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn plays(&self, profile: &str, limit: usize) -> Result<Vec<Play>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT at_ms, song_id, title, artist, spotify_id, mood, reason FROM plays
             WHERE profile = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(params![profile, limit as i64], |row| {
            Ok(Play {
                at_ms: row.get(0)?,
                song_id: row.get(1)?,
                title: row.get(2)?,
                artist: row.get(3)?,
                spotify_id: row.get(4)?,
                mood: mood_from_sql(row.get(5)?),
                reason: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn forget_plays(&mut self, profile: &str) -> Result<u64> {
        Ok(self
            .conn
            .execute("DELETE FROM plays WHERE profile = ?1", [profile])? as u64)
    }
}
