#!/usr/bin/env bash
# Vendors musicnn's MSD tagger (Jordi Pons, Music Technology Group,
# Universitat Pompeu Fabra: a CNN trained on the Million Song Dataset's 50
# most common tags, 'sad', 'happy', 'Mellow', 'chill', 'party' among them)
# from its registry package, the `musicnn` wheel on PyPI (ISC licence),
# into assets/musicnn/ (committed: builds and the running app never reach
# the network): scripts/musicnn_convert.py turns the wheel's TensorFlow
# checkpoint into the tensors the audio crate reads, and the licence is kept.
# The wheel and the checkpoint are checked against the hashes pinned below,
# so a re-run reproduces the committed file exactly or fails.
#
#   scripts/vendor_musicnn.sh          fetch, check, convert, write assets/musicnn/
#   scripts/vendor_musicnn.sh --check  fetch, check, convert, and compare with what is committed
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=musicnn
VERSION=0.1.0
WHEEL_SHA256=f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa
INDEX_SHA256=87f3e0f3550c8d3bafc840374003e5c8af5eeb5ecf6add61af09a7822d3282c8
DATA_SHA256=8579734ee6388f799ed0def4bbd0d1fdcbeaf213ef2a9dc860917bd76a303de6
MODEL=msd_musicnn.bin
MODEL_SHA256=8dbd0ad74579725ef77afb1b0cb84be083d62cb71c582a6a1d1e35a858de2cae

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: "$PACKAGE==$VERSION" -d "$work"
wheel=$(ls "$work"/*.whl)
echo "$WHEEL_SHA256  $wheel" | sha256sum --check --quiet
python3 -m zipfile -e "$wheel" "$work/wheel"
checkpoint="$work/wheel/musicnn/MSD_musicnn"
echo "$INDEX_SHA256  $checkpoint/.index" | sha256sum --check --quiet
echo "$DATA_SHA256  $checkpoint/.data-00000-of-00001" | sha256sum --check --quiet
python3 scripts/musicnn_convert.py "$checkpoint" "$work/$MODEL"
echo "$MODEL_SHA256  $work/$MODEL" | sha256sum --check --quiet

out=assets/musicnn
if [ "${1:-}" = "--check" ]; then
    cmp "$work/$MODEL" "$out/$MODEL"
    echo "assets/musicnn: the committed model is the package's checkpoint, converted"
    exit 0
fi
mkdir -p "$out"
install -m 0644 "$work/$MODEL" "$out/$MODEL"
install -m 0644 "$work/wheel/musicnn-$VERSION.dist-info/LICENSE.md" "$out/LICENSE"
cat > "$out/VERSIONS" <<VERSIONS
$PACKAGE $VERSION (PyPI wheel, sha256 $WHEEL_SHA256), ISC licence (the wheel's LICENSE.md, kept in LICENSE)
$MODEL: the wheel's musicnn/MSD_musicnn checkpoint (.index sha256 $INDEX_SHA256,
.data sha256 $DATA_SHA256), its model variables converted by scripts/musicnn_convert.py (kernels in 8 bits with a scale per filter)
VERSIONS
(cd "$out" && sha256sum ./*.bin > SHA256SUMS)
echo "vendored into $out:"
cat "$out/VERSIONS"
