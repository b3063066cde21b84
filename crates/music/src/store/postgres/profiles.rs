//! What is kept per listener on PostgreSQL: verdicts, the songs a session has
//! seen, calibrations.

use std::collections::HashSet;

use super::{verdict_to_sql, PgStore};
use crate::error::{Error, Result};
use crate::feedback::Verdict;
use crate::store::ProfileRepository;

impl ProfileRepository for PgStore {
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
}
