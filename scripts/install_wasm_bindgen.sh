#!/usr/bin/env bash
# Installs wasm-bindgen-cli at exactly the version crates/wasm pins its
# wasm-bindgen dependency to (the two must match), from crates.io, unless it
# is already on the PATH. Building it takes a few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' crates/wasm/Cargo.toml)
if [ -z "$version" ]; then
    echo "crates/wasm/Cargo.toml pins no wasm-bindgen version" >&2
    exit 1
fi
if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
    exit 0
fi
echo "wasm-bindgen-cli: installing $version (cargo install)"
# Its own lock first; a registry mirror that lacks one of the locked
# versions (seen: webpki-roots 1.0.11) gets the newest compatible ones.
cargo install wasm-bindgen-cli --version "=$version" --locked \
    || cargo install wasm-bindgen-cli --version "=$version"
