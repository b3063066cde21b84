//! Prints BlazeFace's detections on images: `cargo run --release -p
//! melodora-detector --example blazeface_scene -- short|full IMAGE...`
fn main() {
    let mut args = std::env::args().skip(1);
    let range = match args.next().as_deref() {
        Some("full") => melodora_detector::Range::Full,
        _ => melodora_detector::Range::Short,
    };
    let mut detector = melodora_detector::BlazeFace::new(range);
    if let Some(min) = std::env::var("MIN_SCORE").ok().and_then(|v| v.parse().ok()) {
        detector.min_score = min;
    }
    for path in args {
        let image = image::open(&path).expect("an image").to_rgb8();
        let (w, h) = image.dimensions();
        let found = detector
            .detect_rgb(image.as_raw(), w as usize, h as usize)
            .expect("a detection");
        let boxes: Vec<String> = found
            .iter()
            .map(|d| {
                format!(
                    "({:.1}, {:.1}, {:.1}, {:.1}, {:.2})",
                    d.x, d.y, d.w, d.h, d.score
                )
            })
            .collect();
        println!("{path}: {}", boxes.join(" "));
    }
}
