//! `melodora-flood`: a bounded flood of half-open connections against a
//! `melodora serve` of its own on loopback, with its default limits, while
//! a checking client makes sure the server stays up for everyone else.
//!
//! Attackers are child processes (one per source address, 127.0.0.2 and
//! up, so that each has descriptors of its own); each opens its share of
//! connections (at most `--rate` new ones a second) and sends half a
//! request head (over TLS with `--tls`: half
//! a ClientHello), then waits for the server to close them. Meanwhile,
//! from 127.0.0.1, the checker asks `/api/health` on a new connection every
//! 100 ms, loads the page and its script every second, and sends a frame
//! on a WebSocket opened before the flood every 250 ms.
//!
//! The run fails (exit 1) unless every health check answers within 1 s,
//! every page load and WebSocket frame is answered, and every half-open
//! connection is closed within the header timeout plus 5 s.
//!
//! ```text
//! melodora-flood --melodora target/release/melodora --connections 20000
//! melodora-flood --melodora target/release/melodora --connections 20000 --tls
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
#[command(about = "A bounded flood of half-open connections against melodora serve")]
struct Args {
    /// The melodora binary to start (a release build for real numbers).
    #[arg(long, default_value = "target/release/melodora")]
    melodora: PathBuf,
    /// Serve HTTPS (--tls-self-signed) and flood it with half-open
    /// handshakes.
    #[arg(long)]
    tls: bool,
    /// Half-open connections in all, shared by the attackers.
    #[arg(long, default_value_t = 20_000)]
    connections: usize,
    /// Attacking processes, from 127.0.0.2 up.
    #[arg(long, default_value_t = 5)]
    attackers: u8,
    /// New connections each attacker opens per second at most (0: as fast
    /// as it can, which on a shared machine takes the server's cores too).
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    /// The server's header timeout (`serve --header-timeout-s`).
    #[arg(long, default_value_t = 10)]
    header_timeout_s: u64,
    /// Extra arguments for `melodora serve` (e.g.
    /// "--max-sockets-per-client=100000", to flood the server's own cap
    /// as if every attacker had many addresses).
    #[arg(long, allow_hyphen_values = true)]
    serve_arg: Vec<String>,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json_out: Option<PathBuf>,
    /// Internal: run as one attacker from this address against --target.
    #[arg(long, hide = true)]
    attack_from: Option<Ipv4Addr>,
    /// Internal: the server an attacker floods.
    #[arg(long, hide = true)]
    target: Option<SocketAddr>,
}

/// What one attacker saw of its connections.
#[derive(Serialize, Deserialize, Default, Debug)]
struct AttackReport {
    from: String,
    connections: usize,
    connect_errors: usize,
    /// Answered 503 (plain HTTP) at once.
    answered_503: usize,
    /// Closed by the server within 1 s of connecting (refused at a cap).
    closed_at_once: usize,
    /// Closed later (held, then timed out).
    closed_later: usize,
    /// Longest any connection was held, in seconds.
    held_s_max: f64,
    /// Still open when the attacker gave up waiting (timeout + 15 s).
    still_open: usize,
    seconds: f64,
}

/// What the checking client saw.
#[derive(Serialize, Default, Debug)]
struct CheckReport {
    health_checks: usize,
    health_failures: usize,
    health_ms_p50: f64,
    health_ms_p99: f64,
    health_ms_max: f64,
    page_loads: usize,
    page_failures: usize,
    websocket_frames: usize,
    websocket_failures: usize,
    websocket_ms_max: f64,
}

