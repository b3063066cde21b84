#!/usr/bin/env bash
# Emotion accuracy on tilted heads: each val face enlarged to 192 px (a
# webcam's face at arm's length; --rotate-size) and turned by 0, 15, 30 and
# 45 degrees on a plain canvas twice its size (melodora eval --rotate), found by
# BlazeFace with its eyes levelled before classifying, by BlazeFace without
# levelling, and by the Haar cascade (which finds fewer of them). Prints a
# Markdown table: accuracy over the faces found, and how many were found.
#
#   bench/alignment.sh [VAL_DIR] [PER_CLASS]
#
# VAL_DIR defaults to ../shared/datasets/fer2013/val; PER_CLASS (the first N
# images of each emotion, by name) to all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
val="${1:-../shared/datasets/fer2013/val}"
per_class="${2:-0}"
bin="${MELODORA_BIN:-target/release/melodora}"
[ -x "$bin" ] || cargo build --release --locked -p melodora

dir="$val"
if [ "$per_class" -gt 0 ]; then
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    for class in "$val"/*/; do
        name=$(basename "$class")
        mkdir -p "$dir/$name"
        find "$class" -maxdepth 1 -type f | sort | sed -n "1,${per_class}p" | while read -r file; do
            ln -s "$(realpath "$file")" "$dir/$name/"
        done
    done
fi
total=$(find -L "$dir" -type f | wc -l)

cell() {
    "$bin" eval "$dir" --detect --json "$@" 2>/dev/null \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.1f %% (%d)" % (r["accuracy"]*100, r["n"]))'
}

echo "| turned | BlazeFace, eyes levelled | BlazeFace, not levelled | Haar |"
echo "| ---: | ---: | ---: | ---: |"
for degrees in 0 15 30 45; do
    levelled=$(cell --detector blazeface --rotate "$degrees")
    plain=$(cell --detector blazeface --rotate "$degrees" --no-align)
    haar=$(cell --detector haar --rotate "$degrees")
    echo "| ${degrees}° | $levelled | $plain | $haar |"
done
echo
echo "($total faces; accuracy over the faces each found, and how many it found.)"
