//! The recommender's rules: pools, variety, no repeats, uplift, feedback,
//! determinism.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use melodora_core::Emotion;
use melodora_music::circumplex::{center, nearest_emotion, MoodPoint, UPLIFT_GOAL};
use melodora_music::import::catalog_files;
use melodora_music::{
    ImportOptions, Mode, Recommendation, Recommender, Request, Session, Store, Verdict,
};

fn shared_seed_format() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/catalogs/seed-format")
}

/// A store holding only the songs of `csv` (an emotion-column catalog).
fn store_with(csv: &str) -> Store {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.csv");
    std::fs::write(&path, csv).unwrap();
    let mut store = Store::open_in_memory(false).unwrap();
    let files = catalog_files(&path, None).unwrap();
    let summary = store
        .import_files(&files, ImportOptions::default())
        .unwrap();
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    store
}

/// Songs on a regular valence/energy grid, `side` x `side`, each by its
/// own artist.
fn grid_catalog(side: usize) -> String {
    let mut csv = String::from("title,artist,valence,energy,popularity\n");
    for i in 0..side {
        for j in 0..side {
            let (v, e) = (i as f32 / (side - 1) as f32, j as f32 / (side - 1) as f32);
            csv.push_str(&format!("Song {i}-{j},Artist {i}-{j},{v},{e},50\n"));
        }
    }
    csv
}

fn recommend(
    store: &Store,
    emotion: Emotion,
    mode: Mode,
    limit: usize,
    session: &mut Session,
) -> Vec<Recommendation> {
    let recommender = Recommender::load(store).unwrap();
    let request = Request {
        emotion,
        mode,
        limit,
        from: melodora_music::Source::All,
    };
    recommender.recommend(store, &request, session).unwrap()
}

fn ids(list: &[Recommendation]) -> Vec<i64> {
    list.iter().map(|r| r.song.id).collect()
}

fn point(r: &Recommendation) -> MoodPoint {
    r.song.track.features.expect("audio features").point()
}

mod support {
    pub mod backends;
}
use support::backends::open;

on_both_backends! {
fn a_fresh_store_gives_fifteen_linked_songs_of_the_mood_for_every_emotion() {
    let store = open(true);
    let mut firsts = HashSet::new();
    for emotion in Emotion::ALL {
        for mode in [Mode::Match, Mode::Uplift] {
            let list = recommend(&store, emotion, mode, 15, &mut Session::new("p", 1));
            assert_eq!(list.len(), 15, "{emotion} {mode:?}");
            assert_eq!(ids(&list).into_iter().collect::<HashSet<_>>().len(), 15);
            for r in &list {
                assert!(
                    r.song.link.starts_with("https://open.spotify.com/"),
                    "{}",
                    r.song.link
                );
                if mode == Mode::Match {
                    let in_pool = r.song.emotions.contains(&emotion)
                        || (r.song.emotions.is_empty() && nearest_emotion(point(r)) == emotion);
                    assert!(in_pool, "{emotion}: {:?}", r.song);
                }
            }
            if mode == Mode::Match {
                firsts.insert(list[0].song.id);
            }
        }
    }
    assert_eq!(firsts.len(), 7, "each emotion has its own list");
}

fn after_importing_the_originals_lists_each_emotion_name_gets_its_own_list() {
    let seed = shared_seed_format();
    let mut store = open(true);
    store
        .import_files(
            &catalog_files(&seed, None).unwrap(),
            ImportOptions::default(),
        )
        .unwrap();
    let names = [
        "angry",
        "disgusted",
        "fearful",
        "happy",
        "neutral",
        "sad",
        "surprised",
        "disgust",
        "fear",
        "surprise",
    ];
    for name in names {
        let emotion: Emotion = name.parse().unwrap();
        let file = seed.join(format!("{}.csv", emotion.original_name()));
        let mut reader = csv::Reader::from_path(&file).unwrap();
        let listed: HashSet<(String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[1].trim().to_lowercase(), r[3].trim().to_lowercase())
            })
            .collect();
        let list = recommend(&store, emotion, Mode::Match, 15, &mut Session::new("p", 0));
        assert_eq!(list.len(), 15, "{name}");
        for r in &list {
            let key = (
                r.song.track.title.to_lowercase(),
                r.song.track.artist.to_lowercase(),
            );
            assert!(
                listed.contains(&key),
                "{name}: {key:?} is not in {}",
                file.display()
            );
            assert!(!r.song.link.is_empty());
        }
    }
}

