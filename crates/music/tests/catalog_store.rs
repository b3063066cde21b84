//! Importers, the store's transactions, deduplication and export, on
//! both store backends (see `support::backends`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use melodora_core::{Calibration, Emotion};
use melodora_music::import::catalog_files;
use melodora_music::{
    build_default_catalog, export_original_format, CatalogOrigin, Error, ImportOptions, Store,
    Verdict, DEFAULT_CATALOG_CSV,
};
use support::backends::open;

mod support {
    pub mod backends;
}

fn shared_catalogs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/catalogs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(
    store: &mut Store,
    path: &Path,
    emotion: Option<Emotion>,
    options: ImportOptions,
) -> melodora_music::Result<melodora_music::ImportSummary> {
    let files = catalog_files(path, emotion)?;
    store.import_files(&files, options)
}

/// (title, album, artist) of an emotion's list, in order.
fn list(store: &Store, emotion: Emotion) -> Vec<(String, String, String)> {
    store
        .emotion_list(emotion)
        .unwrap()
        .into_iter()
        .map(|s| (s.track.title, s.track.album, s.track.artist))
        .collect()
}

/// (title, album, artist) rows of an original-format file, in order, each
/// song (artist and title, ignoring case) once: the same song on a single
/// and on an album is one song.
fn original_rows(path: &Path) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut rows = Vec::new();
    let mut songs = HashSet::new();
    for record in reader.records() {
        let r = record.unwrap();
        let (title, album, artist) = (r[1].trim(), r[2].trim(), r[3].trim());
        if songs.insert((artist.to_lowercase(), title.to_lowercase())) {
            rows.push((title.to_string(), album.to_string(), artist.to_string()));
        }
    }
    rows
}

const BAD_ROWS: &str = ",Name,Album,Artist\n\
0,Good One,A,Band\n\
1,Too,Few\n\
2,,A,Nameless\n\
3,Also Good,B,Band\n\
4,Evil \u{1b}[2J,C,Band\n\
5,Last Good,C,Other\n";

/// Sets the store file's schema version, as a newer build would.
fn set_user_version(dir: &Path, version: i64) {
    let conn = rusqlite::Connection::open(dir.join(melodora_music::STORE_FILE)).unwrap();
    conn.pragma_update(None, "user_version", version).unwrap();
}

on_both_backends! {
fn the_originals_song_lists_import_unchanged() {
    let seed = shared_catalogs().join("seed-format");
    let mut store = open(true);
    assert_eq!(store.origin().unwrap(), CatalogOrigin::Default);
    let summary = import(&mut store, &seed, None, ImportOptions::default()).unwrap();
    assert!(summary.replaced_default);
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    assert_eq!(summary.files.len(), 7);
    assert_eq!(store.origin().unwrap(), CatalogOrigin::User);
    // Same songs in the same order. (A song listed under two emotions with
    // two albums, a single and an LP, keeps the album it was first seen with.)
    let title_artist = |rows: Vec<(String, String, String)>| {
        rows.into_iter().map(|(t, _, a)| (t, a)).collect::<Vec<_>>()
    };
    for emotion in Emotion::ALL {
        let file = seed.join(format!("{}.csv", emotion.original_name()));
        assert_eq!(
            title_artist(list(&store, emotion)),
            title_artist(original_rows(&file)),
            "{emotion}"
        );
    }
}

fn reimporting_the_same_songs_does_not_duplicate_them() {
    let seed = shared_catalogs().join("seed-format");
    let mut store = open(false);
    let first = import(&mut store, &seed, None, ImportOptions::default()).unwrap();
    let songs = store.song_count().unwrap();
    let second = import(&mut store, &seed, None, ImportOptions::default()).unwrap();
    assert_eq!(store.song_count().unwrap(), songs);
    assert_eq!(second.songs_added, 0);
    assert_eq!(second.songs_known, first.songs_added + first.songs_known);
    // Case and spacing do not make a new song either.
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "x.csv",
        "Name,Album,Artist\n  MO BAMBA ,MUDBOY,sheck  wes\n",
    );
    let third = import(
        &mut store,
        &file,
        Some(Emotion::Angry),
        ImportOptions::default(),
    )
    .unwrap();
    assert_eq!((third.songs_added, third.songs_known), (0, 1));
}

