//! What played, per profile, on PostgreSQL.

use super::PgStore;
use crate::error::Result;
use crate::store::plays::{mood_from_sql, mood_to_sql, Play, PlayRepository, PLAYS_KEPT};

impl PlayRepository for PgStore {
    fn record_play(&mut self, profile: &str, play: &Play) -> Result<()> {
        let mut connection = self.connection()?;
        let mut tx = connection.client.transaction()?;
        tx.execute(
            "INSERT INTO plays(profile, at_ms, song_id, title, artist, spotify_id, mood, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &profile,
                &play.at_ms,
                &play.song_id,
                &play.title,
                &play.artist,
                &play.spotify_id,
                &mood_to_sql(play.mood),
                &play.reason,
            ],
        )?;
        tx.execute(
            "DELETE FROM plays WHERE profile = $1 AND id NOT IN
               (SELECT id FROM plays WHERE profile = $1 ORDER BY at_ms DESC, id DESC LIMIT $2)",
            &[&profile, &(PLAYS_KEPT as i64)],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn plays(&self, profile: &str, limit: usize) -> Result<Vec<Play>> {
        let rows = self.connection()?.query(
            "SELECT at_ms, song_id, title, artist, spotify_id, mood, reason FROM plays
             WHERE profile = $1 ORDER BY at_ms DESC, id DESC LIMIT $2",
            &[&profile, &(limit as i64)],
        )?;
        Ok(rows
            .iter()
            .map(|row| Play {
                at_ms: row.get(0),
                song_id: row.get(1),
                title: row.get(2),
                artist: row.get(3),
                spotify_id: row.get(4),
                mood: mood_from_sql(row.get(5)),
                reason: row.get(6),
            })
            .collect())
    }

    fn forget_plays(&mut self, profile: &str) -> Result<u64> {
        let mut connection = self.connection()?;
        Ok(connection
            .client
            .execute("DELETE FROM plays WHERE profile = $1", &[&profile])?)
    }
}
