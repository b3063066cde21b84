#!/usr/bin/env bash
# Runs every fuzz target for a short while (default 60 s each) from the
# seeds in fuzz/seeds/, with a memory cap and a per-input timeout. Needs the
# nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`); builds with
# optimisations and without debug assertions (-O). Not part of
# scripts/test.sh: long runs are done by hand (see docs/RELIABILITY.md).
#
#   fuzz/smoke.sh            # 60 s per target
#   SECONDS_PER_TARGET=1800 fuzz/smoke.sh cascade_xml   # one long run
set -euo pipefail
cd "$(dirname "$0")"
seconds="${SECONDS_PER_TARGET:-60}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(cascade_xml image_detect model_description catalog_csv video ws_message audio_decode)
fi
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "== $target: ${seconds} s"
    cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 \
        | grep -E "^(stat::|Done|==|SUMMARY|ERROR)|crash|timeout|oom" || true
    if ls "artifacts/$target" 2>/dev/null | grep -q .; then
        echo "!! $target: artifacts in fuzz/artifacts/$target"; exit 1
    fi
done
