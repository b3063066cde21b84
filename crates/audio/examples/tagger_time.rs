//! Times the tagger's network on one 3-second patch, one thread:
//! `cargo run --release -p melodora-audio --example tagger_time [PATCHES]`.

use std::time::Instant;

use melodora_audio::tagger::{self, Scratch, MELS, PATCH_FRAMES};

fn main() {
    let patches: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let network = tagger::embedded();
    let patch: Vec<f32> = (0..PATCH_FRAMES * MELS)
        .map(|i| 2.0 + (i as f32 * 0.37).sin())
        .collect();
    let mut scratch = Scratch::default();
    let mut times = Vec::with_capacity(patches);
    for _ in 0..patches {
        let started = Instant::now();
        std::hint::black_box(network.run(&patch, &mut scratch));
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "tagger network, one patch: median {:.2} ms, best {:.2} ms ({patches} runs)",
        times[times.len() / 2],
        times[0]
    );
}
