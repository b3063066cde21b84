//! Imports into PostgreSQL: one transaction each, imports one at a time
//! (a transaction-scoped advisory lock), so that import ids, the catalog
//! generation servers watch, grow in commit order.

use postgres::{Client, Statement, Transaction};

use crate::error::Result;
use crate::store::import::{check_accepted, now_secs, totals, ImportKind, SongRow, SongTable};
use crate::store::ImportSummary;

/// The advisory lock key imports hold ("imports" in ASCII).
const IMPORT_LOCK: i64 = 0x0069_6d70_6f72_7473;

pub(super) fn run(
    client: &mut Client,
    source: &str,
    kind: ImportKind,
    body: &mut dyn FnMut(&mut dyn SongTable, &mut ImportSummary) -> Result<()>,
) -> Result<ImportSummary> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])?;
    if kind == ImportKind::Default {
        // Servers starting on an empty database at once all want to seed
        // it; the first to get the lock does, the others find it done.
        let seeded = tx.query_opt("SELECT 1 FROM meta WHERE key = 'catalog'", &[])?;
        if seeded.is_some() {
            return Ok(ImportSummary::default());
        }
    }
    let replace_default = matches!(
        kind,
        ImportKind::User {
            replace_default: true
        }
    );
    let mut summary = ImportSummary {
        replaced_default: replace_default,
        ..ImportSummary::default()
    };
    if replace_default {
        // Identity values are never handed out again: new songs get new
        // ids, whatever open pages and saved sessions still name.
        tx.execute("DELETE FROM songs", &[])?;
    }
    let import_id: i64 = tx
        .query_one(
            "INSERT INTO imports(source, at, accepted, rejected) VALUES ($1, $2, 0, 0) RETURNING id",
            &[&source, &now_secs()],
        )?
        .get(0);
    {
        let mut table = Table::new(&mut tx, import_id)?;
        body(&mut table, &mut summary)?;
    }
    // Returning early drops `tx`, which rolls back.
    check_accepted(source, &mut summary)?;
    let (accepted, rejected) = totals(&summary);
    tx.execute(
        "UPDATE imports SET accepted = $1, rejected = $2 WHERE id = $3",
        &[&accepted, &rejected, &import_id],
    )?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('catalog', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&kind.origin()],
    )?;
    tx.commit()?;
    Ok(summary)
}

/// Statements for writing songs inside one import transaction.
struct Table<'a, 't> {
    tx: &'a mut Transaction<'t>,
    import_id: i64,
    by_spotify_id: Statement,
    by_key: Statement,
    insert: Statement,
    update: Statement,
    file: Statement,
}

impl<'a, 't> Table<'a, 't> {
    fn new(tx: &'a mut Transaction<'t>, import_id: i64) -> Result<Self> {
        let by_spotify_id = tx.prepare("SELECT id FROM songs WHERE spotify_id = $1")?;
        let by_key = tx.prepare("SELECT id FROM songs WHERE key = $1")?;
        let insert = tx.prepare(
            "INSERT INTO songs(key, title, album, artist, spotify_id, link, valence, energy,
                               tempo, popularity, origin)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )?;
        let update = tx.prepare(
            "UPDATE songs SET
                album      = CASE WHEN album = '' THEN $2 ELSE album END,
                spotify_id = COALESCE(spotify_id, $3),
                link       = COALESCE($4, link),
                valence    = COALESCE($5, valence),
                energy     = COALESCE($6, energy),
                tempo      = COALESCE($7, tempo),
                popularity = COALESCE($8, popularity),
                origin     = $9
             WHERE id = $1",
        )?;
        let file = tx.prepare(
            "INSERT INTO filings(song_id, emotion, rank, import_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (song_id, emotion) DO UPDATE SET
                rank = CASE WHEN filings.import_id = excluded.import_id
                            THEN LEAST(filings.rank, excluded.rank) ELSE excluded.rank END,
                import_id = excluded.import_id",
        )?;
        Ok(Table {
            tx,
            import_id,
            by_spotify_id,
            by_key,
            insert,
            update,
            file,
        })
    }
}

impl SongTable for Table<'_, '_> {
    fn id_by_spotify_id(&mut self, spotify_id: &str) -> Result<Option<i64>> {
        let row = self.tx.query_opt(&self.by_spotify_id, &[&spotify_id])?;
        Ok(row.map(|row| row.get(0)))
    }

    fn id_by_key(&mut self, key: &str) -> Result<Option<i64>> {
        let row = self.tx.query_opt(&self.by_key, &[&key])?;
        Ok(row.map(|row| row.get(0)))
    }

    fn insert(&mut self, row: &SongRow<'_>) -> Result<i64> {
        let inserted = self.tx.query_one(
            &self.insert,
            &[
                &row.key,
                &row.title,
                &row.album,
                &row.artist,
                &row.spotify_id,
                &row.link,
                &row.valence,
                &row.energy,
                &row.tempo,
                &row.popularity,
                &row.origin,
            ],
        )?;
        Ok(inserted.get(0))
    }

    fn update(&mut self, id: i64, row: &SongRow<'_>) -> Result<()> {
        self.tx.execute(
            &self.update,
            &[
                &id,
                &row.album,
                &row.spotify_id,
                &row.link,
                &row.valence,
                &row.energy,
                &row.tempo,
                &row.popularity,
                &row.origin,
            ],
        )?;
        Ok(())
    }

    fn file(&mut self, song_id: i64, emotion: &str, rank: i64) -> Result<()> {
        self.tx
            .execute(&self.file, &[&song_id, &emotion, &rank, &self.import_id])?;
        Ok(())
    }
}
