//! `melodora bench --catalog N`: import, index and recommend on a synthetic
//! catalog of N songs, with the process's memory.
//!
//! The catalog is realistic in shape: 70% of the songs carry Spotify ids and
//! audio features spread over the valence/energy square, 30% are list songs
//! filed under one emotion without features; about ten songs per artist.
//! Generating the CSV is not timed; importing it (parse, validate, write,
//! commit) is. Recommendation latency is measured per call over a mix of
//! emotions and both modes, with sessions that accumulate history and a
//! profile with likes and skips, so that every rule is exercised.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use melodora_core::{Emotion, SplitMix64};
use melodora_music::import::catalog_files;
use melodora_music::{
    CatalogSnapshot, ImportOptions, Mode, Recommender, Request, Session, SnapshotCatalog, Store,
    Verdict, DEFAULT_LIMIT,
};
use serde::Serialize;

use crate::report::format_table;

/// What `bench --catalog` measured.
#[derive(Serialize)]
pub struct CatalogBench {
    /// "sqlite" or "postgres".
    pub store: &'static str,
    pub songs: u64,
    pub csv_mb: f64,
    pub import_s: f64,
    pub index_s: f64,
    pub index_mb: f64,
    pub recommend_calls: usize,
    pub recommend_p50_ms: f64,
    pub recommend_p99_ms: f64,
    pub recommend_max_ms: f64,
    pub pick_p50_ms: f64,
    pub pick_p99_ms: f64,
    /// The same calls on the catalog's snapshot (what a static site's
    /// browser runs, here natively).
    pub snapshot_p50_ms: f64,
    pub snapshot_p99_ms: f64,
    pub match_p99_ms: f64,
    pub uplift_p99_ms: f64,
    pub rss_mb: Option<f64>,
    pub peak_rss_mb: Option<f64>,
}

/// Runs the benchmark on `songs` synthetic songs with `calls`
/// recommendations; writes the catalog's snapshot to `snapshot_out` if given.
pub fn run(
    songs: u64,
    calls: usize,
    snapshot_out: Option<&Path>,
    database: Option<&str>,
    json: bool,
) -> Result<()> {
    let work = tempfile::tempdir().context("cannot create a scratch directory")?;
    let csv_path = work.path().join("synthetic.csv");
    write_synthetic_catalog(&csv_path, songs)?;
    let csv_mb = std::fs::metadata(&csv_path)?.len() as f64 / 1e6;

    let mut store = match database {
        Some(url) => {
            let store = Store::connect_unseeded(url)?;
            anyhow::ensure!(
                store.song_count()? == 0,
                "{} already holds songs; benchmark on an empty database",
                store.location()
            );
            store
        }
        None => Store::open(&work.path().join("data"))?,
    };
    let files = catalog_files(&csv_path, None)?;
    let started = Instant::now();
    let summary = store.import_files(
        &files,
        ImportOptions {
            strict: true,
            add: false,
        },
    )?;
    let import_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        summary.songs_added == songs,
        "imported {} of {songs} songs",
        summary.songs_added
    );

    let started = Instant::now();
    let recommender = Recommender::load(&store)?;
    let index_s = started.elapsed().as_secs_f64();

    // A profile with 20 likes and 20 skips spread over the catalog (ids
    // in order; they need not start at 1).
    let snapshot = store.snapshot()?;
    let ids: Vec<i64> = snapshot.songs.iter().map(|s| s.id).collect();
    for i in 0..40usize {
        let id = ids[(i * 7919 * 101) % ids.len()];
        let verdict = if i % 2 == 0 {
            Verdict::Like
        } else {
            Verdict::Skip
        };
        store.record_feedback("bench", id, verdict)?;
    }
    let feedback = store.feedback("bench")?;

    let mut sessions: Vec<Session> = (0..14).map(|s| Session::new("bench", s)).collect();
    let mut full_ms = Vec::with_capacity(calls);
    let mut by_mode: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut pick_ms = Vec::with_capacity(calls);
    for call in 0..calls {
        let request = request_for(call);
        let (emotion, mode) = (request.emotion, request.mode);
        let session = &mut sessions[call % 14];
        let started = Instant::now();
        let list = recommender.recommend(&store, &request, session)?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        full_ms.push(ms);
        by_mode[usize::from(mode == Mode::Uplift)].push(ms);
        anyhow::ensure!(list.len() == DEFAULT_LIMIT, "short list for {emotion}");

        let started = Instant::now();
        let picks = recommender.pick(&request, session, &feedback);
        pick_ms.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(picks.len() == DEFAULT_LIMIT, "short list for {emotion}");
    }
    let (rss_mb, peak_rss_mb) = memory_mb();
    let mut snapshot_ms = snapshot_lists(snapshot, calls, &feedback, snapshot_out)?;
    let result = CatalogBench {
        store: if database.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        songs,
        csv_mb,
        import_s,
        index_s,
        index_mb: recommender.index().heap_bytes() as f64 / 1e6,
        recommend_calls: calls,
        recommend_p50_ms: percentile(&mut full_ms, 0.50),
        recommend_p99_ms: percentile(&mut full_ms, 0.99),
        recommend_max_ms: percentile(&mut full_ms, 1.0),
        pick_p50_ms: percentile(&mut pick_ms, 0.50),
        pick_p99_ms: percentile(&mut pick_ms, 0.99),
        snapshot_p50_ms: percentile(&mut snapshot_ms, 0.50),
        snapshot_p99_ms: percentile(&mut snapshot_ms, 0.99),
        match_p99_ms: percentile(&mut by_mode[0], 0.99),
        uplift_p99_ms: percentile(&mut by_mode[1], 0.99),
        rss_mb,
        peak_rss_mb,
    };
    print_result(&result, json)
}

