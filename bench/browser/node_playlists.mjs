// The browser's recommender (web/wasm Playlists) under Node, on a catalog
// snapshot: the call mix of `melodora bench --catalog` (the seven emotions
// in both modes, 14 sessions whose history grows, a profile with 20 likes
// and 20 skips), timed per call including the JSON the page receives.
//
//   target/release/melodora bench --catalog 100000 --snapshot-out /tmp/s.json
//   node bench/browser/node_playlists.mjs /tmp/s.json [CALLS]
//
// The first command prints the same mix natively on the same snapshot
// ("on the catalog's snapshot"); a site's own catalog is its
// static/catalog.json.
import { readFileSync } from "node:fs";

import { initSync, Playlists } from "../../web/wasm/melodora_wasm.js";

const [snapshotPath, callsArg] = process.argv.slice(2);
if (!snapshotPath) {
  console.error("usage: node bench/browser/node_playlists.mjs SNAPSHOT.json [CALLS]");
  process.exit(2);
}
const calls = Number(callsArg || 2000);
initSync({ module: readFileSync(new URL("../../web/wasm/melodora_wasm_bg.wasm", import.meta.url)) });
const json = readFileSync(snapshotPath, "utf8");
let started = performance.now();
const sessions = Array.from({ length: 14 }, (_, seed) => new Playlists(json, seed));
const loadMs = (performance.now() - started) / 14;
const songs = sessions[0].songCount();
// The verdicts of `melodora bench --catalog`: the song at (i * 7919 * 101) % songs.
const ids = JSON.parse(json).songs.map((s) => s.id);
const feedback = JSON.stringify(Array.from({ length: 40 }, (_, i) =>
  [ids[(i * 7919 * 101) % ids.length], i % 2 === 0 ? "like" : "skip"]));
const emotions = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"];
const ms = [];
for (let call = 0; call < calls; call++) {
  const mode = call % 14 < 7 ? "match" : "uplift";
  started = performance.now();
  const list = JSON.parse(sessions[call % 14].recommend(emotions[call % 7], mode, 15, feedback));
  ms.push(performance.now() - started);
  if (list.length !== 15) throw new Error(`a short list: ${list.length}`);
}
ms.sort((a, b) => a - b);
const at = (q) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
console.log(`${songs} songs: load + index ${loadMs.toFixed(0)} ms; ${calls} lists in wasm: ` +
  `p50 ${at(0.5).toFixed(3)} ms, p99 ${at(0.99).toFixed(3)} ms, max ${at(1).toFixed(3)} ms`);