fn an_emotion_column_files_songs_under_either_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mine.csv",
        "title,artist,album,emotion,link\n\
         One,A,X,happy,\n\
         Two,B,X,Fearful;sad,https://open.spotify.com/track/4sPmO7WMQUAf45kwMOtONw\n\
         Three,C,X,disgusted,https://example.com/three\n\
         Four,D,X,surprise,\n",
    );
    let mut store = open(false);
    let summary = import(&mut store, &file, None, ImportOptions::default()).unwrap();
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    let titles = |e: Emotion| list(&store, e).into_iter().map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(titles(Emotion::Happy), ["One"]);
    assert_eq!(titles(Emotion::Fear), ["Two"]);
    assert_eq!(titles(Emotion::Sad), ["Two"]);
    assert_eq!(titles(Emotion::Disgust), ["Three"]);
    let links: Vec<String> = store
        .emotion_list(Emotion::Fear)
        .unwrap()
        .into_iter()
        .map(|s| s.link)
        .collect();
    assert_eq!(
        links,
        ["https://open.spotify.com/track/4sPmO7WMQUAf45kwMOtONw"]
    );
    let three = &store.emotion_list(Emotion::Disgust).unwrap()[0];
    assert_eq!(three.link, "https://example.com/three");
    let four = &store.emotion_list(Emotion::Surprise).unwrap()[0];
    assert_eq!(four.link, "https://open.spotify.com/search/D%20Four");
}

fn audio_feature_exports_are_placed_on_the_circumplex() {
    let moods = shared_catalogs().join("spotify-moods/data_moods.csv");
    let mut store = open(false);
    let summary = import(&mut store, &moods, None, ImportOptions::default()).unwrap();
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    assert_eq!(summary.songs_added, 687);
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.with_spotify_id, stats.with_audio_features),
        (687, 687)
    );
    assert!(stats.emotions.iter().all(|e| e.listed == 0));
    assert_eq!(stats.emotions.iter().map(|e| e.placed).sum::<u64>(), 687);
    // Sad songs sit low on both axes, angry ones low in valence and high in
    // energy, happy ones high in valence.
    let mean = |emotion: Emotion| {
        let songs = store.emotion_list(emotion).unwrap();
        assert!(songs
            .iter()
            .all(|s| s.link.starts_with("https://open.spotify.com/track/")));
        let n = songs.len() as f32;
        let sum = songs.iter().fold((0.0, 0.0), |(v, e), s| {
            let f = s.track.features.unwrap();
            (v + f.valence, e + f.energy)
        });
        (sum.0 / n, sum.1 / n)
    };
    let (sad, angry, happy) = (
        mean(Emotion::Sad),
        mean(Emotion::Angry),
        mean(Emotion::Happy),
    );
    assert!(sad.0 < 0.35 && sad.1 < 0.35, "sad {sad:?}");
    assert!(angry.0 < 0.4 && angry.1 > 0.7, "angry {angry:?}");
    assert!(happy.0 > 0.65, "happy {happy:?}");
    // With --emotion, the same file is filed under one emotion instead.
    let mut store = open(false);
    import(
        &mut store,
        &moods,
        Some(Emotion::Neutral),
        ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(store.emotion_list(Emotion::Neutral).unwrap().len(), 687);
}

fn malformed_rows_are_reported_with_file_and_line_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sad.csv", BAD_ROWS);
    let mut store = open(false);
    let summary = import(&mut store, &file, None, ImportOptions::default()).unwrap();
    let reported: Vec<String> = summary.problems.iter().map(ToString::to_string).collect();
    let name = file.display().to_string();
    assert_eq!(reported.len(), 3, "{reported:?}");
    assert!(
        reported[0].starts_with(&format!("{name}:3: ")),
        "{reported:?}"
    );
    assert!(reported[1].starts_with(&format!("{name}:4: ")) && reported[1].contains("title"));
    assert!(reported[2].starts_with(&format!("{name}:6: ")) && reported[2].contains("control"));
    let titles: Vec<String> = list(&store, Emotion::Sad)
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(titles, ["Good One", "Also Good", "Last Good"]);
}

