//! The measures on generated clips whose answers are known: a click track's
//! tempo, a triad progression's mode, a tone's loudness. Every clip goes
//! through a WAV file and the decoder, as a song from disk would.

use melodora_audio::{decode_bytes, hear, AudioError, Mode};

const RATE: u32 = 44_100;

/// A 16-bit PCM WAV file of `channels` interleaved channels.
fn wav(samples: &[f32], channels: u16, rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    out
}

fn sine(hz: f32, amplitude: f32, seconds: f32) -> Vec<f32> {
    (0..(seconds * RATE as f32) as usize)
        .map(|i| amplitude * (2.0 * std::f32::consts::PI * hz * i as f32 / RATE as f32).sin())
        .collect()
}

/// Clicks (5 ms bursts of a decaying 2 kHz tone) at `bpm` for `seconds`.
fn clicks(bpm: f32, seconds: f32) -> Vec<f32> {
    let mut out = vec![0.0f32; (seconds * RATE as f32) as usize];
    let period = 60.0 / bpm * RATE as f32;
    let burst = (0.005 * RATE as f32) as usize;
    let mut beat = 0.0f32;
    while (beat as usize) + burst < out.len() {
        let start = beat.round() as usize;
        for i in 0..burst {
            let decay = (-(i as f32) / (burst as f32 / 4.0)).exp();
            out[start + i] +=
                0.8 * decay * (2.0 * std::f32::consts::PI * 2000.0 * i as f32 / RATE as f32).sin();
        }
        beat += period;
    }
    out
}

/// Chords (each a list of MIDI notes) of `seconds` each, as sine tones.
fn progression(chords: &[[u8; 3]], seconds: f32, repeats: usize) -> Vec<f32> {
    let mut out = Vec::new();
    for _ in 0..repeats {
        for chord in chords {
            let n = (seconds * RATE as f32) as usize;
            let start = out.len();
            out.resize(start + n, 0.0);
            for &note in chord {
                let hz = 440.0 * 2f32.powf((f32::from(note) - 69.0) / 12.0);
                for i in 0..n {
                    // A short fade at each end: no clicks between chords.
                    let fade = (i.min(n - i) as f32 / 400.0).min(1.0);
                    out[start + i] += 0.2
                        * fade
                        * (2.0 * std::f32::consts::PI * hz * i as f32 / RATE as f32).sin();
                }
            }
        }
    }
    out
}

fn heard(samples: &[f32], channels: u16) -> melodora_audio::Heard {
    let decoded =
        decode_bytes(wav(samples, channels, RATE), Some("wav")).expect("a WAV file decodes");
    hear(&decoded)
}

#[test]
fn a_click_track_at_120_bpm_measures_120_bpm() {
    let heard = heard(&clicks(120.0, 30.0), 1);
    let bpm = heard.features.rhythm.tempo_bpm;
    assert!((bpm - 120.0).abs() <= 1.0, "{bpm} BPM");
    assert!(
        heard.features.rhythm.beat_strength > 0.3,
        "{:?}",
        heard.features.rhythm
    );
    let onsets = heard.features.rhythm.onset_rate;
    assert!(
        (onsets - 2.0).abs() < 0.2,
        "{onsets} onsets a second for two clicks a second"
    );
}

#[test]
fn other_tempi_are_read_as_they_are() {
    // (Within the octave around 120 BPM that listeners tap; a click track at
    // 172 BPM is as much 86 BPM, and either answer would be right.)
    for bpm in [75.0f32, 96.0, 140.0, 160.0] {
        let measured = heard(&clicks(bpm, 30.0), 1).features.rhythm.tempo_bpm;
        assert!(
            (measured - f64::from(bpm)).abs() <= 1.0,
            "{bpm} BPM measured {measured}"
        );
    }
}

#[test]
fn a_major_progression_sounds_major_and_a_minor_one_minor() {
    // I-IV-V-I in C major: C E G, F A C, G B D, C E G.
    let major = heard(
        &progression(
            &[[60, 64, 67], [65, 69, 72], [67, 71, 74], [60, 64, 67]],
            2.0,
            3,
        ),
        1,
    );
    let key = major.features.key.expect("a key");
    assert_eq!(
        (key.tonic.as_str(), key.mode),
        ("C", Mode::Major),
        "{key:?}"
    );
    assert!(key.mode_strength > 0.0 && key.clarity > 0.5, "{key:?}");
    // i-iv-v-i in A minor: A C E, D F A, E G B, A C E.
    let minor = heard(
        &progression(
            &[[57, 60, 64], [62, 65, 69], [64, 67, 71], [57, 60, 64]],
            2.0,
            3,
        ),
        1,
    );
    let key = minor.features.key.expect("a key");
    assert_eq!(
        (key.tonic.as_str(), key.mode),
        ("A", Mode::Minor),
        "{key:?}"
    );
    assert!(key.mode_strength < 0.0 && key.clarity > 0.5, "{key:?}");
}

