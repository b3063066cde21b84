//! The listener's own music: folders they add, each file heard for the
//! mood it sounds like and kept in the store as a song like any other.
//!
//! ```text
//!  library add DIR ─┐
//!  library scan ────┴▶ scan_root ──walk──▶ audio files (path, size, time)
//!                          │                 │ compared with the store:
//!                          │                 ├─ same path, size, time ──▶ unchanged (not read)
//!                          │                 ├─ skipped before, unchanged ─▶ still skipped
//!                          │                 └─ new or changed ─┐
//!                          │                                    ▼  every core (rayon)
//!                          │                      listen: SHA-256 of the bytes
//!                          │                        ├─ known bytes ─▶ moved / touched (restamp)
//!                          │                        └─ new bytes ──▶ decode + hear (melodora-audio)
//!                          ▼
//!            steps of 32 files, one transaction each (kill -9 keeps the
//!            steps done); last step: songs whose file is gone
//! ```
//!
//! A scan that is stopped resumes where it stopped: the files it wrote are
//! unchanged on the next scan and are not read again. Every file passed
//! over is kept with its reason and tried again only once it changes.

mod listen;
mod scan;
mod walk;

use std::path::{Path, PathBuf};

pub use listen::{content_hash, media_type};
pub use scan::{scan_root, Progress, ScanOptions, ScanSummary};
pub use walk::{stamp, MAX_DEPTH};

use crate::error::{Error, Result};
use crate::store::{LibraryRoot, Store};

/// Adds `folder` to the library (or finds it, when already there) and
/// scans it.
pub fn add_folder(
    store: &mut Store,
    folder: &Path,
    options: ScanOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ScanSummary> {
    let resolved = resolve_root(folder)?;
    let roots = store.library_roots()?;
    if let Some(outer) = roots
        .iter()
        .find(|r| resolved != r.path && resolved.starts_with(&r.path))
    {
        return Err(Error::Library(format!(
            "{} is already in the library, inside {} (run `melodora library scan` to rescan it)",
            folder.display(),
            outer.path.display()
        )));
    }
    let root = store.add_library_root(&resolved)?;
    scan_root(store, &root, options, progress)
}

/// Rescans one folder of the library, or every one (`None`).
pub fn scan(
    store: &mut Store,
    folder: Option<&Path>,
    options: ScanOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<ScanSummary>> {
    let roots = match folder {
        Some(folder) => vec![find_root(store, folder)?],
        None => store.library_roots()?,
    };
    roots
        .iter()
        .map(|root| scan_root(store, root, options, progress))
        .collect()
}

/// Forgets a folder of the library and its songs; returns how many.
pub fn remove_folder(store: &mut Store, folder: &Path) -> Result<u64> {
    let root = find_root(store, folder)?;
    store.remove_library_root(root.id)
}

/// The root `folder` names: by its resolved path, or, for a folder that is
/// gone from the disk, by the path as given (made absolute).
fn find_root(store: &Store, folder: &Path) -> Result<LibraryRoot> {
    let wanted: PathBuf = std::fs::canonicalize(folder).unwrap_or_else(|_| absolute(folder));
    store
        .library_roots()?
        .into_iter()
        .find(|root| root.path == wanted)
        .ok_or_else(|| {
            Error::Library(format!(
                "{} is not a folder of the library (see `melodora library list`)",
                folder.display()
            ))
        })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A folder as a root: absolute, symlinks resolved, and a folder.
fn resolve_root(folder: &Path) -> Result<PathBuf> {
    let resolved = std::fs::canonicalize(folder).map_err(|source| Error::Read {
        path: folder.to_path_buf(),
        source,
    })?;
    if !resolved.is_dir() {
        return Err(Error::Library(format!(
            "{} is not a folder",
            folder.display()
        )));
    }
    if resolved.to_str().is_none() {
        return Err(Error::Library(format!(
            "{}: its name is not valid UTF-8",
            folder.display()
        )));
    }
    Ok(resolved)
}
