//! One scan of one root: compare the disk with the store, listen to what
//! is new or changed (on every core), and write the result in steps of
//! one transaction each.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use super::listen::{listen, Listened};
use super::walk::walk;
use crate::error::{Error, Result};
use crate::store::{FileStamp, KnownFile, LibraryBatch, LibraryRoot, SkippedFile, Store};

/// How a scan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// Threads that listen at once; 0 means one per core.
    pub threads: usize,
    /// Files listened to per step (each step is one transaction; a scan
    /// stopped by force keeps every step it finished).
    pub step_files: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: 0,
            step_files: 32,
        }
    }
}

/// How far a scan is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Files listened to so far.
    pub done: u64,
    /// Files to listen to in this scan (new or changed).
    pub total: u64,
    /// Since the scan started.
    pub elapsed: Duration,
}

/// What a scan did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanSummary {
    /// The root scanned.
    pub root: PathBuf,
    /// Audio files found under it.
    pub files: u64,
    /// Files already known, unchanged: not read again.
    pub unchanged: u64,
    /// Files heard in this scan (new, or changed since).
    pub heard: u64,
    /// Known files found at a new path or with a new time, same bytes:
    /// kept, not heard again.
    pub moved: u64,
    /// Songs whose file is gone.
    pub removed: u64,
    /// Everything passed over under this root, with why (including files
    /// skipped by earlier scans and unchanged since).
    pub skipped: Vec<SkippedFile>,
    /// Seconds the scan took.
    pub seconds: f64,
}

