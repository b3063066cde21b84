#!/usr/bin/env bash
# Browser end-to-end tests: installs what they need (Debian's chromium and,
# when missing, python3 via apt-get, @playwright/test via npm ci), builds
# melodora and runs them, one @playwright/test test per set-up
# (melodora.spec.mjs). Arguments go to `playwright test` (e.g. -g "static").
set -euo pipefail
cd "$(dirname "$0")/../.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v chromium >/dev/null 2>&1; then
    echo "e2e: installing chromium (apt-get)"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q chromium
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "e2e: installing python3 (apt-get), the static site's plain file server"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q python3
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "e2e: installing node and npm (apt-get)"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q nodejs npm
fi
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
# The test profile: after `cargo test` (scripts/test.sh) this is the binary
# the tests built already, not a second build of every crate (which cost CI
# minutes and filled its disk).
cargo build --locked --profile test -p melodora
export MELODORA_BIN
MELODORA_BIN="$(realpath "${CARGO_TARGET_DIR:-target}/debug/melodora")"
cd tests/e2e
CHROMIUM="$(command -v chromium)" node_modules/.bin/playwright test "$@"
