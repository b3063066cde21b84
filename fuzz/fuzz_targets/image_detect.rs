//! Untrusted image bytes: decoded with limits, then searched for faces, as
//! `/api/analyze` and the WebSocket do.
#![no_main]

use libfuzzer_sys::fuzz_target;
use melodora_vision::pipeline::FrameAnalyzer;
use melodora_vision::{decode_image, Cascade, DecodeLimits, DetectParams, GrayImage, HaarDetector};

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits { max_pixels: 640 * 480, max_bytes: 2 << 20 };
    if let Ok(image) = decode_image(data, &limits) {
        let gray = GrayImage::from_dynamic(&image);
        let detector = HaarDetector::new(Cascade::frontal_face_default())
            .with_threads(1)
            .expect("one thread");
        let params = DetectParams { scale_factor: 1.3, ..DetectParams::default() };
        let _ = FrameAnalyzer::new(detector, params, None).analyze(&gray, None);
    }
});
