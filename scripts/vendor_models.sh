#!/usr/bin/env bash
# Vendors BlazeFace, MediaPipe's face detector (short range, 128x128, for
# faces near the camera; full range, 192x192, for faces across a room),
# from its registry package into assets/blazeface/ (committed: builds and
# the running app never reach the network), with the package's licence.
# The tarball and each model are checked against the hashes pinned below,
# so a re-run reproduces the committed files exactly or fails.
#
#   scripts/vendor_models.sh          fetch, check, write assets/blazeface/
#   scripts/vendor_models.sh --check  fetch, check, and compare with what is committed
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=@mediapipe/face_detection
VERSION=0.4.1657300184
TARBALL_SHA256=a118cde74923dc4435257fbfbb613464a0f58d115dff6314d4ff96c8aebf6419
declare -A MODELS=(
    [face_detection_short_range.tflite]=3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633
    [face_detection_full_range.tflite]=99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tarball=$(ls "$work"/*.tgz)
echo "$TARBALL_SHA256  $tarball" | sha256sum --check --quiet
tar -xzf "$tarball" -C "$work"
for model in "${!MODELS[@]}"; do
    echo "${MODELS[$model]}  $work/package/$model" | sha256sum --check --quiet
done

out=assets/blazeface
if [ "${1:-}" = "--check" ]; then
    for model in "${!MODELS[@]}"; do
        cmp "$work/package/$model" "$out/$model"
    done
    echo "assets/blazeface: the committed models are the package's"
    exit 0
fi
mkdir -p "$out"
for model in "${!MODELS[@]}"; do
    install -m 0644 "$work/package/$model" "$out/$model"
done
# The package declares Apache-2.0 (package.json) and ships no licence file:
# the licence's text is kept beside the models.
cp /usr/share/common-licenses/Apache-2.0 "$out/LICENSE"
cat > "$out/VERSIONS" <<VERSIONS
$PACKAGE $VERSION (npm), Apache-2.0 (the package's package.json), tarball sha256 $TARBALL_SHA256
VERSIONS
(cd "$out" && sha256sum ./*.tflite > SHA256SUMS)
echo "vendored into $out:"
cat "$out/VERSIONS"
