//! What a WebSocket client can send: text commands are parsed (an error
//! reply, never a panic) and binary frames analysed with the server's limits.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use melodora_server::parse_command;
use melodora_server::Vision;
use melodora_vision::{Cascade, DetectParams, EmotionClassifier, FaceFinder, HaarDetector};

fn vision() -> &'static Vision {
    static VISION: OnceLock<Vision> = OnceLock::new();
    VISION.get_or_init(|| {
        Vision::new(
            FaceFinder::Haar {
                detector: HaarDetector::new(Cascade::frontal_face_default())
                    .with_threads(1)
                    .expect("one thread"),
                params: DetectParams { scale_factor: 1.3, ..DetectParams::default() },
            },
            EmotionClassifier::default_model().expect("embedded model"),
            0.0,
        )
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_command(text);
    }
    let _ = vision().analyze_encoded(data);
});
