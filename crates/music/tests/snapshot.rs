//! The catalog file (what a static site's browser recommends from) against
//! the store it was written from: same lists for every emotion and mode,
//! round after round and with feedback; and files that are not catalogs
//! are refused with a reason.

use melodora_core::Emotion;
use melodora_music::{
    CatalogSnapshot, Mode, Recommender, Request, Session, SnapshotCatalog, SnapshotError, Verdict,
};

fn ids(list: &[melodora_music::Recommendation]) -> Vec<i64> {
    list.iter().map(|r| r.song.id).collect()
}

mod support {
    pub mod backends;
}
use support::backends::open;

fn shared(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/catalogs")
        .join(path)
}

fn named_bytes(paths: &[std::path::PathBuf]) -> Vec<(String, Vec<u8>)> {
    paths
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect()
}

on_both_backends! {
fn a_file_from_the_store_recommends_exactly_as_the_store() {
    let mut store = open(true);
    let file = store.snapshot().unwrap();
    assert!(file.songs.len() > 500, "the default catalog");
    let reread = CatalogSnapshot::from_json(&file.to_json()).unwrap();
    assert_eq!(reread, file, "JSON round trip");
    let catalog = SnapshotCatalog::new(reread);
    let recommender = Recommender::load(&store).unwrap();

    let liked = file.songs[3].id;
    let skipped = file.songs[40].id;
    store
        .record_feedback("default", liked, Verdict::Like)
        .unwrap();
    store
        .record_feedback("default", skipped, Verdict::Skip)
        .unwrap();
    let feedback = [(skipped, Verdict::Skip), (liked, Verdict::Like)];

    for mode in [Mode::Match, Mode::Uplift] {
        for emotion in Emotion::ALL {
            let request = Request {
                emotion,
                mode,
                limit: 15,
                from: melodora_music::Source::All,
            };
            let mut from_store = Session::new("default", 7);
            let mut from_file = Session::new("default", 7);
            // Enough rounds to exhaust small pools and start new ones.
            for round in 0..12 {
                let a = recommender
                    .recommend(&store, &request, &mut from_store)
                    .unwrap();
                let b = catalog.recommend(&request, &mut from_file, &feedback);
                assert_eq!(ids(&a), ids(&b), "{emotion:?} {mode:?} round {round}");
                assert_eq!(a, b, "same songs, scores and targets");
            }
            assert_eq!(from_store.seen, from_file.seen);
        }
    }
}

fn files_that_are_not_catalogs_are_refused_with_a_reason() {
    let store = open(true);
    let file = store.snapshot().unwrap();

    let malformed = CatalogSnapshot::from_json("{\"songs\": 3}").unwrap_err();
    assert!(
        matches!(malformed, SnapshotError::Malformed(_)),
        "{malformed}"
    );
    assert!(CatalogSnapshot::from_json("not json").is_err());

    let mut other = file.clone();
    other.format = "something-else".into();
    let wrong = CatalogSnapshot::from_json(&other.to_json()).unwrap_err();
    assert!(wrong.to_string().contains("something-else"), "{wrong}");

    let mut hostile = file.clone();
    hostile.songs[0].link = "javascript:alert(1)".into();
    let bad_link = CatalogSnapshot::from_json(&hostile.to_json()).unwrap_err();
    assert!(
        matches!(bad_link, SnapshotError::BadLink { .. }),
        "{bad_link}"
    );

    let mut unordered = file.clone();
    unordered.songs.swap(0, 1);
    let order = CatalogSnapshot::from_json(&unordered.to_json()).unwrap_err();
    assert!(matches!(order, SnapshotError::BadOrder(_)), "{order}");

    let mut bad_id = file;
    bad_id.songs[0].track.spotify_id = None;
    let json = bad_id
        .to_json()
        .replacen("\"title\"", "\"spotify_id\":\"not-an-id\",\"title\"", 1);
    assert!(
        CatalogSnapshot::from_json(&json).is_err(),
        "a malformed Spotify id"
    );
}

/// The browser's import gives the catalog a store's import gives: the
/// original's seed files replacing the default catalog, then the Spotify
/// moods export merged in, then a file with broken rows.
fn importing_into_a_snapshot_matches_importing_into_a_store() {
    use melodora_music::import::catalog_files;
    use melodora_music::ImportOptions;

    let mut store = open(true);
    let mut snapshot = store.snapshot().unwrap();
    assert!(snapshot.default_catalog);
    let options = ImportOptions {
        strict: false,
        add: false,
    };
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("happy.csv");
    std::fs::write(
        &broken,
        "Name,Album,Artist\nGood Song,Album,Someone New\n\"unterminated,x,y\nAnother,,Artist B\n,,\n",
    )
    .unwrap();

    let seed = catalog_files(&shared("seed-format"), None).unwrap();
    let seed_paths: Vec<_> = seed.iter().map(|f| f.path.clone()).collect();
    let moods = shared("spotify-moods/data_moods.csv");
    for (step, paths) in [seed_paths, vec![moods], vec![broken]]
        .into_iter()
        .enumerate()
    {
        let files = catalog_files(&paths[0], None)
            .ok()
            .filter(|_| paths.len() == 1)
            .unwrap_or_else(|| {
                paths
                    .iter()
                    .flat_map(|p| catalog_files(p, None).unwrap())
                    .collect()
            });
        let in_store = store.import_files(&files, options).unwrap();
        let in_browser = snapshot.import(&named_bytes(&paths)).unwrap();
        assert_eq!(in_browser.songs_added, in_store.songs_added, "step {step}");
        assert_eq!(in_browser.songs_known, in_store.songs_known, "step {step}");
        assert_eq!(
            in_browser.replaced_default, in_store.replaced_default,
            "step {step}"
        );
        assert_eq!(
            in_browser.problems.len(),
            in_store.problems.len(),
            "step {step}"
        );
        let expected = store.snapshot().unwrap();
        for (a, b) in snapshot.songs.iter().zip(&expected.songs) {
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::to_value(b).unwrap(),
                "step {step}: song {}",
                b.id
            );
        }
        assert_eq!(snapshot.songs.len(), expected.songs.len(), "step {step}");
        for (i, (a, b)) in snapshot.filings.iter().zip(&expected.filings).enumerate() {
            assert_eq!(a, b, "step {step}: filing {i}");
        }
        assert_eq!(snapshot.filings, expected.filings, "step {step}");
        assert_eq!(
            serde_json::to_value(&snapshot).unwrap(),
            serde_json::to_value(&expected).unwrap(),
            "step {step}: the same catalog"
        );
        let (from_store, from_browser) = (
            SnapshotCatalog::new(expected),
            SnapshotCatalog::new(snapshot.clone()),
        );
        for emotion in Emotion::ALL {
            let request = Request {
                emotion,
                mode: Mode::Match,
                limit: 15,
                from: melodora_music::Source::All,
            };
            let a = from_store.recommend(&request, &mut Session::new("p", 1), &[]);
            let b = from_browser.recommend(&request, &mut Session::new("p", 1), &[]);
            assert_eq!(ids(&a), ids(&b), "step {step}, {emotion:?}");
        }
    }
    assert!(!snapshot.default_catalog);
}

fn an_import_that_accepts_nothing_changes_nothing() {
    let mut snapshot = open(true).snapshot().unwrap();
    let before = snapshot.clone();
    let nothing = snapshot
        .import(&[("sad.csv".into(), b"Name,Album,Artist\n,,\n".to_vec())])
        .unwrap_err();
    assert!(
        nothing.to_string().contains("no song was accepted"),
        "{nothing}"
    );
    let not_csv = snapshot
        .import(&[("notes.txt".into(), b"just some words".to_vec())])
        .unwrap_err();
    assert!(!not_csv.to_string().is_empty());
    let huge = vec![b'a'; melodora_music::MAX_IMPORT_BYTES + 1];
    let too_big = snapshot.import(&[("sad.csv".into(), huge)]).unwrap_err();
    assert!(too_big.to_string().contains("at most"), "{too_big}");
    assert_eq!(snapshot, before);
}
}
