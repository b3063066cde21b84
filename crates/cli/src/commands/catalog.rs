//! `melodora catalog`: import, export and inspect the song catalog.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use melodora_core::Emotion;
use melodora_music::import::{catalog_files, Filing, ImportedTrack};
use melodora_music::spotify::{
    ClientConfig, Credentials, SpotifyClient, DEFAULT_ACCOUNTS_BASE, DEFAULT_API_BASE,
};
use melodora_music::{export_original_format, ImportOptions, ImportSummary};

use crate::report::format_table;
use crate::store_args::StoreArgs;

#[derive(Args, Debug)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub command: CatalogCommand,
}

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Import songs from CSV: a directory in the original's layout
    /// (angry.csv ... surprised.csv), one CSV with an emotion column, or a
    /// Spotify audio-feature export (valence, energy).
    Import(ImportArgs),
    /// Import a Spotify playlist (client credentials from SPOTIFY_CLIENT_ID
    /// and SPOTIFY_CLIENT_SECRET).
    ImportSpotify(ImportSpotifyArgs),
    /// Write the catalog as the original's per-emotion CSV files (with a
    /// Link column).
    Export(ExportArgs),
    /// Show what the catalog holds.
    Stats(StatsArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A directory of per-emotion CSV files, or one CSV file.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// File every imported song under this emotion.
    #[arg(long, value_name = "EMOTION")]
    pub emotion: Option<Emotion>,
    #[command(flatten)]
    pub options: ImportFlags,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Flags shared by both importers.
#[derive(Args, Debug, Clone, Copy)]
pub struct ImportFlags {
    /// Reject the whole import if any row is malformed.
    #[arg(long)]
    pub strict: bool,
    /// Merge into the embedded default catalog instead of replacing it.
    #[arg(long)]
    pub add: bool,
}

impl From<ImportFlags> for ImportOptions {
    fn from(flags: ImportFlags) -> Self {
        ImportOptions {
            strict: flags.strict,
            add: flags.add,
        }
    }
}

#[derive(Args, Debug)]
pub struct ImportSpotifyArgs {
    /// Playlist link (https://open.spotify.com/playlist/...), URI or id.
    #[arg(value_name = "PLAYLIST_URL_OR_ID")]
    pub playlist: String,
    /// The emotion to file the playlist's songs under.
    #[arg(long, value_name = "EMOTION")]
    pub emotion: Emotion,
    /// Web API base URL.
    #[arg(long, env = "SPOTIFY_API_BASE", default_value = DEFAULT_API_BASE, value_name = "URL")]
    pub api_base: String,
    /// Accounts service base URL (tokens).
    #[arg(long, env = "SPOTIFY_ACCOUNTS_BASE", default_value = DEFAULT_ACCOUNTS_BASE, value_name = "URL")]
    pub accounts_base: String,
    #[command(flatten)]
    pub options: ImportFlags,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Directory to write angry.csv ... surprised.csv into.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Replace files that already exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: CatalogArgs) -> Result<ExitCode> {
    match args.command {
        CatalogCommand::Import(args) => import(args),
        CatalogCommand::ImportSpotify(args) => import_spotify(args),
        CatalogCommand::Export(args) => export(args),
        CatalogCommand::Stats(args) => stats(args),
    }
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    let files = catalog_files(&args.path, args.emotion)?;
    let mut store = args.store.open()?;
    let summary = store
        .import_files(&files, args.options.into())
        .inspect_err(list_refused_rows)?;
    print_summary(&summary, args.json)
}

/// An import refused for accepting no song lists every row it skipped, as
/// an accepted import does, before the error itself is reported.
fn list_refused_rows(error: &melodora_music::Error) {
    if let melodora_music::Error::NothingAccepted { problems, .. } = error {
        for problem in problems {
            eprintln!("melodora: skipped {problem}");
        }
    }
}

fn import_spotify(args: ImportSpotifyArgs) -> Result<ExitCode> {
    let read = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .with_context(|| format!("{name} is not set: create an app at https://developer.spotify.com/dashboard and export its client id and secret"))
    };
    let credentials = Credentials {
        client_id: read("SPOTIFY_CLIENT_ID")?,
        client_secret: read("SPOTIFY_CLIENT_SECRET")?,
    };
    let config = ClientConfig {
        api_base: args.api_base,
        accounts_base: args.accounts_base,
        ..ClientConfig::default()
    };
    let playlist = SpotifyClient::new(credentials, config).playlist(&args.playlist)?;
    for why in &playlist.skipped {
        eprintln!("melodora: skipped {why}");
    }
    let tracks: Vec<ImportedTrack> = playlist
        .tracks
        .into_iter()
        .enumerate()
        .map(|(rank, track)| ImportedTrack {
            track,
            filings: vec![Filing {
                emotion: args.emotion,
                rank: rank as u32,
            }],
        })
        .collect();
    let mut store = args.store.open()?;
    let source = format!("spotify:playlist:{}", playlist.id);
    let summary = store.import_tracks(&source, &tracks, args.options.into())?;
    print_summary(&summary, args.json)
}

fn print_summary(summary: &ImportSummary, json: bool) -> Result<ExitCode> {
    for problem in &summary.problems {
        eprintln!("melodora: skipped {problem}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = summary
        .files
        .iter()
        .map(|f| {
            vec![
                f.file.display().to_string(),
                f.rows.to_string(),
                f.accepted.to_string(),
                f.rejected.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        format_table(&["file", "rows", "imported", "skipped"], &rows)
    );
    println!(
        "{} new songs, {} already known{}",
        summary.songs_added,
        summary.songs_known,
        if summary.replaced_default {
            "; the embedded default catalog was replaced (use --add to merge instead)"
        } else {
            ""
        }
    );
    if !summary.problems.is_empty() {
        println!(
            "{} malformed rows skipped (listed on stderr; --strict rejects the import instead)",
            summary.problems.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn export(args: ExportArgs) -> Result<ExitCode> {
    let store = args.store.open()?;
    let written = export_original_format(&store, &args.dir, args.force)?;
    for file in written {
        println!("{}: {} songs", file.path.display(), file.songs);
    }
    Ok(ExitCode::SUCCESS)
}

fn stats(args: StatsArgs) -> Result<ExitCode> {
    let store = args.store.open()?;
    let stats = store.stats()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("store: {}", store.location());
    println!(
        "catalog: {:?}; {} songs, {} with a Spotify id, {} with audio features, {} imports",
        stats.origin, stats.songs, stats.with_spotify_id, stats.with_audio_features, stats.imports
    );
    let rows: Vec<Vec<String>> = stats
        .emotions
        .iter()
        .map(|e| {
            vec![
                e.emotion.to_string(),
                e.listed.to_string(),
                e.placed.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        format_table(&["emotion", "listed", "placed by features"], &rows)
    );
    Ok(ExitCode::SUCCESS)
}
