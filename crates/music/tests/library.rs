//! The library scanner on generated clips, on both store backends: a
//! folder is heard and its songs recommended; a rescan reads nothing
//! unchanged; moved, touched, changed, copied and deleted files; bad files
//! and links out of the folder are listed with why, never served as songs.

use std::path::{Path, PathBuf};

use melodora_core::Emotion;
use melodora_music::library::{add_folder, remove_folder, scan, ScanOptions, ScanSummary};
use melodora_music::{Mode, Recommender, Request, Session, Source, Store};
use support::backends::open;

mod support {
    pub mod backends;
}

const RATE: u32 = 22_050;

/// A 16-bit mono WAV of `seconds` of a tone at `hz` with clicks every
/// `beat` seconds (so each clip has its own bytes and measures).
fn clip(hz: f32, beat: f32, seconds: f32) -> Vec<u8> {
    let n = (seconds * RATE as f32) as usize;
    let samples: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let click = if (t % beat) < 0.01 { 0.5 } else { 0.0 };
            0.3 * (2.0 * std::f32::consts::PI * hz * t).sin() + click
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
    }
    out
}

fn put(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A music folder: three songs in two albums, and files that are not.
fn music_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(
        &root.join("Artist A/Album/01 Low.wav"),
        &clip(110.0, 1.0, 4.0),
    );
    put(
        &root.join("Artist A/Album/02 High.wav"),
        &clip(880.0, 0.4, 4.0),
    );
    put(
        &root.join("Artist B/Ünïcødé ☂ song.wav"),
        &clip(440.0, 0.5, 4.0),
    );
    put(
        &root.join("Artist B/notes.txt"),
        b"not music, and not listed",
    );
    put(&root.join("Artist B/cover.jpg"), b"\xff\xd8 not looked at");
    put(
        &root.join("bad/text.mp3"),
        b"this is a text file named mp3\n",
    );
    put(&root.join("bad/empty.flac"), b"");
    put(&root.join("bad/voice.opus"), b"OggS opus we do not decode");
    dir
}

fn quiet() -> impl Fn(melodora_music::library::Progress) + Sync {
    |_| {}
}

fn options() -> ScanOptions {
    ScanOptions {
        threads: 2,
        step_files: 2,
    }
}

fn reasons(summary: &ScanSummary) -> Vec<(String, String)> {
    summary
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.reason.clone(),
            )
        })
        .collect()
}

fn paths(store: &Store) -> Vec<PathBuf> {
    store
        .library_entries()
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect()
}

