//! End-to-end tests of `melodora detect`: the real binary on good, bad and
//! hostile inputs. Every failure must name the offending file, say what is
//! wrong, exit with status 1 (never 101, a panic, or a signal) and leave the
//! good inputs processed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_melodora");

/// Any single run taking longer than this is a hang.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Inputs that must be rejected from their header or prologue must be this quick.
const QUICK: Duration = Duration::from_secs(5);

/// Address-space cap (KiB) for runs on hostile inputs (Linux only): a
/// decoder or parser that tried to materialise the bomb would die here.
const BOMB_MEMORY_KIB: u64 = 512 * 1024;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vision/tests/fixtures")
}

fn image(name: &str) -> PathBuf {
    fixtures().join("parity/images").join(name)
}

fn default_cascade_xml() -> String {
    std::fs::read_to_string(fixtures().join("cascades/haarcascade_frontalface_default.xml"))
        .expect("read cascade fixture")
}

const SCENE: &str = "scene_05_three_faces.png";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
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

fn arg_strings<P: AsRef<std::ffi::OsStr>>(args: &[P]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

/// Runs `melodora detect ARGS...`, killing it if it hangs.
fn detect<P: AsRef<std::ffi::OsStr>>(args: &[P]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.arg("detect").args(arg_strings(args));
    run(cmd)
}

/// Like [`detect`], under an address-space limit where the platform allows.
fn detect_memory_capped<P: AsRef<std::ffi::OsStr>>(args: &[P]) -> Run {
    if cfg!(target_os = "linux") && Path::new("/bin/sh").exists() {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!(
                "ulimit -v {BOMB_MEMORY_KIB} && exec \"$0\" detect \"$@\""
            ))
            .arg(BIN)
            .args(arg_strings(args));
        run(cmd)
    } else {
        detect(args)
    }
}

