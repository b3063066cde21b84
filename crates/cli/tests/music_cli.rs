//! End-to-end tests of `melodora catalog`, `recommend` and `feedback`: the
//! real binary against a throw-away data directory.

#[path = "../../music/tests/support/fake_spotify.rs"]
mod fake_spotify;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_melodora");

fn shared_catalogs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/catalogs")
}

/// Runs melodora with `--data-dir`-style isolation through the environment
/// (so the variable, not only the flag, is exercised).
fn melodora(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("MELODORA_DATA_DIR", data_dir)
        .env_remove("SPOTIFY_CLIENT_ID")
        .env_remove("SPOTIFY_CLIENT_SECRET")
        .output()
        .expect("run melodora")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn failed(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected a clean failure: {output:?}"
    );
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn recommend_json(data_dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["recommend"];
    all.extend_from_slice(args);
    all.push("--json");
    serde_json::from_str(&ok(&melodora(data_dir, &all))).unwrap()
}

fn stats(data_dir: &Path) -> Value {
    serde_json::from_str(&ok(&melodora(data_dir, &["catalog", "stats", "--json"]))).unwrap()
}

#[test]
fn imported_original_lists_give_fifteen_linked_songs_for_every_emotion_name() {
    let data = tempfile::tempdir().unwrap();
    let seed = shared_catalogs().join("seed-format");
    let out = ok(&melodora(
        data.path(),
        &["catalog", "import", seed.to_str().unwrap()],
    ));
    assert!(out.contains("replaced"), "{out}");
    for name in [
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
    ] {
        let emotion = match name {
            "disgust" => "disgusted",
            "fear" => "fearful",
            "surprise" => "surprised",
            other => other,
        };
        let mut reader = csv::Reader::from_path(seed.join(format!("{emotion}.csv"))).unwrap();
        let listed: HashSet<String> = reader
            .records()
            .map(|r| r.unwrap()[1].trim().to_string())
            .collect();
        let songs = recommend_json(data.path(), &[name]);
        assert_eq!(songs.len(), 15, "{name}");
        for song in &songs {
            let title = song["title"].as_str().unwrap();
            assert!(listed.contains(title), "{name}: {title}");
            assert!(song["album"].is_string() && song["artist"].is_string());
            let link = song["link"].as_str().unwrap();
            assert!(
                link.starts_with("https://open.spotify.com/search/"),
                "{link}"
            );
        }
    }
}

#[test]
fn a_fresh_data_dir_recommends_from_the_embedded_catalog() {
    let data = tempfile::tempdir().unwrap();
    let mut firsts = HashSet::new();
    for emotion in [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    ] {
        let songs = recommend_json(data.path(), &[emotion]);
        assert_eq!(songs.len(), 15, "{emotion}");
        assert!(songs.iter().all(|s| s["link"]
            .as_str()
            .unwrap()
            .starts_with("https://open.spotify.com/")));
        firsts.insert(songs[0]["id"].as_i64().unwrap());
    }
    assert_eq!(firsts.len(), 7);
    assert_eq!(stats(data.path())["origin"], "default");
    // The table form names the columns a user needs.
    let table = ok(&melodora(
        data.path(),
        &["recommend", "happy", "--limit", "3", "--mode", "uplift"],
    ));
    assert!(table.starts_with("id  "), "{table}");
    assert_eq!(table.lines().count(), 4, "{table}");
}

#[test]
fn malformed_rows_are_reported_and_strict_mode_rejects_the_import() {
    let data = tempfile::tempdir().unwrap();
    let input = tempfile::tempdir().unwrap();
    let file = input.path().join("angry.csv");
    std::fs::write(
        &file,
        ",Name,Album,Artist\n0,Fine,A,B\n1,Broken\n2,Also Fine,C,D\n",
    )
    .unwrap();
    let before = stats(data.path());

    let strict = melodora(
        data.path(),
        &["catalog", "import", file.to_str().unwrap(), "--strict"],
    );
    let message = failed(&strict);
    assert!(
        message.contains(&format!("{}:3:", file.display())),
        "{message}"
    );
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(stats(data.path()), before, "store unchanged");

    let lenient = melodora(
        data.path(),
        &["catalog", "import", file.to_str().unwrap(), "--json"],
    );
    let summary: Value = serde_json::from_str(&ok(&lenient)).unwrap();
    assert_eq!(summary["songs_added"], 2);
    let stderr = String::from_utf8_lossy(&lenient.stderr);
    assert!(
        stderr.contains(&format!("{}:3:", file.display())),
        "{stderr}"
    );
    assert_eq!(stats(data.path())["songs"], 2);
}

#[test]
fn an_import_that_accepts_nothing_lists_every_bad_row_and_keeps_the_catalog() {
    let data = tempfile::tempdir().unwrap();
    let input = tempfile::tempdir().unwrap();
    let file = input.path().join("sad.csv");
    std::fs::write(&file, ",Name,Album,Artist\n0,Broken\n1,,No Title,Band\n").unwrap();
    let before = stats(data.path());

    let message = failed(&melodora(
        data.path(),
        &["catalog", "import", file.to_str().unwrap(), "--json"],
    ));
    for line in [2, 3] {
        assert!(
            message.contains(&format!("skipped {}:{line}:", file.display())),
            "{message}"
        );
    }
    assert!(message.contains("no song was accepted"), "{message}");
    assert!(message.contains("2 malformed rows"), "{message}");
    assert_eq!(stats(data.path()), before, "the default catalog is kept");
}

#[test]
fn bad_paths_and_words_fail_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let missing = melodora(data.path(), &["catalog", "import", "/no/such/catalog"]);
    assert!(failed(&missing).contains("/no/such/catalog"));
    let unknown = melodora(data.path(), &["recommend", "bored"]);
    assert_eq!(unknown.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("bored"));
    let no_song = melodora(data.path(), &["feedback", "like", "987654"]);
    assert!(failed(&no_song).contains("987654"));
    let long_profile = "p".repeat(65);
    for args in [
        &["feedback", "like", "1", "--profile", &long_profile][..],
        &["recommend", "happy", "--profile", ""][..],
    ] {
        let refused = melodora(data.path(), args);
        assert_eq!(refused.status.code(), Some(2), "a usage error: {args:?}");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("1 to 64 characters"));
    }
    let no_credentials = melodora(
        data.path(),
        &[
            "catalog",
            "import-spotify",
            "37i9dQZF1DXcBWIGoYBM5M",
            "--emotion",
            "happy",
        ],
    );
    assert!(failed(&no_credentials).contains("SPOTIFY_CLIENT_ID"));
    let not_a_store = tempfile::tempdir().unwrap();
    std::fs::write(
        not_a_store.path().join("melodora.sqlite3"),
        b"this is not a database, it is a text file!",
    )
    .unwrap();
    let corrupt = melodora(not_a_store.path(), &["catalog", "stats"]);
    assert!(failed(&corrupt).contains("song store"));
}