on_both_backends! {
fn a_folder_is_heard_kept_and_recommended_and_a_rescan_reads_nothing() {
    let folder = music_folder();
    let mut store = open(true);
    let catalog_songs = store.song_count().unwrap();
    let summary = add_folder(&mut store, folder.path(), options(), &quiet()).unwrap();
    assert_eq!((summary.files, summary.heard, summary.unchanged), (5, 3, 0), "{summary:?}");
    let why = reasons(&summary);
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(why.iter().any(|(f, r)| f == "empty.flac" && r.contains("empty")), "{why:?}");
    assert!(why.iter().any(|(f, r)| f == "text.mp3" && (r.contains("not a format") || r.contains("not decodable"))), "{why:?}");
    assert!(why.iter().any(|(f, r)| f == "voice.opus" && r.contains("Opus")), "{why:?}");
    assert_eq!(store.song_count().unwrap(), catalog_songs + 3);

    let entries = store.library_entries().unwrap();
    assert_eq!(entries.len(), 3);
    let unicode = entries.iter().find(|e| e.title == "Ünïcødé ☂ song").expect("named from the file");
    assert_eq!(unicode.artist, "Artist B", "the folder names an untagged artist");
    for entry in &entries {
        let heard = &entry.song;
        assert!((3.9..4.1).contains(&heard.duration_s), "{heard:?}");
        assert!((-1.0..=1.0).contains(&heard.valence) && (-1.0..=1.0).contains(&heard.arousal));
        assert!(["Q1", "Q2", "Q3", "Q4"].contains(&heard.quadrant.as_str()));
        assert_eq!(heard.media_type, "audio/wav");
        assert!(entry.path.starts_with(std::fs::canonicalize(folder.path()).unwrap()));
        assert_eq!(entry.hash.len(), 64);
        // The song as every list sees it carries what was heard.
        let song = &store.songs(&[entry.id]).unwrap()[0];
        assert_eq!(song.library.as_ref(), Some(heard));
    }

    // Library songs are recommended like any other, with a reason in words.
    let recommender = Recommender::load(&store).unwrap();
    let mut found = 0;
    for emotion in Emotion::ALL {
        for mode in [Mode::Match, Mode::Uplift] {
            let request = Request { emotion, mode, limit: 2000, from: Source::All };
            let mut session = Session::new("me", 1);
            for pick in recommender.pick(&request, &mut session, &[]) {
                if entries.iter().any(|e| e.id == pick.song_id) {
                    found += 1;
                    let text = pick.reason.text();
                    assert!(text.contains("from its audio") && text.starts_with(if mode == Mode::Uplift { "lifts" } else { "sounds" }), "{text}");
                }
            }
        }
    }
    assert!(found >= 3, "library songs in lists: {found}");
    // Asked for the library alone, every list holds library songs only.
    for emotion in Emotion::ALL {
        let request = Request { emotion, mode: Mode::Match, limit: 15, from: Source::Library };
        let picks = recommender.pick(&request, &mut Session::new("me", 1), &[]);
        assert_eq!(picks.len(), 3, "{emotion:?}: the library's three songs");
        assert!(picks.iter().all(|p| p.reason.text().starts_with("sounds")));
        let catalog = Request { from: Source::Catalog, ..request };
        let picks = recommender.pick(&catalog, &mut Session::new("me", 1), &[]);
        assert!(picks.iter().all(|p| !entries.iter().any(|e| e.id == p.song_id)));
    }

    // Nothing changed: nothing is read, and the skipped files are still listed.
    let again = &scan(&mut store, None, options(), &quiet()).unwrap()[0];
    assert_eq!((again.files, again.unchanged, again.heard, again.moved, again.removed), (5, 3, 0, 0, 0), "{again:?}");
    assert_eq!(reasons(again), why);
}

fn moved_touched_copied_changed_and_deleted_files() {
    let folder = music_folder();
    let root = folder.path();
    let mut store = open(false);
    add_folder(&mut store, root, options(), &quiet()).unwrap();
    let before = store.library_entries().unwrap();
    let low = before.iter().find(|e| e.title == "01 Low").unwrap().clone();

    // Moved: same song, new path, nothing heard.
    std::fs::create_dir_all(root.join("Moved")).unwrap();
    std::fs::rename(root.join("Artist A/Album/01 Low.wav"), root.join("Moved/01 Low.wav")).unwrap();
    let summary = &scan(&mut store, Some(root), options(), &quiet()).unwrap()[0];
    assert_eq!((summary.heard, summary.moved, summary.removed), (0, 1, 0), "{summary:?}");
    let moved = store.library_entry(low.id).unwrap().expect("the same song");
    assert!(moved.path.ends_with("Moved/01 Low.wav"), "{moved:?}");
    assert_eq!(moved.song, low.song);

    // A copy: listed as the same audio, not a second song.
    std::fs::copy(root.join("Moved/01 Low.wav"), root.join("Moved/copy.wav")).unwrap();
    // Changed: heard again.
    put(&root.join("Artist A/Album/02 High.wav"), &clip(660.0, 0.3, 5.0));
    let summary = &scan(&mut store, None, options(), &quiet()).unwrap()[0];
    assert_eq!((summary.heard, summary.moved, summary.removed), (1, 0, 0), "{summary:?}");
    assert!(reasons(summary).iter().any(|(f, r)| f == "copy.wav" && r.starts_with("the same audio as")), "{summary:?}");
    let high = store.library_entries().unwrap().into_iter().find(|e| e.title == "02 High").unwrap();
    assert!((4.9..5.1).contains(&high.song.duration_s));

    // Deleted: forgotten; a fixed bad file is heard.
    std::fs::remove_file(root.join("Moved/01 Low.wav")).unwrap();
    std::fs::remove_file(root.join("Moved/copy.wav")).unwrap();
    put(&root.join("bad/empty.flac"), &clip(300.0, 0.7, 3.0));
    let summary = &scan(&mut store, None, options(), &quiet()).unwrap()[0];
    assert_eq!((summary.heard, summary.removed), (1, 1), "{summary:?}");
    assert!(store.library_entry(low.id).unwrap().is_none());
    assert_eq!(store.library_skipped(None).unwrap().len(), 2, "the copy's and empty.flac's skips are gone");
    assert_eq!(paths(&store).len(), 3);

    // Removing the folder forgets its songs, not the catalog's.
    assert_eq!(remove_folder(&mut store, root).unwrap(), 3);
    assert!(store.library_entries().unwrap().is_empty());
    assert!(store.library_roots().unwrap().is_empty());
    assert_eq!(store.song_count().unwrap(), 0);
}

fn links_out_of_the_folder_and_loops_are_passed_over_and_a_catalog_import_keeps_the_library() {
    let folder = music_folder();
    let outside = tempfile::tempdir().unwrap();
    put(&outside.path().join("secret.wav"), &clip(500.0, 0.5, 3.0));
    let root = folder.path();
    std::os::unix::fs::symlink(outside.path().join("secret.wav"), root.join("link.wav")).unwrap();
    std::os::unix::fs::symlink(root, root.join("Artist A/loop")).unwrap();
    let mut store = open(true);
    let summary = add_folder(&mut store, root, options(), &quiet()).unwrap();
    assert_eq!(summary.heard, 3, "{summary:?}");
    let why = reasons(&summary);
    assert!(why.iter().any(|(f, r)| f == "link.wav" && r.contains("outside the library folder")), "{why:?}");
    assert!(why.iter().any(|(f, r)| f == "loop" && r.contains("loop")), "{why:?}");
    assert!(paths(&store).iter().all(|p| p.starts_with(std::fs::canonicalize(root).unwrap())));

    // A tree deeper than the walk goes is passed over with why.
    let mut deep = root.join("deep");
    for level in 0..=melodora_music::library::MAX_DEPTH {
        deep = deep.join(format!("{level}"));
    }
    put(&deep.join("buried.wav"), &clip(220.0, 0.5, 3.0));
    let rescanned = &scan(&mut store, None, options(), &quiet()).unwrap()[0];
    assert_eq!(rescanned.heard, 0, "{rescanned:?}");
    assert!(
        reasons(rescanned).iter().any(|(_, r)| r.contains("levels deep")),
        "{rescanned:?}"
    );

    // Adding a folder inside a library folder is refused with the reason.
    let inner = add_folder(&mut store, &root.join("Artist A"), options(), &quiet()).unwrap_err();
    assert!(inner.to_string().contains("already in the library"), "{inner}");

    // A catalog import that replaces the default catalog keeps the library.
    let csv = folder.path().join("catalog.csv");
    std::fs::write(&csv, "title,artist,emotion\nOne,Someone,happy\n").unwrap();
    let files = melodora_music::import::catalog_files(&csv, None).unwrap();
    let imported = store.import_files(&files, melodora_music::ImportOptions::default()).unwrap();
    assert!(imported.replaced_default);
    assert_eq!(store.song_count().unwrap(), 4);
    assert_eq!(store.library_entries().unwrap().len(), 3);
}
}
