// How soon a static site shows its first playlist: `melodora site` served by
// Python's http.server on loopback, opened in headless Chromium (camera
// permission already granted, a fake webcam playing one happy FER face),
// three times, each in a fresh context (nothing cached). Prints the time
// until the camera runs and from then until 10 songs are listed.
//
//   cargo build && node bench/browser/first_playlist.mjs
//
// Environment: MELODORA_BIN (default target/debug/melodora), CHROMIUM
// (default /usr/bin/chromium).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { pickFace, writeY4m } from "../../tests/e2e/clip.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = resolve(root, process.env.MELODORA_BIN || "target/debug/melodora");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const CLIP = { width: 640, height: 480, fps: 15, side: 240 };
const PORT = 18080;

const work = mkdtempSync(join(tmpdir(), "melodora-first-"));
let host;
try {
  execFileSync(bin, ["site", join(work, "site"), "--data-dir", join(work, "data")]);
  let browser = await chromium.launch({ executablePath: browserPath });
  const face = await pickFace(await browser.newPage(),
    { bin, val: join(root, "../shared/datasets/fer2013/val"), emotion: "happy", work, clip: CLIP });
  await browser.close();
  writeY4m(join(work, "clip.y4m"), [face], 4, CLIP);
  host = spawn("python3", ["-m", "http.server", String(PORT), "--bind", "127.0.0.1", "--directory", join(work, "site")],
    { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 1000));
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", `--use-file-for-fake-video-capture=${join(work, "clip.y4m")}`],
  });
  for (let run = 1; run <= 3; run++) {
    const context = await browser.newContext();
    await context.grantPermissions(["camera"], { origin: `http://127.0.0.1:${PORT}` });
    const page = await context.newPage();
    const opened = Date.now();
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.waitForFunction(() => document.querySelector("video").videoWidth > 0, null, { timeout: 30000 });
    const cameraOn = Date.now();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=song]").length >= 10, null, { timeout: 30000 });
    const listed = Date.now();
    console.log(`run ${run}: camera running ${cameraOn - opened} ms after opening the page; ` +
      `first playlist ${listed - cameraOn} ms later (${listed - opened} ms in all)`);
    await context.close();
  }
  await browser.close();
} finally {
  if (host) host.kill();
  rmSync(work, { recursive: true, force: true });
}
