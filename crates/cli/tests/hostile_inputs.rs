//! The hostile-input table (docs/RELIABILITY.md): every kind of bad file the
//! CLI can be handed, the command that reads it, and the words of the error
//! that must name it. Each row must end in a clean failure: exit status 1, an
//! error line naming the file, no panic, no crash, no hang. Bombs also run
//! under a memory cap and must be refused at once; strict imports must leave
//! the store exactly as it was.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use support::*;

/// One row of the table.
struct Case {
    /// What the input is.
    input: &'static str,
    /// File name of the hostile input (its extension matters to some readers).
    name: &'static str,
    bytes: Vec<u8>,
    /// The command, where `{file}` is the hostile input, `{dir}` the folder
    /// holding it, `{scene}` a good image, `{model}` the default ONNX model
    /// and `{data}` a fresh data folder.
    command: &'static [&'static str],
    /// Words the error line naming the file must contain (any case).
    expect: &'static [&'static str],
    /// A bomb: run under a memory cap and refused within [`QUICK`].
    bomb: bool,
}

fn case(
    input: &'static str,
    name: &'static str,
    bytes: impl Into<Vec<u8>>,
    command: &'static [&'static str],
    expect: &'static [&'static str],
) -> Case {
    Case {
        input,
        name,
        bytes: bytes.into(),
        command,
        expect,
        bomb: false,
    }
}

impl Case {
    fn bomb(mut self) -> Self {
        self.bomb = true;
        self
    }
}

const DETECT: &[&str] = &["detect", "{file}"];
const CASCADE: &[&str] = &["detect", "--cascade", "{file}", "{scene}"];
const MODEL: &[&str] = &["detect", "--model", "{file}", "{scene}"];
const DESCRIPTION: &[&str] = &[
    "detect",
    "--model",
    "{model}",
    "--description",
    "{file}",
    "{scene}",
];
const EVAL: &[&str] = &["eval", "{dir}"];
const IMPORT: &[&str] = &[
    "catalog",
    "import",
    "{file}",
    "--strict",
    "--data-dir",
    "{data}",
];
const VIDEO: &[&str] = &[
    "serve",
    "--addr",
    "127.0.0.1:0",
    "--data-dir",
    "{data}",
    "--video",
    "{file}",
];

