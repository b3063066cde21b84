//! Playlists without a server: the recommender over a catalog file, with
//! the listener's verdicts and session kept by the page.

use std::collections::HashSet;

use melodora_core::{Emotion, ErrorChain};
use melodora_music::{
    CatalogSnapshot, Mode, Recommendation, Request, Session, SnapshotCatalog, SnapshotImport,
    Verdict, DEFAULT_LIMIT,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// Longest list one call makes: as the server's API allows.
pub const MAX_LIMIT: u32 = 100;

/// The recommender and one listening session.
#[wasm_bindgen]
pub struct Playlists {
    /// The catalog as loaded or imported (kept for the next import and for
    /// the page to store).
    snapshot: CatalogSnapshot,
    catalog: SnapshotCatalog,
    session: Session,
    /// Which songs lists hold.
    from: melodora_music::Source,
}

/// What the page keeps of a session across reloads: the seed of its
/// tie-breaking and the songs already shown (they wait for a new round).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    /// The session's seed.
    pub seed: u64,
    /// Ids of songs already shown.
    pub seen: Vec<i64>,
}

#[wasm_bindgen]
impl Playlists {
    /// Loads a catalog file (JSON text, as `melodora site` writes it) and
    /// starts a session whose tie-breaking follows `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(catalog_json: &str, seed: f64) -> Result<Playlists, JsError> {
        Playlists::load(catalog_json, seed as u64).map_err(|e| JsError::new(&e))
    }

    /// Songs in the catalog.
    #[wasm_bindgen(js_name = songCount)]
    pub fn song_count(&self) -> u32 {
        self.catalog.len() as u32
    }

    /// Library songs in the catalog (a site written with `--library`).
    #[wasm_bindgen(js_name = librarySongCount)]
    pub fn library_song_count(&self) -> u32 {
        self.snapshot
            .songs
            .iter()
            .filter(|song| song.library.is_some())
            .count() as u32
    }

    /// Which songs later lists hold: `all`, `library` or `catalog`.
    #[wasm_bindgen(js_name = setSource)]
    pub fn set_source(&mut self, source: &str) -> Result<(), JsError> {
        self.from = source.parse().map_err(|e: String| JsError::new(&e))?;
        Ok(())
    }

    /// A list for `emotion` (a FER name or the original's) in `mode`
    /// (`match` or `uplift`), at most `limit` songs, following `feedback`
    /// (JSON: `[[song_id, "like" | "skip"], ...]`); as JSON, the
    /// recommendations the server's `songs` message carries.
    pub fn recommend(
        &mut self,
        emotion: &str,
        mode: &str,
        limit: u32,
        feedback_json: &str,
    ) -> Result<String, JsError> {
        let list = self
            .list(emotion, mode, limit, feedback_json)
            .map_err(|e| JsError::new(&e))?;
        serde_json::to_string(&list).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The session as JSON ([`SessionState`]), for the page to keep.
    #[wasm_bindgen(js_name = sessionJson)]
    pub fn session_json(&self) -> String {
        serde_json::to_string(&self.session_state()).expect("a session serialises")
    }

    /// Imports catalog CSVs chosen by the listener, as `melodora catalog
    /// import` would: `names[i]` (e.g. `sad.csv`, which files its rows under
    /// sad) is `sizes[i]` bytes of `bytes`, the files one after another.
    /// Answers with the report as JSON ([`SnapshotImport`]); the catalog
    /// is unchanged when nothing could be imported.
    #[wasm_bindgen(js_name = importFiles)]
    pub fn import_files(
        &mut self,
        names: Vec<String>,
        sizes: &[u32],
        bytes: &[u8],
    ) -> Result<String, JsError> {
        let report = self
            .import(&names, sizes, bytes)
            .map_err(|e| JsError::new(&e))?;
        Ok(serde_json::to_string(&report).expect("a report serialises"))
    }

    /// The catalog as JSON, for the page to keep an imported one.
    #[wasm_bindgen(js_name = snapshotJson)]
    pub fn snapshot_json(&self) -> String {
        self.snapshot.to_json()
    }

    /// Continues a session the page kept ([`Playlists::session_json`]).
    #[wasm_bindgen(js_name = restoreSession)]
    pub fn restore_session(&mut self, json: &str) -> Result<(), JsError> {
        let state: SessionState = serde_json::from_str(json)
            .map_err(|e| JsError::new(&format!("a kept session: {e}")))?;
        self.restore(state);
        Ok(())
    }
}

impl Playlists {
    /// [`Playlists::new`] with Rust errors.
    pub fn load(catalog_json: &str, seed: u64) -> Result<Playlists, String> {
        let snapshot = CatalogSnapshot::from_json(catalog_json).map_err(|e| e.to_string())?;
        Ok(Playlists {
            catalog: SnapshotCatalog::new(snapshot.clone()),
            snapshot,
            session: Session::new("default", seed),
            from: melodora_music::Source::All,
        })
    }

    /// [`Playlists::import_files`] with Rust values.
    pub fn import(
        &mut self,
        names: &[String],
        sizes: &[u32],
        bytes: &[u8],
    ) -> Result<SnapshotImport, String> {
        if names.len() != sizes.len()
            || sizes.iter().map(|&n| n as usize).sum::<usize>() != bytes.len()
        {
            return Err("the files' names, sizes and bytes do not agree".into());
        }
        let mut files = Vec::with_capacity(names.len());
        let mut at = 0;
        for (name, &size) in names.iter().zip(sizes) {
            files.push((name.clone(), bytes[at..at + size as usize].to_vec()));
            at += size as usize;
        }
        let report = self
            .snapshot
            .import(&files)
            .map_err(|e| ErrorChain(&e).to_string())?;
        self.catalog = SnapshotCatalog::new(self.snapshot.clone());
        let kept = self.session_state();
        self.restore(kept);
        Ok(report)
    }

    /// [`Playlists::recommend`] with Rust values.
    pub fn list(
        &mut self,
        emotion: &str,
        mode: &str,
        limit: u32,
        feedback_json: &str,
    ) -> Result<Vec<Recommendation>, String> {
        let emotion: Emotion = emotion.parse().map_err(|e| format!("{e}"))?;
        let mode: Mode = mode.parse()?;
        if limit == 0 || limit > MAX_LIMIT {
            return Err(format!("a list is 1 to {MAX_LIMIT} songs, not {limit}"));
        }
        let feedback: Vec<(i64, Verdict)> = if feedback_json.trim().is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(feedback_json).map_err(|e| format!("feedback: {e}"))?
        };
        let request = Request {
            emotion,
            mode,
            limit: limit as usize,
            from: self.from,
        };
        Ok(self
            .catalog
            .recommend(&request, &mut self.session, &feedback))
    }

    /// The session, as the page keeps it.
    pub fn session_state(&self) -> SessionState {
        let mut seen: Vec<i64> = self.session.seen.iter().copied().collect();
        seen.sort_unstable();
        SessionState {
            seed: self.session.seed,
            seen,
        }
    }

    /// Continues a kept session; songs the catalog no longer has are dropped.
    pub fn restore(&mut self, state: SessionState) {
        let seen: HashSet<i64> = state
            .seen
            .into_iter()
            .filter(|id| self.catalog.contains(*id))
            .collect();
        self.session = Session {
            profile: "default".to_string(),
            seed: state.seed,
            seen,
        };
    }
}

/// The server's default list length, for the page.
#[wasm_bindgen(js_name = defaultLimit)]
pub fn default_limit() -> u32 {
    DEFAULT_LIMIT as u32
}
