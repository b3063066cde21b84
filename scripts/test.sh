#!/usr/bin/env bash
# Runs every check and test of the project: the one test command of README.md,
# and what .ci/run calls. Needs only the Rust toolchain; tests that use FER
# images read ../shared (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