fn strict_mode_rejects_the_whole_import_and_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(true);
    let before = store.stats().unwrap();
    let before_sad = list(&store, Emotion::Sad);

    let file = write(dir.path(), "sad.csv", BAD_ROWS);
    let err = import(
        &mut store,
        &file,
        None,
        ImportOptions {
            strict: true,
            add: false,
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::Strict(_)));
    assert!(err.to_string().contains(":3:"), "{err}");
    // The good row before the bad one, and the replacement of the default
    // catalog, were both rolled back.
    assert_eq!(store.stats().unwrap(), before);
    assert_eq!(store.origin().unwrap(), CatalogOrigin::Default);
    assert_eq!(list(&store, Emotion::Sad), before_sad);
}

fn a_failure_mid_file_rolls_back_rows_already_written() {
    // 500 good rows, then one the CSV reader cannot get past: the import
    // fails as a whole even without --strict, and nothing of it remains.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(",Name,Album,Artist\n");
    for i in 0..500 {
        text.push_str(&format!("{i},Song {i},Album,Artist {i}\n"));
    }
    text.push_str("500,\"unterminated quote,Album,Artist\n");
    let file = write(dir.path(), "happy.csv", &text);
    let mut store = open(false);
    import(
        &mut store,
        &write(
            dir.path(),
            "angry.csv",
            ",Name,Album,Artist\n0,Keep,Me,Here\n",
        ),
        None,
        ImportOptions::default(),
    )
    .unwrap();
    let before = store.stats().unwrap();
    let result = import(&mut store, &file, None, ImportOptions::default());
    // Either the reader reports the row (then the 500 stay, one reported) or
    // fails the file (then none stay); never a partial file without a report.
    match result {
        Ok(summary) => {
            assert_eq!(summary.problems.len(), 1, "{:?}", summary.problems);
            assert_eq!(list(&store, Emotion::Happy).len(), 500);
        }
        Err(_) => assert_eq!(store.stats().unwrap(), before),
    }
    // A strict import of the same file leaves the store exactly as before.
    let mut store = open(false);
    let before = store.stats().unwrap();
    assert!(import(
        &mut store,
        &file,
        None,
        ImportOptions {
            strict: true,
            add: false
        }
    )
    .is_err());
    assert_eq!(store.stats().unwrap(), before);
    assert_eq!(store.song_count().unwrap(), 0);
}

fn the_first_import_replaces_the_default_catalog_unless_add() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "happy.csv",
        ",Name,Album,Artist\n0,Mine,Mine,Me\n",
    );
    let default_songs = open(true).song_count().unwrap();
    assert!(default_songs > 1000);

    let mut replaced = open(true);
    let highest_default_id = Emotion::ALL
        .iter()
        .flat_map(|&e| replaced.emotion_list(e).unwrap())
        .map(|song| song.id)
        .max()
        .unwrap();
    import(&mut replaced, &file, None, ImportOptions::default()).unwrap();
    assert_eq!(replaced.song_count().unwrap(), 1);
    // Ids are not handed out again: an old id in an open page or a saved
    // session cannot name the new song.
    let mine = &replaced.emotion_list(Emotion::Happy).unwrap()[0];
    assert_eq!(mine.track.title, "Mine");
    assert!(
        mine.id > highest_default_id,
        "{} <= {highest_default_id}",
        mine.id
    );

    let mut merged = open(true);
    let summary = import(
        &mut merged,
        &file,
        None,
        ImportOptions {
            strict: false,
            add: true,
        },
    )
    .unwrap();
    assert!(!summary.replaced_default);
    assert_eq!(merged.song_count().unwrap(), default_songs + 1);

    // Once the store is the user's, later imports merge.
    let second = write(
        dir.path(),
        "sad.csv",
        ",Name,Album,Artist\n0,Also Mine,Mine,Me\n",
    );
    import(&mut replaced, &second, None, ImportOptions::default()).unwrap();
    assert_eq!(replaced.song_count().unwrap(), 2);
}

