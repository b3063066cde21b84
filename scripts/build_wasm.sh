#!/usr/bin/env bash
# Builds the browser's modules into web/wasm/: the camera's analyzer and
# recommender (crates/wasm: melodora_wasm*) and the music worker's hearing
# (crates/wasm-audio: melodora_wasm_audio*, loaded only when a folder is
# analysed). For each, the .wasm and wasm-bindgen's JavaScript glue, which
# the server embeds and the page loads, and the glue's TypeScript
# declarations, which tsc reads for the page.
# The output is committed, so `cargo run -- serve` needs no wasm tools; CI
# runs this with --check, which rebuilds and fails if the committed files
# differ from what the source builds.
#
#   scripts/build_wasm.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_wasm_target.sh
scripts/install_wasm_bindgen.sh

out=web/wasm
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
# Paths inside the build (panic locations) are made independent of where
# the checkout lies, so every checkout builds the same bytes.
# Warnings are errors here too: the simd128 kernels compile only in this build.
export RUSTFLAGS="--remap-path-prefix=$PWD=/melodora --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo -C target-feature=+simd128 -D warnings"
export CARGO_TARGET_DIR=${WASM_TARGET_DIR:-target/wasm}
modules=(melodora_wasm melodora_wasm_audio)
cargo build --profile wasm --locked --target wasm32-unknown-unknown -p melodora-wasm -p melodora-wasm-audio
for module in "${modules[@]}"; do
    wasm-bindgen --target web --out-dir "$build" \
        "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/$module.wasm"
done
files=()
for module in "${modules[@]}"; do files+=("$module.js" "$module.d.ts" "${module}_bg.wasm"); done

if [ "${1:-}" = --check ]; then
    for f in "${files[@]}"; do
        if ! cmp -s "$build/$f" "$out/$f"; then
            echo "web/wasm/$f does not match what the source builds; run scripts/build_wasm.sh and commit it" >&2
            exit 1
        fi
    done
    echo "web/wasm matches the source"
else
    mkdir -p "$out"
    # The declarations are for tsc (the page's JSDoc); the server does not serve them.
    for f in "${files[@]}"; do cp "$build/$f" "$out/"; done
    ls -l "$out"
fi
