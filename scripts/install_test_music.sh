#!/usr/bin/env bash
# Real music for the tests: Debian's wesnoth-1.16-music (GPL-2, 41 Ogg
# Vorbis tracks of The Battle for Wesnoth's soundtrack, with tags), a library
# no one here wrote. Installed with apt-get when missing; the tests read it
# from /usr/share/games/wesnoth/1.16/data/core/music (or MELODORA_TEST_MUSIC).
# Nothing of it is committed.
set -euo pipefail

music=/usr/share/games/wesnoth/1.16/data/core/music
if [ -d "$music" ] && [ "$(find "$music" -name '*.ogg' | wc -l)" -ge 41 ]; then
    exit 0
fi
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
echo "test music: installing wesnoth-1.16-music (apt-get)"
as_root apt-get update -q
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q wesnoth-1.16-music
