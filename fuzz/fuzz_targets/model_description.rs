//! Model description JSON (ONNX metadata or sidecar): parsed and checked,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use melodora_vision::ModelDescription;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(description) = ModelDescription::from_json(text) {
        let _ = description.validate();
        let _ = description.emotions();
    }
});
