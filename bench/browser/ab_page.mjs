// The page against the page of an earlier commit, in one run on the same
// inputs: both written as static sites (`melodora site` of this build: the
// same catalog, settings, models and analyzer; only the page's own files
// differ, taken from each tree's web/), served by Python's http.server and
// opened alternately in fresh Chromium contexts with a fake webcam playing
// one happy FER face. Per run: when the camera runs, when the first
// playlist (10 songs) is listed, and the tracking rate afterwards (frames
// the page analysed in 10 s, counted from its "on this device" line).
//
//   node bench/browser/ab_page.mjs [COMMIT]   (default 833db07, the page before ES modules)
//
// Environment: MELODORA_BIN (default target/release/melodora), CHROMIUM
// (default /usr/bin/chromium), AB_RUNS (default 5 per side).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { pickFace, writeY4m } from "../../tests/e2e/clip.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = resolve(root, process.env.MELODORA_BIN || "target/release/melodora");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const commit = process.argv[2] || "833db07";
const RUNS = Number(process.env.AB_RUNS || 5);
const CLIP = { width: 640, height: 480, fps: 15, side: 240 };
const TRACK_MS = 10000;

/** A static site of this build whose page files are `web`'s. */
function siteWith(web, work, name) {
  const dir = join(work, name);
  execFileSync(bin, ["site", dir, "--data-dir", join(work, `data-${name}`)]);
  const statics = join(dir, "static");
  for (const keep of ["catalog.json", "site.json", "models", "wasm"]) cpSync(join(statics, keep), join(work, `keep-${name}`, keep), { recursive: true });
  rmSync(statics, { recursive: true });
  cpSync(web, statics, { recursive: true, filter: (path) => !/\/(tests|types|node_modules)(\/|$)/.test(path) });
  for (const keep of ["catalog.json", "site.json", "models", "wasm"]) cpSync(join(work, `keep-${name}`, keep), join(statics, keep), { recursive: true });
  const index = readFileSync(join(web, "index.html"), "utf8").replace('data-melodora="server"', 'data-melodora="static"');
  writeFileSync(join(dir, "index.html"), index);
  rmSync(join(statics, "index.html"), { force: true });
  return dir;
}

function serve(dir, port) {
  return spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], { stdio: "ignore" });
}

async function measure(browser, port) {
  const context = await browser.newContext();
  await context.grantPermissions(["camera"], { origin: `http://127.0.0.1:${port}` });
  const page = await context.newPage();
  const opened = Date.now();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => document.querySelector("video").videoWidth > 0, null, { timeout: 30000 });
  const cameraOn = Date.now();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=song]").length >= 10, null, { timeout: 30000 });
  const listed = Date.now();
  await page.evaluate(() => {
    window.__infoChanges = 0;
    const info = document.querySelector("[data-testid=analysis-info]");
    let last = info.textContent;
    // Polled every animation frame: a new "N ms/frame" line is a new analysed frame
    // (the same line twice in a row counts once, so this is a lower bound for both pages alike).
    const tick = () => { if (info.textContent !== last) { last = info.textContent; window.__infoChanges++; } requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  await page.waitForTimeout(TRACK_MS);
  const changes = await page.evaluate(() => window.__infoChanges);
  await context.close();
  return { cameraMs: cameraOn - opened, playlistMs: listed - cameraOn, totalMs: listed - opened, fps: changes / (TRACK_MS / 1000) };
}

const median = (values) => { const s = [...values].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const work = mkdtempSync(join(tmpdir(), "melodora-ab-page-"));
const hosts = [];
try {
  const oldWeb = join(work, "old-tree");
  mkdirSync(oldWeb);
  execFileSync("bash", ["-c", `git -C "${root}" archive ${commit} web | tar -x -C "${oldWeb}"`]);
  const sides = [
    { name: `before (${commit})`, dir: siteWith(join(oldWeb, "web"), work, "before"), port: 18091, results: [] },
    { name: "this tree", dir: siteWith(join(root, "web"), work, "after"), port: 18092, results: [] },
  ];
  for (const side of sides) hosts.push(serve(side.dir, side.port));
  let browser = await chromium.launch({ executablePath: browserPath });
  const face = await pickFace(await browser.newPage(),
    { bin, val: join(root, "../shared/datasets/fer2013/val"), emotion: "happy", work, clip: CLIP });
  await browser.close();
  writeY4m(join(work, "clip.y4m"), [face], 30, CLIP);
  await new Promise((r) => setTimeout(r, 1000));
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", `--use-file-for-fake-video-capture=${join(work, "clip.y4m")}`],
  });
  for (let run = 1; run <= RUNS; run++) {
    // Alternate which side goes first, so neither always meets a warmer machine.
    for (const side of run % 2 ? sides : [...sides].reverse()) {
      const result = await measure(browser, side.port);
      side.results.push(result);
      console.log(`run ${run}, ${side.name}: camera ${result.cameraMs} ms, first playlist ${result.playlistMs} ms later ` +
        `(${result.totalMs} ms in all), tracking ${result.fps.toFixed(1)} frames/s`);
    }
  }
  await browser.close();
  console.log("\n| page | camera running (median ms) | first playlist after the camera (median ms) | in all (median ms) | tracking (median frames/s) |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const side of sides) {
    const r = side.results;
    console.log(`| ${side.name} | ${median(r.map((x) => x.cameraMs))} | ${median(r.map((x) => x.playlistMs))} | ` +
      `${median(r.map((x) => x.totalMs))} | ${median(r.map((x) => x.fps)).toFixed(1)} |`);
  }
} finally {
  for (const host of hosts) host.kill();
  rmSync(work, { recursive: true, force: true });
}
