//! `melodora-loadgen`: starts `melodora serve`, measures its startup time and
//! idle memory, then opens N WebSocket clients on loopback that each send
//! 320x240 JPEG frames with faces at a fixed rate (waiting for each answer,
//! as the page does), for a bounded time; reports per-frame latency
//! percentiles, the rate achieved, frames the server dropped, and the
//! server's memory (RSS) during the run.
//!
//! With `--moods`, clients are on-device pages instead: each sends its
//! stable mood now and then (`{"type":"mood",...}`, a new emotion each time)
//! and times the playlist that answers it. With `--instances N` it starts N
//! servers (pinned to one core each with `--pin-cores`, sharing one
//! PostgreSQL database with `--database URL`) and spreads the clients over
//! them, one after the other.
//!
//! ```text
//! melodora-loadgen --melodora target/release/melodora --clients 30 --fps 10 --seconds 20
//! melodora-loadgen --moods --clients 1000 --mood-every-s 5
//! melodora-loadgen --instances 2 --pin-cores --database postgres://... --clients 20,30,40
//! ```

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
#[command(about = "Many webcam-like WebSocket clients against melodora serve")]
struct Args {
    /// The melodora binary to start (a release build for real numbers).
    #[arg(long, default_value = "target/release/melodora")]
    melodora: PathBuf,
    /// Client counts to run, one after the other on the same server.
    #[arg(long, value_delimiter = ',', default_value = "30")]
    clients: Vec<usize>,
    /// Frames per second each client offers.
    #[arg(long, default_value_t = 10.0)]
    fps: f64,
    /// Seconds each client count runs (bounded: the run always stops).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Image with faces the frames are made from (scaled to 320x240; the
    /// default has one face, as a webcam in front of one person).
    #[arg(
        long,
        default_value = "crates/vision/tests/fixtures/parity/images/scene_06_three_faces.png"
    )]
    scene: PathBuf,
    /// Extra arguments for `melodora serve` (e.g. "--no-tracking").
    #[arg(long, allow_hyphen_values = true)]
    serve_arg: Vec<String>,
    /// Soak testing: after sending a frame, a client hangs up before the
    /// answer with this probability, then reconnects (injected failures).
    #[arg(long, default_value_t = 0.0)]
    disconnect_probability: f64,
    /// On-device clients: each sends a mood every --mood-every-s seconds
    /// and times the playlist that answers it (no frames).
    #[arg(long)]
    moods: bool,
    /// Seconds between one on-device client's moods (with --moods).
    #[arg(long, default_value_t = 5.0)]
    mood_every_s: f64,
    /// Servers to start; clients are spread over them in turn.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Pin server i to core i (taskset), so that N servers get N cores.
    #[arg(long)]
    pin_cores: bool,
    /// The servers' PostgreSQL database (`serve --database`); without it
    /// each server has a SQLite store of its own.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Print one JSON object per run.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct Report {
    /// "frames" (server analysis) or "moods" (on-device clients).
    kind: &'static str,
    instances: usize,
    clients: usize,
    seconds: f64,
    offered_fps_per_client: f64,
    answered_fps_per_client: f64,
    frames_answered: u64,
    frames_dropped_by_server: u64,
    errors: u64,
    latency_ms_p50: f64,
    latency_ms_p90: f64,
    latency_ms_p99: f64,
    latency_ms_max: f64,
    server_rss_mb_peak: f64,
    /// Hang-ups injected mid-frame (soak testing).
    disconnects: u64,
    /// Server RSS a fifth of the way in (after warm-up) and at the end.
    server_rss_mb_after_warmup: f64,
    server_rss_mb_end: f64,
    /// Server RSS at the start and after each tenth of the run.
    server_rss_mb_by_tenth: Vec<f64>,
    /// Server file descriptors before the run and after the clients left.
    server_fds_before: usize,
    server_fds_after: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let frames = make_frames(&args.scene)?;
    let data = tempfile::tempdir()?;
    let started = Instant::now();
    let mut servers = Vec::new();
    for instance in 0..args.instances.max(1) {
        let dir = data.path().join(format!("instance-{instance}"));
        servers.push(ServerProcess::start(&args, instance, free_port()?, &dir)?);
    }
    let startup = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
    let idle_rss = rss_mb_sum(&pids)?;
    if !args.json {
        println!(
            "{} server(s): ready in {:.0} ms, idle RSS {idle_rss:.1} MB",
            pids.len(),
            startup.as_secs_f64() * 1e3
        );
    } else {
        println!(
            "{}",
            serde_json::json!({"startup_ms": startup.as_secs_f64() * 1e3, "idle_rss_mb": idle_rss})
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    for &clients in &args.clients {
        let report = runtime.block_on(run_load(&args, &ports, clients, &frames, &pids))?;
        print_report(&report, args.json)?;
    }
    for server in &mut servers {
        server.stop();
    }
    Ok(())
}

/// Every simulated client connects from loopback, so the server's
/// per-address caps (64 WebSockets, 256 sockets by default) would refuse
/// them past it: lift the caps to twice the largest client count, unless
/// `--serve-arg` sets them.
fn connection_limits(args: &Args) -> Vec<String> {
    let room = (args.clients.iter().copied().max().unwrap_or(0) * 2).max(256);
    [
        "--max-connections-per-client",
        "--max-connections",
        "--max-sockets-per-client",
    ]
    .into_iter()
    .filter(|flag| {
        let set = |arg: &String| arg == flag || arg.starts_with(&format!("{flag}="));
        !args.serve_arg.iter().any(set)
    })
    .flat_map(|flag| [flag.to_string(), room.to_string()])
    .collect()
}

struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    /// Starts server `instance` and waits until `/api/health` answers.
    fn start(
        args: &Args,
        instance: usize,
        port: u16,
        data: &std::path::Path,
    ) -> Result<ServerProcess> {
        let mut command = if args.pin_cores {
            let mut taskset = Command::new("taskset");
            taskset
                .args(["-c", &instance.to_string()])
                .arg(&args.melodora);
            taskset
        } else {
            Command::new(&args.melodora)
        };
        command
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(connection_limits(args));
        match &args.database {
            Some(url) => command.args(["--database", url]),
            None => command.arg("--data-dir").arg(data),
        };
        let child = command
            .args(&args.serve_arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", args.melodora.display()))?;
        let mut server = ServerProcess { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if ureq::get(format!("http://127.0.0.1:{port}/api/health"))
                .call()
                .is_ok()
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("melodora serve exited with {status}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        server.stop();
        bail!("melodora serve did not answer within 30 s")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// 30 JPEG frames of 320x240 panning over the scene, like a webcam's.
fn make_frames(scene: &std::path::Path) -> Result<Vec<Vec<u8>>> {
    let image = image::open(scene)
        .with_context(|| scene.display().to_string())?
        .to_rgb8();
    let small = image::imageops::resize(&image, 336, 252, image::imageops::FilterType::Triangle);
    (0..30)
        .map(|i| {
            let (dx, dy) = ((i % 16) as u32, (i % 12) as u32);
            let frame = image::imageops::crop_imm(&small, dx, dy, 320, 240).to_image();
            let mut jpeg = std::io::Cursor::new(Vec::new());
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
                .encode_image(&frame)?;
            Ok(jpeg.into_inner())
        })
        .collect()
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Resident memory of a process, from /proc.
fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc status")?;
    Ok(kb / 1024.0)
}

#[derive(Default)]
struct ClientResult {
    latencies_ms: Vec<f64>,
    dropped_by_server: u64,
    errors: u64,
    disconnects: u64,
}

/// Resident memory of several processes together.
fn rss_mb_sum(pids: &[u32]) -> Result<f64> {
    pids.iter().map(|&pid| rss_mb(pid)).sum()
}

/// Open file descriptors of a process.
fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// A small deterministic random source (xorshift64*), one per client.
struct Dice(u64);

impl Dice {
    fn chance(&mut self, p: f64) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (x as f64 / (1u64 << 53) as f64) < p
    }
}

async fn run_load(
    args: &Args,
    ports: &[u16],
    clients: usize,
    frames: &[Vec<u8>],
    server_pids: &[u32],
) -> Result<Report> {
    let duration = Duration::from_secs(args.seconds);
    let server_pids = server_pids.to_vec();
    let fds_before: usize = server_pids.iter().map(|&pid| fd_count(pid)).sum();
    let stop = Arc::new(AtomicBool::new(false));
    let peak_rss_kb = Arc::new(AtomicU64::new(0));
    let warm_rss_kb = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn({
        let (stop, peak, warm) = (
            Arc::clone(&stop),
            Arc::clone(&peak_rss_kb),
            Arc::clone(&warm_rss_kb),
        );
        let warm_up = duration / 5;
        let server_pids = server_pids.clone();
        async move {
            let started = Instant::now();
            // RSS at each tenth of the run: a plateau or a steady climb.
            let mut by_tenth = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mb) = rss_mb_sum(&server_pids) {
                    let kb = (mb * 1024.0) as u64;
                    peak.fetch_max(kb, Ordering::Relaxed);
                    if started.elapsed() >= warm_up && warm.load(Ordering::Relaxed) == 0 {
                        warm.store(kb, Ordering::Relaxed);
                    }
                    if started.elapsed() >= duration.mul_f64(by_tenth.len() as f64 / 10.0) {
                        by_tenth.push((mb * 10.0).round() / 10.0);
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            by_tenth
        }
    });
    let frames: Arc<Vec<Vec<u8>>> = Arc::new(frames.to_vec());
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let frames = Arc::clone(&frames);
            let url = format!("ws://127.0.0.1:{}/ws", ports[i % ports.len()]);
            let interval = if args.moods {
                Duration::from_secs_f64(args.mood_every_s)
            } else {
                Duration::from_secs_f64(1.0 / args.fps)
            };
            // Spread the clients' first messages over one interval.
            let offset = interval.mul_f64(i as f64 / clients as f64);
            let hang_up = args.disconnect_probability;
            let dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
            if args.moods {
                tokio::spawn(mood_client(url, i, interval, offset, duration))
            } else {
                tokio::spawn(client(
                    url, frames, interval, offset, duration, hang_up, dice,
                ))
            }
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = rss_mb_sum(&server_pids)?;
    stop.store(true, Ordering::Relaxed);
    let rss_by_tenth = sampler.await?;
    // Let the server notice the closed connections before counting.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fds_after: usize = server_pids.iter().map(|&pid| fd_count(pid)).sum();
    let mut latencies: Vec<f64> = results
        .iter()
        .flat_map(|r| r.latencies_ms.clone())
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(Report {
        kind: if args.moods { "moods" } else { "frames" },
        instances: server_pids.len(),
        clients,
        seconds: elapsed,
        offered_fps_per_client: args.fps,
        answered_fps_per_client: latencies.len() as f64 / elapsed / clients as f64,
        frames_answered: latencies.len() as u64,
        frames_dropped_by_server: results.iter().map(|r| r.dropped_by_server).sum(),
        errors: results.iter().map(|r| r.errors).sum(),
        latency_ms_p50: pct(0.50),
        latency_ms_p90: pct(0.90),
        latency_ms_p99: pct(0.99),
        latency_ms_max: latencies.last().copied().unwrap_or(f64::NAN),
        server_rss_mb_peak: peak_rss_kb.load(Ordering::Relaxed) as f64 / 1024.0,
        disconnects: results.iter().map(|r| r.disconnects).sum(),
        server_rss_mb_after_warmup: warm_rss_kb.load(Ordering::Relaxed) as f64 / 1024.0,
        server_rss_mb_end: rss_end,
        server_rss_mb_by_tenth: rss_by_tenth,
        server_fds_before: fds_before,
        server_fds_after: fds_after,
    })
}

/// One webcam-like client: a frame every `interval` unless the previous
/// one is still unanswered (as the page does), until `duration` is over.
async fn client(
    url: String,
    frames: Arc<Vec<Vec<u8>>>,
    interval: Duration,
    offset: Duration,
    duration: Duration,
    hang_up: f64,
    mut dice: Dice,
) -> Result<ClientResult> {
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await?;
    let mut result = ClientResult::default();
    let end = tokio::time::Instant::now() + duration;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut in_flight: Option<Instant> = None;
    let mut sent = 0usize;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(end) => break,
            _ = ticks.tick() => {
                if in_flight.is_none() {
                    let frame = frames[sent % frames.len()].clone();
                    socket.send(Message::Binary(frame.into())).await?;
                    in_flight = Some(Instant::now());
                    sent += 1;
                    if dice.chance(hang_up) {
                        // Hang up while the server works on the frame, then come back.
                        drop(socket);
                        result.disconnects += 1;
                        in_flight = None;
                        socket = tokio_tungstenite::connect_async(&url).await?.0;
                    }
                }
            }
            message = socket.next() => {
                let Some(message) = message else { bail!("server closed the connection") };
                let Message::Text(text) = message? else { continue };
                let reply: serde_json::Value = serde_json::from_str(text.as_str())?;
                match reply["type"].as_str() {
                    Some("frame") => {
                        if let Some(sent_at) = in_flight.take() {
                            result.latencies_ms.push(sent_at.elapsed().as_secs_f64() * 1e3);
                        }
                        result.dropped_by_server = reply["dropped"].as_u64().unwrap_or(0);
                    }
                    Some("dropped") => {
                        // Too busy: the next tick sends a fresh frame.
                        in_flight = None;
                        result.dropped_by_server = reply["dropped"].as_u64().unwrap_or(0);
                    }
                    Some("error") => {
                        result.errors += 1;
                        in_flight = None;
                    }
                    _ => {}
                }
            }
        }
    }
    let _ = socket.close(None).await;
    Ok(result)
}

/// One on-device page: connected all along, it sends its stable mood every
/// `interval` (the next emotion each time, so that every mood is a change)
/// and times the playlist that answers it.
async fn mood_client(
    url: String,
    index: usize,
    interval: Duration,
    offset: Duration,
    duration: Duration,
) -> Result<ClientResult> {
    const EMOTIONS: [&str; 7] = [
        "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
    ];
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await?;
    let mut result = ClientResult::default();
    let end = tokio::time::Instant::now() + duration;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut in_flight: Option<Instant> = None;
    let mut sent = index;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(end) => break,
            _ = ticks.tick() => {
                if in_flight.is_none() {
                    let emotion = EMOTIONS[sent % EMOTIONS.len()];
                    let mood = format!(r#"{{"type":"mood","emotion":"{emotion}","confidence":0.8}}"#);
                    socket.send(Message::Text(mood.into())).await?;
                    in_flight = Some(Instant::now());
                    sent += 1;
                }
            }
            message = socket.next() => {
                let Some(message) = message else { bail!("server closed the connection") };
                let Message::Text(text) = message? else { continue };
                let reply: serde_json::Value = serde_json::from_str(text.as_str())?;
                match reply["type"].as_str() {
                    Some("songs") if reply["songs"].as_array().is_some_and(|s| !s.is_empty()) => {
                        if let Some(sent_at) = in_flight.take() {
                            result.latencies_ms.push(sent_at.elapsed().as_secs_f64() * 1e3);
                        }
                    }
                    Some("songs") | Some("error") => {
                        result.errors += 1;
                        in_flight = None;
                    }
                    _ => {}
                }
            }
        }
    }
    let _ = socket.close(None).await;
    Ok(result)
}

fn print_report(report: &Report, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else if report.kind == "moods" {
        println!(
            "{:>4} on-device clients on {} server(s) for {:.0} s: {} playlists, {} errors; \
             playlist latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; server RSS peak {:.1} MB",
            report.clients,
            report.instances,
            report.seconds,
            report.frames_answered,
            report.errors,
            report.latency_ms_p50,
            report.latency_ms_p90,
            report.latency_ms_p99,
            report.latency_ms_max,
            report.server_rss_mb_peak,
        );
    } else {
        println!(
            "{:>3} clients x {:.0} fps on {} server(s) for {:.0} s: answered {:.1} fps/client ({} frames, {} dropped by the server, {} errors); \
             latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; server RSS peak {:.1} MB; \
             {} injected hang-ups, RSS after warm-up {:.1} MB, at the end {:.1} MB; fds {} before, {} after",
            report.clients,
            report.offered_fps_per_client,
            report.instances,
            report.seconds,
            report.answered_fps_per_client,
            report.frames_answered,
            report.frames_dropped_by_server,
            report.errors,
            report.latency_ms_p50,
            report.latency_ms_p90,
            report.latency_ms_p99,
            report.latency_ms_max,
            report.server_rss_mb_peak,
            report.disconnects,
            report.server_rss_mb_after_warmup,
            report.server_rss_mb_end,
            report.server_fds_before,
            report.server_fds_after
        );
    }
    Ok(())
}
