#!/usr/bin/env bash
# Re-vendors the web page's third-party files from their npm packages, at the
# pinned versions below, into web/vendor/ (committed, so that builds and the
# running app never reach the network). Keeps each package's licence.
set -euo pipefail
cd "$(dirname "$0")/.."

BOOTSTRAP=5.3.9

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "bootstrap@$BOOTSTRAP" >/dev/null)
mkdir -p "$work/bootstrap"
tar -xzf "$work/bootstrap-$BOOTSTRAP.tgz" -C "$work/bootstrap"

out=web/vendor
rm -rf "$out"
mkdir -p "$out/bootstrap"
# Bootstrap's CSS only: the page uses no Bootstrap JavaScript component.
cp "$work/bootstrap/package/dist/css/bootstrap.min.css" "$out/bootstrap/"
cp "$work/bootstrap/package/LICENSE" "$out/bootstrap/LICENSE"
# Source-map comments would make browsers ask the server for files we do not ship.
sed -i '/sourceMappingURL/d' "$out"/bootstrap/*.min.*
cat > "$out/VERSIONS" <<VERSIONS
bootstrap $BOOTSTRAP (npm), MIT, dist/css/bootstrap.min.css
VERSIONS
(cd "$out" && sha256sum bootstrap/* > SHA256SUMS)
echo "vendored into $out:"
cat "$out/VERSIONS"
