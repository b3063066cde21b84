#!/usr/bin/env bash
# Same-run A/B of the working tree against an earlier commit, for changes
# that must not change speed (restructurings): detection on the 35 640x480
# parity fixtures, the classifier on 64 FER2013 val faces at batch 1 and 8,
# and the video pipeline (full scans, then tracking) on a drifting-faces
# clip, each timed by `melodora bench --threads 1`, the two builds
# alternating for ROUNDS rounds on the same inputs.
#
#   bench/ab_commits.sh BASE_COMMIT [ROUNDS]     (prints a Markdown table)
#
# Needs ../shared (FER faces). Builds BASE in a worktree under /tmp with its
# own target directory; the working tree is built with `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/ab_commits.sh BASE_COMMIT [ROUNDS]}
rounds=${2:-3}
work=/tmp/melodora-ab
mkdir -p "$work"
rm -rf "$work/base"
git worktree add --force --detach "$work/base" "$base" >/dev/null
trap 'git worktree remove --force "$work/base"' EXIT
ln -sfn "$(cd .. && pwd)/shared" "$work/shared"
cargo build --release --locked -q -p melodora
(cd "$work/base" && CARGO_TARGET_DIR="$work/base-target" cargo build --release -q -p melodora)

images=()
for png in crates/vision/tests/fixtures/parity/images/*.png; do
  size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$png")
  [ "$size" = 640x480 ] && images+=("$png")
done
faces=()
for emotion in angry disgust fear happy neutral sad surprise; do
  mapfile -t some < <(ls ../shared/datasets/fer2013/val/$emotion/*.jpg | sort | head -10)
  faces+=("${some[@]}")
done
faces=("${faces[@]:0:64}")
python3 bench/drift_clip.py crates/vision/tests/fixtures/parity/images/scene_06_three_faces.png "$work/clip.y4m"

as_list() { python3 -c 'import sys,json; print(json.dumps([json.loads(l) for l in sys.stdin if l.strip()]))'; }
results="$work/results.jsonl"
: > "$results"
for round in $(seq "$rounds"); do
  for side in base head; do
    bin=target/release/melodora
    [ "$side" = base ] && bin="$work/base-target/release/melodora"
    emit() { echo "{\"side\":\"$side\",\"kind\":\"$1\",\"out\":$(as_list)}" >> "$results"; }
    "$bin" bench --threads 1 --repeat 5 --json "${images[@]}" | emit detect
    for batch in 1 8; do
      "$bin" bench --emotion --batch "$batch" --threads 1 --json "${faces[@]}" | emit emotion
    done
    "$bin" bench --video "$work/clip.y4m" --threads 1 --json | emit video
  done
done
python3 - "$results" "$base" <<'PY'
import collections, json, statistics, sys
agg = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    side, out = r['side'], r['out']
    if r['kind'] == 'detect':
        agg['detection, sum of the 35 medians (ms)', side].append(sum(o['median_ms'] for o in out))
        agg['detection, faces found', side].append(sum(o['faces'] for o in out))
    elif r['kind'] == 'emotion':
        agg[f'classifier batch {out[0]["batch"]} (ms per face)', side].append(out[0]['median_ms_per_face'])
    else:
        for o in out:
            agg[f'video, {o["mode"]} (fps)', side].append(o['fps'])
            agg[f'video, {o["mode"]} (faces)', side].append(o['faces'])
print(f'| measure | before ({sys.argv[2][:7]}) | after | after / before (medians) |')
print('| --- | --- | --- | --- |')
for name in dict.fromkeys(n for n, _ in agg):
    before, after = agg[name, 'base'], agg[name, 'head']
    show = lambda v: ', '.join(f'{x:.3g}' if isinstance(x, float) else str(x) for x in v)
    print(f'| {name} | {show(before)} | {show(after)} | {statistics.median(after) / statistics.median(before):.3f} |')
PY
