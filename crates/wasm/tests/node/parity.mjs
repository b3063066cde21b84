// The browser build itself, run under Node: web/wasm (what the server
// serves) must find exactly OpenCV's boxes on every parity fixture at
// OpenCV's usual settings (scale 1.1, 5 neighbours: the analyzer's
// defaults), give every face the native build's emotion probabilities
// within 1e-4 (both on the direct engine: portable kernels here, AVX-512 or
// AVX2 natively), and refuse a malformed frame with an Error.
//
//   node crates/wasm/tests/node/parity.mjs [NATIVE_MELODORA]
//
// from the repository root; the native binary defaults to
// target/debug/melodora (scripts/test.sh runs this after cargo test).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

import { initSync, Analyzer } from "../../../../web/wasm/melodora_wasm.js";
import { decodePng } from "./png.mjs";

const root = new URL("../../../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, root));


initSync({ module: read("web/wasm/melodora_wasm_bg.wasm") });
const analyzer = new Analyzer(
  read("assets/haarcascade_frontalface_default.xml").toString("utf8"),
  read("assets/emotion.onnx"),
  undefined,
);
analyzer.setTracking(false);

const expected = JSON.parse(read("crates/vision/tests/fixtures/parity/expected.json"));
const run = expected.runs.find((r) =>
  r.cascade === "haarcascade_frontalface_default.xml" && r.scale_factor === 1.1 &&
  r.min_neighbors === 5 && r.min_size === 0 && r.max_size === 0 && r.images === "all");
assert.ok(run, "expected.json has OpenCV's default run");

const key = (b) => b.join(",");
const imagePath = (name) => "crates/vision/tests/fixtures/parity/images/" + name;
const wasmFaces = new Map();
let images = 0, faces = 0;
for (const [name, boxes] of Object.entries(run.boxes)) {
  const { width, height, rgba } = decodePng(read(imagePath(name)));
  const frame = JSON.parse(analyzer.analyzeRgba(width, height, rgba, images * 100));
  wasmFaces.set(imagePath(name), frame.faces);
  const got = frame.faces.map((f) => key([f.x, f.y, f.w, f.h])).sort();
  assert.deepEqual(got, boxes.map(key).sort(), name);
  for (const face of frame.faces) {
    const total = Object.values(face.probabilities).reduce((s, p) => s + p, 0);
    assert.ok(Math.abs(total - 1) < 1e-3, `${name}: probabilities sum to ${total}`);
  }
  images += 1;
  faces += boxes.length;
}
// The native build on the same files: same faces, same probabilities.
const native = process.argv[2] ?? "target/debug/melodora";
const lines = execFileSync(native, ["detect", "--json", ...wasmFaces.keys()], {
  cwd: root,
  env: { ...process.env, MELODORA_ENGINE: "direct" },
  maxBuffer: 64 << 20,
}).toString().trim().split("\n");
let compared = 0, worst = 0;
for (const line of lines) {
  const record = JSON.parse(line);
  const ours = wasmFaces.get(record.image);
  assert.ok(ours, `native reported ${record.image}`);
  assert.equal(ours.length, record.faces.length, record.image);
  for (const [i, face] of record.faces.entries()) {
    assert.equal(key([ours[i].x, ours[i].y, ours[i].w, ours[i].h]), key([face.x, face.y, face.w, face.h]));
    for (const [emotion, p] of Object.entries(face.probabilities)) {
      const difference = Math.abs(ours[i].probabilities[emotion] - p);
      worst = Math.max(worst, difference);
      assert.ok(difference <= 1e-4, `${record.image} face ${i} ${emotion}: wasm ${ours[i].probabilities[emotion]}, native ${p}`);
    }
    compared += 1;
  }
}
assert.equal(compared, faces, "every face compared");

assert.throws(() => analyzer.analyzeRgba(2, 2, new Uint8Array(15), 0), /15 bytes/);
assert.throws(() => analyzer.analyzeRgba(0, 0, new Uint8Array(0), 0), /0x0/);
assert.throws(() => new Analyzer("<not a cascade", new Uint8Array(4), undefined), /XML/);
console.log(`wasm parity: ${images} images, ${faces} faces, every box as OpenCV's; ` +
  `probabilities within ${worst.toExponential(1)} of the native build's`);
