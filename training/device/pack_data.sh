#!/usr/bin/env bash
# Packs ../shared/datasets/fer2013 (train and val) for a lent GPU machine, which gets the
# repository but not ../shared: training/device/data/fer2013.tar.xz, about 39 MB, ignored by
# git and carried with the run (`carry: ["training/device/data"]`). The JPEG files go in as
# they are; xz mostly removes their repeated headers. See training/README.md.
set -euo pipefail
cd "$(dirname "$0")"
src=${1:-../../../shared/datasets/fer2013}
[ -d "$src/train" ] && [ -d "$src/val" ] || { echo "no FER2013 train/val folders in $src" >&2; exit 1; }
mkdir -p data
tar -cf - --sort=name -C "$(dirname "$src")" "$(basename "$src")" | xz -6 -T0 > data/fer2013.tar.xz.tmp
mv data/fer2013.tar.xz.tmp data/fer2013.tar.xz
ls -l data/fer2013.tar.xz
