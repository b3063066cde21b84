//! Imports into SQLite: one `IMMEDIATE` transaction each, with the
//! statements the shared merge rules (`store::import`) write through.

use rusqlite::{params, OptionalExtension, Statement, Transaction, TransactionBehavior};

use super::SqliteStore;
use crate::error::Result;
use crate::store::import::{check_accepted, now_secs, totals, ImportKind, SongRow, SongTable};
use crate::store::ImportSummary;

/// Page cache during imports, in KiB (negative cache_size means KiB).
const IMPORT_CACHE_KIB: i64 = -256 * 1024;
/// SQLite's default page cache, in KiB.
const DEFAULT_CACHE_KIB: i64 = -2000;

impl SqliteStore {
    pub(super) fn import(
        &mut self,
        source: &str,
        kind: ImportKind,
        body: &mut dyn FnMut(&mut dyn SongTable, &mut ImportSummary) -> Result<()>,
    ) -> Result<ImportSummary> {
        // A large import inserts into the song-key index in random order; a
        // page cache the size of the index keeps that off the disk. SQLite
        // only takes what it uses, and the default comes back afterwards.
        self.conn
            .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
        let result = self.import_in_transaction(source, kind, body);
        let restored = self
            .conn
            .pragma_update(None, "cache_size", DEFAULT_CACHE_KIB);
        // The import's own error matters more than the cache setting's.
        let summary = result?;
        restored?;
        Ok(summary)
    }

    fn import_in_transaction(
        &mut self,
        source: &str,
        kind: ImportKind,
        body: &mut dyn FnMut(&mut dyn SongTable, &mut ImportSummary) -> Result<()>,
    ) -> Result<ImportSummary> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if kind == ImportKind::Default {
            // Processes opening a new file at once all want to seed it; the
            // first to get the write lock does, the others find it done.
            let seeded: Option<i64> = tx
                .query_row("SELECT 1 FROM meta WHERE key = 'catalog'", [], |row| {
                    row.get(0)
                })
                .optional()?;
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
        let placeholder = if replace_default {
            empty_keeping_ids(&tx)?
        } else {
            None
        };
        let now = now_secs();
        tx.execute(
            "INSERT INTO imports(source, at, accepted, rejected) VALUES (?1, ?2, 0, 0)",
            params![source, now],
        )?;
        let import_id = tx.last_insert_rowid();
        {
            let mut table = Table::new(&tx, import_id)?;
            body(&mut table, &mut summary)?;
        }
        if let Some(id) = placeholder {
            tx.execute("DELETE FROM songs WHERE id = ?1", [id])?;
        }
        // Returning early drops `tx`, which rolls back (the default
        // catalog's removal included).
        check_accepted(source, &mut summary)?;
        let (accepted, rejected) = totals(&summary);
        tx.execute(
            "UPDATE imports SET accepted = ?1, rejected = ?2 WHERE id = ?3",
            params![accepted, rejected, import_id],
        )?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('catalog', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [kind.origin()],
        )?;
        tx.commit()?;
        Ok(summary)
    }
}

/// Empties the songs table without letting their ids be handed out again.
///
/// SQLite gives a new row the highest id + 1, so after `DELETE FROM songs`
/// ids would start again at 1 and name other songs than they did in open
/// pages and saved sessions. A placeholder row at the old highest id (with
/// a key no real song has: keys are never empty) keeps new ids above every
/// old one; the caller deletes it, returned here, before committing. (When
/// the highest id is a library song, which stays, it holds the place.)
fn empty_keeping_ids(tx: &Transaction<'_>) -> Result<Option<i64>> {
    let highest: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM songs", [], |row| {
        row.get(0)
    })?;
    // The listener's own music stays: it is not part of any catalog.
    tx.execute("DELETE FROM songs WHERE origin <> 'library'", [])?;
    let kept: Option<i64> = tx
        .query_row("SELECT id FROM songs WHERE id = ?1", [highest], |row| {
            row.get(0)
        })
        .optional()?;
    if kept.is_some() {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO songs(id, key, title, album, artist, origin)
         VALUES (?1, '', '', '', '', 'placeholder')",
        [highest],
    )?;
    Ok(Some(highest))
}

/// Prepared statements for writing songs inside one import transaction.
struct Table<'t> {
    import_id: i64,
    by_spotify_id: Statement<'t>,
    by_key: Statement<'t>,
    insert: Statement<'t>,
    update: Statement<'t>,
    file: Statement<'t>,
}

impl<'t> Table<'t> {
    fn new(tx: &'t Transaction<'_>, import_id: i64) -> Result<Self> {
        Ok(Table {
            import_id,
            by_spotify_id: tx.prepare("SELECT id FROM songs WHERE spotify_id = ?1")?,
            by_key: tx.prepare("SELECT id FROM songs WHERE key = ?1")?,
            insert: tx.prepare(
                "INSERT INTO songs(key, title, album, artist, spotify_id, link, valence, energy,
                                   tempo, popularity, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?,
            update: tx.prepare(
                "UPDATE songs SET
                    album      = CASE WHEN album = '' THEN ?2 ELSE album END,
                    spotify_id = COALESCE(spotify_id, ?3),
                    link       = COALESCE(?4, link),
                    valence    = COALESCE(?5, valence),
                    energy     = COALESCE(?6, energy),
                    tempo      = COALESCE(?7, tempo),
                    popularity = COALESCE(?8, popularity),
                    origin     = ?9
                 WHERE id = ?1",
            )?,
            file: tx.prepare(
                "INSERT INTO filings(song_id, emotion, rank, import_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(song_id, emotion) DO UPDATE SET
                    rank = CASE WHEN import_id = excluded.import_id
                                THEN MIN(rank, excluded.rank) ELSE excluded.rank END,
                    import_id = excluded.import_id",
            )?,
        })
    }
}

impl SongTable for Table<'_> {
    fn id_by_spotify_id(&mut self, spotify_id: &str) -> Result<Option<i64>> {
        Ok(self
            .by_spotify_id
            .query_row([spotify_id], |row| row.get(0))
            .optional()?)
    }

    fn id_by_key(&mut self, key: &str) -> Result<Option<i64>> {
        Ok(self.by_key.query_row([key], |row| row.get(0)).optional()?)
    }

    fn insert(&mut self, row: &SongRow<'_>) -> Result<i64> {
        Ok(self.insert.insert(params![
            row.key,
            row.title,
            row.album,
            row.artist,
            row.spotify_id,
            row.link,
            row.valence,
            row.energy,
            row.tempo,
            row.popularity,
            row.origin
        ])?)
    }

    fn update(&mut self, id: i64, row: &SongRow<'_>) -> Result<()> {
        self.update.execute(params![
            id,
            row.album,
            row.spotify_id,
            row.link,
            row.valence,
            row.energy,
            row.tempo,
            row.popularity,
            row.origin
        ])?;
        Ok(())
    }

    fn file(&mut self, song_id: i64, emotion: &str, rank: i64) -> Result<()> {
        self.file
            .execute(params![song_id, emotion, rank, self.import_id])?;
        Ok(())
    }
}