/// Scans `root`, calling `progress` (from any thread) as files are heard.
pub fn scan_root(
    store: &mut Store,
    root: &LibraryRoot,
    options: ScanOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ScanSummary> {
    let started = Instant::now();
    let known = store.library_known_files()?;
    let skipped_before: HashMap<PathBuf, SkippedFile> = store
        .library_skipped(Some(root.id))?
        .into_iter()
        .map(|s| (s.path.clone(), s))
        .collect();
    let walked = walk(&root.path);
    let plan = Plan::new(root, &known, &skipped_before, walked.files);

    let mut summary = ScanSummary {
        root: root.path.clone(),
        files: plan.files,
        unchanged: plan.unchanged,
        ..ScanSummary::default()
    };
    let mut state = Commit {
        root_id: root.id,
        missing: plan.missing,
        known_paths: known
            .iter()
            .map(|k| (k.hash.clone(), (k.stamp.path.clone(), k.song_id)))
            .collect(),
        committed: HashMap::new(),
        skipped: Vec::new(),
    };
    // Passed over by the walk; and old skips whose file is gone or heard.
    let mut first = LibraryBatch {
        root_id: root.id,
        skipped: walked.skipped.clone(),
        ..LibraryBatch::default()
    };
    let walked_skips: HashSet<&PathBuf> = walked.skipped.iter().map(|s| &s.path).collect();
    for path in skipped_before.keys() {
        if !plan.still_skipped.contains(path) && !walked_skips.contains(path) {
            first.unskipped.push(path.clone());
        }
    }
    store.apply_library_batch(&first)?;
    state.skipped.extend(walked.skipped);
    state.skipped.extend(
        plan.still_skipped
            .iter()
            .filter_map(|p| skipped_before.get(p).cloned()),
    );

    let known_hashes: HashSet<String> = known.iter().map(|k| k.hash.clone()).collect();
    let total = plan.to_listen.len() as u64;
    let done = AtomicU64::new(0);
    progress(Progress {
        done: 0,
        total,
        elapsed: started.elapsed(),
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|i| format!("melodora-scan-{i}"))
        .build()
        .map_err(|e| Error::Library(format!("could not start the scan's threads: {e}")))?;
    for step in plan.to_listen.chunks(options.step_files.max(1)) {
        let listened: Vec<Listened> = pool.install(|| {
            step.par_iter()
                .map(|stamp| {
                    let result = listen_steady(stamp.clone(), &known_hashes);
                    let done = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(Progress {
                        done,
                        total,
                        elapsed: started.elapsed(),
                    });
                    result
                })
                .collect()
        });
        let batch = state.batch(listened, &mut summary);
        store.apply_library_batch(&batch)?;
    }
    // Whatever is still missing is gone.
    let gone = LibraryBatch {
        root_id: root.id,
        removed: state.missing.values().map(|k| k.song_id).collect(),
        ..LibraryBatch::default()
    };
    summary.removed = gone.removed.len() as u64;
    store.apply_library_batch(&gone)?;
    state.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    summary.skipped = state.skipped;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Listens to a file, then checks that it did not change meanwhile (a
/// file being copied in is heard on the next scan, whole).
fn listen_steady(stamp_before: FileStamp, known_hashes: &HashSet<String>) -> Listened {
    let path = stamp_before.path.clone();
    let listened = listen(stamp_before.clone(), known_hashes);
    let now = std::fs::metadata(&path)
        .map(|m| (m.len(), super::walk::mtime_ns(&m)))
        .ok();
    if now == Some((stamp_before.size, stamp_before.mtime_ns)) {
        listened
    } else {
        Listened::Failed {
            stamp: stamp_before,
            reason: "changed or vanished while it was being read; the next scan hears it".into(),
        }
    }
}

/// What the disk holds against what the store knows.
struct Plan {
    files: u64,
    unchanged: u64,
    /// New or changed files, by path.
    to_listen: Vec<FileStamp>,
    /// Skipped before and unchanged since.
    still_skipped: HashSet<PathBuf>,
    /// Known files of this root not found where they were, by hash.
    missing: HashMap<String, KnownFile>,
}

impl Plan {
    fn new(
        root: &LibraryRoot,
        known: &[KnownFile],
        skipped_before: &HashMap<PathBuf, SkippedFile>,
        found: Vec<FileStamp>,
    ) -> Plan {
        let known_by_path: HashMap<&PathBuf, &KnownFile> =
            known.iter().map(|k| (&k.stamp.path, k)).collect();
        let found_paths: HashSet<&PathBuf> = found.iter().map(|f| &f.path).collect();
        let mut plan = Plan {
            files: found.len() as u64,
            unchanged: 0,
            to_listen: Vec::new(),
            still_skipped: HashSet::new(),
            missing: known
                .iter()
                .filter(|k| k.root_id == root.id && !found_paths.contains(&k.stamp.path))
                .map(|k| (k.hash.clone(), k.clone()))
                .collect(),
        };
        for stamp in found {
            if known_by_path
                .get(&stamp.path)
                .is_some_and(|k| k.stamp == stamp)
            {
                plan.unchanged += 1;
            } else if skipped_before
                .get(&stamp.path)
                .is_some_and(|s| s.size == stamp.size && s.mtime_ns == stamp.mtime_ns)
            {
                plan.still_skipped.insert(stamp.path);
            } else {
                plan.to_listen.push(stamp);
            }
        }
        plan
    }
}

/// Turns what was heard into store writes, step by step.
struct Commit {
    root_id: i64,
    /// Known files of this root not (yet) found elsewhere, by hash.
    missing: HashMap<String, KnownFile>,
    /// Where each known hash's file is, and its song.
    known_paths: HashMap<String, (PathBuf, i64)>,
    /// Hashes heard in this scan, and where.
    committed: HashMap<String, PathBuf>,
    skipped: Vec<SkippedFile>,
}

impl Commit {
    fn batch(&mut self, listened: Vec<Listened>, summary: &mut ScanSummary) -> LibraryBatch {
        let mut batch = LibraryBatch {
            root_id: self.root_id,
            ..LibraryBatch::default()
        };
        for outcome in listened {
            match outcome {
                Listened::Known { stamp, hash } => {
                    if let Some(moved) = self.missing.remove(&hash) {
                        summary.moved += 1;
                        batch.unskipped.push(stamp.path.clone());
                        batch.restamped.push((moved.song_id, stamp));
                    } else {
                        match self.known_paths.get(&hash) {
                            // Same bytes, same place, a new time (touched).
                            Some((at, song_id)) if *at == stamp.path => {
                                summary.moved += 1;
                                batch.restamped.push((*song_id, stamp));
                            }
                            Some((at, _)) => {
                                let reason = format!("the same audio as {}", at.display());
                                self.skip(&mut batch, stamp, reason);
                            }
                            None => {
                                let reason = "its audio was removed meanwhile".to_string();
                                self.skip(&mut batch, stamp, reason);
                            }
                        }
                    }
                }
                Listened::Heard(heard) => {
                    if let Some(at) = self.committed.get(&heard.hash) {
                        let reason = format!("the same audio as {}", at.display());
                        self.skip(&mut batch, heard.stamp.clone(), reason);
                        continue;
                    }
                    summary.heard += 1;
                    self.committed
                        .insert(heard.hash.clone(), heard.stamp.path.clone());
                    batch.unskipped.push(heard.stamp.path.clone());
                    batch.heard.push(*heard);
                }
                Listened::Failed { stamp, reason } => self.skip(&mut batch, stamp, reason),
            }
        }
        batch
    }

    fn skip(&mut self, batch: &mut LibraryBatch, stamp: FileStamp, reason: String) {
        let skipped = SkippedFile {
            path: stamp.path,
            size: stamp.size,
            mtime_ns: stamp.mtime_ns,
            reason,
        };
        self.skipped.push(skipped.clone());
        batch.skipped.push(skipped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_changes_while_it_is_read_waits_for_the_next_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("growing.wav");
        std::fs::write(&path, b"RIFF and a little more").unwrap();
        // The stamp the walk took before the file grew (a copy in progress).
        let before = FileStamp {
            path: path.clone(),
            size: 4,
            mtime_ns: 0,
        };
        match listen_steady(before, &HashSet::new()) {
            Listened::Failed { reason, .. } => {
                assert!(reason.contains("changed or vanished"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&path).unwrap();
        let gone = FileStamp {
            path,
            size: 22,
            mtime_ns: 0,
        };
        match listen_steady(gone, &HashSet::new()) {
            Listened::Failed { reason, .. } => {
                assert!(reason.contains("changed or vanished"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}
