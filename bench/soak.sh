#!/usr/bin/env bash
# The soak of docs/RELIABILITY.md: 50 webcam-like WebSocket clients against a
# release `melodora serve` on loopback for 10 minutes (bounded: it always
# stops), each hanging up mid-frame with probability 2 % after a frame and
# reconnecting. Prints the load generator's report (errors beyond the
# injected hang-ups, RSS after warm-up and at the end, file descriptors
# before and after) and keeps its JSON in bench/out/soak.json.
#
#   bench/soak.sh                  # 50 clients, 600 s
#   SOAK_SECONDS=60 bench/soak.sh  # a shorter run
set -euo pipefail
cd "$(dirname "$0")/.."

clients="${SOAK_CLIENTS:-50}"
seconds="${SOAK_SECONDS:-600}"
mkdir -p bench/out

cargo build --release --locked -p melodora -p melodora-loadgen
target/release/melodora-loadgen --clients "$clients" --fps 10 --seconds "$seconds" \
    --disconnect-probability 0.02 --json | tee bench/out/soak.json
