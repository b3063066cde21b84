#!/usr/bin/env bash
# The flood of docs/RELIABILITY.md (issue 34): 20,000 half-open connections
# from five loopback addresses (127.0.0.2-6, 2,000 new ones a second each)
# against a `melodora serve` with
# its default limits, once over plain HTTP and once over TLS, while a
# checking client on 127.0.0.1 asks /api/health every 100 ms, loads the page
# every second and keeps a WebSocket answering. Bounded: each run ends once
# every half-open connection is closed (header timeout + 5 s at most, or it
# fails). Exits non-zero if any check fails; keeps the JSON reports in
# bench/out/flood-{plain,tls}.json.
#
#   bench/flood.sh                          # release build, 20,000 connections
#   FLOOD_PROFILE=debug bench/flood.sh      # the debug build (scripts/test.sh)
#   FLOOD_CONNECTIONS=5000 bench/flood.sh   # a smaller flood
set -euo pipefail
cd "$(dirname "$0")/.."

connections="${FLOOD_CONNECTIONS:-20000}"
target="${CARGO_TARGET_DIR:-target}"
mkdir -p bench/out

if [[ "${FLOOD_PROFILE:-release}" == release ]]; then
    cargo build --release --locked -p melodora -p melodora-loadgen
    bin="$target/release"
else
    # The test profile (optimised, with line tables), as scripts/test.sh
    # built the server already.
    cargo build --locked --profile test -p melodora -p melodora-loadgen
    bin="$target/debug"
fi

for mode in plain tls; do
    tls_flag=()
    [[ "$mode" == tls ]] && tls_flag=(--tls)
    "$bin/melodora-flood" --melodora "$bin/melodora" --connections "$connections" \
        "${tls_flag[@]}" --json-out "bench/out/flood-$mode.json"
done
