// Melodora's WebAssembly analyzer vs @vladmandic/face-api, side by side in
// one headless Chromium run on the same fake-webcam clip (a FER2013 face
// at 640x480), plus Melodora's native build (same pipeline, one thread) on
// the same clip for the wasm/native ratio.
//
//   bash bench/browser/run.sh          (installs, builds, runs; see there)
//
// Each contender gets a fresh browser context (cold cache) and analyses the
// current camera frame in a tight loop for SECONDS_EACH (the camera's 15 fps
// does not cap the figure). "melodora-tracking-music" is the tracking run
// with the page's player engine (web/player/engine.js: two <audio>
// elements through the Web Audio graph) playing Wesnoth tracks meanwhile,
// a 3 s crossfade to the next every 4 s: the player must not starve the
// analysis. Prints a table; writes bench/browser/out/results.json.
//
// "melodora-blazeface[-full]" runs the page's analyzer with BlazeFace (short
// or full range) detecting every frame whole (tracking off; the short range
// searches the frame and its four quarters enlarged), classifying the face
// too; "melodora-blazeface-tracking" as the page runs it (a full search every
// 15 frames, the face's region between); "mediapipe-short|full" is @mediapipe/face_detection, MediaPipe's
// own BlazeFace solution (its WebAssembly build with SIMD, in the page),
// detection only, on the same frames.
//
// Environment: MELODORA_BIN (default target/release/melodora), CHROMIUM
// (default /usr/bin/chromium), SECONDS_EACH (default 10; face-api's cpu backend
// gets half), CONTENDERS (comma-separated subset).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir, cpus } from "node:os";
import { dirname, extname, join, resolve, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { pickFace, writeY4m } from "../../tests/e2e/clip.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const bin = resolve(root, process.env.MELODORA_BIN || "target/release/melodora");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const seconds = Number(process.env.SECONDS_EACH || 10);
const CLIP = { width: 640, height: 480, fps: 15, side: 240 };
const ALL = ["melodora-tracking", "melodora-tracking-music", "melodora-full", "face-api-wasm-416", "face-api-wasm-320", "face-api-cpu-416",
  "melodora-blazeface", "melodora-blazeface-tracking", "melodora-blazeface-full", "mediapipe-short", "mediapipe-full"];
const contenders = process.env.CONTENDERS ? process.env.CONTENDERS.split(",") : ALL;

const log = (...args) => console.log("[bench]", ...args);

// ---- the static server: the page's files, our wasm and models, face-api ----
// Debian's wesnoth-1.16-music (scripts/install_test_music.sh), for the player's sound.
const MUSIC = process.env.MELODORA_TEST_MUSIC || "/usr/share/games/wesnoth/1.16/data/core/music";
// A path is looked up under each mount whose prefix it has, in order.
const MOUNTS = [
  ["/music/", MUSIC],
  ["/web/models/", join(root, "assets")],
  ["/web/models/", join(root, "assets/blazeface")],
  ["/mediapipe/", join(here, "node_modules/@mediapipe/face_detection")],
  ["/web/", join(root, "web")],
  ["/face-api/", join(here, "node_modules/@vladmandic/face-api")],
  ["/tfjs-wasm/", join(here, "node_modules/@tensorflow/tfjs-backend-wasm/dist")],
  ["/", here],
];
const TYPES = { ".ogg": "audio/ogg", ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".json": "application/json", ".xml": "application/xml" };

function serve() {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const file = MOUNTS.filter(([prefix]) => path.startsWith(prefix))
      .map(([prefix, dir]) => [dir, normalize(join(dir, path.slice(prefix.length)))])
      .find(([dir, file]) => file.startsWith(dir) && existsSync(file) && !statSync(file).isDirectory())?.[1];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream" });
    response.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// ---- native, same clip -------------------------------------------------
function native(clip) {
  const out = execFileSync(bin, ["bench", "--video", clip, "--threads", "1", "--json"], {
    env: { ...process.env, MELODORA_ENGINE: "direct", RAYON_NUM_THREADS: "1" },
  }).toString();
  return Object.fromEntries(out.trim().split("\n").map((line) => JSON.parse(line)).map((t) => [t.mode, t]));
}

function downloadBytes() {
  const files = ["web/wasm/melodora_wasm_bg.wasm", "web/wasm/melodora_wasm.js", "web/analyzer/worker.js",
    "web/analyzer/client.js", "assets/emotion.onnx", "assets/haarcascade_frontalface_default.xml"];
  return files.reduce((sum, f) => sum + statSync(join(root, f)).size, 0);
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "melodora-bench-"));
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  try {
    const clip = join(work, "clip.y4m");
    let browser = await chromium.launch({ executablePath: browserPath, headless: true });
    const composer = await browser.newPage();
    const face = await pickFace(composer, { bin, val: join(root, "../shared/datasets/fer2013/val"), emotion: "happy", work, clip: CLIP, log });
    await browser.close();
    writeY4m(clip, [face], 4, CLIP);

    browser = await chromium.launch({
      executablePath: browserPath, headless: true,
      // Autoplay as after a press of Play, for the contender with music.
      args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", `--use-file-for-fake-video-capture=${clip}`,
        "--autoplay-policy=no-user-gesture-required"],
    });
    const results = {};
    for (const name of contenders) {
      const context = await browser.newContext();
      await context.grantPermissions(["camera"], { origin });
      const page = await context.newPage();
      page.on("pageerror", (e) => log(`${name}: page error: ${e.message}`));
      page.on("console", (m) => log(`${name}: console ${m.type()}: ${m.text().slice(0, 300)}`));
      const each = name.startsWith("face-api-cpu") ? Math.max(3, seconds / 2) : seconds;
      await page.goto(`${origin}/bench.html?contender=${name}&seconds=${each}`);
      const result = await page.evaluate(() => window.benchResult);
      await context.close();
      if (!result.ok) throw new Error(`${name}: ${result.error}`);
      results[name] = result;
      log(`${name}: ${result.fps.toFixed(1)} frames/s, face in ${(result.faceRate * 100).toFixed(0)}%, ` +
        `latency p50 ${result.latencyP50.toFixed(1)} ms p95 ${result.latencyP95.toFixed(1)} ms, first answer ${result.firstMs.toFixed(0)} ms` +
        (result.music ? `; music: ${result.music.songs} songs, ${result.music.crossfades} crossfades, ${result.music.playedS.toFixed(1)} s heard` : ""));
    }
    const version = browser.version();
    await browser.close();

    const nativeRuns = native(clip);
    const report = {
      chromium: version, cpus: cpus().length, cpu: cpus()[0].model, clip: CLIP, seconds,
      faceApi: JSON.parse(readFileSync(join(here, "node_modules/@vladmandic/face-api/package.json"))).version,
      downloadBytes: downloadBytes(), results, native: nativeRuns,
    };
    mkdirSync(join(here, "out"), { recursive: true });
    writeFileSync(join(here, "out/results.json"), JSON.stringify(report, null, 2));
    printTable(report);
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function printTable({ results, native: nativeRuns, chromium: version, downloadBytes: bytes }) {
  const base = results["face-api-wasm-416"];
  console.log(`\nChromium ${version}, 640x480 fake webcam, one face; download ${(bytes / 1e6).toFixed(2)} MB (Melodora)`);
  console.log("| contender | frames/s | vs face-api wasm 416 | face found | latency p50 / p95 ms | first answer ms |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const [name, r] of Object.entries(results)) {
    const ratio = base ? (r.fps / base.fps).toFixed(2) + "x" : "-";
    console.log(`| ${name} | ${r.fps.toFixed(1)} | ${ratio} | ${(r.faceRate * 100).toFixed(0)}% | ` +
      `${r.latencyP50.toFixed(1)} / ${r.latencyP95.toFixed(1)} | ${r.firstMs.toFixed(0)} |`);
  }
  const silent = results["melodora-tracking"], music = results["melodora-tracking-music"];
  if (silent && music) {
    console.log(`tracking with the player's music playing: ${music.fps.toFixed(1)} frames/s, ` +
      `${((music.fps / silent.fps - 1) * 100).toFixed(1)}% against silence (target: within 10%)`);
  }
  for (const [mode, key] of [["tracking", "melodora-tracking"], ["full scan", "melodora-full"]]) {
    const n = nativeRuns[mode];
    if (n && results[key]) {
      console.log(`native ${mode}, one thread: ${n.fps.toFixed(1)} frames/s; wasm/native ${(results[key].fps / n.fps).toFixed(2)}`);
    }
  }
}

main().catch((e) => { console.error("[bench] FAILED:", e.message); process.exit(1); });
