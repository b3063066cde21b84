//! What a song sounds like to a network that has heard a million: musicnn's
//! tagger (Pons & Serra, 2019, trained on the Million Song Dataset's 50
//! most common Last.fm tags, among them 'sad', 'happy', 'Mellow', 'chill',
//! 'beautiful' and 'party'), run by Melodora in pure Rust. Its tag
//! probabilities, averaged over a few 3-second patches spread across the
//! song, join the measured features as inputs of the mood estimate: they
//! carry what hand-made descriptors miss (voice, instrumentation, genre).
//!
//! ```text
//! mono samples ──mel──▶ 96-band log-mel frames ──▶ up to MAX_PATCHES patches of 3 s
//!                          ──network──▶ 50 tag probabilities each ──mean──▶ the song's tags
//! ```
//!
//! The weights are musicnn's `MSD_musicnn` checkpoint from its PyPI wheel
//! (ISC licence), converted by `scripts/musicnn_convert.py` and vendored
//! by `scripts/vendor_musicnn.sh` into `assets/musicnn/`.

mod layers;
mod mel;
mod model;
mod network;
mod timbral;

use std::sync::OnceLock;

pub use layers::{MELS, PATCH_FRAMES, TAG_COUNT};
pub use mel::MelFrontEnd;
pub use model::{ModelError, Network};
pub use network::Scratch;

/// The tags, in the network's order (musicnn's `MSD_LABELS`).
pub const TAGS: [&str; TAG_COUNT] = [
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "female vocalists",
    "dance",
    "00s",
    "alternative rock",
    "jazz",
    "beautiful",
    "metal",
    "chillout",
    "male vocalists",
    "classic rock",
    "soul",
    "indie rock",
    "Mellow",
    "electronica",
    "80s",
    "folk",
    "90s",
    "chill",
    "instrumental",
    "punk",
    "oldies",
    "blues",
    "hard rock",
    "ambient",
    "acoustic",
    "experimental",
    "female vocalist",
    "guitar",
    "Hip-Hop",
    "70s",
    "party",
    "country",
    "easy listening",
    "sexy",
    "catchy",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "60s",
    "rnb",
    "indie pop",
    "sad",
    "House",
    "happy",
];

/// Patches a song is tagged on at most, one from the middle of each third
/// of it: the network is most of the analysis' time (about 50 ms a patch
/// natively), and three 3-second glimpses of a song say what it sounds like
/// as well as all of them (even-half cross-validation, `docs/MUSIC.md`:
/// macro F1 0.705 with one, 0.717 with two, 0.744 with three, 0.744 with six).
pub const MAX_PATCHES: usize = 3;

/// The vendored model, as converted.
const EMBEDDED_MODEL: &[u8] = include_bytes!("../../../../assets/musicnn/msd_musicnn.bin");

/// The embedded network, read once.
pub fn embedded() -> &'static Network {
    static NETWORK: OnceLock<Network> = OnceLock::new();
    NETWORK.get_or_init(|| {
        Network::parse(EMBEDDED_MODEL).expect("the vendored tagger model is checked by its tests")
    })
}

/// The first frame of each patch the song is tagged on: every whole patch
/// when there are at most `MAX_PATCHES`, else the patch in the middle of
/// each of `MAX_PATCHES` equal stretches (not the intro, not the fade).
pub fn patch_starts(frames: usize) -> Vec<usize> {
    let whole = frames / PATCH_FRAMES;
    if whole <= MAX_PATCHES {
        return (0..whole).map(|p| p * PATCH_FRAMES).collect();
    }
    (0..MAX_PATCHES)
        .map(|i| ((2 * i + 1) * whole / (2 * MAX_PATCHES)) * PATCH_FRAMES)
        .collect()
}

/// The song's tag probabilities (mean over its patches), from mono
/// `samples` at `rate` Hz. A song shorter than one patch is repeated to
/// fill it, as musicnn pads; an empty one gives None.
pub fn tag(network: &Network, samples: &[f32], rate: u32) -> Option<[f32; TAG_COUNT]> {
    if samples.is_empty() {
        return None;
    }
    let front = MelFrontEnd::new(rate);
    let frames = front.frame_count(samples.len());
    let mut scratch = Scratch::default();
    let mut mel = Vec::with_capacity(PATCH_FRAMES * MELS);
    let mut sum = [0.0f32; TAG_COUNT];
    let starts = patch_starts(frames);
    if starts.is_empty() {
        front.frames(samples, 0, frames, &mut mel);
        let short = mel.clone();
        while mel.len() < PATCH_FRAMES * MELS {
            let missing = PATCH_FRAMES * MELS - mel.len();
            mel.extend_from_slice(&short[..missing.min(short.len())]);
        }
        return Some(network.run(&mel, &mut scratch));
    }
    for &start in &starts {
        front.frames(samples, start, PATCH_FRAMES, &mut mel);
        for (total, p) in sum.iter_mut().zip(network.run(&mel, &mut scratch)) {
            *total += p;
        }
    }
    Some(sum.map(|total| total / starts.len() as f32))
}

/// A tag's name as a mood input: lower case, words joined by underscores
/// (`"female vocalists"` → `"tag_female_vocalists"`, `"Hip-Hop"` → `"tag_hip_hop"`).
pub fn input_name(tag: &str) -> String {
    let words: Vec<String> = tag
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    format!("tag_{}", words.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_cover_a_short_song_whole_and_a_long_one_in_the_middle_of_each_third() {
        assert!(patch_starts(PATCH_FRAMES - 1).is_empty());
        assert_eq!(patch_starts(2 * PATCH_FRAMES + 5), [0, PATCH_FRAMES]);
        assert_eq!(
            patch_starts(3 * PATCH_FRAMES),
            [0, PATCH_FRAMES, 2 * PATCH_FRAMES]
        );
        // 80 whole patches: the middles of 0-26, 26-53 and 53-80.
        let long: Vec<usize> = patch_starts(80 * PATCH_FRAMES + 100)
            .iter()
            .map(|start| start / PATCH_FRAMES)
            .collect();
        assert_eq!(long, [13, 40, 66]);
    }

    #[test]
    fn tag_names_become_input_names() {
        assert_eq!(input_name("female vocalists"), "tag_female_vocalists");
        assert_eq!(input_name("Hip-Hop"), "tag_hip_hop");
        assert_eq!(input_name("00s"), "tag_00s");
        let names: std::collections::HashSet<String> = TAGS.iter().map(|t| input_name(t)).collect();
        assert_eq!(names.len(), TAG_COUNT, "two tags share an input name");
    }
}
