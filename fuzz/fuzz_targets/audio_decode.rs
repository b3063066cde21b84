//! Audio files: any bytes either decode into a song that is measured and
//! given a mood in range, or are refused with an error; never a panic, and
//! never a measure that is not a number.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = melodora_audio::decode_bytes(data.to_vec(), None) else { return };
    let heard = melodora_audio::hear(&decoded);
    assert!(heard.features.duration_s > 0.0);
    assert!((-1.0..=1.0).contains(&heard.mood.valence), "{:?}", heard.mood);
    assert!((-1.0..=1.0).contains(&heard.mood.arousal), "{:?}", heard.mood);
    assert!(heard.inputs.iter().all(|(_, v)| v.is_finite()), "{:?}", heard.inputs);
});
