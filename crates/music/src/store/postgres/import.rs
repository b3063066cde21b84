//! Imports into PostgreSQL: one transaction each, imports one at a time
//! (a transaction-scoped advisory lock), so that import ids, the catalog
//! generation servers watch, grow in commit order.
//!
//! A row at a time would cost a round trip per lookup and per write (a
//! million songs in minutes), so an import runs in bulk, with the merge
//! rules of `store::import` unchanged:
//!
//! 1. the import's rows are read once for their keys and Spotify ids, which
//!    are copied to the server to fetch the known songs they name;
//! 2. the rows are read again and merged in memory ([`MemoryTable`], the
//!    same lookups, inserts and updates the rules make, against those known
//!    songs and the import's own new ones);
//! 3. new songs, changed songs and filings go to the server with binary
//!    `COPY`, and from temporary tables into `songs` and `filings`.

use std::collections::HashMap;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, Transaction};

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
    if replace_default {
        // Identity values are never handed out again: new songs get new
        // ids, whatever open pages and saved sessions still name.
        // The listener's own music stays: it is not part of any catalog.
        tx.execute("DELETE FROM songs WHERE origin <> 'library'", &[])?;
    }

    // 1. The keys and Spotify ids the rows name, and the known songs.
    let mut names = NameCollector::default();
    body(&mut names, &mut ImportSummary::default())?;
    let known = known_songs(&mut tx, &names)?;

    // 2. The merge, in memory.
    let mut summary = ImportSummary {
        replaced_default: replace_default,
        ..ImportSummary::default()
    };
    let mut table = MemoryTable::new(known);
    body(&mut table, &mut summary)?;
    // Returning early drops `tx`, which rolls back.
    check_accepted(source, &mut summary)?;

    // 3. The writes, in bulk.
    let import_id: i64 = tx
        .query_one(
            "INSERT INTO imports(source, at, accepted, rejected) VALUES ($1, $2, 0, 0) RETURNING id",
            &[&source, &now_secs()],
        )?
        .get(0);
    table.write(&mut tx, import_id)?;
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

/// The first pass: every key and Spotify id the rows name, and nothing
/// found (so that every row is read).
#[derive(Default)]
struct NameCollector {
    keys: Vec<String>,
    spotify_ids: Vec<String>,
    next: i64,
}

impl SongTable for NameCollector {
    fn id_by_spotify_id(&mut self, spotify_id: &str) -> Result<Option<i64>> {
        self.spotify_ids.push(spotify_id.to_owned());
        Ok(None)
    }

    fn id_by_key(&mut self, key: &str) -> Result<Option<i64>> {
        self.keys.push(key.to_owned());
        Ok(None)
    }

    fn insert(&mut self, _row: &SongRow<'_>) -> Result<i64> {
        self.next += 1;
        Ok(self.next)
    }

    fn update(&mut self, _id: i64, _row: &SongRow<'_>) -> Result<()> {
        Ok(())
    }

    fn file(&mut self, _song_id: i64, _emotion: &str, _rank: i64) -> Result<()> {
        Ok(())
    }
}

/// A song as the merge sees it: known (with its id) or new.
struct Merged {
    id: Option<i64>,
    key: String,
    title: String,
    album: String,
    artist: String,
    spotify_id: Option<String>,
    link: Option<String>,
    valence: Option<f32>,
    energy: Option<f32>,
    tempo: Option<f32>,
    popularity: Option<i64>,
    origin: &'static str,
    changed: bool,
}

