#!/usr/bin/env bash
# Create (or reuse) the benchmark virtualenv at bench/.venv and print its python.
# Idempotent: packages are (re)installed only when requirements.txt changed or
# the venv is missing/broken.  Usage: bench/setup_env.sh   (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
py="${PYTHON:-python3}"

if [[ -x "$venv/bin/python" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "setup_env: $venv is broken, recreating" >&2
    rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup_env: creating $venv with $("$py" --version 2>&1)" >&2
    "$py" -m venv "$venv"
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$want" != "$have" ]] || ! "$venv/bin/python" -c 'import cv2, numpy, skimage, onnxruntime, onnx, PIL' >/dev/null 2>&1; then
    echo "setup_env: installing $req" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >&2
    echo "$want" > "$stamp"
else
    echo "setup_env: $venv is up to date" >&2
fi

echo "$venv/bin/python"