fn cases() -> Vec<Case> {
    vec![
        // Images.
        case(
            "truncated PNG",
            "half.png",
            half_of(&scene_png()),
            DETECT,
            &["truncated", "PNG"],
        ),
        case(
            "truncated JPEG",
            "half.jpg",
            half_of(&scene_jpeg()),
            DETECT,
            &["truncated", "JPEG", "end-of-image marker"],
        ),
        case(
            "non-image bytes",
            "notes.png",
            "just some text, not pixels\n",
            DETECT,
            &["not a supported image"],
        ),
        case("empty file", "empty.png", "", DETECT, &["empty"]),
        case(
            "0x0 PNG",
            "zero.png",
            png_header_claiming(0, 0),
            DETECT,
            &["PNG"],
        ),
        case(
            "0x10 GIF",
            "zero.gif",
            zero_width_gif(),
            DETECT,
            &["zero size", "0x10"],
        ),
        case(
            "0x10 BMP",
            "zero.bmp",
            zero_width_bmp(),
            DETECT,
            &["zero size"],
        ),
        case(
            "PNG header claiming 30000x30000",
            "bomb.png",
            png_header_claiming(30_000, 30_000),
            DETECT,
            &["30000x30000", "over the limit"],
        )
        .bomb(),
        // Cascades.
        case(
            "XML bomb (billion laughs)",
            "lolz.xml",
            billion_laughs(),
            CASCADE,
            &["cascade", "DTD"],
        )
        .bomb(),
        case(
            "100,000 nested XML elements",
            "deep.xml",
            deeply_nested_xml(100_000),
            CASCADE,
            &["cascade"],
        )
        .bomb(),
        case(
            "cascade rectangle outside its window",
            "outside.xml",
            cascade_rectangle_outside(),
            CASCADE,
            &["malformed", "20 20 10 10", "outside the 24x24 window"],
        ),
        case(
            "text that is not XML",
            "plain.xml",
            "this is not XML at all\n",
            CASCADE,
            &["cascade", "not a valid XML document"],
        ),
        case(
            "truncated cascade",
            "half.xml",
            half_of(default_cascade_xml().as_bytes()),
            CASCADE,
            &["cascade", "not a valid XML document"],
        ),
        case(
            "cascade not in UTF-8",
            "latin1.xml",
            b"<opencv_storage>\xe9\xff</opencv_storage>".to_vec(),
            CASCADE,
            &["cascade", "UTF-8"],
        ),
        case(
            "XML that is not a cascade",
            "foo.xml",
            "<opencv_storage><foo/></opencv_storage>\n",
            CASCADE,
            &["not an OpenCV Haar cascade", "<foo>"],
        ),
        case(
            "LBP cascade",
            "lbp.xml",
            lbp_cascade(),
            CASCADE,
            &["unsupported", "LBP"],
        ),
        // Models and their descriptions.
        case(
            "model that is not ONNX",
            "model.onnx",
            "hello, I am not a model",
            MODEL,
            &["not an ONNX model"],
        ),
        case(
            "truncated ONNX",
            "model.onnx",
            default_model()[..default_model().len() / 3].to_vec(),
            MODEL,
            &["not an ONNX model"],
        ),
        case(
            "description whose input does not fit the model",
            "nhwc.json",
            description(r#""layout": "NHWC""#, 7),
            DESCRIPTION,
            &["nhwc.json", "does not fit"],
        ),
        case(
            "description with 5 labels for 7 outputs",
            "five.json",
            description(r#""layout": "NCHW""#, 5),
            DESCRIPTION,
            &["one score per label"],
        ),
        case(
            "description with an unknown field",
            "colour.json",
            description(r#""layout": "NCHW", "colour": "red""#, 7),
            DESCRIPTION,
            &["unknown field `colour`"],
        ),
        case(
            "description that is not JSON",
            "broken.json",
            "{\"input\": ",
            DESCRIPTION,
            &["EOF"],
        ),
        // Eval folders.
        case(
            "eval folder without class folders",
            "readme.txt",
            "no faces here",
            EVAL,
            &["angry", "neutral"],
        ),
        // Song catalogs (strict import: all or nothing).
        case(
            "CSV row with too few columns",
            "angry.csv",
            ",Name,Album,Artist\n0,Fine,A,B\n1,Broken\n",
            IMPORT,
            &[":3:"],
        ),
        case(
            "CSV with an unclosed quote",
            "happy.csv",
            ",Name,Album,Artist\n0,Fine,A,B\n1,\"Unclosed,A,B\n2,Also,C,D\n",
            IMPORT,
            &["fields"],
        ),
        case(
            "CSV in Latin-1",
            "sad.csv",
            b",Name,Album,Artist\n0,Caf\xe9,A,B\n".to_vec(),
            IMPORT,
            &[":2:", "UTF-8"],
        ),
        case(
            "CSV field of 1 MB",
            "fear.csv",
            format!(",Name,Album,Artist\n0,{},A,B\n", "x".repeat(1 << 20)),
            IMPORT,
            &[":2:"],
        ),
        case(
            "CSV title with control characters",
            "surprise.csv",
            ",Name,Album,Artist\n0,Bell\u{7}\u{1b}[2J,A,B\n",
            IMPORT,
            &[":2:"],
        ),
        // Server camera videos.
        case(
            "video that is not a video",
            "notes.y4m",
            "hello",
            VIDEO,
            &["not a supported video"],
        ),
        case(
            "Y4M cut inside its first frame",
            "cut.y4m",
            "YUV4MPEG2 W4 H4 C420\nFRAME\n12",
            VIDEO,
            &["frame 1 is truncated"],
        ),
        case(
            "Y4M without frames",
            "empty.y4m",
            "YUV4MPEG2 W4 H4 C420\n",
            VIDEO,
            &["no frames"],
        ),
        case(
            "Y4M header claiming 60000x60000",
            "huge.y4m",
            "YUV4MPEG2 W60000 H60000\n",
            VIDEO,
            &["over the limit"],
        )
        .bomb(),
        case(
            "10-bit Y4M",
            "deep.y4m",
            "YUV4MPEG2 W4 H4 C420p10\n",
            VIDEO,
            &["C420p10"],
        ),
        case(
            "Motion JPEG cut in its first image",
            "cut.mjpeg",
            vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00],
            VIDEO,
            &["truncated"],
        ),
    ]
}

/// Runs every row; collects every failing row before failing, so one run
/// shows the whole table's state.
#[test]
fn every_hostile_input_is_refused_cleanly() {
    let mut failures = Vec::new();
    for case in cases() {
        let outcome = std::panic::catch_unwind(|| check(&case));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("== {}\n{message}", case.input));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn check(case: &Case) {
    let dir = tempdir();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let data = dir.path().join("data");
    let file = inputs.join(case.name);
    std::fs::write(&file, &case.bytes).unwrap();
    let store_before = case
        .command
        .contains(&"catalog")
        .then(|| catalog_stats(&data));

    let args: Vec<OsString> = case
        .command
        .iter()
        .map(|arg| match *arg {
            "{file}" => file.clone().into_os_string(),
            "{dir}" => inputs.clone().into_os_string(),
            "{scene}" => image(SCENE).into_os_string(),
            "{model}" => default_model_path().into_os_string(),
            "{data}" => data.clone().into_os_string(),
            other => other.into(),
        })
        .collect();
    let run = melodora(&args, case.bomb);

    let named = if case.command == EVAL { &inputs } else { &file };
    assert_rejects(&run, named, case.expect);
    if case.bomb {
        assert!(run.elapsed < QUICK, "took {:?}\n{run}", run.elapsed);
    }
    if let Some(before) = store_before {
        assert_eq!(catalog_stats(&data), before, "store changed\n{run}");
    }
}

/// `melodora catalog stats --json` for the store in `data`.
fn catalog_stats(data: &Path) -> serde_json::Value {
    let run = melodora(
        &[
            OsString::from("catalog"),
            "stats".into(),
            "--json".into(),
            "--data-dir".into(),
            data.into(),
        ],
        false,
    );
    assert_eq!(run.code, Some(0), "{run}");
    serde_json::from_str(&run.stdout).unwrap()
}

// ---------------------------------------------------------------------------
// The inputs.

fn half_of(bytes: &[u8]) -> Vec<u8> {
    bytes[..bytes.len() / 2].to_vec()
}

fn scene_png() -> Vec<u8> {
    std::fs::read(image(SCENE)).unwrap()
}

fn scene_jpeg() -> Vec<u8> {
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::open(image(SCENE))
        .unwrap()
        .to_rgb8()
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    jpeg.into_inner()
}

fn billion_laughs() -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n");
    xml.push_str("  <!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let body = format!("&lol{};", i - 1).repeat(10);
        xml.push_str(&format!("  <!ENTITY lol{i} \"{body}\">\n"));
    }
    xml.push_str("]>\n<opencv_storage><cascade>&lol9;</cascade></opencv_storage>\n");
    xml
}

fn deeply_nested_xml(depth: usize) -> String {
    format!(
        "<opencv_storage>{}{}</opencv_storage>\n",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    )
}

/// The default cascade with its first rectangle ("6 4 12 9 -1.") moved out
/// of the 24x24 window.
fn cascade_rectangle_outside() -> String {
    let xml = default_cascade_xml();
    let rects = xml.find("<rects>").expect("a <rects>");
    let open = rects + xml[rects..].find("<_>").unwrap() + "<_>".len();
    let close = open + xml[open..].find("</_>").unwrap();
    format!("{}20 20 10 10 -1.{}", &xml[..open], &xml[close..])
}

fn lbp_cascade() -> String {
    let xml = default_cascade_xml();
    assert!(xml.contains("<featureType>HAAR</featureType>"));
    xml.replace(
        "<featureType>HAAR</featureType>",
        "<featureType>LBP</featureType>",
    )
}

fn default_model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/emotion.onnx")
}

fn default_model() -> Vec<u8> {
    std::fs::read(default_model_path()).unwrap()
}

/// A description of the default model with `input_fields` in its input
/// and the first `labels` of its labels.
fn description(input_fields: &str, labels: usize) -> String {
    let labels = [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    ][..labels]
        .iter()
        .map(|l| format!("\"{l}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"{{"input": {{"width": 48, "height": 48, "channels": 1, {input_fields}}},
            "normalization": {{"scale": 255, "mean": 0.5, "std": 0.25}},
            "labels": [{labels}], "output": "logits"}}"#
    )
}

/// A 1x1 image is a valid image, only too small for a face: processed, with
/// no faces and exit status 0.
#[test]
fn a_one_pixel_image_is_processed_with_no_faces() {
    let dir = tempdir();
    let path = dir.path().join("dot.png");
    image::GrayImage::from_pixel(1, 1, image::Luma([128]))
        .save(&path)
        .unwrap();
    let run = detect(&[Path::new("--json"), &path]);
    assert_eq!(run.code, Some(0), "{run}");
    let record: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(record["width"], 1, "{run}");
    assert_eq!(record["faces"], serde_json::json!([]), "{run}");
}
