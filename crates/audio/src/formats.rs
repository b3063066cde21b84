//! Which files are audio Melodora hears, by their name's extension: one
//! list for the library scanner and the browser's music worker, so both
//! pass over the same files for the same reasons.

/// Extensions of audio Melodora decodes.
pub const DECODED: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "wav", "wave", "aif", "aiff", "aifc", "m4a", "mp4", "aac",
];

/// Extensions of audio Melodora knows it cannot decode, with the reason
/// (listed as skipped, not silently left out).
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "opus",
        "Opus is not decoded (no pure-Rust decoder in symphonia yet)",
    ),
    (
        "wma",
        "Windows Media Audio is not decoded (a proprietary codec)",
    ),
    ("ape", "Monkey's Audio is not decoded"),
    ("wv", "WavPack is not decoded"),
    ("mpc", "Musepack is not decoded"),
    ("dsf", "DSD audio is not decoded"),
    ("dff", "DSD audio is not decoded"),
    ("mka", "Matroska audio is not decoded"),
    ("webm", "WebM audio is not decoded"),
    ("ac3", "AC-3 is not decoded"),
    ("mid", "MIDI holds notes, not audio"),
    ("midi", "MIDI holds notes, not audio"),
];

/// What a file is, by its extension (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Audio Melodora decodes.
    Decoded,
    /// Audio it cannot decode, and why.
    Unsupported(&'static str),
    /// Not audio (covers, playlists, text): passed over without a word.
    Other,
}

/// The kind of a file with this extension.
pub fn kind(extension: &str) -> FileKind {
    let extension = extension.to_ascii_lowercase();
    if DECODED.contains(&extension.as_str()) {
        FileKind::Decoded
    } else if let Some((_, why)) = UNSUPPORTED.iter().find(|(e, _)| *e == extension) {
        FileKind::Unsupported(why)
    } else {
        FileKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_told_apart_in_any_case() {
        assert_eq!(kind("OGG"), FileKind::Decoded);
        assert_eq!(kind("flac"), FileKind::Decoded);
        assert!(matches!(kind("opus"), FileKind::Unsupported(why) if why.contains("Opus")));
        assert_eq!(kind("jpg"), FileKind::Other);
        assert_eq!(kind(""), FileKind::Other);
    }
}
