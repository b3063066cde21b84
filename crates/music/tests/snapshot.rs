//! The catalog file (what a static site's browser recommends from) against
//! the store it was written from: same lists for every emotion and mode,
//! round after round and with feedback; and files that are not catalogs
//! are refused with a reason.

use melodora_core::Emotion;
use melodora_music::{
    CatalogSnapshot, Mode, Recommender, Request, Session, SnapshotCatalog, SnapshotError, Store,
    Verdict,
};

fn ids(list: &[melodora_music::Recommendation]) -> Vec<i64> {
    list.iter().map(|r| r.song.id).collect()
}

#[test]
fn a_file_from_the_store_recommends_exactly_as_the_store() {
    let mut store = Store::open_in_memory(true).unwrap();
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

#[test]
fn files_that_are_not_catalogs_are_refused_with_a_reason() {
    let store = Store::open_in_memory(true).unwrap();
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
