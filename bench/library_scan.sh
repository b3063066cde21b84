#!/usr/bin/env bash
# The library scanner on a large library: N generated clips (2.1 s of 8 kHz
# mono tones and clicks, each file its own bytes, in folders of 100):
# first `melodora library add` (every core, then one thread for the ratio), then `melodora library scan` with nothing changed, then after
# moving 100 files. Prints wall time, songs per second and peak memory
# (/usr/bin/time -v) for docs/PERFORMANCE.md.
#
#   bench/library_scan.sh [N=10000] [MELODORA=target/release/melodora]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
bin=$(realpath "${2:-${CARGO_TARGET_DIR:-target}/release/melodora}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/music" "$n" <<'PY'
import math, os, random, struct, sys
root, n = sys.argv[1], int(sys.argv[2])
rate, seconds = 8000, 2.1
# 100 distinct clips (tones and clicks); each file is one of them with its
# own last samples, so every file has its own bytes (no two are duplicates).
bases = []
for b in range(100):
    rng = random.Random(b)
    hz, beat = 110 * 2 ** (rng.random() * 4), 0.3 + rng.random()
    bases.append([int(12000 * (0.5 * math.sin(2 * math.pi * hz * k / rate) + (0.4 * rng.random() if (k / rate) % beat < 0.02 else 0.0)))
                  for k in range(int(rate * seconds))])
for i in range(n):
    folder = os.path.join(root, f"album-{i // 100:03d}")
    os.makedirs(folder, exist_ok=True)
    samples = bases[i % 100][:-4] + [i & 0x7fff, (i >> 15) & 0x7fff, -(i & 0x7fff), 0]
    data = struct.pack(f"<{len(samples)}h", *samples)
    with open(os.path.join(folder, f"track-{i:05d}.wav"), "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
                struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", len(data)) + data)
PY
echo "library of $n clips: $(du -sh "$work/music" | cut -f1), $(nproc) cores"
timed() {
    local label=$1; shift
    /usr/bin/time -v "$@" > "$work/out.json" 2> "$work/time.txt"
    local wall rss
    wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
    echo "$label: wall $wall, peak memory $((rss / 1024)) MB; $(python3 -c '
import json, sys
s = json.loads(open(sys.argv[1]).readline())
rate = s["heard"] / s["seconds"] if s["seconds"] else 0
print("heard %d (%.0f songs/s), unchanged %d, moved %d, skipped %d; %.2f s in the scan" % (s["heard"], rate, s["unchanged"], s["moved"], len(s["skipped"]), s["seconds"]))
' "$work/out.json")"
}
export MELODORA_LOG=warn
timed "first scan, every core" "$bin" library add "$work/music" --json --data-dir "$work/data-all"
timed "first scan, one thread" "$bin" library add "$work/music" --json --threads 1 --data-dir "$work/data-one"
timed "rescan, nothing changed" "$bin" library scan --json --data-dir "$work/data-all"
mkdir -p "$work/music/moved"
for f in "$work"/music/album-000/*.wav; do mv "$f" "$work/music/moved/"; done
timed "rescan, 100 files moved" "$bin" library scan --json --data-dir "$work/data-all"