/// The known songs whose key or Spotify id an import names.
fn known_songs(tx: &mut Transaction<'_>, names: &NameCollector) -> Result<Vec<Merged>> {
    tx.batch_execute("CREATE TEMP TABLE import_names (key TEXT, spotify_id TEXT) ON COMMIT DROP")?;
    let writer = tx.copy_in("COPY import_names (key, spotify_id) FROM STDIN BINARY")?;
    let mut writer = BinaryCopyInWriter::new(writer, &[Type::TEXT, Type::TEXT]);
    let none: Option<&str> = None;
    for key in &names.keys {
        writer.write(&[key, &none])?;
    }
    for spotify_id in &names.spotify_ids {
        writer.write(&[&none, spotify_id])?;
    }
    writer.finish()?;
    let rows = tx.query(
        "SELECT id, key, title, album, artist, spotify_id, link, valence, energy, tempo, popularity, origin
         FROM songs
         WHERE key IN (SELECT key FROM import_names WHERE key IS NOT NULL)
            OR spotify_id IN (SELECT spotify_id FROM import_names WHERE spotify_id IS NOT NULL)
         ORDER BY id",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|row| Merged {
            id: Some(row.get(0)),
            key: row.get(1),
            title: row.get(2),
            album: row.get(3),
            artist: row.get(4),
            spotify_id: row.get(5),
            link: row.get(6),
            valence: row.get(7),
            energy: row.get(8),
            tempo: row.get(9),
            popularity: row.get(10),
            origin: if row.get::<_, &str>(11) == "default" {
                "default"
            } else {
                "user"
            },
            changed: false,
        })
        .collect())
}

/// The second pass: the songs table as the database's unique indexes
/// would have it, in memory. Handles are indices into `songs`.
struct MemoryTable {
    songs: Vec<Merged>,
    by_key: HashMap<String, usize>,
    by_spotify_id: HashMap<String, usize>,
    /// (song handle, emotion) -> rank: within one import, the best rank.
    filings: HashMap<(usize, String), i64>,
}

impl MemoryTable {
    fn new(known: Vec<Merged>) -> MemoryTable {
        let mut table = MemoryTable {
            songs: Vec::with_capacity(known.len()),
            by_key: HashMap::new(),
            by_spotify_id: HashMap::new(),
            filings: HashMap::new(),
        };
        for song in known {
            table.add(song);
        }
        table
    }

    fn add(&mut self, song: Merged) -> usize {
        let handle = self.songs.len();
        self.by_key.insert(song.key.clone(), handle);
        if let Some(id) = &song.spotify_id {
            self.by_spotify_id.insert(id.clone(), handle);
        }
        self.songs.push(song);
        handle
    }

    fn handle(id: i64) -> usize {
        usize::try_from(id).expect("handles are indices")
    }

    /// Writes new songs, changed songs and filings.
    fn write(self, tx: &mut Transaction<'_>, import_id: i64) -> Result<()> {
        let new = self.songs.iter().filter(|s| s.id.is_none()).count() as i64;
        // A block of ids for the new songs, in the order they were met.
        let first: i64 = if new > 0 {
            let first: i64 = tx
                .query_one("SELECT nextval(pg_get_serial_sequence('songs', 'id'))", &[])?
                .get(0);
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('songs', 'id'), $1)",
                &[&(first + new - 1)],
            )?;
            first
        } else {
            0
        };
        let mut ids = Vec::with_capacity(self.songs.len());
        let mut next = first;
        for song in &self.songs {
            ids.push(song.id.unwrap_or_else(|| {
                next += 1;
                next - 1
            }));
        }
        let song_types = [
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::FLOAT4,
            Type::FLOAT4,
            Type::FLOAT4,
            Type::INT8,
            Type::TEXT,
        ];
        let columns = "id, key, title, album, artist, spotify_id, link, valence, energy, tempo, popularity, origin";
        if new > 0 {
            let writer = tx.copy_in(&format!("COPY songs ({columns}) FROM STDIN BINARY"))?;
            let mut writer = BinaryCopyInWriter::new(writer, &song_types);
            for (song, id) in self.songs.iter().zip(&ids) {
                if song.id.is_none() {
                    write_song(&mut writer, *id, song)?;
                }
            }
            writer.finish()?;
        }
        if self.songs.iter().any(|s| s.changed) {
            tx.batch_execute("CREATE TEMP TABLE import_changed (LIKE songs) ON COMMIT DROP")?;
            let writer = tx.copy_in(&format!(
                "COPY import_changed ({columns}) FROM STDIN BINARY"
            ))?;
            let mut writer = BinaryCopyInWriter::new(writer, &song_types);
            for (song, id) in self.songs.iter().zip(&ids) {
                if song.changed {
                    write_song(&mut writer, *id, song)?;
                }
            }
            writer.finish()?;
            tx.batch_execute(
                "UPDATE songs s SET album = c.album, spotify_id = c.spotify_id, link = c.link,
                     valence = c.valence, energy = c.energy, tempo = c.tempo,
                     popularity = c.popularity, origin = c.origin
                 FROM import_changed c WHERE s.id = c.id",
            )?;
        }
        if !self.filings.is_empty() {
            tx.batch_execute(
                "CREATE TEMP TABLE import_filings (song_id BIGINT, emotion TEXT, rank BIGINT) ON COMMIT DROP",
            )?;
            let writer =
                tx.copy_in("COPY import_filings (song_id, emotion, rank) FROM STDIN BINARY")?;
            let mut writer = BinaryCopyInWriter::new(writer, &[Type::INT8, Type::TEXT, Type::INT8]);
            for ((handle, emotion), rank) in &self.filings {
                writer.write(&[&ids[*handle], emotion, rank])?;
            }
            writer.finish()?;
            // A later import's rank replaces an earlier one.
            tx.execute(
                "INSERT INTO filings (song_id, emotion, rank, import_id)
                 SELECT song_id, emotion, rank, $1 FROM import_filings
                 ON CONFLICT (song_id, emotion) DO UPDATE SET
                     rank = excluded.rank, import_id = excluded.import_id",
                &[&import_id],
            )?;
        }
        Ok(())
    }
}