fn print_result(r: &CatalogBench, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(r)?);
        return Ok(());
    }
    let mb = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.0} MB"));
    let rows = vec![
        vec!["store".into(), r.store.to_string()],
        vec!["songs".into(), r.songs.to_string()],
        vec!["CSV size".into(), format!("{:.1} MB", r.csv_mb)],
        vec![
            "import (one transaction)".into(),
            format!("{:.2} s", r.import_s),
        ],
        vec!["index load".into(), format!("{:.2} s", r.index_s)],
        vec!["index heap".into(), format!("{:.0} MB", r.index_mb)],
        vec![
            format!("recommend, {} calls: p50 / p99 / max", r.recommend_calls),
            format!(
                "{:.3} / {:.3} / {:.3} ms",
                r.recommend_p50_ms, r.recommend_p99_ms, r.recommend_max_ms
            ),
        ],
        vec![
            "  p99 in match / uplift mode".into(),
            format!("{:.3} / {:.3} ms", r.match_p99_ms, r.uplift_p99_ms),
        ],
        vec![
            "  index search alone: p50 / p99".into(),
            format!("{:.3} / {:.3} ms", r.pick_p50_ms, r.pick_p99_ms),
        ],
        vec![
            "  on the catalog's snapshot (the browser's recommender, native): p50 / p99".into(),
            format!("{:.3} / {:.3} ms", r.snapshot_p50_ms, r.snapshot_p99_ms),
        ],
        vec![
            "resident memory now / peak".into(),
            format!("{} / {}", mb(r.rss_mb), mb(r.peak_rss_mb)),
        ],
    ];
    print!("{}", format_table(&["measure", "value"], &rows));
    Ok(())
}

/// The call mix of [`run`] on the catalog's snapshot (fresh sessions): the
/// per-call milliseconds. Writes the snapshot to `out` if given.
fn snapshot_lists(
    snapshot: CatalogSnapshot,
    calls: usize,
    feedback: &[(i64, Verdict)],
    out: Option<&Path>,
) -> Result<Vec<f64>> {
    if let Some(out) = out {
        std::fs::write(out, snapshot.to_json())
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let catalog = SnapshotCatalog::new(snapshot);
    let mut sessions: Vec<Session> = (0..14).map(|s| Session::new("bench", s)).collect();
    let mut ms = Vec::with_capacity(calls);
    for call in 0..calls {
        let request = request_for(call);
        let started = Instant::now();
        let list = catalog.recommend(&request, &mut sessions[call % 14], feedback);
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(list.len() == DEFAULT_LIMIT, "short list");
    }
    Ok(ms)
}

/// Call `call` of the mix: the seven emotions in turn, seven calls in
/// match mode then seven in uplift.
fn request_for(call: usize) -> Request {
    Request {
        emotion: Emotion::ALL[call % 7],
        mode: if call % 14 < 7 {
            Mode::Match
        } else {
            Mode::Uplift
        },
        limit: DEFAULT_LIMIT,
        from: melodora_music::Source::All,
    }
}

/// Nearest-rank percentile (sorts `values`).
fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// (VmRSS, VmHWM) in MB, where /proc says.
fn memory_mb() -> (Option<f64>, Option<f64>) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (None, None);
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1e3)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Writes `songs` synthetic songs as an emotion-column catalog.
fn write_synthetic_catalog(path: &std::path::Path, songs: u64) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(
        out,
        "title,album,artist,spotify_id,emotion,valence,energy,tempo,popularity"
    )?;
    // Seeded: every run benchmarks the same catalog.
    let mut rng = SplitMix64::new(0x5EED);
    for i in 0..songs {
        let artist = rng.next_u64() % (songs / 10).max(1);
        let popularity = rng.next_u64() % 101;
        if rng.next_u64() % 10 < 7 {
            let valence = rng.unit();
            let energy = rng.unit();
            let tempo = 60.0 + rng.unit() * 120.0;
            writeln!(
                out,
                "Song {i},Album {},Artist {artist},{},,{valence:.4},{energy:.4},{tempo:.1},{popularity}",
                i / 12,
                spotify_like_id(i)
            )?;
        } else {
            let emotion = Emotion::ALL[(rng.next_u64() % 7) as usize];
            writeln!(
                out,
                "Song {i},Album {},Artist {artist},,{emotion},,,,{popularity}",
                i / 12
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A 22-character base-62 id unique to `i`.
fn spotify_like_id(i: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i;
    let mut id = vec![b'0'; 22];
    for slot in id.iter_mut().rev().take(11) {
        *slot = DIGITS[(x % 62) as usize];
        x /= 62;
    }
    let mut y = i;
    for slot in id.iter_mut().take(11) {
        *slot = DIGITS[(y % 62) as usize];
        y /= 62;
    }
    String::from_utf8(id).expect("ASCII")
}
