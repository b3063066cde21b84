#!/usr/bin/env bash
# The page's checks that need no browser: its JSDoc types (tsc --checkJs,
# TypeScript pinned in tests/e2e/package.json), the WebSocket types it is
# checked against (web/types/ws-protocol.d.ts, made from
# docs/ws-protocol.schema.json), and its modules' unit tests (node --test).
# Installs node and npm (apt-get) and the pinned packages (npm ci) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "web: installing node and npm (apt-get)"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q nodejs npm
fi
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
tsc=tests/e2e/node_modules/.bin/tsc

echo "web: the WebSocket's types are what its schema says"
node scripts/ws_types.mjs --check
echo "web: tsc --checkJs (the page, then the analyzer's and the music's workers, and the offline worker)"
"$tsc" -p web/tsconfig.json
"$tsc" -p web/analyzer/tsconfig.json
"$tsc" -p web/music/tsconfig.json
"$tsc" -p web/offline/tsconfig.json
echo "web: the modules' unit tests (node --test)"
node --test web/tests/
