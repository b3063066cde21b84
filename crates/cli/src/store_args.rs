//! Where the catalog store lives, for the commands that use it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use melodora_music::{default_data_dir, Store};

/// The `--data-dir` option.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Directory of the song store (created if missing; seeded with the
    /// embedded catalog on first use). Default: the user's data directory,
    /// e.g. ~/.local/share/melodora.
    #[arg(long, env = "MELODORA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    /// The data directory in effect.
    pub fn dir(&self) -> Result<PathBuf> {
        self.data_dir.clone().or_else(default_data_dir).context(
            "no data directory known for this user; pass --data-dir or set MELODORA_DATA_DIR",
        )
    }

    /// Opens (creating and seeding if needed) the store.
    pub fn open(&self) -> Result<Store> {
        let dir = self.dir()?;
        Store::open(&dir)
            .with_context(|| format!("cannot open the song store in {}", dir.display()))
    }
}

/// Parses `--profile`: the names the store accepts (see
/// [`melodora_music::check_profile_name`]), refused before anything runs.
pub fn profile_name(name: &str) -> std::result::Result<String, String> {
    melodora_music::check_profile_name(name)
        .map(|()| name.to_owned())
        .map_err(|e| e.to_string())
}
