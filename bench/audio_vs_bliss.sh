#!/usr/bin/env bash
# Melodora's audio analysis against bliss-audio 0.13 (the reference library
# for "sounds like" playlists) on the same files, one song at a time on one
# core, decode + analysis, in the same run: each side twice, alternating.
# Both run pinned to one CPU (taskset): bliss analyses each song on
# several threads of its own, so without the pin it would be timed on
# every core against Melodora's one.
# bliss is GPL-3, so it is never part of this repository: this script
# writes a throwaway Cargo project that depends on it from crates.io (its
# symphonia decoder, no FFmpeg) in a cache folder outside the checkout and
# builds it there.
#
#   bench/audio_vs_bliss.sh [FILE...]   (default: Debian's wesnoth-1.16-music, scripts/install_test_music.sh)
#   ROUNDS=5 bench/audio_vs_bliss.sh    (rounds of both sides; 3 unless told: a shared machine's
#                                        speed drifts, so read the ratio of each round and the median)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
    scripts/install_test_music.sh
    set -- /usr/share/games/wesnoth/1.16/data/core/music/*.ogg
fi
cargo build --release --locked -p melodora
melodora=$(realpath "${CARGO_TARGET_DIR:-target}/release/melodora")

bliss_dir="${XDG_CACHE_HOME:-$HOME/.cache}/melodora/bliss-bench"
mkdir -p "$bliss_dir/src"
cat > "$bliss_dir/Cargo.toml" <<'TOML'
[package]
name = "bliss-bench"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
bliss-audio = { version = "=0.13.0", default-features = false, features = ["symphonia-all"] }

[profile.release]
opt-level = 3
codegen-units = 4
TOML
cat > "$bliss_dir/src/main.rs" <<'RUST'
use std::time::Instant;

use bliss_audio::decoder::symphonia::SymphoniaDecoder;
use bliss_audio::decoder::Decoder;

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let mut analysed = 0usize;
    for path in &paths {
        match SymphoniaDecoder::song_from_path(path) {
            Ok(song) => {
                analysed += 1;
                std::hint::black_box(song.analysis);
            }
            Err(error) => eprintln!("bliss: {path}: {error}"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{analysed} of {} songs in {seconds:.2} s", paths.len());
}
RUST
(cd "$bliss_dir" && CARGO_TARGET_DIR="$bliss_dir/target" cargo build --release --quiet)
bliss="$bliss_dir/target/release/bliss-bench"

# One CPU for both sides (the first this process may use).
cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//')
pin=(taskset -c "$cpu")

echo "$# files, both pinned to CPU $cpu"
ratios=()
for round in $(seq 1 "${ROUNDS:-3}"); do
    start=$(date +%s%N)
    # (a file it cannot hear is listed and the others still timed)
    "${pin[@]}" "$melodora" hear --json --threads 1 "$@" > /dev/null || true
    end=$(date +%s%N)
    ours=$(( (end - start) / 1000000 ))
    start=$(date +%s%N)
    theirs_line=$("${pin[@]}" "$bliss" "$@")
    end=$(date +%s%N)
    theirs=$(( (end - start) / 1000000 ))
    ratio=$(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.2f", a / b }')
    ratios+=("$ratio")
    echo "round $round: melodora hear ${ours} ms, bliss-audio 0.13 ${theirs} ms ($theirs_line): Melodora ${ratio}x"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median ratio over ${#ratios[@]} rounds: ${median}x (bliss time / Melodora time; above 1 is Melodora faster)"