fn an_import_that_accepts_no_song_is_refused_and_keeps_the_default_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let header_only = write(dir.path(), "sad.csv", ",Name,Album,Artist\n");
    let all_bad = write(
        dir.path(),
        "happy.csv",
        ",Name,Album,Artist\n0,,No Title,Band\n1,\u{1b}[2J,C,Band\n",
    );
    let mut store = open(true);
    let before = store.stats().unwrap();
    let before_sad = list(&store, Emotion::Sad);

    let err = import(&mut store, &header_only, None, ImportOptions::default()).unwrap_err();
    assert!(matches!(err, Error::NothingAccepted { .. }), "{err:?}");
    assert!(err.to_string().contains("no song was accepted"), "{err}");

    let err = import(&mut store, &all_bad, None, ImportOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("2 malformed rows"), "{message}");
    assert!(
        message.contains(":2:"),
        "the first problem's line: {message}"
    );

    assert_eq!(store.stats().unwrap(), before);
    assert_eq!(store.origin().unwrap(), CatalogOrigin::Default);
    assert_eq!(list(&store, Emotion::Sad), before_sad);
}

fn the_store_refuses_profile_names_that_the_api_and_cli_refuse() {
    let mut store = open(true);
    let id = store.emotion_list(Emotion::Happy).unwrap()[0].id;
    for bad in [String::new(), "p".repeat(65), "a\u{7}b".into()] {
        let result = store.record_feedback(&bad, id, Verdict::Like);
        assert!(
            matches!(result, Err(Error::BadProfileName { .. })),
            "{bad:?}"
        );
    }
    store
        .record_feedback(&"p".repeat(64), id, Verdict::Like)
        .unwrap();
}

fn a_profiles_calibration_is_kept_replaced_and_forgotten() {
    let mut store = open(false);
    assert_eq!(store.calibration("ana").unwrap(), None);
    let sad = Calibration::from_offsets([0.0, 0.0, 0.0, 0.0, 0.0, -1.25, 0.0]).unwrap();
    store.set_calibration("ana", Some(&sad)).unwrap();
    assert_eq!(store.calibration("ana").unwrap(), Some(sad));
    assert_eq!(store.calibration("ben").unwrap(), None, "per profile");
    let angry = Calibration::from_offsets([-2.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0]).unwrap();
    store.set_calibration("ana", Some(&angry)).unwrap();
    assert_eq!(store.calibration("ana").unwrap(), Some(angry));
    store.set_calibration("ana", None).unwrap();
    assert_eq!(store.calibration("ana").unwrap(), None);
    store.set_calibration("ana", None).unwrap();
    let refused = store.set_calibration("", Some(&sad));
    assert!(matches!(refused, Err(Error::BadProfileName { .. })), "{refused:?}");
}

fn what_played_is_kept_per_profile_newest_first_bounded_and_forgotten() {
    let mut store = open(true);
    let songs = store.emotion_list(Emotion::Sad).unwrap();
    let (first, second) = (&songs[0], &songs[1]);
    let play = store
        .record_play("ana", first.id, Some(Emotion::Sad), "in your sad list (#1)")
        .unwrap();
    assert_eq!(
        (play.title.as_str(), play.artist.as_str()),
        (first.track.title.as_str(), first.track.artist.as_str()),
        "the title and artist come from the store"
    );
    store
        .record_play("ana", second.id, None, &"why ".repeat(200))
        .unwrap();
    store
        .record_play("ben", second.id, Some(Emotion::Happy), "")
        .unwrap();
    let plays = store.plays("ana", 50).unwrap();
    assert_eq!(plays.len(), 2, "per profile: {plays:?}");
    assert_eq!(plays[0].song_id, second.id, "newest first");
    assert_eq!(plays[0].mood, None);
    assert_eq!(
        plays[0].reason.chars().count(),
        melodora_music::MAX_REASON_CHARS,
        "a long reason is cut"
    );
    assert_eq!(plays[1], play, "kept as recorded");
    assert_eq!(store.plays("ana", 1).unwrap().len(), 1, "the limit holds");
    let unknown = store.record_play("ana", -5, None, "");
    assert!(matches!(unknown, Err(Error::UnknownSong(-5))), "{unknown:?}");
    let refused = store.record_play("", first.id, None, "");
    assert!(matches!(refused, Err(Error::BadProfileName { .. })), "{refused:?}");
    for _ in 0..melodora_music::PLAYS_KEPT + 3 {
        store.record_play("cy", first.id, None, "").unwrap();
    }
    assert_eq!(
        store.plays("cy", usize::MAX).unwrap().len(),
        melodora_music::PLAYS_KEPT,
        "only the newest are kept"
    );
    assert_eq!(store.forget_plays("ana").unwrap(), 2);
    assert!(store.plays("ana", 50).unwrap().is_empty());
    assert_eq!(store.plays("ben", 50).unwrap().len(), 1, "others keep theirs");
}

