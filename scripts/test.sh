#!/usr/bin/env bash
# Runs every check and test of the project: the one test command of README.md,
# and what .ci/run calls. Needs the Rust toolchain; cargo-deny is installed
# with cargo install if missing; the browser tests install
# Debian's chromium (apt-get) and playwright-core (npm ci) themselves, the
# camera feature's check installs libclang-dev (apt-get) for its bindgen, and
# the WebAssembly checks add the wasm32-unknown-unknown target (rustup) and
# wasm-bindgen-cli (cargo install), and the store tests start a PostgreSQL
# server of their own (scripts/postgres.sh: Debian's postgresql, apt-get)
# and stop it at the end; the audio tests read Debian's wesnoth-1.16-music
# (apt-get, scripts/install_test_music.sh).
# Tests that use FER images or the song catalogs read ../shared (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# A fresh build gains nothing from incremental caches; they only cost disk.
export CARGO_INCREMENTAL=0

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo doc of the library crates (broken or private links are errors)"
# The binaries' doc comments are their --help text, not rustdoc.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet -p melodora-core \
  -p melodora-detector -p melodora-emotion -p melodora-vision -p melodora-audio -p melodora-music -p melodora-server

echo "== cargo deny: licences, duplicate versions, sources (deny.toml)"
scripts/install_cargo_deny.sh
cargo deny --locked check bans licenses sources

echo "== PostgreSQL for the store tests (scripts/postgres.sh)"
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop' EXIT

echo "== test music: Debian's wesnoth-1.16-music (scripts/install_test_music.sh)"
scripts/install_test_music.sh

echo "== cargo test"
cargo test --workspace --locked

echo "== perception crates for WebAssembly (wasm32-unknown-unknown): lint and build"
scripts/install_wasm_target.sh
# As the browser builds them: without tract (the direct engine alone). The
# lint sees the simd128 kernels (as the browser's build enables them); the
# build checks that the portable code alone compiles too.
wasm_crates=(-p melodora-core -p melodora-detector -p melodora-emotion -p melodora-vision -p melodora-audio -p melodora-wasm -p melodora-wasm-audio)
RUSTFLAGS="-C target-feature=+simd128" \
    cargo clippy --target wasm32-unknown-unknown "${wasm_crates[@]}" --no-default-features --locked -- -D warnings
cargo build --target wasm32-unknown-unknown "${wasm_crates[@]}" --no-default-features --locked
# The music crate without SQLite and the Spotify client: importers, the
# catalog file and the recommender, as a static site's browser will run them.
cargo clippy --target wasm32-unknown-unknown -p melodora-music --no-default-features --locked -- -D warnings
cargo test -p melodora-emotion --no-default-features --lib --locked

echo "== the browser's analyzer: web/wasm is what the source builds, and finds OpenCV's boxes (Node)"
scripts/build_wasm.sh --check
node crates/wasm/tests/node/parity.mjs "${CARGO_TARGET_DIR:-target}/debug/melodora"
echo "== the browser's music worker module: hears the Wesnoth tracks as the native build does (Node)"
node crates/wasm-audio/tests/node/hear.mjs "${CARGO_TARGET_DIR:-target}/debug/melodora"

echo "== the page without a browser: types (tsc --checkJs, against the WebSocket's schema) and modules (node --test)"
scripts/check_web.sh

echo "== fuzz targets compile (cargo check on stable; fuzzing itself is nightly: fuzz/smoke.sh)"
(cd fuzz && cargo check --bins --locked --quiet)

echo "== camera feature (nokhwa): lint, unit tests, and serve --camera without a device"
scripts/install_camera_deps.sh
cargo clippy -p melodora --features camera --all-targets --locked -- -D warnings
cargo test -p melodora-server --features camera --locked --lib camera
cargo test -p melodora --features camera --locked --test serve_cli

echo "== browser end-to-end tests"
tests/e2e/run.sh

echo "== a flood of 20,000 half-open connections, plain and TLS: the server stays up (bench/flood.sh)"
FLOOD_PROFILE=debug bench/flood.sh
