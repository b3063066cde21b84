#!/usr/bin/env bash
# Re-vendors the web page's third-party files from their npm packages, at the
# pinned versions below, into web/vendor/ (committed, so that builds and the
# running app never reach the network). Keeps each package's licence.
set -euo pipefail
cd "$(dirname "$0")/.."

BOOTSTRAP=5.3.9
JQUERY=3.7.1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "bootstrap@$BOOTSTRAP" "jquery@$JQUERY" >/dev/null)
mkdir -p "$work/bootstrap" "$work/jquery"
tar -xzf "$work/bootstrap-$BOOTSTRAP.tgz" -C "$work/bootstrap"
tar -xzf "$work/jquery-$JQUERY.tgz" -C "$work/jquery"

out=web/vendor
rm -rf "$out"
mkdir -p "$out/bootstrap" "$out/jquery"
cp "$work/bootstrap/package/dist/css/bootstrap.min.css" "$out/bootstrap/"
cp "$work/bootstrap/package/dist/js/bootstrap.bundle.min.js" "$out/bootstrap/"
cp "$work/bootstrap/package/LICENSE" "$out/bootstrap/LICENSE"
cp "$work/jquery/package/dist/jquery.min.js" "$out/jquery/"
cp "$work/jquery/package/LICENSE.txt" "$out/jquery/LICENSE.txt"
# Source-map comments would make browsers ask the server for files we do not ship.
sed -i '/sourceMappingURL/d' "$out"/bootstrap/*.min.* "$out"/jquery/*.min.js
cat > "$out/VERSIONS" <<VERSIONS
bootstrap $BOOTSTRAP (npm), MIT, dist/css/bootstrap.min.css and dist/js/bootstrap.bundle.min.js
jquery $JQUERY (npm), MIT, dist/jquery.min.js
VERSIONS
(cd "$out" && sha256sum bootstrap/* jquery/* > SHA256SUMS)
echo "vendored into $out:"
cat "$out/VERSIONS"