#[derive(Serialize, Debug)]
struct Report {
    tls: bool,
    /// New connections per second per attacker (0: unpaced).
    rate_per_attacker: u32,
    serve_args: Vec<String>,
    connections: usize,
    attackers: Vec<AttackReport>,
    check: CheckReport,
    /// `/metrics` after the flood: sockets refused and closed by reason,
    /// accept errors.
    server_metrics: Vec<String>,
    server_log_too_many_open_files: usize,
    passed: bool,
    failures: Vec<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    raise_descriptor_limit();
    if let (Some(from), Some(target)) = (args.attack_from, args.target) {
        let runtime = tokio::runtime::Runtime::new()?;
        let limit = Duration::from_secs(args.header_timeout_s + 15);
        let report = runtime.block_on(attack(
            from,
            target,
            args.connections,
            args.tls,
            args.rate,
            limit,
        ));
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let report = run(&args)?;
    print_report(&report);
    if let Some(path) = &args.json_out {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !report.passed {
        std::process::exit(1);
    }
    Ok(())
}

fn run(args: &Args) -> Result<Report> {
    let data = tempfile::tempdir()?;
    let log_path = data.path().join("serve.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = Server::start(args, addr, data.path(), &log_path)?;
    let mut checker = Checker::new(addr, args.tls, data.path());
    checker.wait_until_up(&mut server)?;

    let stop = Arc::new(AtomicBool::new(false));
    let check = Arc::new(Mutex::new(CheckReport::default()));
    let health = {
        let (checker, stop, check) = (checker.clone(), Arc::clone(&stop), Arc::clone(&check));
        std::thread::spawn(move || checker.check_http(&stop, &check))
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let websocket = {
        let (checker, stop, check) = (checker.clone(), Arc::clone(&stop), Arc::clone(&check));
        runtime.spawn(async move { checker.check_websocket(&stop, &check).await })
    };
    // The WebSocket opens before the flood.
    std::thread::sleep(Duration::from_millis(500));

    let share = args.connections.div_ceil(usize::from(args.attackers));
    let attackers: Vec<Child> = (0..args.attackers)
        .map(|k| {
            let from = Ipv4Addr::new(127, 0, 0, 2 + k);
            let mut command = Command::new(std::env::current_exe()?);
            command
                .args(["--attack-from", &from.to_string()])
                .args(["--target", &addr.to_string()])
                .args(["--connections", &share.to_string()])
                .args(["--header-timeout-s", &args.header_timeout_s.to_string()])
                .args(["--rate", &args.rate.to_string()]);
            if args.tls {
                command.arg("--tls");
            }
            command
                .stdout(Stdio::piped())
                .spawn()
                .context("cannot start an attacker")
        })
        .collect::<Result<_>>()?;
    let mut reports = Vec::new();
    for attacker in attackers {
        let output = attacker.wait_with_output()?;
        ensure!(
            output.status.success(),
            "an attacker failed: {}",
            output.status
        );
        reports.push(serde_json::from_slice::<AttackReport>(&output.stdout)?);
    }
    // A last second of checks after the flood.
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    health.join().expect("the health checker")?;
    runtime.block_on(websocket)??;
    let server_metrics = checker.metrics()?;
    server.stop();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let check = std::mem::take(&mut *check.lock().unwrap());
    let failures = judge(args, &reports, &check);
    Ok(Report {
        tls: args.tls,
        rate_per_attacker: args.rate,
        serve_args: args.serve_arg.clone(),
        connections: args.connections,
        attackers: reports,
        check,
        server_metrics,
        server_log_too_many_open_files: log.matches("Too many open files").count(),
        passed: failures.is_empty(),
        failures,
    })
}

/// Everything the run must show, as the failures it found.
fn judge(args: &Args, attackers: &[AttackReport], check: &CheckReport) -> Vec<String> {
    let mut failures = Vec::new();
    if check.health_failures > 0 || check.health_ms_max >= 1000.0 {
        failures.push(format!(
            "health: {} failures, slowest {:.0} ms (must be < 1000)",
            check.health_failures, check.health_ms_max
        ));
    }
    if check.page_failures > 0 || check.page_loads == 0 {
        failures.push(format!(
            "page: {} of {} loads failed",
            check.page_failures, check.page_loads
        ));
    }
    if check.websocket_failures > 0 || check.websocket_frames == 0 {
        failures.push(format!(
            "websocket: {} of {} frames unanswered",
            check.websocket_failures, check.websocket_frames
        ));
    }
    let bound = (args.header_timeout_s + 5) as f64;
    for attacker in attackers {
        if attacker.still_open > 0 || attacker.held_s_max > bound {
            failures.push(format!(
                "{}: {} still open, held up to {:.1} s (bound {bound} s)",
                attacker.from, attacker.still_open, attacker.held_s_max
            ));
        }
    }
    failures
}

/// The server under test, with its default limits.
struct Server {
    child: Child,
}

impl Server {
    fn start(args: &Args, addr: SocketAddr, data: &Path, log: &Path) -> Result<Server> {
        let mut command = Command::new(&args.melodora);
        command
            .args(["serve", "--addr", &addr.to_string()])
            .args(["--header-timeout-s", &args.header_timeout_s.to_string()])
            .arg("--data-dir")
            .arg(data);
        if args.tls {
            command.arg("--tls-self-signed");
        }
        command.args(&args.serve_arg);
        let child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .with_context(|| format!("cannot start {}", args.melodora.display()))?;
        Ok(Server { child })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The well-behaved client, from 127.0.0.1.
#[derive(Clone)]
struct Checker {
    addr: SocketAddr,
    tls: bool,
    /// Where a self-signed server keeps its certificate.
    data: PathBuf,
    /// The certificate to trust, once the server has made it.
    cert_pem: Option<Vec<u8>>,
}

/// A frame for the WebSocket: a small gray image with no face.
fn frame_png() -> Vec<u8> {
    let image = image::GrayImage::from_pixel(64, 48, image::Luma([128]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG in memory");
    png
}

impl Checker {
    fn new(addr: SocketAddr, tls: bool, data: &Path) -> Checker {
        Checker {
            addr,
            tls,
            data: data.to_path_buf(),
            cert_pem: None,
        }
    }

    fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// A client that opens a new connection for every request (nothing
    /// kept alive), trusting the server's own certificate.
    fn agent(&self) -> Result<ureq::Agent> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .timeout_global(Some(Duration::from_secs(5)));
        if let Some(pem) = &self.cert_pem {
            let cert = ureq::tls::Certificate::from_pem(pem)?.to_owned();
            let tls = ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
                .build();
            config = config.tls_config(tls);
        }
        Ok(config.build().new_agent())
    }

    fn get(&self, path: &str) -> Result<(u16, String)> {
        let mut response = self.agent()?.get(self.url(path)).call()?;
        let status = response.status().as_u16();
        Ok((status, response.body_mut().read_to_string()?))
    }

    /// Waits for the server's health check (and, over TLS, its
    /// certificate), up to 30 s.
    fn wait_until_up(&mut self, server: &mut Server) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = server.child.try_wait()? {
                bail!("melodora serve exited with {status}");
            }
            if self.tls && self.cert_pem.is_none() {
                let path = self.data.join("tls/self-signed-cert.pem");
                self.cert_pem = std::fs::read(path).ok();
            }
            let ready = (!self.tls || self.cert_pem.is_some())
                && self
                    .get("/api/health")
                    .is_ok_and(|(status, _)| status == 200);
            if ready {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("melodora serve did not answer within 30 s")
    }

    /// `/api/health` every 100 ms, the page and its script every second,
    /// until `stop`.
    fn check_http(&self, stop: &AtomicBool, check: &Mutex<CheckReport>) -> Result<()> {
        let mut latencies = Vec::new();
        let mut round = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let asked = Instant::now();
            let healthy = self
                .get("/api/health")
                .is_ok_and(|(status, _)| status == 200);
            latencies.push(asked.elapsed().as_secs_f64() * 1e3);
            if !healthy {
                check.lock().unwrap().health_failures += 1;
            }
            if round.is_multiple_of(10) {
                let page = self
                    .get("/")
                    .is_ok_and(|(s, body)| s == 200 && body.contains("<html"));
                let script = self.get("/static/main.js").is_ok_and(|(s, _)| s == 200);
                let mut check = check.lock().unwrap();
                check.page_loads += 1;
                check.page_failures += usize::from(!(page && script));
            }
            round += 1;
            std::thread::sleep(Duration::from_millis(100).saturating_sub(asked.elapsed()));
        }
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        let mut check = check.lock().unwrap();
        check.health_checks = latencies.len();
        if !latencies.is_empty() {
            check.health_ms_p50 = at(0.5);
            check.health_ms_p99 = at(0.99);
            check.health_ms_max = at(1.0);
        }
        Ok(())
    }

    /// One WebSocket, opened first: a frame every 250 ms, each answered
    /// (analysed or dropped) within 2 s, until `stop`.
    async fn check_websocket(&self, stop: &AtomicBool, check: &Mutex<CheckReport>) -> Result<()> {
        let tcp = tokio::net::TcpStream::connect(self.addr).await?;
        if self.tls {
            let mut roots = rustls::RootCertStore::empty();
            let pem = self.cert_pem.as_deref().context("no certificate")?;
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                roots.add(cert?)?;
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots)
                .with_no_client_auth();
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = rustls::pki_types::ServerName::try_from("localhost")?;
            let stream = connector.connect(name, tcp).await?;
            let url = format!("wss://localhost:{}/ws", self.addr.port());
            let (socket, _) = tokio_tungstenite::client_async(url, stream).await?;
            self.send_frames(socket, stop, check).await
        } else {
            let url = format!("ws://{}/ws", self.addr);
            let (socket, _) = tokio_tungstenite::client_async(url, tcp).await?;
            self.send_frames(socket, stop, check).await
        }
    }

    async fn send_frames<S>(
        &self,
        mut socket: tokio_tungstenite::WebSocketStream<S>,
        stop: &AtomicBool,
        check: &Mutex<CheckReport>,
    ) -> Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let frame = frame_png();
        while !stop.load(Ordering::Relaxed) {
            let sent = Instant::now();
            socket.send(Message::Binary(frame.clone().into())).await?;
            let answered = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Text(text) = message {
                        if text.contains(r#""type":"frame""#)
                            || text.contains(r#""type":"dropped""#)
                        {
                            return true;
                        }
                    }
                }
                false
            })
            .await
            .unwrap_or(false);
            {
                let mut check = check.lock().unwrap();
                check.websocket_frames += 1;
                let took_ms = sent.elapsed().as_secs_f64() * 1e3;
                if answered {
                    check.websocket_ms_max = check.websocket_ms_max.max(took_ms);
                } else {
                    check.websocket_failures += 1;
                }
            }
            if !answered {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let _ = socket.close(None).await;
        Ok(())
    }

    /// The server's socket counters, from `/metrics`.
    fn metrics(&self) -> Result<Vec<String>> {
        let (_, text) = self.get("/metrics")?;
        Ok(text
            .lines()
            .filter(|line| {
                line.starts_with("melodora_sockets_") || line.starts_with("melodora_accept_errors")
            })
            .map(str::to_string)
            .collect())
    }
}

/// One attacker: `count` half-open connections from `from`, at most 256
/// connecting at once and `rate` new ones a second (0: unpaced); each
/// waits for the server to close it, up to `limit`.
async fn attack(
    from: Ipv4Addr,
    target: SocketAddr,
    count: usize,
    tls: bool,
    rate: u32,
    limit: Duration,
) -> AttackReport {
    let started = Instant::now();
    let connecting = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = tokio::task::JoinSet::new();
    for opened in 0..count {
        if rate > 0 {
            let due = started + Duration::from_secs_f64(opened as f64 / f64::from(rate));
            tokio::time::sleep_until(due.into()).await;
        }
        let permit = Arc::clone(&connecting).acquire_owned().await.expect("open");
        tasks.spawn(half_open(from, target, tls, limit, permit));
    }
    let mut report = AttackReport {
        from: from.to_string(),
        connections: count,
        ..AttackReport::default()
    };
    while let Some(outcome) = tasks.join_next().await {
        match outcome.expect("a connection task") {
            Outcome::ConnectError => report.connect_errors += 1,
            Outcome::StillOpen => report.still_open += 1,
            Outcome::Closed { held, answered_503 } => {
                report.answered_503 += usize::from(answered_503);
                if held < Duration::from_secs(1) {
                    report.closed_at_once += 1;
                } else {
                    report.closed_later += 1;
                }
                report.held_s_max = report.held_s_max.max(held.as_secs_f64());
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

enum Outcome {
    ConnectError,
    Closed { held: Duration, answered_503: bool },
    StillOpen,
}

/// Half a request head (or half a ClientHello), then nothing.
async fn half_open(
    from: Ipv4Addr,
    target: SocketAddr,
    tls: bool,
    limit: Duration,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Outcome {
    let connected = async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
        let mut stream = socket.connect(target).await?;
        if tls {
            // A handshake record announcing 512 bytes, 1 sent.
            stream
                .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
                .await?;
        } else {
            let head = format!("GET /api/health HTTP/1.1\r\nHost: {target}\r\nX-a: ");
            stream.write_all(head.as_bytes()).await?;
        }
        std::io::Result::Ok(stream)
    };
    let Ok(mut stream) = connected.await else {
        return Outcome::ConnectError;
    };
    let opened = Instant::now();
    drop(permit);
    let mut answer = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await {
        Err(_) => Outcome::StillOpen,
        Ok(_) => Outcome::Closed {
            held: opened.elapsed(),
            answered_503: answer.starts_with(b"HTTP/1.1 503"),
        },
    }
}

fn print_report(report: &Report) {
    println!(
        "flood of {} half-open connections{}, {} a second from each attacker {}",
        report.connections,
        if report.tls { " over TLS" } else { "" },
        if report.rate_per_attacker == 0 {
            "as many as it can".to_string()
        } else {
            report.rate_per_attacker.to_string()
        },
        report.serve_args.join(" ")
    );
    for a in &report.attackers {
        println!(
            "  {}: {} connections, {} connect errors, {} closed at once ({} answered 503), {} closed later, held up to {:.1} s, {} still open, {:.1} s",
            a.from, a.connections, a.connect_errors, a.closed_at_once, a.answered_503,
            a.closed_later, a.held_s_max, a.still_open, a.seconds
        );
    }
    let c = &report.check;
    println!(
        "  health: {} checks, {} failed, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        c.health_checks, c.health_failures, c.health_ms_p50, c.health_ms_p99, c.health_ms_max
    );
    println!("  page: {} loads, {} failed", c.page_loads, c.page_failures);
    println!(
        "  websocket: {} frames, {} unanswered, slowest {:.1} ms",
        c.websocket_frames, c.websocket_failures, c.websocket_ms_max
    );
    for line in &report.server_metrics {
        println!("  server: {line}");
    }
    println!(
        "  server log: {} 'Too many open files'",
        report.server_log_too_many_open_files
    );
    for failure in &report.failures {
        println!("  FAILED: {failure}");
    }
    println!("  {}", if report.passed { "passed" } else { "FAILED" });
}

/// Attackers hold thousands of sockets each.
fn raise_descriptor_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let limit = getrlimit(Resource::Nofile);
        if let Some(maximum) = limit.maximum {
            let _ = setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(maximum),
                    maximum: Some(maximum),
                },
            );
        }
    }
}