#[test]
fn a_tone_at_minus_23_lufs_measures_minus_23() {
    // A full-scale 997 Hz sine reads -3.01 LUFS on one channel, so 0.1 reads -23.
    let mono = heard(&sine(997.0, 0.1, 20.0), 1);
    let lufs = mono.features.loudness.integrated_lufs.expect("loudness");
    assert!((lufs + 23.0).abs() <= 0.5, "{lufs} LUFS");
    assert!(
        (mono.features.loudness.peak - 0.1).abs() < 0.01,
        "{:?}",
        mono.features.loudness
    );
    // Two channels add 3 dB: the same level on both reads -23 at 0.0708.
    let tone = sine(997.0, 0.0708, 20.0);
    let stereo: Vec<f32> = tone.iter().flat_map(|&s| [s, s]).collect();
    let lufs = heard(&stereo, 2)
        .features
        .loudness
        .integrated_lufs
        .expect("loudness");
    assert!((lufs + 23.0).abs() <= 0.5, "{lufs} LUFS in stereo");
    // A steady tone has no loudness range.
    assert!(mono.features.loudness.range_lu.unwrap_or(0.0) < 1.0);
}

#[test]
fn louder_faster_brighter_music_sounds_more_aroused() {
    let calm = heard(&progression(&[[48, 52, 55], [53, 57, 60]], 4.0, 3), 1);
    let mut busy = clicks(160.0, 24.0);
    for (b, n) in busy.iter_mut().zip(clicks(320.0, 24.0)) {
        *b = (*b + n).clamp(-1.0, 1.0);
    }
    let busy = heard(&busy, 1);
    assert!(
        busy.mood.arousal > calm.mood.arousal,
        "busy {:?}, calm {:?}",
        busy.mood,
        calm.mood
    );
    for value in [
        busy.mood.valence,
        busy.mood.arousal,
        calm.mood.valence,
        calm.mood.arousal,
    ] {
        assert!((-1.0..=1.0).contains(&value));
    }
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    assert!(matches!(
        decode_bytes(Vec::new(), Some("mp3")),
        Err(AudioError::Empty)
    ));
    let text = b"This is a text file, not an MP3.\n".repeat(100);
    let refused = decode_bytes(text, Some("mp3")).unwrap_err();
    assert!(
        matches!(refused, AudioError::Unsupported(_) | AudioError::Corrupt(_)),
        "{refused}"
    );
    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(decode_bytes(noise, None).is_err());
    // Half a second of audio: too short to measure.
    let short = wav(&sine(440.0, 0.5, 0.5), 1, RATE);
    assert!(matches!(
        decode_bytes(short, Some("wav")),
        Err(AudioError::TooShort(_))
    ));
}

#[test]
fn a_cut_file_is_heard_up_to_the_cut_and_nonsense_rates_are_refused() {
    let whole = wav(&sine(440.0, 0.5, 10.0), 1, RATE);
    let cut = whole[..whole.len() / 2].to_vec();
    let decoded = decode_bytes(cut, Some("wav")).expect("the first half decodes");
    assert!(
        (decoded.duration_s - 5.0).abs() < 0.1,
        "{}",
        decoded.duration_s
    );
    for rate in [0u32, 1, 1_000_000_000] {
        let mut bytes = whole.clone();
        bytes[24..28].copy_from_slice(&rate.to_le_bytes());
        assert!(
            decode_bytes(bytes, Some("wav")).is_err(),
            "a WAV claiming {rate} Hz"
        );
    }
    // A header claiming hours more data than there is: what is there is
    // heard (or, where the claim contradicts the file's own size, refused),
    // and nothing waits for audio that never comes.
    let mut claims = whole.clone();
    claims[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    claims[40..44].copy_from_slice(&(u32::MAX - 36).to_le_bytes());
    let decoded = decode_bytes(claims, Some("wav")).expect("the real samples decode");
    assert!(
        (decoded.duration_s - 10.0).abs() < 0.1,
        "{}",
        decoded.duration_s
    );
    let mut contradicts = whole.clone();
    contradicts[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    match decode_bytes(contradicts, Some("wav")) {
        Ok(decoded) => assert!(
            (decoded.duration_s - 10.0).abs() < 0.1,
            "{}",
            decoded.duration_s
        ),
        Err(refused) => assert!(matches!(refused, AudioError::Corrupt(_)), "{refused}"),
    }
}

#[test]
fn the_shipped_mood_model_reads_measures_this_build_makes() {
    let heard = heard(&clicks(120.0, 10.0), 1);
    let names: Vec<&str> = heard.inputs.iter().map(|(name, _)| name.as_str()).collect();
    let weights = melodora_audio::mood::weights();
    assert!(weights.len() >= 15, "{} weights", weights.len());
    for (name, _) in &weights {
        assert!(
            names.contains(&name.as_str()),
            "the model reads {name}, which this build does not measure"
        );
    }
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "each measure is named once");
}
