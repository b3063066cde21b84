//! `melodora serve` refuses what it cannot serve, before it listens: bad
//! server camera sources and options give a clear message and exit code 1.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_melodora");

/// Runs `melodora serve` with `args` on a free port and returns its exit
/// code and error output (a serve that starts would never return: each case
/// must fail before listening).
fn serve_failure(data_dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run melodora");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Bad video files are rows of `hostile_inputs.rs`; here, what is not a
/// file's content: a missing file and a frame rate of zero.
#[test]
fn a_missing_video_and_a_zero_frame_rate_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clip = dir.path().join("empty.y4m");
    std::fs::write(&clip, b"YUV4MPEG2 W4 H4 C420\n").unwrap();
    let clip = clip.to_str().unwrap();
    let missing = dir.path().join("missing.y4m");
    for (args, expected) in [
        (
            vec!["--video", missing.to_str().unwrap()],
            "cannot read video",
        ),
        (vec!["--video", clip, "--fps", "0"], "--fps"),
    ] {
        let (code, stderr) = serve_failure(&data, &args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_camera_needs_the_camera_feature_or_a_real_device() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = serve_failure(dir.path(), &["--camera", "/dev/video99"]);
    assert_eq!(code, Some(1), "{stderr}");
    let expected = if cfg!(feature = "camera") {
        "camera /dev/video99"
    } else {
        "--features camera"
    };
    assert!(stderr.contains(expected), "{stderr}");
    let (code, stderr) = serve_failure(dir.path(), &["--camera", "0", "--video", "x.y4m"]);
    assert_eq!(code, Some(2), "conflicting sources: {stderr}");
}

#[test]
fn origins_and_host_names_that_are_not_are_refused_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (["--allowed-origin", "*"], "wildcards"),
        (["--allowed-origin", "null"], "wildcards"),
        (
            ["--allowed-origin", "https://app.example/page"],
            "https://app.example",
        ),
        (["--allowed-origin", "ftp://app.example"], "http and https"),
        (["--public-host", "https://melodora.example"], "not a URL"),
        (["--public-host", "*.example"], "wildcard"),
        (["--max-connections", "0"], "--max-connections"),
        (["--idle-timeout-s", "0"], "--idle-timeout-s"),
    ] {
        let (code, stderr) = serve_failure(dir.path(), &args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn webcam_frames_are_never_written_to_disk_or_logged_and_the_default_address_is_local() {
    use std::io::{BufRead, BufReader};
    use tokio_tungstenite::tungstenite::{connect, Message};

    let root = tempfile::tempdir().unwrap();
    let [data, home, tmp, cwd] = ["data", "home", "tmp", "cwd"].map(|name| {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    });
    let frame = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vision/tests/fixtures/parity/images/scene_05_three_faces.png"),
    )
    .unwrap();
    // Verbose logging (to a file outside the watched folders, so that a
    // full pipe cannot stall the server), and every place a careless write
    // could land.
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("serve.log");
    let mut server = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("MELODORA_LOG", "trace")
        .env("HOME", &home)
        .env("TMPDIR", &tmp)
        .current_dir(&cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
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
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap();
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let (mut socket, _) = connect(format!("ws://{addr}/ws")).unwrap();
    let mut answered = 0;
    for _ in 0..3 {
        socket.send(Message::Binary(frame.clone().into())).unwrap();
        loop {
            if let Message::Text(text) = socket.read().unwrap() {
                if text.contains("\"type\":\"frame\"") {
                    answered += 1;
                    break;
                }
            }
        }
    }
    assert_eq!(answered, 3);
    drop(socket);
    server.kill().unwrap();
    server.wait().unwrap();
    let log = String::from_utf8_lossy(&std::fs::read(&log_path).unwrap()).into_owned();

    // A distinctive stretch of the frame's bytes, and how it starts in base64.
    let needle = &frame[200..264];
    for file in files_under(root.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} holds frame bytes",
            file.display()
        );
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            file.starts_with(&data) && name.starts_with("melodora.sqlite"),
            "unexpected file {}",
            file.display()
        );
    }
    assert!(log.contains("listening"), "the log is on");
    // The frame's PNG signature as hex, as a byte list, and in base64.
    let lower = log.to_ascii_lowercase();
    for signature in ["89504e47", "137, 80, 78, 71", "ivborw0kggo"] {
        assert!(
            !lower.contains(signature),
            "frame data in the log: {signature}"
        );
    }

    // Without --addr the server listens on the loopback interface only.
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("[default: 127.0.0.1:8000]"), "{help}");
    // Every socket limit has its flag, with its default.
    for (flag, default) in [
        ("--max-sockets-per-client <N>", "[default: 256]"),
        ("--header-timeout-s <S>", "[default: 10]"),
        ("--keep-alive-timeout-s <S>", "[default: 30]"),
        ("--min-body-rate <BYTES_PER_S>", "[default: 1024]"),
        ("--send-timeout-s <S>", "[default: 30]"),
    ] {
        let at = help
            .find(flag)
            .unwrap_or_else(|| panic!("no {flag} in {help}"));
        let next_flag = help[at + 2..]
            .find("\n  -")
            .map_or(help.len(), |i| at + 2 + i);
        assert!(
            help[at..next_flag].contains(default),
            "{flag}: {}",
            &help[at..next_flag]
        );
    }
    assert!(help.contains("--max-sockets <N>"), "{help}");
}
