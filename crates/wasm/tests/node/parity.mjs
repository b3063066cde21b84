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
import { inflateSync } from "node:zlib";
import assert from "node:assert/strict";

import { initSync, Analyzer } from "../../../../web/wasm/melodora_wasm.js";

const root = new URL("../../../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, root));

/** Decodes an 8-bit, non-interlaced gray or RGB PNG into RGBA. */
function decodePng(bytes) {
  let pos = 8, idat = [], width, height, channels;
  while (pos < bytes.length) {
    const length = bytes.readUInt32BE(pos);
    const type = bytes.toString("latin1", pos + 4, pos + 8);
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.equal(body[8], 8, "8-bit PNGs only");
      assert.equal(body[12], 0, "non-interlaced PNGs only");
      channels = { 0: 1, 2: 3 }[body[9]];
      assert.ok(channels, "gray or RGB PNGs only");
    } else if (type === "IDAT") {
      idat.push(body);
    }
    pos += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0;
      const b = up[i];
      const c = i >= channels ? up[i - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[i] = (line[i] + predictor) & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = rows[i * channels + (channels === 1 ? 0 : k)];
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

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
