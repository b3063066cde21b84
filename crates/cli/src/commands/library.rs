//! `melodora library`: the listener's own music. `add DIR` hears every
//! audio file under a folder and keeps it in the store, `scan` hears what
//! changed since, `list` shows the songs (or, `--skipped`, the files passed
//! over and why), `remove DIR` forgets a folder's songs. Library songs are
//! recommended like any other (`recommend`, `serve`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use melodora_music::library::{self, Progress, ScanOptions, ScanSummary};
use melodora_music::{LibraryEntry, SkippedFile};
use serde::Serialize;

use crate::report::format_table;
use crate::store_args::StoreArgs;

#[derive(Args, Debug)]
pub struct LibraryArgs {
    #[command(subcommand)]
    pub command: LibraryCommand,
}

#[derive(Subcommand, Debug)]
pub enum LibraryCommand {
    /// Add a music folder: hear every audio file under it (MP3, FLAC, Ogg
    /// Vorbis, WAV, AIFF, AAC or ALAC in MP4) and keep its songs.
    Add {
        /// The folder.
        #[arg(value_name = "DIR")]
        folder: PathBuf,
        #[command(flatten)]
        scan: ScanArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rescan the library's folders (or one): hear new and changed files,
    /// follow moved ones, forget deleted ones. Unchanged files are not read.
    Scan {
        /// Only this folder of the library.
        #[arg(value_name = "DIR")]
        folder: Option<PathBuf>,
        #[command(flatten)]
        scan: ScanArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the library's songs: what each sounds like and where it is.
    List {
        /// One JSON object per song per line (per skipped file with --skipped).
        #[arg(long)]
        json: bool,
        /// List the files that were passed over, and why, instead.
        #[arg(long)]
        skipped: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Forget a folder of the library and its songs (the files stay).
    Remove {
        /// The folder, as added.
        #[arg(value_name = "DIR")]
        folder: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files heard at once (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Print what the scan did as one JSON object per folder.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: LibraryArgs) -> Result<ExitCode> {
    match args.command {
        LibraryCommand::Add {
            folder,
            scan,
            store,
        } => {
            let mut store = store.open()?;
            let summary = with_progress(|progress| {
                library::add_folder(&mut store, &folder, options(&scan), progress)
            })?;
            report(&[summary], scan.json)?;
        }
        LibraryCommand::Scan {
            folder,
            scan,
            store,
        } => {
            let mut store = store.open()?;
            let summaries = with_progress(|progress| {
                library::scan(&mut store, folder.as_deref(), options(&scan), progress)
            })?;
            if summaries.is_empty() && !scan.json {
                println!("The library has no folders yet: melodora library add DIR");
            }
            report(&summaries, scan.json)?;
        }
        LibraryCommand::List {
            json,
            skipped,
            store,
        } => {
            let store = store.open()?;
            if skipped {
                list_skipped(&store.library_skipped(None)?, json)?;
            } else {
                list(&store.library_entries()?, json)?;
            }
        }
        LibraryCommand::Remove { folder, store } => {
            let mut store = store.open()?;
            let removed = library::remove_folder(&mut store, &folder)?;
            println!(
                "Removed {} and its {removed} songs from the library.",
                folder.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn options(args: &ScanArgs) -> ScanOptions {
    ScanOptions {
        threads: args.threads,
        ..ScanOptions::default()
    }
}

/// Runs a scan with a progress bar on stderr (files, songs per second,
/// time left; hidden when stderr is not a terminal).
fn with_progress<T>(scan: impl FnOnce(&(dyn Fn(Progress) + Sync)) -> T) -> T {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} hearing {bar:30} {pos}/{len} files, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let update = |progress: Progress| {
        bar.set_length(progress.total);
        bar.set_position(progress.done);
    };
    let result = scan(&update);
    bar.finish_and_clear();
    result
}

fn report(summaries: &[ScanSummary], json: bool) -> Result<()> {
    for summary in summaries {
        if json {
            println!("{}", serde_json::to_string(summary)?);
            continue;
        }
        let rate = if summary.seconds > 0.0 {
            summary.heard as f64 / summary.seconds
        } else {
            0.0
        };
        println!(
            "{}: {} audio files; heard {}, unchanged {}, moved {}, removed {}, skipped {} ({:.1} s, {rate:.1} songs/s)",
            summary.root.display(),
            summary.files,
            summary.heard,
            summary.unchanged,
            summary.moved,
            summary.removed,
            summary.skipped.len(),
            summary.seconds,
        );
        for skipped in &summary.skipped {
            println!("  skipped {}: {}", shown(&skipped.path), skipped.reason);
        }
    }
    Ok(())
}

/// One song of `library list --json`.
#[derive(Serialize)]
struct ListedSong<'a> {
    id: i64,
    path: String,
    title: &'a str,
    artist: &'a str,
    album: &'a str,
    duration_s: f64,
    tempo_bpm: Option<f64>,
    loudness_lufs: Option<f64>,
    valence: f64,
    arousal: f64,
    quadrant: &'a str,
    emotion: &'static str,
    media_type: &'a str,
    cover: bool,
}

fn list(entries: &[LibraryEntry], json: bool) -> Result<()> {
    if json {
        for entry in entries {
            let song = &entry.song;
            let listed = ListedSong {
                id: entry.id,
                path: shown(&entry.path),
                title: &entry.title,
                artist: &entry.artist,
                album: &entry.album,
                duration_s: round(song.duration_s, 2),
                tempo_bpm: song.tempo_bpm.map(|t| round(t, 1)),
                loudness_lufs: song.loudness_lufs.map(|l| round(l, 1)),
                valence: round(song.valence, 3),
                arousal: round(song.arousal, 3),
                quadrant: &song.quadrant,
                emotion: song.emotion().name(),
                media_type: &song.media_type,
                cover: song.cover_type.is_some(),
            };
            println!("{}", serde_json::to_string(&listed)?);
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|entry| {
            let song = &entry.song;
            let seconds = song.duration_s.round() as u64;
            vec![
                entry.id.to_string(),
                entry.title.clone(),
                entry.artist.clone(),
                format!("{}:{:02}", seconds / 60, seconds % 60),
                song.tempo_bpm
                    .map_or_else(|| "-".into(), |t| format!("{t:.0}")),
                song.loudness_lufs
                    .map_or_else(|| "-".into(), |l| format!("{l:.1}")),
                format!("{:+.2}", song.valence),
                format!("{:+.2}", song.arousal),
                song.quadrant.clone(),
                song.emotion().name().to_string(),
                shown(&entry.path),
            ]
        })
        .collect();
    let header = [
        "id", "title", "artist", "length", "BPM", "LUFS", "valence", "arousal", "quadrant",
        "emotion", "file",
    ];
    print!("{}", format_table(&header, &rows));
    Ok(())
}

fn list_skipped(skipped: &[SkippedFile], json: bool) -> Result<()> {
    for file in skipped {
        if json {
            #[derive(Serialize)]
            struct Listed<'a> {
                path: String,
                reason: &'a str,
            }
            let listed = Listed {
                path: shown(&file.path),
                reason: &file.reason,
            };
            println!("{}", serde_json::to_string(&listed)?);
        } else {
            println!("{}: {}", shown(&file.path), file.reason);
        }
    }
    Ok(())
}

/// A path for a terminal: control characters in a hostile file name are
/// escaped, so they cannot move the cursor or change colours.
fn shown(path: &Path) -> String {
    path.to_string_lossy()
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}
