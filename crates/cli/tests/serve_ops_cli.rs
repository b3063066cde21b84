//! `melodora serve` as an operator runs it: HTTPS with a self-signed or a
//! given certificate, JSON logs, SIGTERM, and certificates that cannot be
//! served refused before listening.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_melodora");

/// Starts `melodora serve` on a free loopback port with `args`; returns the
/// child, the page's URL and what it printed before it.
fn start(data_dir: &Path, args: &[&str], stderr: Stdio) -> (Child, String, String) {
    let mut server = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut printed = String::new();
    let mut line = String::new();
    while !line.contains("running at") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve ended early: {printed}"
        );
        printed.push_str(&line);
    }
    let url = line
        .split_whitespace()
        .find(|w| w.contains("://"))
        .unwrap()
        .to_string();
    (server, url, printed)
}

/// Sends SIGTERM and waits for the exit, at most `limit`.
fn terminate(server: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn https_agent(cert_pem: &[u8]) -> ureq::Agent {
    let cert = ureq::tls::Certificate::from_pem(cert_pem).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .build()
        .new_agent()
}

#[test]
fn a_self_signed_server_is_reached_over_https_logs_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let args = ["--tls-self-signed", "--log-format", "json"];
    let (mut server, url, printed) = start(dir.path(), &args, Stdio::from(log));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert!(
        printed.contains("Made a new self-signed certificate"),
        "{printed}"
    );
    let fingerprint = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("SHA-256 fingerprint "))
        .expect("the fingerprint is printed")
        .to_string();
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");

    let cert = std::fs::read(dir.path().join("tls/self-signed-cert.pem")).unwrap();
    let agent = https_agent(&cert);
    let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
    let body = agent
        .get(format!("https://localhost:{port}/api/health/ready"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ready", "{health}");

    let status = terminate(&mut server, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "exit after SIGTERM");
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let listening = lines
        .iter()
        .find(|l| l["message"] == "listening")
        .expect("a listening line");
    assert_eq!(listening["scheme"], "https", "{listening}");
    assert_eq!(listening["level"], "INFO", "{listening}");
    // The descriptor limit it runs with (raised to the hard limit), and a
    // socket cap below it.
    let descriptors = listening["descriptor_limit"].as_u64().expect("a limit");
    let max_sockets = listening["max_sockets"].as_u64().expect("a cap");
    assert!(max_sockets < descriptors, "{listening}");
    assert_eq!(listening["header_timeout_s"], 10, "{listening}");
    assert!(lines.iter().any(|l| l["message"] == "shut down"), "{log}");

    // The second start keeps the certificate: same fingerprint.
    let (mut again, _, printed) = start(dir.path(), &["--tls-self-signed"], Stdio::null());
    assert!(
        printed.contains("Using the self-signed certificate"),
        "{printed}"
    );
    assert!(printed.contains(&fingerprint), "{printed}");
    assert_eq!(
        terminate(&mut again, Duration::from_secs(15)).code(),
        Some(0)
    );
}

/// Writes a certificate for localhost valid from `from` to `until`, and
/// its key, into `dir` under `name`.
fn certificate(
    dir: &Path,
    name: &str,
    from: time::OffsetDateTime,
    until: time::OffsetDateTime,
) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_before = from;
    params.not_after = until;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join(format!("{name}.crt"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (
        cert_path.to_string_lossy().into_owned(),
        key_path.to_string_lossy().into_owned(),
    )
}

#[test]
fn certificates_that_cannot_be_served_are_refused_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let (cert, _) = certificate(dir.path(), "good", now - day, now + day);
    let (_, other_key) = certificate(dir.path(), "other", now - day, now + day);
    let (old_cert, old_key) = certificate(dir.path(), "old", now - 9 * day, now - day);
    let missing = dir
        .path()
        .join("missing.pem")
        .to_string_lossy()
        .into_owned();
    let data = dir.path().join("data");
    for (args, code, expected) in [
        (
            vec!["--tls-cert", &cert, "--tls-key", &other_key],
            1,
            "does not belong to the certificate",
        ),
        (
            vec!["--tls-cert", &old_cert, "--tls-key", &old_key],
            1,
            "expired on",
        ),
        (
            vec!["--tls-cert", &missing, "--tls-key", &other_key],
            1,
            "missing.pem",
        ),
        (vec!["--tls-cert", &cert], 2, "--tls-key"),
        (
            vec![
                "--tls-self-signed",
                "--tls-cert",
                &cert,
                "--tls-key",
                &other_key,
            ],
            2,
            "cannot be used with",
        ),
    ] {
        let output = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn plain_http_beyond_this_machine_warns_that_browsers_refuse_the_camera() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--addr", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("running at") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve ended early"
        );
    }
    assert!(line.contains("http://localhost:"), "{line}");
    assert_eq!(
        terminate(&mut server, Duration::from_secs(15)).code(),
        Some(0)
    );
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("will refuse the camera"), "{log}");
}