fn run(mut cmd: Command) -> Run {
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
fn assert_clean_failure(run: &Run) {
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
fn assert_rejects(run: &Run, file: &Path, what: &[&str]) {
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
fn assert_image_rejected(path: &Path, what: &[&str]) -> Run {
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
fn assert_cascade_rejected(cascade: &Path, what: &[&str]) -> Run {
    let run = detect(&[Path::new("--cascade"), cascade, &image(SCENE)]);
    assert_rejects(&run, cascade, &[&["cascade"], what].concat());
    assert!(run.stdout.is_empty(), "{run}");
    run
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

// ---------------------------------------------------------------------------
// Crafting small image files byte by byte.

fn crc32(bytes: &[u8]) -> u32 {
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

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
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
fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
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
fn zero_width_gif() -> Vec<u8> {
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
fn zero_width_bmp() -> Vec<u8> {
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

// ---------------------------------------------------------------------------
// Bad images.

#[test]
fn missing_image_file() {
    let dir = tempdir();
    let path = dir.path().join("does_not_exist.png");
    assert_image_rejected(&path, &["cannot read file"]);
}

#[test]
fn directory_given_as_image() {
    let dir = tempdir();
    assert_image_rejected(dir.path(), &["cannot read file"]);
}

#[test]
fn truncated_png() {
    let dir = tempdir();
    let bytes = std::fs::read(image(SCENE)).unwrap();
    let path = write(&dir, "half.png", &bytes[..bytes.len() / 2]);
    assert_image_rejected(&path, &["truncated", "PNG"]);
}

#[test]
fn text_file_is_not_an_image() {
    let dir = tempdir();
    let path = write(&dir, "notes.png", "just some text, not pixels\n");
    assert_image_rejected(&path, &["not a supported image"]);
}

#[test]
fn zero_byte_file() {
    let dir = tempdir();
    let path = write(&dir, "empty.png", []);
    assert_image_rejected(&path, &["empty"]);
}

#[test]
fn image_over_megapixel_limit() {
    let path = image(SCENE);
    let run = detect(&[Path::new("--max-megapixels"), Path::new("0.01"), &path]);
    assert_rejects(&run, &path, &["640x480", "over the limit", "10000 pixels"]);
    assert!(run.stdout.is_empty(), "{run}");
    assert!(run.stderr.contains("1 of 1 image(s)"), "{run}");
}

#[test]
fn png_header_claiming_30000x30000_is_rejected_from_the_header() {
    let dir = tempdir();
    let path = write(&dir, "bomb.png", png_header_claiming(30_000, 30_000));
    let run = detect_memory_capped(&[&path]);
    assert_rejects(&run, &path, &["30000x30000", "over the limit"]);
    assert!(run.elapsed < QUICK, "took {:?}\n{run}", run.elapsed);
}

#[test]
fn zero_size_gif_and_png_are_rejected() {
    let dir = tempdir();
    let gif = write(&dir, "zero.gif", zero_width_gif());
    let run = detect(&[&gif]);
    assert_rejects(&run, &gif, &["zero size", "0x10"]);

    let png = write(&dir, "zero.png", png_header_claiming(0, 10));
    let run = detect(&[&png]);
    assert_clean_failure(&run);
    let lower = run.stderr.to_lowercase();
    assert!(
        lower.contains("zero size") || lower.contains("invalid image dimensions"),
        "{run}"
    );
    assert_rejects(&run, &png, &["PNG"]);
}

/// The `image` BMP decoder refuses a 0-pixel-wide header with a misleading
/// "dimensions are too large"; `decode_image` reads the header first.
#[test]
fn zero_width_bmp_is_reported_as_zero_size() {
    let dir = tempdir();
    let path = write(&dir, "zero.bmp", zero_width_bmp());
    let run = detect(&[&path]);
    assert_rejects(&run, &path, &["zero size"]);
    assert!(!run.stderr.contains("too large"), "{run}");
}

/// The same scene as lossless BMP and WebP gives exactly the PNG's boxes; as
/// JPEG (lossy) it still gives faces.
#[test]
fn reads_bmp_webp_and_jpeg() {
    let dir = tempdir();
    let source = image::open(image(SCENE)).unwrap();
    let boxes_of = |path: &Path| -> Vec<[i64; 4]> {
        let run = detect(&[Path::new("--json"), Path::new("--no-emotion"), path]);
        assert_eq!(run.code, Some(0), "{run}");
        sorted_boxes(&serde_json::from_str(run.stdout.trim()).unwrap())
    };
    let reference = boxes_of(&image(SCENE));
    assert!(!reference.is_empty());
    for (name, format) in [
        ("scene.bmp", image::ImageFormat::Bmp),
        ("scene.webp", image::ImageFormat::WebP),
    ] {
        let path = dir.path().join(name);
        source.to_rgb8().save_with_format(&path, format).unwrap();
        assert_eq!(boxes_of(&path), reference, "{name}");
    }
    let jpeg = dir.path().join("scene.jpg");
    source
        .to_rgb8()
        .save_with_format(&jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    assert!(!boxes_of(&jpeg).is_empty(), "faces found in the JPEG copy");
}

// ---------------------------------------------------------------------------
// Bad cascades.

#[test]
fn missing_cascade_file() {
    let dir = tempdir();
    assert_cascade_rejected(&dir.path().join("nope.xml"), &[]);
}

#[test]
fn cascade_that_is_not_xml() {
    let dir = tempdir();
    let path = write(&dir, "plain.xml", "this is not XML at all\n");
    assert_cascade_rejected(&path, &["not a valid XML document"]);
}

#[test]
fn cascade_that_is_not_utf8() {
    let dir = tempdir();
    let path = write(
        &dir,
        "latin1.xml",
        b"<opencv_storage>\xe9\xff</opencv_storage>",
    );
    assert_cascade_rejected(&path, &["UTF-8"]);
}

#[test]
fn xml_that_is_not_a_cascade() {
    let dir = tempdir();
    let path = write(&dir, "foo.xml", "<opencv_storage><foo/></opencv_storage>\n");
    assert_cascade_rejected(&path, &["not an OpenCV Haar cascade", "<foo>"]);
}

#[test]
fn truncated_cascade() {
    let dir = tempdir();
    let xml = default_cascade_xml();
    let path = write(&dir, "half.xml", &xml[..xml.len() / 2]);
    assert_cascade_rejected(&path, &["not a valid XML document"]);
}

#[test]
fn cascade_rectangle_outside_the_window() {
    let xml = default_cascade_xml();
    // The first rectangle of the first feature, e.g. "6 4 12 9 -1.".
    let rects = xml.find("<rects>").expect("a <rects>");
    let open = rects + xml[rects..].find("<_>").unwrap() + "<_>".len();
    let close = open + xml[open..].find("</_>").unwrap();
    let edited = format!("{}20 20 10 10 -1.{}", &xml[..open], &xml[close..]);
    let dir = tempdir();
    let path = write(&dir, "outside.xml", edited);
    assert_cascade_rejected(
        &path,
        &["malformed", "20 20 10 10", "outside the 24x24 window"],
    );
}

#[test]
fn lbp_cascade_is_unsupported() {
    let xml = default_cascade_xml();
    assert!(xml.contains("<featureType>HAAR</featureType>"));
    let lbp = xml.replace(
        "<featureType>HAAR</featureType>",
        "<featureType>LBP</featureType>",
    );
    let dir = tempdir();
    let path = write(&dir, "lbp.xml", lbp);
    assert_cascade_rejected(&path, &["unsupported", "LBP"]);
}

#[test]
fn billion_laughs_cascade_is_rejected_quickly() {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n");
    xml.push_str("  <!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let body = format!("&lol{};", i - 1).repeat(10);
        xml.push_str(&format!("  <!ENTITY lol{i} \"{body}\">\n"));
    }
    xml.push_str("]>\n<opencv_storage><cascade>&lol9;</cascade></opencv_storage>\n");
    let dir = tempdir();
    let path = write(&dir, "lolz.xml", xml);
    let run = detect_memory_capped(&[Path::new("--cascade"), &path, &image(SCENE)]);
    assert_rejects(&run, &path, &["cascade", "DTD"]);
    assert!(run.elapsed < QUICK, "took {:?}\n{run}", run.elapsed);
    assert!(run.stdout.is_empty(), "{run}");
}

/// Known bug (crates/vision/src/cascade/xml.rs, via roxmltree 0.20, whose
/// tokenizer recurses once per nesting level): 100000 nested elements
/// overflow the main thread's stack and abort the process (SIGABRT).
#[test]
fn deeply_nested_cascade_does_not_crash() {
    let depth = 100_000;
    let xml = format!(
        "<opencv_storage>{}{}</opencv_storage>\n",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let dir = tempdir();
    let path = write(&dir, "deep.xml", xml);
    let run = detect_memory_capped(&[Path::new("--cascade"), &path, &image(SCENE)]);
    assert_rejects(&run, &path, &["cascade"]);
    assert!(run.elapsed < QUICK, "took {:?}\n{run}", run.elapsed);
}

// ---------------------------------------------------------------------------
// Several images, some bad.

#[test]
fn bad_images_do_not_stop_the_good_ones_table() {
    let dir = tempdir();
    let text = write(&dir, "text.png", "hello");
    let missing = dir.path().join("missing.png");
    let good1 = image(SCENE);
    let good2 = image("edge_tiny_20x16.png");
    let run = detect(&[&good1, &text, &missing, &good2]);
    assert_rejects(&run, &text, &["not a supported image"]);
    assert_rejects(&run, &missing, &["cannot read file"]);
    assert!(
        run.stderr
            .contains("2 of 4 image(s) could not be processed"),
        "{run}"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "header + 2 rows\n{run}");
    assert!(lines[0].starts_with("IMAGE"), "{run}");
    assert!(lines[1].starts_with(&good1.display().to_string()), "{run}");
    assert!(lines[1].contains("640x480"), "{run}");
    assert!(lines[2].starts_with(&good2.display().to_string()), "{run}");
    assert!(lines[2].contains("20x16"), "{run}");
    assert!(!run.stdout.contains("text.png") && !run.stdout.contains("missing.png"));
}

#[test]
fn bad_images_do_not_stop_the_good_ones_json() {
    let dir = tempdir();
    let text = write(&dir, "text.png", "hello");
    let missing = dir.path().join("missing.png");
    let good1 = image(SCENE);
    let good2 = image("edge_tiny_20x16.png");
    let run = detect(&[Path::new("--json"), &good1, &text, &missing, &good2]);
    assert_rejects(&run, &text, &["not a supported image"]);
    assert_rejects(&run, &missing, &["cannot read file"]);
    let records: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert_eq!(records.len(), 4, "one line per image\n{run}");
    let expect_image = |r: &Value, p: &Path| {
        assert_eq!(r["image"], p.display().to_string(), "{r}");
    };
    for (r, p) in records.iter().zip([&good1, &text, &missing, &good2]) {
        expect_image(r, p);
    }
    assert_eq!(records[0]["width"], 640);
    assert!(records[0].get("error").is_none());
    assert_eq!(records[0]["faces"].as_array().unwrap().len(), 2);
    let error = records[1]["error"].as_str().expect("error key");
    assert!(error.contains("not a supported image"), "{error}");
    assert!(records[1].get("faces").is_none());
    let error = records[2]["error"].as_str().expect("error key");
    assert!(error.contains("cannot read file"), "{error}");
    assert_eq!(records[3]["width"], 20);
    assert_eq!(records[3]["faces"], Value::Array(vec![]));
}

// ---------------------------------------------------------------------------
// Invalid parameters.

fn assert_bad_parameter(args: &[&str], what: &[&str]) {
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    let scene = image(SCENE);
    all.push(scene.as_os_str());
    let run = detect(&all);
    assert_clean_failure(&run);
    assert!(run.stdout.is_empty(), "{run}");
    let lower = run.stderr.to_lowercase();
    for w in what {
        assert!(lower.contains(&w.to_lowercase()), "lacks {w:?}\n{run}");
    }
    assert!(run.elapsed < QUICK, "took {:?}\n{run}", run.elapsed);
}

#[test]
fn scale_factor_of_one_is_rejected() {
    assert_bad_parameter(
        &["--scale-factor", "1.0"],
        &["scale factor", "greater than 1"],
    );
}

#[test]
fn scale_factor_nan_is_rejected() {
    assert_bad_parameter(&["--scale-factor", "nan"], &["scale factor", "NaN"]);
}

#[test]
fn min_size_above_max_size_is_rejected() {
    assert_bad_parameter(
        &["--min-size", "300", "--max-size", "100"],
        &["minimum size", "maximum size", "300", "100"],
    );
}

#[test]
fn non_positive_megapixel_limit_is_rejected() {
    assert_bad_parameter(&["--max-megapixels", "0"], &["--max-megapixels"]);
}

/// `--threads` is range-checked by clap, so this is a usage error (exit 2).
#[test]
fn absurd_thread_count_is_rejected() {
    let run = detect(&[Path::new("--threads"), Path::new("100000"), &image(SCENE)]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("--threads"), "{run}");
    assert!(run.stderr.contains("100000"), "{run}");
    assert!(!run.stderr.contains("panicked"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    assert!(run.elapsed < QUICK, "took {:?}\n{run}", run.elapsed);
}

// ---------------------------------------------------------------------------
// The happy path.

/// OpenCV's boxes for `name` with the default cascade at 1.1 / 5, sorted.
/// The face boxes of one `detect --json` record, as sorted [x, y, w, h].
fn sorted_boxes(record: &Value) -> Vec<[i64; 4]> {
    let mut boxes: Vec<[i64; 4]> = record["faces"]
        .as_array()
        .expect("faces array")
        .iter()
        .map(|f| ["x", "y", "w", "h"].map(|k| f[k].as_i64().unwrap()))
        .collect();
    boxes.sort_unstable();
    boxes
}

fn opencv_reference_boxes(name: &str) -> Vec<[i64; 4]> {
    let path = fixtures().join("parity/expected.json");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let run = expected["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["cascade"] == "haarcascade_frontalface_default.xml"
                && r["scale_factor"].as_f64() == Some(1.1)
                && r["min_neighbors"] == 5
                && r["min_size"] == 0
                && r["max_size"] == 0
        })
        .expect("a default-cascade 1.1/5 run in expected.json");
    let mut boxes: Vec<[i64; 4]> = run["boxes"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no reference boxes for {name}"))
        .iter()
        .map(|b| {
            let v: Vec<i64> = b
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_i64().unwrap())
                .collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect();
    boxes.sort_unstable();
    boxes
}

#[test]
fn json_output_matches_the_opencv_reference() {
    let path = image(SCENE);
    let run = detect(&[Path::new("--json"), &path]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.is_empty(), "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{run}");
    let record: Value = serde_json::from_str(lines[0]).expect("valid JSON");
    assert_eq!(record["image"], path.display().to_string());
    assert_eq!(record["width"], 640);
    assert_eq!(record["height"], 480);
    let faces = sorted_boxes(&record);
    let expected = opencv_reference_boxes(SCENE);
    assert!(!expected.is_empty());
    assert_eq!(faces, expected);
    // Each face carries its emotion, confidence and all seven probabilities.
    for face in record["faces"].as_array().unwrap() {
        let probs = face["probabilities"].as_object().expect("probabilities");
        let names: Vec<&str> = probs.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
        );
        let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-3, "{sum}");
        let emotion = face["emotion"].as_str().expect("emotion");
        let confidence = face["confidence"].as_f64().unwrap();
        let max = probs
            .values()
            .map(|v| v.as_f64().unwrap())
            .fold(0.0, f64::max);
        assert_eq!(confidence, max);
        assert_eq!(probs[emotion].as_f64().unwrap(), max);
    }
}

#[test]
fn no_emotion_keeps_to_detection() {
    let path = image(SCENE);
    let run = detect(&[Path::new("--json"), Path::new("--no-emotion"), &path]);
    assert_eq!(run.code, Some(0), "{run}");
    let record: Value = serde_json::from_str(run.stdout.trim()).expect("valid JSON");
    let faces = record["faces"].as_array().unwrap();
    assert!(!faces.is_empty());
    for face in faces {
        assert!(
            face.get("emotion").is_none() && face.get("probabilities").is_none(),
            "{face}"
        );
    }
}

#[test]
fn table_output_has_a_header_and_the_image() {
    let path = image(SCENE);
    let run = detect(&[&path]);
    assert_eq!(run.code, Some(0), "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{run}");
    for column in ["IMAGE", "SIZE", "FACES", "BOXES"] {
        assert!(lines[0].contains(column), "{run}");
    }
    let row = lines[1];
    assert!(row.starts_with(&path.display().to_string()), "{run}");
    assert!(row.contains("640x480"), "{run}");
    let expected = opencv_reference_boxes(SCENE);
    for [x, y, w, h] in &expected {
        assert!(row.contains(&format!("({x},{y},{w},{h})")), "{run}");
    }
}

#[test]
fn annotate_writes_a_boxed_copy() {
    let dir = tempdir();
    let out = dir.path().join("annotated");
    let path = image(SCENE);
    let run = detect(&[Path::new("--annotate"), &out, &path]);
    assert_eq!(run.code, Some(0), "{run}");
    let written = out.join(SCENE);
    let original = image::open(&path).unwrap().to_rgb8();
    let annotated = image::open(&written)
        .unwrap_or_else(|e| panic!("{}: {e}", written.display()))
        .to_rgb8();
    assert_eq!(annotated.dimensions(), original.dimensions());
    let changed = original
        .pixels()
        .zip(annotated.pixels())
        .filter(|(a, b)| a != b)
        .count();
    // Two boxes of 101 and 133 pixels: their outlines alone are ~900 pixels.
    assert!(changed > 500, "only {changed} pixels differ");
}
