#!/usr/bin/env bash
# Adds the wasm32-unknown-unknown target (the perception crates' browser
# build, checked by scripts/test.sh) to the active Rust toolchain with rustup,
# unless it is already installed.
set -euo pipefail

if rustc --print target-libdir --target wasm32-unknown-unknown >/dev/null 2>&1 \
    && [ -d "$(rustc --print target-libdir --target wasm32-unknown-unknown)" ]; then
    exit 0
fi
if ! command -v rustup >/dev/null 2>&1; then
    echo "the wasm32-unknown-unknown target is missing and rustup is not here to add it;" >&2
    echo "install Rust with rustup (https://rustup.rs) or add the target's standard library" >&2
    exit 1
fi
echo "wasm32: adding the wasm32-unknown-unknown target (rustup)"
rustup target add wasm32-unknown-unknown
