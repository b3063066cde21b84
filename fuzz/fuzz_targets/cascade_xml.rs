//! OpenCV cascade XML: any text either loads as a cascade whose rectangles
//! fit its window, or is refused with an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use melodora_vision::{Cascade, DetectParams, GrayImage, HaarDetector};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cascade) = Cascade::from_xml(text) {
        // A loaded cascade must be usable: scan a small image with it.
        let detector = HaarDetector::new(cascade).with_threads(1).expect("one thread");
        let _ = detector.detect(&GrayImage::new(64, 48), &DetectParams::default());
    }
});
