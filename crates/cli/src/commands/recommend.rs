//! `melodora recommend`: a playlist for an emotion.

use std::process::ExitCode;

use anyhow::Result;
use clap::builder::TypedValueParser;
use clap::Args;
use melodora_core::Emotion;
use melodora_music::{Mode, Recommender, Request, Session, Source, DEFAULT_LIMIT};

use crate::report::format_table;
use crate::store_args::{profile_name, StoreArgs};

#[derive(Args, Debug)]
pub struct RecommendArgs {
    /// The listener's emotion: angry, disgust(ed), fear(ful), happy,
    /// neutral, sad or surprise(d).
    #[arg(value_name = "EMOTION")]
    pub emotion: Emotion,
    /// Songs in the list.
    #[arg(long, default_value_t = DEFAULT_LIMIT, value_parser = clap::value_parser!(u16).range(1..=1000).map(usize::from))]
    pub limit: usize,
    /// match: songs of this mood; uplift: start here and move towards
    /// positive valence across the list.
    #[arg(long, default_value = "match")]
    pub mode: Mode,
    /// Which songs: all, library (your own music: `melodora library add`)
    /// or catalog.
    #[arg(long, default_value = "all", value_name = "SOURCE")]
    pub from: Source,
    /// Remember the songs shown under this name, so that later calls with
    /// the same name do not repeat them until the pool is used up.
    #[arg(long, value_name = "NAME")]
    pub session: Option<String>,
    /// Whose likes and skips count (1 to 64 characters).
    #[arg(long, default_value = "default", value_name = "NAME", value_parser = profile_name)]
    pub profile: String,
    /// Seed for breaking near-ties; the same seed gives the same list.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print a JSON array of songs.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: RecommendArgs) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    let recommender = Recommender::load(&store)?;
    let mut session = Session::new(&args.profile, args.seed);
    if let Some(name) = &args.session {
        session.seen = store.session_seen(name)?;
    }
    let request = Request {
        emotion: args.emotion,
        mode: args.mode,
        limit: args.limit,
        from: args.from,
    };
    let list = recommender.recommend(&store, &request, &mut session)?;
    if let Some(name) = &args.session {
        store.save_session(name, &session.seen)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|r| {
            vec![
                r.song.id.to_string(),
                r.song.track.title.clone(),
                r.song.track.artist.clone(),
                r.song.track.album.clone(),
                if r.song.library.is_some() {
                    "(your library: melodora library list)".to_string()
                } else {
                    r.song.link.clone()
                },
                r.reason.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        format_table(&["id", "title", "artist", "album", "link", "why"], &rows)
    );
    Ok(ExitCode::SUCCESS)
}
