// Melodora in a real browser: one test per set-up (see parts.mjs for what
// each checks), run by @playwright/test on Debian's chromium (run.sh), so
// that a failure names its set-up. The tests share one clip, made once per
// worker; each starts its own server and browser, so a failure in one
// leaves the others to run.
//
//   tests/e2e/run.sh                     all of them
//   tests/e2e/run.sh -g "static site"    the ones whose title matches
import { rmSync } from "node:fs";
import { test } from "@playwright/test";
import * as parts from "./parts.mjs";

/** @type {{work: string, clip: string}} */
let made;

test.beforeAll(async () => {
  made = await parts.makeClip();
});

test.afterAll(() => {
  if (made) rmSync(made.work, { recursive: true, force: true });
});

test("analysis on the device (the default, over https)", async () => {
  await parts.onDeviceMode(made.clip, made.work);
});

test("a phone (390x844, analysing on the device)", async () => {
  await parts.phone(made.clip, made.work);
});

test("analysis on the server (a browser without WebAssembly, or a broken analyzer)", async () => {
  await parts.serverAnalysisMode(made.clip, made.work);
});

test("the server's camera (--video), and pages of other sites", async () => {
  await parts.serverCameraMode(made.clip, made.work);
});

test("a full server (--max-connections 1)", async () => {
  await parts.fullServer(made.clip, made.work);
});

test("a static site (melodora site, on a plain file server)", async () => {
  await parts.staticSite(made.clip, made.work);
});
