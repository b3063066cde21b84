#!/usr/bin/env bash
# BlazeFace speed side by side: Melodora's compiled graph (melodora bench
# --detector blazeface|blazeface-full, one thread: the short range searches
# the whole frame and its four quarters enlarged, five runs of the model, and
# MediaPipe is given the same five images) against MediaPipe's own
# runtime running the same models natively (TFLite with XNNPACK, through
# the `mediapipe` package's legacy face detection solution, 0.10.14, one
# thread; its full range is the sparse model), in the same run on the same
# images: the parity scenes (640x480), both pinned to one CPU. Full
# detection each: resize, model, decoding, suppression (MediaPipe's
# solution also converts the image; Melodora's bench excludes decoding the
# file, as MediaPipe's is given pixels).
#
#   bench/blazeface_vs_mediapipe.sh
#
# Needs the bench venv with mediapipe==0.10.14 (bench/setup_env.sh, then
# bench/.venv/bin/pip install mediapipe==0.10.14), or PYTHON=...
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${MELODORA_BIN:-target/release/melodora}"
python="${PYTHON:-bench/.venv/bin/python}"
[ -x "$bin" ] || cargo build --release --locked -p melodora
images=(crates/vision/tests/fixtures/parity/images/scene_0{1,2,3,5,8}*.png)
cpu=$(( $(nproc) - 1 ))

for model in short full; do
    detector=blazeface
    selection=0
    if [ "$model" = full ]; then detector=blazeface-full; selection=1; fi
    ours=$(taskset -c "$cpu" "$bin" bench --detector "$detector" --threads 1 --repeat 51 --json "${images[@]}" \
        | python3 -c 'import json,sys; ms=[json.loads(l)["median_ms"] for l in sys.stdin]; print("%.2f" % (sum(ms)/len(ms)))')
    theirs=$(taskset -c "$cpu" "$python" - "$selection" "${images[@]}" <<'PY'
import statistics, sys, time
import numpy as np
from PIL import Image
import mediapipe as mp
selection = int(sys.argv[1])
images = [np.asarray(Image.open(p).convert("RGB")) for p in sys.argv[2:]]
medians = []
def passes(pixels):
    # The short range: the whole frame and its four quarters (60 % a side),
    # as Melodora's blazeface detector searches a frame.
    if selection == 1:
        return [pixels]
    h, w = pixels.shape[:2]
    th, tw = h * 3 // 5, w * 3 // 5
    quarters = [pixels[t:t + th, l:l + tw].copy() for t in (0, h - th) for l in (0, w - tw)]
    return [pixels] + quarters
with mp.solutions.face_detection.FaceDetection(model_selection=selection, min_detection_confidence=0.5) as detector:
    for pixels in images:
        views = passes(pixels)
        for _ in range(5):
            for view in views:
                detector.process(view)
        times = []
        for _ in range(51):
            start = time.perf_counter()
            for view in views:
                detector.process(view)
            times.append((time.perf_counter() - start) * 1000)
        medians.append(statistics.median(times))
print("%.2f" % (sum(medians) / len(medians)))
PY
)
    echo "BlazeFace $model range, 640x480, one thread, mean of per-image medians over ${#images[@]} scenes:"
    echo "  Melodora (compiled graph, --detector $detector): $ours ms"
    echo "  MediaPipe 0.10.14 (TFLite + XNNPACK, model_selection=$selection): $theirs ms"
    python3 -c "print('  ratio: %.2fx (above 1: Melodora faster)' % ($theirs / $ours))"
done