fn uplift_starts_at_the_mood_and_moves_to_positive_valence() {
    let store = store_with(&grid_catalog(41));
    for emotion in [
        Emotion::Sad,
        Emotion::Angry,
        Emotion::Fear,
        Emotion::Disgust,
    ] {
        let list = recommend(&store, emotion, Mode::Uplift, 15, &mut Session::new("p", 3));
        assert_eq!(list.len(), 15);
        let first = point(&list[0]);
        let last = point(&list[14]);
        assert!(
            first.distance(center(emotion)) < 0.05,
            "{emotion}: starts at {first:?}"
        );
        assert!(
            last.distance(UPLIFT_GOAL) < 0.05,
            "{emotion}: ends at {last:?}"
        );
        let valences: Vec<f32> = list.iter().map(|r| point(r).valence).collect();
        for pair in valences.windows(2) {
            assert!(
                pair[1] >= pair[0] - 0.03,
                "{emotion}: valence falls: {valences:?}"
            );
        }
        // Match mode stays put instead.
        let matched = recommend(&store, emotion, Mode::Match, 15, &mut Session::new("p", 3));
        assert!(matched
            .iter()
            .all(|r| point(r).distance(center(emotion)) < 0.1));
    }

    // Without audio features, uplift walks across the emotions' lists.
    let mut store = open(false);
    store
        .import_files(
            &catalog_files(&shared_seed_format(), None).unwrap(),
            ImportOptions::default(),
        )
        .unwrap();
    let list = recommend(
        &store,
        Emotion::Sad,
        Mode::Uplift,
        15,
        &mut Session::new("p", 0),
    );
    assert!(
        list[0].song.emotions.contains(&Emotion::Sad),
        "{:?}",
        list[0].song
    );
    assert!(
        list[14].song.emotions.contains(&Emotion::Happy),
        "{:?}",
        list[14].song
    );
}