fn export_writes_the_original_format_and_round_trips() {
    let seed = shared_catalogs().join("seed-format");
    let mut store = open(false);
    import(&mut store, &seed, None, ImportOptions::default()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let first = out.path().join("first");
    let files = export_original_format(&store, &first, false).unwrap();
    assert_eq!(files.len(), 7);
    let header = std::fs::read_to_string(first.join("fearful.csv")).unwrap();
    assert!(
        header.starts_with(",Name,Album,Artist,Link\n0,"),
        "{header}"
    );

    let mut again = open(false);
    import(&mut again, &first, None, ImportOptions::default()).unwrap();
    for emotion in Emotion::ALL {
        assert_eq!(list(&again, emotion), list(&store, emotion), "{emotion}");
    }
    let second = out.path().join("second");
    export_original_format(&again, &second, false).unwrap();
    for emotion in Emotion::ALL {
        let name = format!("{}.csv", emotion.original_name());
        assert_eq!(
            std::fs::read(first.join(&name)).unwrap(),
            std::fs::read(second.join(&name)).unwrap(),
            "{name}"
        );
    }
    // Existing files are not overwritten without being asked to.
    let err = export_original_format(&store, &first, false).unwrap_err();
    assert!(matches!(err, Error::WouldOverwrite { .. }), "{err}");
    export_original_format(&store, &first, true).unwrap();
}

fn hostile_titles_are_stored_verbatim_or_refused_never_interpreted() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "angry.csv",
        ",Name,Album,Artist,Link\n\
         0,<script>alert(1)</script>,\"Album, \"\"quoted\"\"\",'; DROP TABLE songs; --,\n\
         1,Bad link,A,B,javascript:alert(1)\n",
    );
    let mut store = open(false);
    let summary = import(&mut store, &file, None, ImportOptions::default()).unwrap();
    assert_eq!(summary.problems.len(), 1);
    assert!(
        summary.problems[0].message.contains("http"),
        "{}",
        summary.problems[0]
    );
    let songs = store.emotion_list(Emotion::Angry).unwrap();
    assert_eq!(songs.len(), 1);
    assert_eq!(songs[0].track.title, "<script>alert(1)</script>");
    assert_eq!(songs[0].track.album, "Album, \"quoted\"");
    assert_eq!(songs[0].track.artist, "'; DROP TABLE songs; --");
    assert!(songs[0]
        .link
        .starts_with("https://open.spotify.com/search/%27%3B%20DROP"));
}

fn a_fresh_store_has_songs_with_links_for_every_emotion() {
    let store = open(true);
    for emotion in Emotion::ALL {
        let songs = store.emotion_list(emotion).unwrap();
        assert!(songs.len() >= 40, "{emotion}: {}", songs.len());
        let mut seen = HashSet::new();
        for song in &songs {
            assert!(
                song.link.starts_with("https://open.spotify.com/"),
                "{}",
                song.link
            );
            assert!(seen.insert(song.id));
        }
    }
}
}

#[test]
fn a_directory_without_catalog_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", "hello");
    write(dir.path(), "bored.csv", "Name,Album,Artist\n");
    let err = catalog_files(dir.path(), None).unwrap_err();
    assert!(matches!(err, Error::NoCatalogFiles { .. }), "{err}");
    assert!(catalog_files(&dir.path().join("missing"), None).is_err());
}

