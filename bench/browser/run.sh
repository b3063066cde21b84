#!/usr/bin/env bash
# The browser benchmark (see run.mjs): installs its npm packages, builds the
# release binary (for picking the clip's face and the native figures) and
# runs Melodora's wasm analyzer and @vladmandic/face-api side by side in
# headless Chromium, and the tracking run again with the player's music
# playing (Wesnoth tracks, scripts/install_test_music.sh). Needs chromium
# (tests/e2e/run.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
(cd bench/browser && npm ci --no-audit --no-fund --loglevel=error)
bash scripts/install_test_music.sh
cargo build --release --locked -p melodora
CHROMIUM="${CHROMIUM:-$(command -v chromium)}" node bench/browser/run.mjs
