//! What only the PostgreSQL store has to get right: several servers
//! migrating one empty database at once, a database from a newer build,
//! a URL that does not parse or a server that is not there, and many
//! connections writing at once.

mod support {
    pub mod backends;
}

use melodora_core::Emotion;
use melodora_music::{Error, Store, Verdict};
use support::backends::TestDatabase;

#[test]
fn servers_migrating_one_empty_database_at_once_apply_each_migration_once() {
    let database = TestDatabase::create();
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let url = database.url.clone();
            std::thread::spawn(move || Store::connect(&url).map(|store| store.song_count()))
        })
        .collect();
    let counts: Vec<u64> = starts
        .into_iter()
        .map(|start| start.join().unwrap().unwrap().unwrap())
        .collect();
    // Every server sees the one seeded catalog: seeded once, not six times.
    assert!(counts[0] > 1000, "{counts:?}");
    assert!(counts.iter().all(|&n| n == counts[0]), "{counts:?}");
    let mut client = postgres::Client::connect(&database.url, postgres::NoTls).unwrap();
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    let imports: i64 = client
        .query_one("SELECT COUNT(*) FROM imports", &[])
        .unwrap()
        .get(0);
    assert_eq!(imports, 1, "the default catalog was seeded more than once");
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let database = TestDatabase::create();
    drop(Store::connect(&database.url).unwrap());
    let mut client = postgres::Client::connect(&database.url, postgres::NoTls).unwrap();
    client
        .execute("INSERT INTO schema_migrations(version) VALUES (99)", &[])
        .unwrap();
    let error = Store::connect(&database.url).err().expect("refused");
    assert!(
        matches!(error, Error::NewerSchema { found: 99, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("newer"), "{error}");
}

#[test]
fn a_bad_url_or_an_absent_server_is_a_clear_error() {
    let error = Store::connect("mysql://nope").err().expect("refused");
    assert!(matches!(error, Error::DatabaseUrl { .. }), "{error:?}");
    // A port nothing listens on (a fresh ephemeral port, closed again).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://melodora:secret@127.0.0.1:{port}/melodora");
    let error = Store::connect(&url).err().expect("refused");
    let message = error.to_string();
    assert!(matches!(error, Error::DatabaseDown { .. }), "{error:?}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(!message.contains("secret"), "the password leaks: {message}");
}

#[test]
fn many_connections_recording_feedback_at_once_lose_nothing() {
    let database = TestDatabase::create();
    let store = Store::connect(&database.url).unwrap();
    let ids: Vec<i64> = store
        .emotion_list(Emotion::Happy)
        .unwrap()
        .iter()
        .take(40)
        .map(|song| song.id)
        .collect();
    drop(store);
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (url, ids) = (database.url.clone(), ids.clone());
            std::thread::spawn(move || {
                let mut store = Store::connect(&url).unwrap();
                for (i, id) in ids.iter().enumerate() {
                    let verdict = if (i + writer) % 2 == 0 {
                        Verdict::Like
                    } else {
                        Verdict::Skip
                    };
                    store
                        .record_feedback(&format!("listener-{writer}"), *id, verdict)
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let store = Store::connect(&database.url).unwrap();
    for writer in 0..8 {
        let feedback = store.feedback(&format!("listener-{writer}")).unwrap();
        assert_eq!(feedback.len(), 40, "listener-{writer}");
        let likes = feedback.iter().filter(|(_, v)| *v == Verdict::Like).count();
        assert_eq!(likes, 20, "listener-{writer}");
    }
}
