// The music worker's module itself (web/wasm/melodora_wasm_audio*), run
// under Node on real music (Debian's wesnoth-1.16-music): every track is
// heard with the native build's valence, arousal, tempo and loudness
// (within 1e-3: portable kernels here, SIMD natively), a file that is not
// audio is refused with an Error, and the speed (seconds of music heard per
// second, one thread) is printed for docs/PERFORMANCE.md.
//
//   node crates/wasm-audio/tests/node/hear.mjs [NATIVE_MELODORA] [MUSIC_DIR]
//
// from the repository root (scripts/test.sh runs it after cargo test).
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";

import { initSync, hear, readCover } from "../../../../web/wasm/melodora_wasm_audio.js";

const root = new URL("../../../../", import.meta.url);
const native = process.argv[2] || "target/debug/melodora";
const music = process.argv[3] || process.env.MELODORA_TEST_MUSIC || "/usr/share/games/wesnoth/1.16/data/core/music";

initSync({ module: readFileSync(new URL("web/wasm/melodora_wasm_audio_bg.wasm", root)) });

const tracks = readdirSync(music).filter((name) => name.endsWith(".ogg")).sort();
assert.equal(tracks.length, 41, `${music}: the package's 41 tracks (scripts/install_test_music.sh)`);
const chosen = tracks.filter((_, i) => i % 5 === 0);
const expected = new Map(execFileSync(native, ["hear", "--json", ...chosen.map((t) => join(music, t))], { maxBuffer: 1 << 26 })
  .toString().trim().split("\n").map((line) => JSON.parse(line)).map((h) => [h.path, h]));

let seconds = 0, busy = 0;
for (const track of chosen) {
  const bytes = readFileSync(join(music, track));
  const started = performance.now();
  const heard = JSON.parse(hear(bytes, "ogg"));
  busy += performance.now() - started;
  seconds += heard.duration_s;
  const want = expected.get(join(music, track));
  assert.ok(want, track);
  for (const [got, wanted, what] of [
    [heard.valence, want.mood.valence, "valence"],
    [heard.arousal, want.mood.arousal, "arousal"],
    [heard.tempo_bpm ?? 0, want.features.rhythm.tempo_bpm, "tempo"],
    [heard.loudness_lufs ?? null, want.features.loudness.integrated_lufs ?? null, "loudness"],
  ]) {
    if (got === null || wanted === null) assert.equal(got, wanted, `${track} ${what}`);
    else assert.ok(Math.abs(got - wanted) < 1e-3, `${track} ${what}: wasm ${got}, native ${wanted}`);
  }
  assert.equal(heard.quadrant, want.mood.quadrant, track);
  assert.equal(heard.title, want.tags.title ?? undefined, track);
  assert.equal(readCover(bytes, "ogg"), undefined, `${track} has no cover`);
}
assert.throws(() => hear(new TextEncoder().encode("a text file named .mp3"), "mp3"), /not a format|not decodable/);
assert.throws(() => hear(new Uint8Array(), "ogg"), /empty/);
console.log(`wasm hear: ${chosen.length} Wesnoth tracks as natively; ${seconds.toFixed(0)} s of music in ${(busy / 1000).toFixed(2)} s: ${(seconds / (busy / 1000)).toFixed(0)}x real time (Node ${process.version}, one thread)`);
