//! `melodora hear`: what Melodora hears in audio files (tags, loudness,
//! tempo, key, timbre) and the mood they sound like, as a table or JSON
//! lines. Files are heard in parallel, one per core; a file that cannot be
//! heard is listed with why, and the exit status says some were not.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use melodora_audio::{hear_file, Heard};
use rayon::prelude::*;
use serde::Serialize;

use crate::report::format_table;

#[derive(Args, Debug)]
pub struct HearArgs {
    /// Audio files (MP3, FLAC, Ogg Vorbis, WAV, AIFF, AAC or ALAC in MP4).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per file per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Files heard at once (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// One file's line of `--json`.
#[derive(Serialize)]
struct Record<'a> {
    path: String,
    #[serde(flatten)]
    heard: &'a Heard,
    /// Whether the file embeds a cover picture.
    cover: bool,
}

#[derive(Serialize)]
struct Refusal {
    path: String,
    error: String,
}

pub fn run(args: HearArgs) -> Result<ExitCode> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()?;
    let results: Vec<_> = pool.install(|| {
        args.files
            .par_iter()
            .map(|path| (path, hear_file(path)))
            .collect()
    });
    let mut failed = 0;
    let mut rows = Vec::new();
    for (path, result) in &results {
        let shown = path.display().to_string();
        match result {
            Ok((heard, cover)) => {
                if args.json {
                    let record = Record {
                        path: shown,
                        heard,
                        cover: cover.is_some(),
                    };
                    println!("{}", serde_json::to_string(&record)?);
                } else {
                    rows.push(row(shown, heard));
                }
            }
            Err(error) => {
                failed += 1;
                if args.json {
                    println!(
                        "{}",
                        serde_json::to_string(&Refusal {
                            path: shown,
                            error: error.to_string()
                        })?
                    );
                } else {
                    eprintln!("melodora: {shown}: {error}");
                }
            }
        }
    }
    if !args.json {
        let header = [
            "file", "seconds", "LUFS", "BPM", "key", "valence", "arousal", "sounds",
        ];
        print!("{}", format_table(&header, &rows));
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn row(path: String, heard: &Heard) -> Vec<String> {
    let features = &heard.features;
    let key = features.key.as_ref().map_or_else(
        || "-".to_string(),
        |k| {
            format!(
                "{} {}",
                k.tonic,
                if k.mode == melodora_audio::Mode::Major {
                    "major"
                } else {
                    "minor"
                }
            )
        },
    );
    vec![
        path,
        format!("{:.1}", features.duration_s),
        features
            .loudness
            .integrated_lufs
            .map_or_else(|| "-".into(), |l| format!("{l:.1}")),
        format!("{:.1}", features.rhythm.tempo_bpm),
        key,
        format!("{:+.2}", heard.mood.valence),
        format!("{:+.2}", heard.mood.arousal),
        format!(
            "{:?} ({})",
            heard.mood.quadrant,
            heard.mood.quadrant.words()
        ),
    ]
}