#[test]
fn export_then_import_round_trips_through_the_cli() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let first = out.path().join("first");
    ok(&melodora(
        data.path(),
        &["catalog", "export", first.to_str().unwrap()],
    ));
    let again = tempfile::tempdir().unwrap();
    ok(&melodora(
        again.path(),
        &["catalog", "import", first.to_str().unwrap()],
    ));
    let second = out.path().join("second");
    ok(&melodora(
        again.path(),
        &["catalog", "export", second.to_str().unwrap()],
    ));
    for name in [
        "angry",
        "disgusted",
        "fearful",
        "happy",
        "neutral",
        "sad",
        "surprised",
    ] {
        let file = format!("{name}.csv");
        assert_eq!(
            std::fs::read(first.join(&file)).unwrap(),
            std::fs::read(second.join(&file)).unwrap(),
            "{file}"
        );
    }
    let refused = melodora(data.path(), &["catalog", "export", first.to_str().unwrap()]);
    assert!(failed(&refused).contains("not overwriting"));
}

#[test]
fn sessions_and_feedback_persist_between_runs() {
    let data = tempfile::tempdir().unwrap();
    let ids = |songs: &[Value]| {
        songs
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let first = ids(&recommend_json(
        data.path(),
        &["sad", "--session", "evening"],
    ));
    let second = ids(&recommend_json(
        data.path(),
        &["sad", "--session", "evening"],
    ));
    assert!(
        first.iter().all(|id| !second.contains(id)),
        "no repeats within a session"
    );
    assert_eq!(
        ids(&recommend_json(data.path(), &["sad"])),
        first,
        "no session, no memory"
    );

    ok(&melodora(
        data.path(),
        &["feedback", "skip", &first[0].to_string()],
    ));
    let after_skip = ids(&recommend_json(data.path(), &["sad"]));
    assert!(!after_skip.contains(&first[0]));
    ok(&melodora(
        data.path(),
        &["feedback", "like", &second[5].to_string()],
    ));
    assert_eq!(ids(&recommend_json(data.path(), &["sad"]))[0], second[5]);
    ok(&melodora(
        data.path(),
        &["feedback", "clear", &first[0].to_string()],
    ));
    assert!(ids(&recommend_json(data.path(), &["sad", "--limit", "16"])).contains(&first[0]));
}

#[test]
fn a_spotify_playlist_imports_through_the_fake_api_with_paging_and_429() {
    let fake = fake_spotify::start(230, true);
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args([
            "catalog",
            "import-spotify",
            &format!("spotify:playlist:{}", fake_spotify::PLAYLIST_ID),
            "--emotion",
            "surprised",
            "--accounts-base",
            &fake.base,
            "--json",
        ])
        .env("MELODORA_DATA_DIR", data.path())
        .env("SPOTIFY_API_BASE", fake.api_base())
        .env("SPOTIFY_CLIENT_ID", fake_spotify::CLIENT_ID)
        .env("SPOTIFY_CLIENT_SECRET", fake_spotify::CLIENT_SECRET)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(summary["songs_added"], 230);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("episode") && stderr.contains("local file"),
        "{stderr}"
    );
    assert_eq!(
        fake.page_requests().len(),
        4,
        "pages 0, 100 (429 then retry), 200"
    );

    let songs = recommend_json(data.path(), &["surprise"]);
    assert_eq!(songs.len(), 15);
    assert_eq!(
        songs[0]["title"], "Song 0",
        "playlist order is the list order"
    );
    let link = songs[0]["link"].as_str().unwrap();
    assert_eq!(
        link,
        format!(
            "https://open.spotify.com/track/{}",
            fake_spotify::track_id(0)
        )
    );
}

