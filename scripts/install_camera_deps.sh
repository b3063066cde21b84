#!/usr/bin/env bash
# Installs what building with `--features camera` needs on Debian/Ubuntu:
# libclang, for the bindgen step of nokhwa's V4L2 bindings.
set -euo pipefail

if ldconfig -p | grep -qE 'libclang(-[0-9.]+)?\.so '; then
    exit 0
fi
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
echo "camera: installing libclang-dev (apt-get)"
as_root apt-get update -q
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q libclang-dev
