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

#[test]
fn bad_video_sources_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let text = write("notes.y4m", b"hello");
    let truncated = write("cut.y4m", b"YUV4MPEG2 W4 H4 C420\nFRAME\n12");
    let no_frames = write("empty.y4m", b"YUV4MPEG2 W4 H4 C420\n");
    let huge = write("huge.y4m", b"YUV4MPEG2 W60000 H60000\n");
    let ten_bit = write("deep.y4m", b"YUV4MPEG2 W4 H4 C420p10\n");
    let cut_jpeg = write("cut.mjpeg", &[0xFF, 0xD8, 0xFF, 0xE0, 0x00]);
    let missing = dir.path().join("missing.y4m");
    for (args, expected) in [
        (vec!["--video", &text], "not a supported video"),
        (vec!["--video", &truncated], "frame 1 is truncated"),
        (vec!["--video", &no_frames], "no frames"),
        (vec!["--video", &huge], "over the limit"),
        (vec!["--video", &ten_bit], "C420p10"),
        (vec!["--video", &cut_jpeg], "truncated"),
        (
            vec!["--video", missing.to_str().unwrap()],
            "cannot read video",
        ),
        (vec!["--video", &no_frames, "--fps", "0"], "--fps"),
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