fn likes_raise_a_song_and_similar_songs_and_skips_bury_them() {
    let mut store = open(true);
    let long = recommend(
        &store,
        Emotion::Sad,
        Mode::Match,
        200,
        &mut Session::new("p", 0),
    );
    let top: Vec<i64> = ids(&long[..15]);
    let position = |list: &[Recommendation], id: i64| list.iter().position(|r| r.song.id == id);

    // Like an audio-feature song far down the pool: it leads the next list.
    let liked = long[100..]
        .iter()
        .find(|r| r.song.track.features.is_some())
        .unwrap()
        .song
        .clone();
    store.record_feedback("p", liked.id, Verdict::Like).unwrap();
    let after = recommend(
        &store,
        Emotion::Sad,
        Mode::Match,
        15,
        &mut Session::new("p", 0),
    );
    assert_eq!(after[0].song.id, liked.id);

    // Its neighbours in valence/energy rose too.
    let long_after = recommend(
        &store,
        Emotion::Sad,
        Mode::Match,
        200,
        &mut Session::new("p", 0),
    );
    let liked_point = liked.track.features.unwrap().point();
    let neighbour = long
        .iter()
        .skip(30)
        .filter(|r| r.song.id != liked.id)
        .filter_map(|r| {
            r.song
                .track
                .features
                .map(|f| (r.song.id, f.point().distance(liked_point)))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert!(
        position(&long_after, neighbour.0) < position(&long, neighbour.0),
        "the nearest neighbour of the liked song rose"
    );

    // Another profile is unaffected.
    let other = recommend(
        &store,
        Emotion::Sad,
        Mode::Match,
        15,
        &mut Session::new("q", 0),
    );
    assert_eq!(ids(&other), top);

    // Skip the first song of the original list: it drops out of later lists.
    store.record_feedback("q", top[0], Verdict::Skip).unwrap();
    let skipped = recommend(
        &store,
        Emotion::Sad,
        Mode::Match,
        15,
        &mut Session::new("q", 0),
    );
    assert!(!ids(&skipped).contains(&top[0]));
    assert_eq!(ids(&skipped)[..14], top[1..], "the rest move up");

    // Unknown songs are refused.
    assert!(store.record_feedback("q", 999_999, Verdict::Like).is_err());
}

fn small_and_empty_catalogs_do_not_break_lists() {
    let empty = open(false);
    assert!(recommend(
        &empty,
        Emotion::Sad,
        Mode::Match,
        15,
        &mut Session::new("p", 0)
    )
    .is_empty());

    // Only happy songs: an angry listener still gets the nearest songs.
    let store = store_with("title,artist,emotion\nA,X,happy\nB,Y,happy\nC,Z,happy\n");
    let list = recommend(
        &store,
        Emotion::Angry,
        Mode::Match,
        15,
        &mut Session::new("p", 0),
    );
    assert_eq!(list.len(), 3);
    let mut session = Session::new("p", 0);
    for _ in 0..3 {
        assert_eq!(
            recommend(&store, Emotion::Happy, Mode::Uplift, 15, &mut session).len(),
            3
        );
    }
}
}

#[test]
fn list_songs_keep_their_order_with_popularity_breaking_ties() {
    let store = store_with(
        "title,artist,emotion,popularity\n\
         First,A,sad,10\nSecond,B,sad,90\nThird,C,sad,50\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("more.csv");
    // A second import ranks its own first song at the same position as
    // "First": the more popular one goes first.
    std::fs::write(&path, "title,artist,emotion,popularity\nRival,D,sad,80\n").unwrap();
    let mut store = store;
    store
        .import_files(
            &catalog_files(&path, None).unwrap(),
            ImportOptions::default(),
        )
        .unwrap();
    let list = recommend(
        &store,
        Emotion::Sad,
        Mode::Match,
        4,
        &mut Session::new("p", 0),
    );
    let titles: Vec<&str> = list.iter().map(|r| r.song.track.title.as_str()).collect();
    assert_eq!(titles, ["Rival", "First", "Second", "Third"]);
}

#[test]
fn no_artist_gets_more_than_two_songs_in_fifteen() {
    let mut csv = String::from("title,artist,emotion\n");
    for i in 0..30 {
        csv.push_str(&format!("Hit {i},Mono,happy\n"));
    }
    for i in 0..30 {
        csv.push_str(&format!("Other {i},Band {i},happy\n"));
    }
    let store = store_with(&csv);
    let list = recommend(
        &store,
        Emotion::Happy,
        Mode::Match,
        15,
        &mut Session::new("p", 0),
    );
    assert_eq!(list.len(), 15);
    let mut per_artist: HashMap<&str, usize> = HashMap::new();
    for r in &list {
        *per_artist.entry(r.song.track.artist.as_str()).or_default() += 1;
    }
    assert_eq!(per_artist["Mono"], 2, "{per_artist:?}");
    assert!(per_artist.values().all(|&n| n <= 2));

    // With audio features too: a cluster of one artist's songs right at the
    // centre still yields only two of them.
    let happy = center(Emotion::Happy);
    let mut csv = String::from("title,artist,valence,energy,popularity\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "Near {i},Cluster,{},{},50\n",
            happy.valence, happy.energy
        ));
    }
    csv.push_str(
        &grid_catalog(21)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let store = store_with(&csv);
    let list = recommend(
        &store,
        Emotion::Happy,
        Mode::Match,
        15,
        &mut Session::new("p", 0),
    );
    let cluster = list
        .iter()
        .filter(|r| r.song.track.artist == "Cluster")
        .count();
    assert_eq!(cluster, 2);
}

#[test]
fn a_session_sees_no_song_twice_until_the_pool_is_used_up() {
    // 40 sad songs in the list; lists of 15 in one session.
    let mut csv = String::from("title,artist,emotion\n");
    for i in 0..40 {
        csv.push_str(&format!("Sad {i},Artist {i},sad\n"));
    }
    csv.push_str("Happy,Someone,happy\n");
    let store = store_with(&csv);
    let mut session = Session::new("p", 0);
    let mut shown = Vec::new();
    for _ in 0..3 {
        shown.extend(ids(&recommend(
            &store,
            Emotion::Sad,
            Mode::Match,
            15,
            &mut session,
        )));
    }
    assert_eq!(shown.len(), 45);
    let first_round: HashSet<i64> = shown[..40].iter().copied().collect();
    assert_eq!(first_round.len(), 40, "all 40 before any repeat");
    let third: HashSet<i64> = shown[30..45].iter().copied().collect();
    assert_eq!(third.len(), 15, "no repeat within a list");
    // The third list finished the pool and began a new round.
    assert!(shown[40..].iter().all(|id| first_round.contains(id)));
    let titles = recommend(&store, Emotion::Sad, Mode::Match, 15, &mut session);
    assert!(titles.iter().all(|r| r.song.track.title.starts_with("Sad")));
}

#[test]
fn liking_a_song_raises_the_same_artists_other_songs() {
    let mut csv = String::from("title,artist,emotion\n");
    for i in 0..40 {
        csv.push_str(&format!("Song {i},Artist {},neutral\n", i % 20));
    }
    let mut store = store_with(&csv);
    let before = recommend(
        &store,
        Emotion::Neutral,
        Mode::Match,
        40,
        &mut Session::new("p", 0),
    );
    // "Song 39" is by Artist 19, like "Song 19".
    let liked = before
        .iter()
        .find(|r| r.song.track.title == "Song 19")
        .unwrap()
        .song
        .id;
    store.record_feedback("p", liked, Verdict::Like).unwrap();
    let after = recommend(
        &store,
        Emotion::Neutral,
        Mode::Match,
        40,
        &mut Session::new("p", 0),
    );
    let place = |list: &[Recommendation], title: &str| {
        list.iter()
            .position(|r| r.song.track.title == title)
            .unwrap()
    };
    assert!(place(&after, "Song 39") < place(&before, "Song 39"));
    assert!(place(&after, "Song 19") < place(&before, "Song 19"));
}

#[test]
fn the_same_seed_gives_the_same_list() {
    let store = store_with(&grid_catalog(41));
    let a = recommend(
        &store,
        Emotion::Neutral,
        Mode::Match,
        15,
        &mut Session::new("p", 7),
    );
    let b = recommend(
        &store,
        Emotion::Neutral,
        Mode::Match,
        15,
        &mut Session::new("p", 7),
    );
    assert_eq!(ids(&a), ids(&b));
    let lists: HashSet<Vec<i64>> = (0..8)
        .map(|seed| {
            ids(&recommend(
                &store,
                Emotion::Neutral,
                Mode::Match,
                15,
                &mut Session::new("p", seed),
            ))
        })
        .collect();
    assert!(lists.len() > 1, "seeds vary near-ties");
}

/// Every song on a list says why: its list, or its point on the
/// circumplex, the uplift step, and the listener's likes.
#[test]
fn every_recommendation_says_why_it_was_chosen() {
    let store = store_with(
        "title,artist,emotion,valence,energy\n\
         Listed One,A,happy,,\n\
         Listed Two,B,happy,,\n\
         Bright,C,,0.85,0.70\n\
         Gloomy,D,,0.15,0.20\n",
    );
    let recommender = Recommender::load(&store).unwrap();
    let mut session = Session::new("why", 1);
    let request = Request {
        emotion: Emotion::Happy,
        mode: Mode::Match,
        limit: 3,
        from: melodora_music::Source::All,
    };
    let list = recommender
        .recommend(&store, &request, &mut session)
        .unwrap();
    let why: Vec<(&str, &str)> = list
        .iter()
        .map(|r| (r.song.track.title.as_str(), r.reason.as_str()))
        .collect();
    assert!(
        why.contains(&("Listed One", "in your happy list (#1)")),
        "{why:?}"
    );
    assert!(
        why.contains(&("Listed Two", "in your happy list (#2)")),
        "{why:?}"
    );
    assert!(
        why.contains(&("Bright", "valence 0.85 / energy 0.70, close to happy")),
        "{why:?}"
    );

    // Uplift: each step says where it stands; a like shows.
    let mut store = store;
    let bright = list
        .iter()
        .find(|r| r.song.track.title == "Bright")
        .unwrap();
    store
        .record_feedback("why", bright.song.id, Verdict::Like)
        .unwrap();
    let mut session = Session::new("why", 2);
    let uplift = Request {
        emotion: Emotion::Sad,
        mode: Mode::Uplift,
        limit: 4,
        from: melodora_music::Source::All,
    };
    let list = recommender
        .recommend(&store, &uplift, &mut session)
        .unwrap();
    for (step, r) in list.iter().enumerate() {
        let prefix = format!("lifts a sad mood (uplift mode, step {} of 4): ", step + 1);
        assert!(r.reason.starts_with(&prefix), "{}", r.reason);
    }
    let liked = list.iter().find(|r| r.song.id == bright.song.id).unwrap();
    assert!(liked.reason.ends_with("; you liked it"), "{}", liked.reason);
}
