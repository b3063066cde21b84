//! `melodora`: the command-line entry point. Thin: parses arguments, calls
//! the library crates, prints results.

mod analysis_args;
mod commands;
mod detector_args;
mod emotion_args;
mod report;
mod socket_args;
mod store_args;
mod tls_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "melodora", version, about = "Emotion-aware music recommender")]
struct Cli {
    /// How log lines are written to stderr: text for people, or JSON (one
    /// object per line) for log collectors.
    #[arg(long, global = true, value_enum, env = "MELODORA_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The `--log-format` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web app: webcam in the browser, live mood, live playlist.
    Serve(Box<commands::serve::ServeArgs>),
    /// Write the app as a static site (no server needed): page, analyzer,
    /// model and the catalog, for any static HTTPS host.
    Site(commands::site::SiteArgs),
    /// Detect faces in images (Haar cascade, OpenCV-compatible).
    Detect(commands::detect::DetectArgs),
    /// Time face detection on images (median of repeated runs, decode excluded).
    Bench(commands::bench::BenchArgs),
    /// Evaluate an emotion model on a folder of labelled face images.
    Eval(commands::eval::EvalArgs),
    /// Recommend songs for an emotion.
    Recommend(commands::recommend::RecommendArgs),
    /// Like or skip a song (shapes later recommendations).
    Feedback(commands::feedback::FeedbackArgs),
    /// Import, export and inspect the song catalog.
    Catalog(commands::catalog::CatalogArgs),
    /// Hear audio files: loudness, tempo, key, timbre and the mood they sound like.
    Hear(commands::hear::HearArgs),
    /// Your own music: add folders, hear each song's mood, list, rescan.
    Library(commands::library::LibraryArgs),
}

/// Log targets that print message payloads (webcam frames) at trace level:
/// they are capped at debug whatever `MELODORA_LOG` asks, so that frames
/// never reach the logs (a cap, not a level: by default they stay at warn).
const PAYLOAD_LOGGING_TARGETS: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

fn init_logging(format: LogFormat) {
    use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let wanted = tracing_subscriber::EnvFilter::try_from_env("MELODORA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,melodora=info"));
    let cap = PAYLOAD_LOGGING_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |cap, target| cap.with_target(*target, LevelFilter::DEBUG),
    );
    let filter = wanted.and(cap);
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let layer = match format {
        LogFormat::Text => layer.with_filter(filter).boxed(),
        LogFormat::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_filter(filter)
            .boxed(),
    };
    tracing_subscriber::registry().with(layer).init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let outcome = match cli.command {
        Command::Serve(args) => commands::serve::run(*args),
        Command::Site(args) => commands::site::run(args),
        Command::Detect(args) => commands::detect::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Recommend(args) => commands::recommend::run(args),
        Command::Feedback(args) => commands::feedback::run(args),
        Command::Catalog(args) => commands::catalog::run(args),
        Command::Hear(args) => commands::hear::run(args),
        Command::Library(args) => commands::library::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("melodora: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
