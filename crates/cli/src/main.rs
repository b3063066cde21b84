//! `melodora`: the command-line entry point. Thin: parses arguments, calls
//! the library crates, prints results.

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

/// Log targets that print message payloads (webcam frames) at trace level;
/// they are held at debug whatever `MELODORA_LOG` asks, so that frames never
/// reach the logs.
const PAYLOAD_LOGGING_TARGETS: [&str; 2] = ["tungstenite=debug", "tokio_tungstenite=debug"];

fn log_filter() -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("MELODORA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,melodora=info"));
    for directive in PAYLOAD_LOGGING_TARGETS {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => commands::serve::run(args),
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
