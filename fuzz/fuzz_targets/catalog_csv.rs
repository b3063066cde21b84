//! Catalog CSV in each layout the importer accepts (the original's
//! per-emotion files, an emotion column, Spotify audio features): every row
//! is either a track or a reported problem.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use melodora_core::Emotion;
use melodora_music::import::read_catalog;

fuzz_target!(|data: &[u8]| {
    for emotion in [Some(Emotion::Sad), None] {
        let mut tracks = 0u64;
        let mut problems = 0u64;
        let counts = read_catalog(
            data,
            Path::new("fuzz.csv"),
            emotion,
            &mut |_| {
                tracks += 1;
                Ok(())
            },
            &mut |_| {
                problems += 1;
                Ok(())
            },
        );
        if let Ok(counts) = counts {
            assert_eq!(counts.accepted, tracks);
            assert_eq!(counts.rejected, problems);
        }
    }
});
