//! Servers on PostgreSQL: two instances sharing one database stay
//! consistent, and readiness follows the database going away and back.

mod common;

use std::time::{Duration, Instant};

use common::postgres::{OwnServer, Proxy, TestDatabase};
use common::{get, launch, post, quick, state_for};
use melodora_music::import::catalog_files;
use melodora_music::{ImportOptions, Store};
use serde_json::Value;

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn two_servers_on_one_database_share_feedback_and_imports() {
    let database = TestDatabase::create();
    let first = launch(
        state_for(quick(), Store::connect(&database.url).unwrap(), None),
        None,
    );
    let second = launch(
        state_for(quick(), Store::connect(&database.url).unwrap(), None),
        None,
    );
    let path = "/api/recommendations?emotion=happy&profile=shared";

    // A skip given through the first server leaves the second's next list.
    let (status, before) = get(second.addr, path);
    assert_eq!(status, 200, "{before}");
    let skipped = ids(&before)[0];
    let body = format!(r#"{{"song_id":{skipped},"verdict":"skip","profile":"shared"}}"#);
    let (status, answer) = post(
        first.addr,
        "/api/feedback",
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(status, 204, "{answer}");
    let (_, after) = get(second.addr, path);
    assert!(
        !ids(&after).contains(&skipped),
        "{skipped} still in {after}"
    );

    // An import through a third connection (as `melodora catalog import`
    // would) reaches both running servers, without a restart.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("happy.csv");
    std::fs::write(
        &file,
        ",Name,Album,Artist\n0,Shared Sunshine,Both,The Instances\n",
    )
    .unwrap();
    let mut importer = Store::connect(&database.url).unwrap();
    importer
        .import_files(
            &catalog_files(&file, None).unwrap(),
            ImportOptions::default(),
        )
        .unwrap();
    for server in [&first, &second] {
        let (status, list) = get(server.addr, "/api/recommendations?emotion=happy");
        assert_eq!(status, 200, "{list}");
        let titles: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Shared Sunshine"], "{}", server.addr);
    }
}

/// Polls readiness until it answers `status`, at most `limit`.
fn wait_for_ready(addr: std::net::SocketAddr, status: u16, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (got, body) = get(addr, "/api/health/ready");
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "readiness stayed {got}: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn readiness_and_requests_follow_the_database_going_away_and_coming_back() {
    let database = TestDatabase::create();
    let proxy = Proxy::start(database.addr());
    let store = Store::connect(&database.url_via(proxy.addr)).unwrap();
    let server = launch(state_for(quick(), store, None), None);
    let ready = wait_for_ready(server.addr, 200, Duration::from_secs(5));
    assert_eq!(ready["checks"]["database"], "ok", "{ready}");

    proxy.cut();
    let unready = wait_for_ready(server.addr, 503, Duration::from_secs(10));
    assert_eq!(unready["status"], "unready", "{unready}");
    assert_ne!(unready["checks"]["database"], "ok", "{unready}");
    assert_eq!(unready["checks"]["model"], "ok", "{unready}");
    let (status, error) = get(server.addr, "/api/recommendations?emotion=sad");
    assert_eq!(status, 503, "{error}");
    let message = error["error"].as_str().unwrap();
    assert!(message.contains("database"), "{error}");
    // The driver's words and the database's address stay in the log.
    let port = proxy.addr.port().to_string();
    for leak in [
        "connection",
        "postgres",
        "error",
        "refused",
        "reset",
        port.as_str(),
    ] {
        assert!(
            !message.to_lowercase().contains(leak),
            "{leak:?} reached the client: {message}"
        );
    }
    assert_eq!(unready["checks"]["database"], "unreachable", "{unready}");
    // The process itself is fine: liveness says so.
    assert_eq!(get(server.addr, "/api/health/live").0, 200);

    proxy.restore();
    wait_for_ready(server.addr, 200, Duration::from_secs(10));
    let (status, list) = get(server.addr, "/api/recommendations?emotion=sad");
    assert_eq!(status, 200, "{list}");
    assert!(!ids(&list).is_empty());
}

#[test]
fn readiness_follows_a_database_server_stopped_and_started_again() {
    let database = OwnServer::start();
    let server = launch(
        state_for(quick(), Store::connect(&database.url()).unwrap(), None),
        None,
    );
    wait_for_ready(server.addr, 200, Duration::from_secs(5));

    database.ctl("stop");
    let unready = wait_for_ready(server.addr, 503, Duration::from_secs(10));
    assert_ne!(unready["checks"]["database"], "ok", "{unready}");
    let (status, error) = get(server.addr, "/api/recommendations?emotion=happy");
    assert_eq!(status, 503, "{error}");

    database.ctl("start");
    wait_for_ready(server.addr, 200, Duration::from_secs(15));
    let (status, list) = get(server.addr, "/api/recommendations?emotion=happy");
    assert_eq!(status, 200, "{list}");
}
