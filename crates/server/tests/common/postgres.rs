//! A PostgreSQL database per test, and a proxy in front of it that can
//! play the database going away and coming back.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// A database created for one test on the server
/// `MELODORA_TEST_DATABASE_URL` names (scripts/test.sh starts one),
/// dropped when this is.
pub struct TestDatabase {
    pub url: String,
    name: String,
    server: String,
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = std::env::var("MELODORA_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "MELODORA_TEST_DATABASE_URL is not set: start a test server with \
                 `eval \"$(scripts/postgres.sh start)\"` (scripts/test.sh does)"
            )
        });
        let name = format!(
            "melodora_server_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        admin.batch_execute(&drop).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = server.rsplit_once('/').unwrap();
        TestDatabase {
            url: format!("{base}/{name}"),
            name,
            server,
        }
    }

    /// The database's address (host and port of its URL).
    pub fn addr(&self) -> SocketAddr {
        let config: postgres::Config = self.url.parse().unwrap();
        let host = match &config.get_hosts()[0] {
            postgres::config::Host::Tcp(host) => host.clone(),
            other => panic!("a TCP test server is needed, not {other:?}"),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        format!("{host}:{port}").parse().unwrap()
    }

    /// This database's URL with another address.
    pub fn url_via(&self, addr: SocketAddr) -> String {
        let real = self.addr();
        self.url.replace(&real.to_string(), &addr.to_string())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = admin.batch_execute(&drop);
        }
    }
}

/// A TCP proxy to the database that can be cut: while down, connections
/// through it are dropped and new ones closed at once, as when the
/// database stops.
pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (accept_up, accept_open) = (Arc::clone(&up), Arc::clone(&open));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !accept_up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let mut open = accept_open.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Proxy { addr, up, open }
    }

    /// The database goes away: every connection through the proxy breaks.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// A PostgreSQL server of the test's own (initdb in a scratch directory,
/// pg_ctl), which the test may stop and start again, as an operator's
/// database restarts. The server refuses to run as root: as root it runs
/// as the `postgres` user. Stopped when dropped.
pub struct OwnServer {
    bindir: std::path::PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl OwnServer {
    pub fn start() -> OwnServer {
        let bindir: std::path::PathBuf = std::env::var("MELODORA_TEST_PG_BINDIR")
            .unwrap_or_else(|_| {
                panic!(
                    "MELODORA_TEST_PG_BINDIR is not set: `eval \"$(scripts/postgres.sh start)\"` \
                     sets it (scripts/test.sh does)"
                )
            })
            .into();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let status = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = OwnServer { bindir, dir, port };
        let data = server.data();
        server.run("initdb", &["-D", &data, "--auth=trust", "-U", "postgres"]);
        server.ctl("start");
        server
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// `pg_ctl start` or `pg_ctl stop` (fast: clients are disconnected).
    pub fn ctl(&self, action: &str) {
        let data = self.data();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").to_string_lossy().into_owned();
        match action {
            "start" => self.run(
                "pg_ctl",
                &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
            ),
            _ => self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]),
        }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A PostgreSQL program, run as `postgres` when the test runs as root.
    fn command(&self, program: &str) -> std::process::Command {
        let path = self.bindir.join(program);
        if is_root() {
            let mut runuser = std::process::Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(path);
            runuser
        } else {
            std::process::Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}