fn write_song(writer: &mut BinaryCopyInWriter<'_>, id: i64, song: &Merged) -> Result<()> {
    writer.write(&[
        &id,
        &song.key,
        &song.title,
        &song.album,
        &song.artist,
        &song.spotify_id,
        &song.link,
        &song.valence,
        &song.energy,
        &song.tempo,
        &song.popularity,
        &song.origin,
    ])?;
    Ok(())
}

impl SongTable for MemoryTable {
    fn id_by_spotify_id(&mut self, spotify_id: &str) -> Result<Option<i64>> {
        Ok(self.by_spotify_id.get(spotify_id).map(|&h| h as i64))
    }

    fn id_by_key(&mut self, key: &str) -> Result<Option<i64>> {
        Ok(self.by_key.get(key).map(|&h| h as i64))
    }

    fn insert(&mut self, row: &SongRow<'_>) -> Result<i64> {
        let handle = self.add(Merged {
            id: None,
            key: row.key.to_owned(),
            title: row.title.to_owned(),
            album: row.album.to_owned(),
            artist: row.artist.to_owned(),
            spotify_id: row.spotify_id.map(str::to_owned),
            link: row.link.map(str::to_owned),
            valence: row.valence,
            energy: row.energy,
            tempo: row.tempo,
            popularity: row.popularity,
            origin: row.origin,
            changed: false,
        });
        Ok(handle as i64)
    }

    /// The SQL update of the SQLite backend, on the song in memory.
    fn update(&mut self, id: i64, row: &SongRow<'_>) -> Result<()> {
        let handle = MemoryTable::handle(id);
        let song = &mut self.songs[handle];
        if song.album.is_empty() {
            song.album = row.album.to_owned();
        }
        if song.spotify_id.is_none() {
            if let Some(spotify_id) = row.spotify_id {
                song.spotify_id = Some(spotify_id.to_owned());
                self.by_spotify_id.insert(spotify_id.to_owned(), handle);
            }
        }
        if let Some(link) = row.link {
            song.link = Some(link.to_owned());
        }
        song.valence = row.valence.or(song.valence);
        song.energy = row.energy.or(song.energy);
        song.tempo = row.tempo.or(song.tempo);
        song.popularity = row.popularity.or(song.popularity);
        song.origin = row.origin;
        song.changed = song.id.is_some();
        Ok(())
    }

    fn file(&mut self, song_id: i64, emotion: &str, rank: i64) -> Result<()> {
        let key = (MemoryTable::handle(song_id), emotion.to_owned());
        self.filings
            .entry(key)
            .and_modify(|best| *best = (*best).min(rank))
            .or_insert(rank);
        Ok(())
    }
}
