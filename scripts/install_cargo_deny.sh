#!/usr/bin/env bash
# Installs cargo-deny (the supply-chain checks of scripts/test.sh) from
# crates.io unless a 0.20 release is already on the PATH. Building it takes a
# few minutes on two cores; later runs reuse the installed binary.
set -euo pipefail

if cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0\.20\.'; then
    exit 0
fi
echo "cargo-deny: installing 0.20 (cargo install --locked)"
cargo install cargo-deny --version '~0.20' --locked