#[test]
fn an_import_killed_midway_leaves_all_or_nothing() {
    let data = tempfile::tempdir().unwrap();
    let before = stats(data.path());
    let input = tempfile::tempdir().unwrap();
    let file = input.path().join("happy.csv");
    let mut text = String::from(",Name,Album,Artist\n");
    let rows = 400_000;
    for i in 0..rows {
        text.push_str(&format!(
            "{i},Song {i},Album {},Artist {}\n",
            i / 10,
            i % 5000
        ));
    }
    std::fs::write(&file, text).unwrap();
    let mut child = Command::new(BIN)
        .args(["catalog", "import", file.to_str().unwrap()])
        .env("MELODORA_DATA_DIR", data.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = child.kill(); // SIGKILL: no chance to clean up
    let status = child.wait().unwrap();
    let after = stats(data.path());
    if status.success() {
        // It finished before the kill: everything is there.
        assert_eq!(after["songs"], rows, "{after}");
    } else {
        // Killed mid-transaction: exactly the store from before.
        assert_eq!(after, before);
    }
}

/// `bench --catalog` on a small synthetic catalog: every list is full (it
/// fails otherwise), its feedback names songs the store has, and the
/// snapshot it writes for the browser benchmark is a valid one.
#[test]
fn bench_catalog_times_the_store_and_the_snapshot_and_writes_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    let output = Command::new(BIN)
        .args([
            "bench",
            "--catalog",
            "300",
            "--calls",
            "60",
            "--json",
            "--snapshot-out",
        ])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["songs"], 300, "{result}");
    assert!(
        result["snapshot_p99_ms"].as_f64().unwrap() > 0.0,
        "{result}"
    );
    let snapshot =
        melodora_music::CatalogSnapshot::from_json(&std::fs::read_to_string(snapshot).unwrap())
            .unwrap();
    assert_eq!(snapshot.songs.len(), 300);
}
