//! The browser's playlists, run natively: a catalog file written from the
//! default store gives full lists that open Spotify, feedback moves songs,
//! a kept session continues its rounds after a reload, and bad input is
//! refused with a message.

use melodora_music::Store;
use melodora_wasm::Playlists;

fn catalog_json() -> String {
    Store::open_in_memory(true)
        .unwrap()
        .snapshot()
        .unwrap()
        .to_json()
}

fn ids(playlists: &mut Playlists, emotion: &str, feedback: &str) -> Vec<i64> {
    playlists
        .list(emotion, "match", 15, feedback)
        .unwrap()
        .iter()
        .map(|r| r.song.id)
        .collect()
}

#[test]
fn lists_open_spotify_and_follow_feedback() {
    let json = catalog_json();
    let mut playlists = Playlists::load(&json, 1).unwrap();
    assert!(playlists.song_count() > 500);
    let happy = playlists.list("happy", "match", 15, "").unwrap();
    assert_eq!(happy.len(), 15);
    assert!(happy
        .iter()
        .all(|r| r.song.link.starts_with("https://open.spotify.com/")));
    let sad = playlists.list("sad", "uplift", 15, "[]").unwrap();
    assert_eq!(sad.len(), 15);

    // Same seed, same first list; skipping its first song moves it out.
    let mut fresh = Playlists::load(&json, 9).unwrap();
    let first = ids(&mut fresh, "neutral", "");
    let mut again = Playlists::load(&json, 9).unwrap();
    assert_eq!(ids(&mut again, "neutral", ""), first, "reproducible");
    let mut skipping = Playlists::load(&json, 9).unwrap();
    let skipped = ids(
        &mut skipping,
        "neutral",
        &format!("[[{}, \"skip\"]]", first[0]),
    );
    assert!(
        !skipped.contains(&first[0]),
        "a skipped song is not first in line any more"
    );
}

#[test]
fn a_kept_session_continues_after_a_reload() {
    let json = catalog_json();
    let mut before = Playlists::load(&json, 3).unwrap();
    let first = ids(&mut before, "angry", "");
    let kept = before.session_state();
    assert_eq!(kept.seen.len(), 15);

    let mut reloaded = Playlists::load(&json, 77).unwrap();
    reloaded.restore(kept);
    let second = ids(&mut reloaded, "angry", "");
    assert!(
        second.iter().all(|id| !first.contains(id)),
        "the next list holds no song already shown"
    );
    let mut uninterrupted = before;
    assert_eq!(
        ids(&mut uninterrupted, "angry", ""),
        second,
        "as if never reloaded"
    );
}

#[test]
fn bad_input_is_refused_with_a_message() {
    let refused = |json: &str| match Playlists::load(json, 1) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    };
    assert!(refused("<html>").contains("not a Melodora catalog file"));
    assert!(
        refused("{\"format\":\"x\",\"version\":1,\"songs\":[],\"filings\":[]}").contains("\"x\"")
    );

    let mut playlists = Playlists::load(&catalog_json(), 1).unwrap();
    assert!(playlists
        .list("bored", "match", 15, "")
        .unwrap_err()
        .contains("bored"));
    assert!(playlists
        .list("happy", "loud", 15, "")
        .unwrap_err()
        .contains("loud"));
    assert!(playlists.list("happy", "match", 0, "").is_err());
    assert!(playlists.list("happy", "match", 1000, "").is_err());
    assert!(playlists
        .list("happy", "match", 15, "[[1, \"love\"]]")
        .unwrap_err()
        .contains("feedback"));
    // Verdicts on songs the catalog lacks change nothing.
    assert_eq!(
        playlists
            .list("happy", "match", 15, "[[999999, \"like\"]]")
            .unwrap()
            .len(),
        15
    );
}

#[test]
fn an_imported_csv_replaces_the_default_catalog_and_reports_bad_rows() {
    let mut playlists = Playlists::load(&catalog_json(), 5).unwrap();
    let before = ids(&mut playlists, "sad", "");
    let csv =
        "Name,Album,Artist\nRain Song,Wet,The Clouds\nonly two,fields\nGrey Day,,The Clouds\n";
    let report = playlists
        .import(
            &["sad.csv".to_string()],
            &[csv.len() as u32],
            csv.as_bytes(),
        )
        .unwrap();
    assert_eq!(report.songs_added, 2);
    assert!(report.replaced_default);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let after = playlists.list("sad", "match", 15, "").unwrap();
    assert_eq!(after.len(), 2, "only the imported songs remain");
    assert!(after.iter().all(|r| !before.contains(&r.song.id)));
    // What the page keeps loads back as the same catalog.
    let kept = Playlists::load(&playlists.snapshot_json(), 5).unwrap();
    assert_eq!(kept.song_count(), 2);

    let refused = playlists
        .import(&["a.csv".into()], &[10], b"abc")
        .unwrap_err();
    assert!(refused.contains("do not agree"), "{refused}");
    let nothing = playlists
        .import(&["sad.csv".into()], &[20], b"Name,Album,Artist\n,,")
        .unwrap_err();
    assert!(nothing.contains("no song was accepted"), "{nothing}");
    assert_eq!(
        playlists.song_count(),
        2,
        "a refused import changes nothing"
    );
}
