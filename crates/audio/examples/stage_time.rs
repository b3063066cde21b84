//! Where the time of hearing goes, stage by stage, one thread: decoding
//! (with the loudness meter and the mono mix it feeds), the spectrum
//! frames, rhythm, key and the tagger, summed over the files given:
//! `cargo run --release -p melodora-audio --example stage_time FILE...`.

use std::time::Instant;

use melodora_audio::{decode_source, rhythm, spectrum, tagger, tonal};

/// Symphonia alone: every packet decoded, nothing done with the samples.
fn decode_only(path: &str) -> f64 {
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::io::MediaSourceStream;
    let started = Instant::now();
    let file = std::fs::File::open(path).expect("open");
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut probed = symphonia::default::get_probe()
        .format(
            &Default::default(),
            stream,
            &Default::default(),
            &Default::default(),
        )
        .expect("probe");
    let track = probed.format.default_track().expect("track").clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .expect("codec");
    while let Ok(packet) = probed.format.next_packet() {
        if let Ok(decoded) = decoder.decode(&packet) {
            std::hint::black_box(decoded.frames());
        }
    }
    started.elapsed().as_secs_f64()
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = [0.0f64; 5];
    let mut audio_s = 0.0;
    for path in &paths {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) => {
                eprintln!("{path}: {error}");
                continue;
            }
        };
        let extension = std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let started = Instant::now();
        let decoded = match decode_source(Box::new(file), extension.as_deref()) {
            Ok(decoded) => decoded,
            Err(error) => {
                eprintln!("{path}: {error}");
                continue;
            }
        };
        seconds[0] += started.elapsed().as_secs_f64();
        audio_s += decoded.duration_s;
        let started = Instant::now();
        let frames = spectrum::frames(&decoded.samples, decoded.analysis_rate);
        seconds[1] += started.elapsed().as_secs_f64();
        let started = Instant::now();
        std::hint::black_box(rhythm::rhythm(&frames.onset, frames.rate));
        seconds[2] += started.elapsed().as_secs_f64();
        let started = Instant::now();
        std::hint::black_box(tonal::key(&decoded.samples, decoded.analysis_rate));
        seconds[3] += started.elapsed().as_secs_f64();
        let started = Instant::now();
        std::hint::black_box(tagger::tag(
            tagger::embedded(),
            &decoded.samples,
            decoded.analysis_rate,
        ));
        seconds[4] += started.elapsed().as_secs_f64();
    }
    let symphonia: f64 = (0..3)
        .map(|_| paths.iter().map(|p| decode_only(p)).sum::<f64>())
        .fold(f64::INFINITY, f64::min);
    println!("symphonia alone: {symphonia:.2} s");
    let total: f64 = seconds.iter().sum();
    println!(
        "{} files, {audio_s:.0} s of audio, {total:.2} s in all",
        paths.len()
    );
    for (stage, s) in ["decode+loudness", "spectrum", "rhythm", "key", "tagger"]
        .iter()
        .zip(seconds)
    {
        println!("{stage:>16}: {s:6.2} s ({:4.1} %)", 100.0 * s / total);
    }
}
