//! `melodora feedback`: like or skip a song, for later recommendations.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use melodora_music::Verdict;

use crate::store_args::{profile_name, StoreArgs};

#[derive(Args, Debug)]
pub struct FeedbackArgs {
    /// like raises the song and similar songs in later lists; skip lowers
    /// them; clear forgets the verdict.
    #[arg(value_enum)]
    pub verdict: FeedbackVerdict,
    /// The song's id (the first column of `melodora recommend`).
    #[arg(value_name = "SONG_ID")]
    pub song_id: i64,
    /// Whose verdict this is (1 to 64 characters).
    #[arg(long, default_value = "default", value_name = "NAME", value_parser = profile_name)]
    pub profile: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum FeedbackVerdict {
    Like,
    Skip,
    Clear,
}

pub fn run(args: FeedbackArgs) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    match args.verdict {
        FeedbackVerdict::Like => {
            store.record_feedback(&args.profile, args.song_id, Verdict::Like)?
        }
        FeedbackVerdict::Skip => {
            store.record_feedback(&args.profile, args.song_id, Verdict::Skip)?
        }
        FeedbackVerdict::Clear => store.clear_feedback(&args.profile, args.song_id)?,
    }
    Ok(ExitCode::SUCCESS)
}
