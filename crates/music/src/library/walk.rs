//! Finding the audio files under a root, without reading them: each one's
//! resolved path, size and time, and a reason for every file or folder
//! that had to be passed over (unreadable, a link out of the root, a link
//! loop, a name that is not UTF-8, too deep).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use melodora_audio::formats::{self, FileKind};
use walkdir::WalkDir;

use crate::store::{FileStamp, SkippedFile};

/// Folders deeper than this under a root are not entered (a link farm or
/// a generated tree, not a music collection).
pub const MAX_DEPTH: usize = 32;

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Audio files to consider, by path.
    pub files: Vec<FileStamp>,
    /// What was passed over, and why.
    pub skipped: Vec<SkippedFile>,
}

/// Walks `root` (absolute, resolved), following links but never out of
/// the root.
pub fn walk(root: &Path) -> Walked {
    let mut walked = Walked::default();
    let mut entries = WalkDir::new(root)
        .follow_links(true)
        .max_depth(MAX_DEPTH + 1)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_path_buf();
                let reason = if error.loop_ancestor().is_some() {
                    "a link back to a folder above it (a loop)".to_string()
                } else {
                    format!("could not be read: {}", error_text(&error))
                };
                walked.skipped.push(passed_over(path, reason));
                continue;
            }
        };
        if entry.file_type().is_dir() {
            if entry.depth() > MAX_DEPTH {
                walked.skipped.push(passed_over(
                    entry.path().to_path_buf(),
                    format!("a folder more than {MAX_DEPTH} levels deep"),
                ));
                entries.skip_current_dir();
            }
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let extension = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        match formats::kind(extension) {
            FileKind::Other => continue,
            FileKind::Unsupported(why) => {
                walked
                    .skipped
                    .push(stamped_skip(entry.path(), format!("unsupported: {why}")));
                continue;
            }
            FileKind::Decoded => {}
        }
        match stamp(root, entry.path()) {
            Ok(stamp) => walked.files.push(stamp),
            Err(reason) => walked.skipped.push(stamped_skip(entry.path(), reason)),
        }
    }
    walked
}

/// A file's resolved path, size and time; refuses names that are not
/// UTF-8 and links that lead out of the root.
pub fn stamp(root: &Path, path: &Path) -> Result<FileStamp, String> {
    if path.to_str().is_none() {
        return Err("its name is not valid UTF-8".into());
    }
    let resolved = std::fs::canonicalize(path).map_err(|e| format!("could not be read: {e}"))?;
    if !resolved.starts_with(root) {
        return Err("a link to a file outside the library folder".into());
    }
    if resolved.to_str().is_none() {
        return Err("its name is not valid UTF-8".into());
    }
    let metadata = std::fs::metadata(&resolved).map_err(|e| format!("could not be read: {e}"))?;
    Ok(FileStamp {
        path: resolved,
        size: metadata.len(),
        mtime_ns: mtime_ns(&metadata),
    })
}

/// Modification time in nanoseconds since the Unix epoch (0 when the
/// system does not say).
pub fn mtime_ns(metadata: &std::fs::Metadata) -> i64 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

fn passed_over(path: PathBuf, reason: String) -> SkippedFile {
    SkippedFile {
        path,
        size: 0,
        mtime_ns: 0,
        reason,
    }
}

fn stamped_skip(path: &Path, reason: String) -> SkippedFile {
    let (size, mtime_ns) = std::fs::metadata(path).map_or((0, 0), |m| (m.len(), mtime_ns(&m)));
    SkippedFile {
        path: path.to_path_buf(),
        size,
        mtime_ns,
        reason,
    }
}

fn error_text(error: &walkdir::Error) -> String {
    error
        .io_error()
        .map_or_else(|| error.to_string(), ToString::to_string)
}
