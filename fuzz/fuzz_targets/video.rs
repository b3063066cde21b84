//! Video files (Y4M, Motion JPEG) read frame by frame from untrusted bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use melodora_vision::video::{MjpegReader, Y4mReader};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = Y4mReader::new(data) {
        for _ in 0..8 {
            match reader.next_frame() {
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
    let mut reader = MjpegReader::new(data);
    for _ in 0..8 {
        match reader.next_frame() {
            Ok(Some(_)) => {}
            _ => break,
        }
    }
});