#[test]
fn the_store_persists_and_refuses_files_from_a_newer_build() {
    let dir = tempfile::tempdir().unwrap();
    let songs = {
        let store = Store::open(dir.path()).unwrap();
        store.song_count().unwrap()
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.song_count().unwrap(),
        songs,
        "reopening does not seed twice"
    );
    drop(store);
    set_user_version(dir.path(), 99);
    let err = Store::open(dir.path()).err().expect("newer schema refused");
    assert!(err.to_string().contains("newer"), "{err}");
}

/// A store made before calibrations, the library and plays existed (schema
/// version 1) gets their tables on open; a calibration edited into nonsense is an error, not a
/// silently uncalibrated listener.
#[test]
fn an_older_store_gains_calibrations_the_library_and_plays_and_a_corrupt_calibration_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        let conn = rusqlite::Connection::open(dir.path().join(melodora_music::STORE_FILE)).unwrap();
        conn.execute_batch(
            "DROP TABLE calibrations; DROP TABLE library_skipped;
             DROP TABLE library_files; DROP TABLE library_roots; DROP TABLE plays;",
        )
        .unwrap();
    }
    set_user_version(dir.path(), 1);
    let mut store = Store::open(dir.path()).unwrap();
    let calibration = Calibration::from_offsets([0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0]).unwrap();
    store
        .set_calibration("default", Some(&calibration))
        .unwrap();
    assert_eq!(store.calibration("default").unwrap(), Some(calibration));
    assert!(store.library_roots().unwrap().is_empty());
    assert!(store.plays("default", 10).unwrap().is_empty());
    drop(store);
    {
        let conn = rusqlite::Connection::open(dir.path().join(melodora_music::STORE_FILE)).unwrap();
        conn.execute("UPDATE calibrations SET offsets = '{\"sad\": -99}'", [])
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let error = store.calibration("default").unwrap_err();
    assert!(matches!(error, Error::BadCalibration { .. }), "{error:?}");
}

#[test]
fn the_embedded_catalog_is_what_the_builder_makes_from_the_shared_catalogs() {
    let (built, notes) = build_default_catalog(&shared_catalogs()).unwrap();
    assert!(
        built == DEFAULT_CATALOG_CSV,
        "assets/catalog/default.csv is stale; rebuild it (see its README)"
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("disgusted.csv") && notes[0].contains("sad.csv"),
        "{notes:?}"
    );
}

#[test]
fn concurrent_feedback_from_many_connections_loses_nothing() {
    // 8 processes-worth of connections to one store file, each recording 40
    // verdicts at once: every one of the 320 is there afterwards.
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<i64> = {
        let store = Store::open(dir.path()).unwrap();
        let recommender = melodora_music::Recommender::load(&store).unwrap();
        let request = melodora_music::Request {
            emotion: melodora_core::Emotion::Happy,
            mode: melodora_music::Mode::Match,
            limit: 40,
            from: melodora_music::Source::All,
        };
        let mut session = melodora_music::Session::new("setup", 1);
        recommender
            .recommend(&store, &request, &mut session)
            .unwrap()
            .iter()
            .map(|r| r.song.id)
            .collect()
    };
    assert_eq!(ids.len(), 40);
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (path, ids) = (dir.path().to_owned(), ids.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                let profile = format!("listener-{writer}");
                for (i, id) in ids.iter().enumerate() {
                    let verdict = if (i + writer) % 2 == 0 {
                        melodora_music::Verdict::Like
                    } else {
                        melodora_music::Verdict::Skip
                    };
                    store.record_feedback(&profile, *id, verdict).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let mut total = 0;
    for writer in 0..8 {
        let feedback = store.feedback(&format!("listener-{writer}")).unwrap();
        assert_eq!(feedback.len(), 40, "listener-{writer}");
        let likes = feedback
            .iter()
            .filter(|(_, v)| *v == melodora_music::Verdict::Like)
            .count();
        assert_eq!(likes, 20, "listener-{writer}");
        total += feedback.len();
    }
    assert_eq!(total, 320);
}
