//! Where the catalog store lives, for the commands that use it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use melodora_music::{default_data_dir, Store};

/// The `--data-dir` and `--database` options.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Keep the catalog, feedback and sessions in this PostgreSQL database
    /// (postgres://user:password@host:port/database) instead of SQLite in
    /// the data directory: several servers can then share them. Created
    /// tables are migrated and seeded on first use.
    #[arg(
        long,
        env = "MELODORA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
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

    /// Opens (creating and seeding if needed) the store: the PostgreSQL
    /// database if one is named, else SQLite in the data directory.
    pub fn open(&self) -> Result<Store> {
        if let Some(url) = &self.database {
            return Store::connect(url).context("cannot open the song store in PostgreSQL");
        }
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
