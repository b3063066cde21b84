//! `melodora`: the command-line entry point. Thin: parses arguments, calls
//! the library crates, prints results.

mod analysis_args;
mod commands;
mod detector_args;
mod emotion_args;
mod report;
mod store_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "melodora", version, about = "Emotion-aware music recommender")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web app: webcam in the browser, live mood, live playlist.
    Serve(commands::serve::ServeArgs),
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
}

/// Log targets that print message payloads (webcam frames) at trace level:
/// they are capped at debug whatever `MELODORA_LOG` asks, so that frames
/// never reach the logs (a cap, not a level: by default they stay at warn).
const PAYLOAD_LOGGING_TARGETS: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

fn init_logging() {
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
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(wanted.and(cap)),
        )
        .init();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => commands::serve::run(args),
        Command::Site(args) => commands::site::run(args),
        Command::Detect(args) => commands::detect::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Recommend(args) => commands::recommend::run(args),
        Command::Feedback(args) => commands::feedback::run(args),
        Command::Catalog(args) => commands::catalog::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("melodora: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
