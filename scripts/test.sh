#!/usr/bin/env bash
# Runs every check and test of the project: the one test command of README.md,
# and what .ci/run calls. Needs the Rust toolchain; the browser tests install
# Debian's chromium (apt-get) and playwright-core (npm ci) themselves. Tests
# that use FER images or the song catalogs read ../shared (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked

echo "== browser end-to-end tests"
tests/e2e/run.sh
