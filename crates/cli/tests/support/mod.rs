//! What the CLI tests share: running the real binary with a hang limit and
//! an optional memory cap, judging its failures, and crafting hostile files.
// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_melodora");

/// Any single run taking longer than this is a hang.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Inputs that must be rejected from their header or prologue must be this quick.
pub const QUICK: Duration = Duration::from_secs(5);

/// Address-space cap (KiB) for runs on hostile inputs (Linux only): a
/// decoder or parser that tried to materialise the bomb would die here.
pub const BOMB_MEMORY_KIB: u64 = 512 * 1024;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vision/tests/fixtures")
}

pub fn image(name: &str) -> PathBuf {
    fixtures().join("parity/images").join(name)
}

pub fn default_cascade_xml() -> String {
    std::fs::read_to_string(fixtures().join("cascades/haarcascade_frontalface_default.xml"))
        .expect("read cascade fixture")
}

pub const SCENE: &str = "scene_05_three_faces.png";

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

pub fn arg_strings<P: AsRef<std::ffi::OsStr>>(args: &[P]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

/// Runs `melodora ARGS...`, killing it if it hangs. With `memory_capped`, it runs under an
/// address-space limit where the platform allows: a decoder or parser that
/// tried to materialise a bomb would die there.
pub fn melodora<P: AsRef<std::ffi::OsStr>>(args: &[P], memory_capped: bool) -> Run {
    let mut cmd = if memory_capped && cfg!(target_os = "linux") && Path::new("/bin/sh").exists() {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!("ulimit -v {BOMB_MEMORY_KIB} && exec \"$0\" \"$@\""))
            .arg(BIN);
        cmd
    } else {
        Command::new(BIN)
    };
    cmd.args(arg_strings(args));
    run(cmd)
}

/// Runs `melodora detect ARGS...`, killing it if it hangs.
pub fn detect<P: AsRef<std::ffi::OsStr>>(args: &[P]) -> Run {
    melodora(&with_subcommand("detect", args), false)
}

/// Like [`detect`], under the memory cap of [`melodora`].
pub fn detect_memory_capped<P: AsRef<std::ffi::OsStr>>(args: &[P]) -> Run {
    melodora(&with_subcommand("detect", args), true)
}

fn with_subcommand<P: AsRef<std::ffi::OsStr>>(name: &str, args: &[P]) -> Vec<std::ffi::OsString> {
    let mut all = vec![std::ffi::OsString::from(name)];
    all.extend(arg_strings(args));
    all
}

/// Runs `cmd` to the end with its output captured, panicking if it hangs.
pub fn run(mut cmd: Command) -> Run {
    cmd.env_remove("MELODORA_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn melodora");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).expect("read pipe");
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for melodora") {
            break status;
        }
        if start.elapsed() > HANG_LIMIT {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "melodora {:?} still running after {HANG_LIMIT:?}",
                cmd.get_args().collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: start.elapsed(),
    }
}

/// No panic, no crash: a clean exit with status 1 and no repeated causes.
pub fn assert_clean_failure(run: &Run) {
    assert_eq!(run.code, Some(1), "expected exit status 1\n{run}");
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains("panicked"), "panic output\n{run}");
        assert!(!text.contains("RUST_BACKTRACE"), "panic output\n{run}");
        assert!(!text.contains("overflowed its stack"), "crash\n{run}");
    }
    for line in run.stderr.lines() {
        let parts: Vec<&str> = line.split(": ").collect();
        assert!(
            !parts.windows(2).any(|w| w[0] == w[1]),
            "message repeats a cause: {line:?}"
        );
    }
}

/// A clean failure whose stderr names `file` and mentions every one of
/// `what` (case-insensitive) in the same line.
pub fn assert_rejects(run: &Run, file: &Path, what: &[&str]) {
    assert_clean_failure(run);
    let file = file.display().to_string();
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains(&file))
        .unwrap_or_else(|| panic!("no error line names {file}\n{run}"));
    let lower = line.to_lowercase();
    for w in what {
        assert!(
            lower.contains(&w.to_lowercase()),
            "error line lacks {w:?}: {line:?}\n{run}"
        );
    }
}

/// An image that fails alone: named error, summary line, nothing on stdout.
pub fn assert_image_rejected(path: &Path, what: &[&str]) -> Run {
    let run = detect(&[path]);
    assert_rejects(&run, path, what);
    assert!(
        run.stderr
            .contains("1 of 1 image(s) could not be processed"),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
    run
}

/// A run rejected because of its cascade: named error, nothing on stdout.
pub fn assert_cascade_rejected(cascade: &Path, what: &[&str]) -> Run {
    let run = detect(&[Path::new("--cascade"), cascade, &image(SCENE)]);
    assert_rejects(&run, cascade, &[&["cascade"], what].concat());
    assert!(run.stdout.is_empty(), "{run}");
    run
}

pub fn write(dir: &tempfile::TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

// ---------------------------------------------------------------------------
// Crafting small image files byte by byte.

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A well-formed PNG start (valid IHDR, RGBA 8-bit) claiming `width` x
/// `height`, with a small valid zlib stream of zero rows as its only IDAT:
/// what a decompression bomb looks like before its payload.
pub fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA, no interlace
    png_chunk(&mut png, b"IHDR", &ihdr);
    // zlib, one stored deflate block of 1000 zero bytes.
    let raw = vec![0u8; 1000];
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(&raw);
    let (a, b) = raw.iter().fold((1u32, 0u32), |(a, b), &x| {
        let a = (a + u32::from(x)) % 65521;
        (a, (b + a) % 65521)
    });
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    png_chunk(&mut png, b"IDAT", &zlib);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A GIF whose logical screen and only frame are 0 pixels wide.
pub fn zero_width_gif() -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&0u16.to_le_bytes()); // screen width
    gif.extend_from_slice(&10u16.to_le_bytes()); // screen height
    gif.extend_from_slice(&[0x80, 0, 0]); // 2-colour global table
    gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    gif.push(b',');
    for v in [0u16, 0, 0, 10] {
        gif.extend_from_slice(&v.to_le_bytes()); // left top width height
    }
    gif.push(0);
    gif.extend_from_slice(&[2, 2, 0x44, 0x01, 0]); // minimal LZW data
    gif.push(b';');
    gif
}

/// A 24-bit BMP with a BITMAPINFOHEADER claiming 0 x 10 pixels.
pub fn zero_width_bmp() -> Vec<u8> {
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&54u32.to_le_bytes()); // file size
    bmp.extend_from_slice(&0u32.to_le_bytes()); // reserved
    bmp.extend_from_slice(&54u32.to_le_bytes()); // pixel data offset
    bmp.extend_from_slice(&40u32.to_le_bytes()); // header size
    bmp.extend_from_slice(&0i32.to_le_bytes()); // width
    bmp.extend_from_slice(&10i32.to_le_bytes()); // height
    bmp.extend_from_slice(&1u16.to_le_bytes()); // planes
    bmp.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
    for v in [0u32, 0, 2835, 2835, 0, 0] {
        bmp.extend_from_slice(&v.to_le_bytes());
    }
    bmp
}
