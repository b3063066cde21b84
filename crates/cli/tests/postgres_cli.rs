//! The commands on PostgreSQL (`--database`): a database that is down or a
//! URL that is wrong is a clear error before anything runs, and an import
//! killed with SIGKILL leaves nothing half-written, on either backend.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_melodora");

fn server_url() -> String {
    std::env::var("MELODORA_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "MELODORA_TEST_DATABASE_URL is not set: start a test server with \
             `eval \"$(scripts/postgres.sh start)\"` (scripts/test.sh does)"
        )
    })
}

/// A fresh database on the test server; returns its URL and a guard that
/// drops it.
fn database(name: &str) -> (String, impl Drop) {
    struct Dropper(String, String);
    impl Drop for Dropper {
        fn drop(&mut self) {
            if let Ok(mut admin) = postgres::Client::connect(&self.0, postgres::NoTls) {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.1));
            }
        }
    }
    let server = server_url();
    let name = format!("melodora_cli_{name}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    (format!("{base}/{name}"), Dropper(server, name))
}

#[test]
fn a_database_that_is_down_or_a_wrong_url_is_refused_before_serving() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (url, expected) in [
        (
            format!("postgres://melodora:hunter2@127.0.0.1:{port}/x"),
            "cannot be reached",
        ),
        ("mysql://somewhere/x".to_string(), "database URL"),
    ] {
        let output = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0", "--database", &url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{url}: {stderr}");
        assert!(stderr.contains(expected), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "the password leaks: {stderr}");
    }
}

/// A CSV of `n` songs filed under happy.
fn big_catalog(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("happy.csv");
    let mut text = String::from(",Name,Album,Artist\n");
    for i in 0..n {
        text.push_str(&format!("{i},Song {i},Album {i},Artist {i}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Whether an import has begun writing, given how long it has run.
type Writing<'a> = dyn Fn(Duration) -> bool + 'a;

/// Starts `catalog import` of `file` with `store_args`, kills it with
/// SIGKILL once `writing` says it writes, and returns the song count before
/// and after.
fn kill_during_import(
    store_args: &[&str],
    file: &Path,
    writing: impl Fn(Duration) -> bool,
) -> (String, String) {
    let stats = || {
        let output = Command::new(BIN)
            .args(["catalog", "stats", "--json"])
            .args(store_args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        format!("{} songs, {} imports", stats["songs"], stats["imports"])
    };
    let before = stats();
    let mut import = Command::new(BIN)
        .args(["catalog", "import"])
        .arg(file)
        .args(store_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !writing(started.elapsed()) && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let still_running = import.try_wait().unwrap().is_none();
    assert!(
        still_running,
        "the import ended before it could be killed; make it larger"
    );
    import.kill().unwrap();
    import.wait().unwrap();
    (before, stats())
}

#[test]
fn an_import_killed_midway_leaves_nothing_half_written_on_either_backend() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_catalog(dir.path(), 400_000);
    let (url, _guard) = database("kill");
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    // PostgreSQL writes 400,000 songs for several seconds: killed 1.5 s in.
    // SQLite can write them all in 1.5 s: killed once its write-ahead log
    // holds a megabyte of the (uncommitted) import.
    let wal = dir
        .path()
        .join("data")
        .join(format!("{}-wal", melodora_music::STORE_FILE));
    let sqlite_writing = |_: Duration| std::fs::metadata(&wal).is_ok_and(|m| m.len() > 1 << 20);
    let postgres_writing = |elapsed: Duration| elapsed >= Duration::from_millis(1500);
    let backends: [(Vec<&str>, &Writing); 2] = [
        (vec!["--database", url.as_str()], &postgres_writing),
        (vec!["--data-dir", data], &sqlite_writing),
    ];
    for (store_args, writing) in backends {
        let started = Instant::now();
        let (before, after) = kill_during_import(&store_args, &file, writing);
        assert_eq!(
            before,
            after,
            "{store_args:?} after {:?}",
            started.elapsed()
        );
    }
}
