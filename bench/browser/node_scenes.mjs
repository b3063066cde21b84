// The browser analyzer (web/wasm) under Node, on two 640x480 parity scenes
// with texture (one face; three faces), full scan and tracking: a quick
// check of the WebAssembly kernels without a browser. The same frame is
// analysed repeatedly; prints milliseconds a frame.
//
//   node bench/browser/node_scenes.mjs [path/to/melodora_wasm_bg.wasm]
//
// The optional argument times another build of the module (e.g. one from
// an earlier commit: `git show REV:web/wasm/melodora_wasm_bg.wasm > old.wasm`)
// with the current bindings, when the bindings did not change.
import { readFileSync } from "node:fs";

import { initSync, Analyzer } from "../../web/wasm/melodora_wasm.js";
import { decodePng } from "../../crates/wasm/tests/node/png.mjs";

const root = new URL("../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, root));

initSync({ module: process.argv[2] ? readFileSync(process.argv[2]) : read("web/wasm/melodora_wasm_bg.wasm") });
const analyzer = new Analyzer(read("assets/haarcascade_frontalface_default.xml").toString(), read("assets/emotion.onnx"));
for (const name of ["scene_02_one_face.png", "scene_06_three_faces.png"]) {
  const image = decodePng(read(`crates/vision/tests/fixtures/parity/images/${name}`));
  for (const tracking of [false, true]) {
    analyzer.setTracking(tracking);
    analyzer.reset();
    for (let i = 0; i < 3; i++) analyzer.analyzeRgba(image.width, image.height, image.rgba, i * 33);
    const frames = tracking ? 60 : 15;
    let faces = 0;
    const started = performance.now();
    for (let i = 0; i < frames; i++) {
      faces = JSON.parse(analyzer.analyzeRgba(image.width, image.height, image.rgba, 1000 + i * 33)).faces.length;
    }
    const ms = (performance.now() - started) / frames;
    console.log(`${name} ${image.width}x${image.height} ${tracking ? "tracking" : "full scan"}: ${ms.toFixed(1)} ms a frame, ${faces} faces`);
  }
}
