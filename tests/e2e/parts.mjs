// The browser end-to-end tests' set-ups (melodora.spec.mjs runs each as
// one @playwright/test test, so a failure names its set-up):
// 1. Builds a Y4M clip from FER2013 val faces (../shared): a happy face for
//    6 s, then a sad face for 6 s, each upscaled on a plain background. The
//    faces are the first ones in sorted order that the shipped detector and
//    model see as happy and as sad (checked with `melodora detect --json`).
// 2. Starts `melodora serve` on a free port with a fresh data directory.
// 3. On-device mode (the default), over HTTPS as on a phone on the network:
//    `serve --tls-self-signed`, and a browser that trusts exactly that
//    certificate (its public key pinned, nothing else ignored). Opens the
//    page in headless Debian chromium whose fake webcam plays the clip, and
//    checks: the page is a secure context on https with its WebSocket on
//    wss, the page
//    analyses on this device (the WebAssembly analyzer in a worker), a face
//    box is drawn on the overlay, the stable mood reads happy and later sad,
//    and the song table then holds >= 10 rows whose links open Spotify;
//    paused, Like marks its song and leaves the list as it was; a mood chip
//    holds the list while the camera's mood changes; Play opens Spotify's
//    embed frame for the row's track (a stand-in embed that speaks the real
//    one's messages), whose end moves the queue on by itself; Calibrate on the sad face (a resting
//    face that reads sad) makes that face read neutral, kept in
//    localStorage, and Reset brings sad back. Throughout,
//    no binary WebSocket message and no request to /api/analyze leaves the
//    page, and the server hears the moods as `mood` commands. Then "on the
//    server" is chosen: frames go to the server, and the choice survives a
//    reload. Saves a screenshot. "Add my music folder" hears a folder of
//    Wesnoth tracks in the page's music worker (nothing leaves the page:
//    no request but the page's static files, no command naming a file),
//    lists and plays them from object URLs, and a second pick hears
//    nothing again (IndexedDB).
//    Browser camera, server analysis: the same checks in a page without
//    WebAssembly (removed before the page's scripts run, as in a browser
//    that has it turned off): the page says on-device analysis is not
//    possible and falls back to sending frames; a photo goes to
//    /api/analyze and its face sets the mood (on the device it is analysed
//    in the page, and a file that is not an image or a photo without a face
//    is refused, the list kept). Calibration with the server analysing is
//    refused when frames show several faces or none (the WebSocket's answers
//    edited in flight), and otherwise kept by the server across a reload
//    until Reset. A page whose analyzer files
//    cannot be loaded, or whose model is corrupt, falls back the same way.
//    Then three Wesnoth tracks (Debian's wesnoth-1.16-music) are added to the
//    running server's library: a new page offers "my music" (chosen, as
//    there is a library), lists them with reasons heard from their audio,
//    plays one whole in its <audio> element from /api/library, and
//    "everything" brings the catalog back.
// 4. Server camera mode: starts `melodora serve --video clip.y4m` and opens
//    the page in a browser with no camera at all; checks that the page
//    switches to the server's stream, that the streamed frames carry the face
//    box, and the same moods and songs. Saves a second screenshot.
// 5. Other sites, in that server camera mode: a page of another site
//    (evil.test, mapped to 127.0.0.1 by Chromium's resolver) gets no hello
//    on its WebSocket, cannot read the API and cannot show /video_feed; a
//    page of an --allowed-origin gets the hello, reads the API and shows the
//    stream; and the server's own page opened under the rebound name
//    (http://evil.test:PORT/, DNS rebinding) is answered 421.
// 6. A full server (--max-connections 1): a second page says the server is
//    busy, and connects by itself once the first page is closed.
// 7. A static site: `melodora site DIR` published by Python's http.server
//    (not Melodora), with the fake webcam: mood happy then sad, >= 10
//    Spotify links made in the browser, a like that survives a reload
//    (with the list and mood), the original's sad.csv imported in the page
//    becoming the playlist, "Forget me" clearing it all, a mood chip holding
//    the list made in the browser; no request goes
//    anywhere but the static host.
//
// 8. A phone: on-device mode opened on a 390x844 phone: no sideways
//    scrolling, every button on screen and at least 44 px high, the video
//    and mood above the playlist.
// Every mode's page also passes axe-core's accessibility check (no serious
// or critical violation).
//
// Environment: MELODORA_BIN (default target/debug/melodora), CHROMIUM
// (default /usr/bin/chromium), E2E_OUT (default tests/e2e/out),
// E2E_SCREENSHOT (also copy the screenshot there, e.g. docs/screenshot.png),
// E2E_PLAYER_SCREENSHOT (the same for the player playing a library song,
// e.g. docs/player.png).

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { X509Certificate, createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import http from "node:http";
import { chromium } from "playwright-core";
import { pickFace, writeY4m } from "./clip.mjs";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const bin = resolve(root, process.env.MELODORA_BIN || "target/debug/melodora");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const out = resolve(root, process.env.E2E_OUT || "tests/e2e/out");
const val = resolve(root, "../shared/datasets/fer2013/val");
const CLIP = { width: 480, height: 360, fps: 10, side: 240 };
const SECONDS_PER_FACE = 6;
// Debian's wesnoth-1.16-music (scripts/install_test_music.sh): real music no one here wrote.
const WESNOTH = process.env.MELODORA_TEST_MUSIC || "/usr/share/games/wesnoth/1.16/data/core/music";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

function log(...args) { console.log("[e2e]", ...args); }

function fail(message) { throw new Error(message); }

/** Headless Chromium, started afresh up to three times: on a loaded machine
 *  it has been seen to crash while starting (SIGSEGV before any page), which
 *  says nothing about Melodora. Everything after the start is tested once. */
async function launchBrowser(options = {}) {
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await chromium.launch({ executablePath: browserPath, headless: true, ...options });
    } catch (e) {
      if (attempt === attempts) throw e;
      log(`chromium failed to start (attempt ${attempt} of ${attempts}): ${e.message.split("\n")[0]}`);
    }
  }
}

async function freePort() {
  return new Promise((resolvePort) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => { const { port } = server.address(); server.close(() => resolvePort(port)); });
  });
}

// ---- server -------------------------------------------------------------

// Servers still running when the test ends (an error thrown from an event
// handler ends node at once, past every finally): stopped on exit, so that
// none holds the caller's output open.
const running = new Set();
process.on("exit", () => { for (const server of running) server.kill(); });

async function startServer(port, dataDir, extraArgs = []) {
  const args = ["serve", "--addr", `127.0.0.1:${port}`, "--data-dir", dataDir, ...extraArgs];
  const server = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  running.add(server);
  server.on("exit", () => running.delete(server));
  await new Promise((resolveReady, rejectReady) => {
    const timer = setTimeout(() => rejectReady(new Error("server did not start in 30 s")), 30000);
    server.stdout.on("data", (chunk) => {
      if (chunk.toString().includes("running at")) { clearTimeout(timer); resolveReady(); }
    });
    server.on("exit", (code) => rejectReady(new Error(`server exited with ${code}`)));
  });
  return server;
}

// ---- the test -------------------------------------------------------------

async function waitForMood(page, emotion, timeout) {
  await page.waitForFunction((e) => document.querySelector("[data-testid=mood]").textContent === e, emotion, { timeout });
  log(`mood reads ${emotion}`);
}

async function overlayHasDrawing(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector("[data-testid=overlay]");
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
  });
}

/** Green pixels (the server's box colour) in the page's server stream image. */
async function feedBoxPixels(page) {
  return page.evaluate(() => {
    const img = document.getElementById("feed");
    if (!img.naturalWidth) return 0;
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let green = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 1] > 180 && data[i] < 80 && data[i + 2] < 80) green++;
    return green;
  });
}

/** Mood happy, then sad, then >= 10 songs that open Spotify in a new tab. */
async function checkMoodsAndSongs(page, afterHappy) {
  await waitForMood(page, "happy", 60000);
  await afterHappy();
  await waitForMood(page, "sad", 60000);
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=song]").length >= 10, null, { timeout: 20000 });
  const links = await page.$$eval("[data-testid=song] a", (as) => as.map((a) => ({ href: a.href, target: a.target })));
  if (links.length < 10) fail(`only ${links.length} song links`);
  for (const link of links) {
    if (!link.href.startsWith("https://open.spotify.com/")) fail(`song link does not open Spotify: ${link.href}`);
    if (link.target !== "_blank") fail(`song link does not open a new tab: ${link.href}`);
  }
  // Every row says why it was chosen (the recommender's reason, under the title).
  const reasons = await page.$$eval("[data-testid=song]", (rows) => rows.map((row) => row.querySelector("[data-testid=reason]")?.textContent ?? ""));
  const unexplained = reasons.filter((reason) => !/^(in your \w+ list|valence \d|lifts a \w+ mood)/.test(reason));
  if (unexplained.length > 0) fail(`songs without a reason: ${JSON.stringify(reasons)}`);
  log(`${links.length} songs, all opening Spotify, each with a reason (e.g. "${reasons[0]}")`);
}

/** A mood set by hand: the list follows the chip, the camera's moods (happy
 *  and sad, alternating) no longer change it, and "Follow my face" hands the
 *  list back to the camera. */
async function checkManualMood(page) {
  const reasons = () => page.$$eval("[data-testid=reason]", (rs) => rs.map((r) => r.textContent));
  const titles = () => page.$$eval("[data-testid=song] a", (as) => as.map((a) => a.textContent).join("\n"));
  await page.click("#mood-chips button[data-emotion=neutral]");
  await page.waitForFunction(() => {
    const rs = [...document.querySelectorAll("[data-testid=reason]")].map((r) => r.textContent);
    return rs.length >= 10 && rs.every((r) => /neutral/.test(r));
  }, null, { timeout: 15000 });
  const info = await page.textContent("[data-testid=manual-info]");
  if (!/set by hand; following your face again in \d+:\d\d/.test(info)) fail(`no countdown: ${info}`);
  const held = await titles();
  // The clip changes mood every 6 s: 8 s see at least one camera change.
  const seen = new Set();
  for (let i = 0; i < 16; i++) {
    await page.waitForTimeout(500);
    seen.add(await page.textContent("[data-testid=mood]"));
  }
  if (seen.size < 2) fail(`the camera's mood did not change while the mood was set by hand: ${[...seen]}`);
  if ((await titles()) !== held) fail("the camera's mood changed the list while a mood was set by hand");
  log(`set by hand: neutral list held while the camera read ${[...seen].join(", ")}; ${info}`);
  await page.click("[data-testid=follow-face]");
  await page.waitForFunction((before) => {
    const now = [...document.querySelectorAll("[data-testid=song] a")].map((a) => a.textContent).join("\n");
    return now !== before && document.querySelectorAll("[data-testid=song]").length >= 10;
  }, held, { timeout: 20000 });
  if (!(await page.isHidden("[data-testid=follow-face]"))) fail("Follow my face is still offered");
  log(`following the face again: ${(await reasons())[0]}`);
}

/** A stand-in for Spotify's embed (the network is cut in these tests): it
 *  speaks the embed's messages with the page (says "ready", waits for the
 *  handshake, plays on "play" with position updates every 250 ms for
 *  `durationMs`, then stops at the end) and keeps the commands it heard. */
function standInEmbed(durationMs) {
  return `<!doctype html><meta charset="utf-8"><title>stand-in embed</title><script>
window.heard = [];
let position = 0, paused = true, acked = false, timer = null;
const duration = ${durationMs};
const say = (type, payload) => parent.postMessage({ type, payload }, "*");
const update = () => say("playback_update", { isPaused: paused, isBuffering: false, position, duration });
const halt = () => { paused = true; clearInterval(timer); update(); };
const run = () => {
  paused = false;
  clearInterval(timer);
  timer = setInterval(() => { position = Math.min(duration, position + 250); if (position >= duration) halt(); else update(); }, 250);
  update();
};
addEventListener("message", (event) => {
  const command = event.data && event.data.command;
  window.heard.push(command);
  if (command === "load_complete_ack") acked = true;
  if (!acked) return;
  if (command === "play") { position = 0; run(); }
  if (command === "resume") run();
  if (command === "pause") halt();
  if (command === "seek") { position = event.data.timestamp * 1000; update(); }
});
say("ready", {});
</script>`;
}

/** Spotify's songs keep playing (with a stand-in embed, see standInEmbed):
 *  Play opens the embed for the row's track, in the page's one frame; the
 *  embed's end (no "ended" event: its updates reach its duration) moves
 *  the queue to the next song by itself, in the same frame; pause and Next
 *  reach the embed. Nothing went to Spotify before Play was pressed, and
 *  the page itself never loaded a script from another origin. */
async function checkPlayer(page, traffic) {
  const early = traffic.requests.filter((r) => r.includes("spotify.com"));
  if (early.length > 0) fail(`Spotify was contacted before Play: ${early.join(", ")}`);
  const origin = new URL(page.url()).origin;
  const foreignScripts = [];
  page.on("request", (request) => {
    if (request.resourceType() === "script" && request.frame() === page.mainFrame() && new URL(request.url()).origin !== origin) {
      foreignScripts.push(request.url());
    }
  });
  let embeds = 0;
  await page.route("https://open.spotify.com/embed/track/**", (route) =>
    route.fulfill({ contentType: "text/html", body: standInEmbed(embeds++ === 0 ? 2500 : 600000) }));
  // An uplift list for a sad mood (set by hand, so the camera cannot change
  // it meanwhile) walks through the audio-feature songs, which have ids.
  await page.click("#mood-chips button[data-emotion=sad]");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=reason]")].some((r) => /sad/.test(r.textContent)),
    null, { timeout: 15000 });
  const before = await page.$$eval("[data-testid=song] a", (as) => as.map((a) => a.textContent).join("\n"));
  await page.click("label[for=mode-uplift]");
  await page.waitForFunction((old) => [...document.querySelectorAll("[data-testid=song] a")]
    .map((a) => a.textContent).join("\n") !== old, before, { timeout: 15000 });
  const playable = await page.$$eval("[data-testid=song]", (rows) => rows
    .filter((row) => row.querySelector("[data-testid=play]"))
    .map((row) => row.getAttribute("data-spotify-id")));
  if (playable.length < 3) fail(`only ${playable.length} playable songs`);
  const embed = (n) => `https://open.spotify.com/embed/track/${playable[n]}`;
  const frameSrc = () => page.getAttribute("[data-testid=player-frame]", "src");
  const waitForFrame = async (n, what) => {
    await page.waitForFunction((url) => document.querySelector("[data-testid=player-frame]")?.getAttribute("src") === url,
      embed(n), { timeout: 15000 }).catch(async () => fail(`${what}: the player shows ${await frameSrc()}, not ${embed(n)}`));
  };
  const heard = async (n) => {
    const frame = page.frames().find((f) => f.url() === embed(n));
    return frame ? frame.evaluate(() => window.heard) : null;
  };
  const waitForHeard = async (n, command, what) => {
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if ((await heard(n).catch(() => null))?.includes(command)) return;
      await page.waitForTimeout(100);
    }
    fail(`${what}: the embed heard ${JSON.stringify(await heard(n).catch(() => null))}, no "${command}"`);
  };
  const startedAt = Date.now();
  await page.click("[data-testid=song] [data-testid=play]");
  await waitForFrame(0, "Play");
  await waitForHeard(0, "play", "Play");
  await page.waitForSelector("[data-testid=player-toggle][aria-label=Pause]", { timeout: 5000 })
    .catch(() => fail("a Spotify song playing: the toggle does not offer Pause"));
  // The song ends (2.5 s); the queue moves on by itself, in the same frame.
  await waitForFrame(1, "at the end of a Spotify song");
  await waitForHeard(1, "play", "the next Spotify song");
  const movedS = (Date.now() - startedAt) / 1000;
  if ((await page.$$("[data-testid=player-frame]")).length !== 1) fail("more than one Spotify frame");
  await page.click("[data-testid=player-toggle]");
  await waitForHeard(1, "pause", "the player's pause");
  await page.click("[data-testid=player-next]");
  await waitForFrame(2, "Next");
  await waitForHeard(2, "play", "Next");
  if (foreignScripts.length > 0) fail(`the page loaded scripts from other origins: ${foreignScripts.join(", ")}`);
  const scripts = await page.$$eval("script[src]", (scripts) => scripts.map((s) => s.src));
  if (scripts.some((src) => new URL(src).origin !== origin)) fail(`the page holds scripts from other origins: ${scripts.join(", ")}`);
  log(`Spotify: Play opened ${embed(0)}; at its end (2.5 s) the queue moved on to ${embed(1)} by itself (${movedS.toFixed(1)} s after Play, one frame); pause and Next reached the embed; no script from another origin in the page`);
  await page.click("#player-close");
  await page.unroute("https://open.spotify.com/embed/track/**");
  await page.click("label[for=mode-match]");
  await page.click("[data-testid=follow-face]");
}

/** Adds three short Wesnoth tracks to the library of `dataDir`
 *  (`melodora library add`, while a server may be running on it). */
function addLibrary(work, dataDir) {
  const music = join(work, "music");
  mkdirSync(music, { recursive: true });
  for (const track of ["defeat.ogg", "defeat2.ogg", "elf-land.ogg"]) copyFileSync(join(WESNOTH, track), join(music, track));
  execFileSync(bin, ["library", "add", music, "--data-dir", dataDir], { stdio: ["ignore", "pipe", "inherit"] });
}

/** The listener's own music (see addLibrary): a new page lists it (its
 *  default once there is a library), plays one song whole in an <audio>
 *  element from `audioUrl` (answered as `answer` says), and "everything"
 *  brings the catalog back. No file path ever reaches the page. */
async function checkLibrary(browser, port, what, audioUrl, answer) {
  const page = await openPage(browser, port, true, (page) => page.addInitScript(() => {
    // Which Media Session actions the page hands to the system (the API cannot be asked).
    window.__mediaActions = [];
    const set = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
    navigator.mediaSession.setActionHandler = (action, handler) => { window.__mediaActions.push(action); set(action, handler); };
  }));
  const audioAnswers = [];
  page.on("response", (response) => {
    if (/\/api\/library\/|\/static\/library\//.test(response.url())) audioAnswers.push(`${response.status()} ${response.headers()["content-type"]}`);
  });
  await page.waitForSelector("[data-testid=source-choice]:not(.d-none) button[data-source=library][aria-pressed=true]", { timeout: 15000 });
  await page.click("#mood-chips button[data-emotion=sad]");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("[data-testid=song]")];
    return rows.length === 3 && rows.every((row) => row.getAttribute("data-library") === "true");
  }, null, { timeout: 15000 });
  const reasons = await page.$$eval("[data-testid=reason]", (rs) => rs.map((r) => r.textContent));
  if (!reasons.every((r) => /^sounds \w+ and \w+ \(valence -?\d\.\d, arousal -?\d\.\d, from its audio\)/.test(r))) fail(`library reasons: ${reasons.join(" | ")}`);
  // How long from Play to the first sound: timed in the page, from the click to the audio's "playing".
  await page.evaluate(() => {
    document.addEventListener("click", () => { window.__playClicked = performance.now(); }, { capture: true, once: true });
    for (const audio of document.querySelectorAll("[data-testid=player-audio]")) {
      audio.addEventListener("playing", () => { window.__playStarted ??= performance.now(); }, { once: true });
    }
  });
  await page.click("[data-testid=song] [data-testid=play]");
  await page.waitForFunction(() => {
    const audio = document.querySelector("[data-testid=player-audio][data-active]");
    return audio && !audio.paused && audio.currentTime > 0.5;
  }, null, { timeout: 15000 });
  const src = await page.getAttribute("[data-testid=player-audio][data-active]", "src");
  if (!audioUrl.test(src)) fail(`the player plays ${src}`);
  if (!audioAnswers.some((a) => answer.test(a))) fail(`library answers: ${audioAnswers.join(", ")}`);
  const text = await page.textContent("body");
  if (text.includes("/music/") || text.includes(".ogg")) fail("a file path reached the page");
  const startMs = await page.evaluate(() => window.__playStarted - window.__playClicked);
  log(`library (${what}): 3 songs heard and listed; playing ${src} (${audioAnswers.join(", ")}), ${startMs.toFixed(0)} ms from Play to sound`);
  await screenshot(page, `library-${what}.png`, what === "server" ? process.env.E2E_PLAYER_SCREENSHOT : undefined);
  if (what === "server") await checkLibraryPlayer(page);
  await page.click("button[data-source=all]");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=song]")].some((row) => !row.hasAttribute("data-library")),
    null, { timeout: 15000 });
  await checkAccessibility(page, `library, ${what}`);
  await page.context().close();
}

/** The song in the player's active <audio> element: its track id, and where it is. */
function activeSong(page) {
  return page.evaluate(() => {
    const audio = document.querySelector("[data-testid=player-audio][data-active]");
    const id = /tracks\/(\d+)\/audio/.exec(audio?.getAttribute("src") || "");
    return audio && { id: id ? Number(id[1]) : null, paused: audio.paused, at: audio.currentTime, duration: audio.duration };
  });
}

/** Waits until the player's active song is another than `id`, playing. */
async function waitForAnotherSong(page, id, what) {
  try {
    await page.waitForFunction((id) => {
      const audio = document.querySelector("[data-testid=player-audio][data-active]");
      return audio && !audio.getAttribute("src").includes(`/tracks/${id}/`) && !audio.paused && audio.currentTime > 0.1;
    }, id, { timeout: 20000 });
  } catch (error) {
    fail(`${what}: the player stayed on song ${id}`);
  }
  return activeSong(page);
}

/** Moves the playing song to `secondsLeft` before its end with the player's position slider. */
async function seekToEnd(page, secondsLeft) {
  const { duration } = await activeSong(page);
  await page.$eval("[data-testid=player-seek]", (slider, at) => {
    slider.value = String(at);
    slider.dispatchEvent(new Event("change"));
  }, Math.max(0, Math.floor(duration - secondsLeft)));
}

/** The player (issue 37), on the server's library of three tracks, with a
 *  library song playing: the Media Session shows it and takes the media
 *  keys; the queue moves on by itself, without crossfade (the gap between
 *  one song's end and the next one's sound is logged) and with one (the
 *  two songs overlap); a new mood leaves the song playing, re-plans what
 *  follows and offers "switch now", which cuts over; like and skip from
 *  the player reach the recommender; the keyboard drives it. */
async function checkLibraryPlayer(page) {
  const played = new Set();
  let song = await activeSong(page);
  played.add(song.id);
  const session = await page.evaluate(() => ({
    title: navigator.mediaSession.metadata?.title, artist: navigator.mediaSession.metadata?.artist,
    state: navigator.mediaSession.playbackState, actions: window.__mediaActions,
  }));
  const shown = await page.textContent("[data-testid=player-title]");
  if (!session.title || shown !== `${session.title} · ${session.artist}`) fail(`media session shows ${JSON.stringify(session)}, the player ${shown}`);
  if (session.state !== "playing") fail(`media session state ${session.state}`);
  for (const action of ["play", "pause", "nexttrack", "previoustrack", "seekto"]) {
    if (!session.actions.includes(action)) fail(`no media session handler for ${action}: ${session.actions}`);
  }

  // Without crossfade: the next song follows the end of this one.
  await page.selectOption("[data-testid=player-crossfade]", "0");
  await page.evaluate(() => {
    window.__endedAt = null;
    window.__gapMs = null;
    for (const audio of document.querySelectorAll("[data-testid=player-audio]")) {
      audio.addEventListener("ended", () => { window.__endedAt = performance.now(); });
      audio.addEventListener("playing", () => {
        if (window.__endedAt !== null && window.__gapMs === null) window.__gapMs = performance.now() - window.__endedAt;
      });
    }
  });
  await seekToEnd(page, 1.5);
  song = await waitForAnotherSong(page, song.id, "at the end of a song without crossfade");
  played.add(song.id);
  const gapMs = await page.evaluate(() => window.__gapMs);
  if (gapMs === null) fail("the next song did not start after the end of the last");
  log(`player: the queue moved on by itself; ${gapMs.toFixed(1)} ms from one song's end to the next one's sound (crossfade off)`);

  // With a 3 s crossfade, both songs play at once for a while.
  await page.selectOption("[data-testid=player-crossfade]", "3");
  await page.evaluate(() => {
    window.__overlap = false;
    const audios = [...document.querySelectorAll("[data-testid=player-audio]")];
    const look = () => { if (audios.every((a) => !a.paused && a.currentTime > 0)) window.__overlap = true; };
    for (const audio of audios) audio.addEventListener("timeupdate", look);
  });
  await seekToEnd(page, 5);
  song = await waitForAnotherSong(page, song.id, "with a crossfade");
  played.add(song.id);
  await page.waitForFunction(() => window.__overlap, null, { timeout: 10000 }).catch(() => fail("the crossfade did not overlap two songs"));
  log("player: with a 3 s crossfade two songs played at once, and the queue moved on");

  // A new mood: the song plays on, what follows is re-planned, and "switch now" cuts over.
  const before = await page.textContent("[data-testid=player-up-next]");
  // When the new list is drawn, and when "Up next" follows it (the re-plan's time).
  await page.evaluate(() => {
    window.__listAt = null;
    window.__replanMs = null;
    new MutationObserver(() => { window.__listAt ??= performance.now(); })
      .observe(document.querySelector("#songs"), { childList: true });
    new MutationObserver(() => {
      if (window.__listAt !== null && window.__replanMs === null) window.__replanMs = performance.now() - window.__listAt;
    }).observe(document.querySelector("[data-testid=player-up-next]"), { childList: true, characterData: true, subtree: true });
  });
  await page.click("#mood-chips button[data-emotion=happy]");
  await page.waitForSelector("[data-testid=player-switch]:not(.d-none)", { timeout: 15000 });
  const still = await activeSong(page);
  if (still.id !== song.id || still.paused) fail(`a new mood cut the song playing (${song.id} → ${JSON.stringify(still)})`);
  const upNext = await page.textContent("[data-testid=player-up-next]");
  const rows = await page.$$eval("[data-testid=song]", (rows) => rows.map((row) => ({
    id: Number(row.getAttribute("data-song-id")),
    title: row.querySelector(".title .fw-semibold, .title a")?.textContent,
    playable: !!row.querySelector("[data-testid=play]"),
  })));
  // As the queue plans it: the first song not played yet, else on round the list from the one playing.
  const at = rows.findIndex((row) => row.id === song.id);
  const expected = rows.find((row) => row.playable && !played.has(row.id) && row.id !== song.id)
    || [...rows.slice(at + 1), ...rows.slice(0, Math.max(at, 0))].find((row) => row.playable && row.id !== song.id);
  if (!expected || !upNext.startsWith(`Up next: ${expected.title} · `)) fail(`up next after the new mood: "${upNext}" (before: "${before}"), the list: ${JSON.stringify(rows)}`);
  await page.click("[data-testid=player-switch]");
  song = await waitForAnotherSong(page, song.id, "switch now");
  if (song.id !== expected.id) fail(`switch now played ${song.id}, not ${expected.id}`);
  const replanMs = await page.evaluate(() => window.__replanMs);
  log(`player: a new mood left the song playing, re-planned "${upNext}" ${replanMs === null ? "(the same song)" : `${replanMs.toFixed(1)} ms after the new list was drawn`}, and "switch now" played it`);

  // Like and skip from the player reach the recommender (the row shows the verdict it recorded).
  await page.click("[data-testid=player-like]");
  await page.waitForSelector(`[data-testid=song][data-song-id="${song.id}"][data-marked=like]`, { timeout: 10000 });
  const skipped = song.id;
  await page.click("[data-testid=player-skip]");
  song = await waitForAnotherSong(page, skipped, "skip from the player");
  await page.waitForSelector(`[data-testid=song][data-song-id="${skipped}"][data-marked=skip]`, { timeout: 10000 });

  // The keyboard: space pauses and plays, N moves on, ? shows the keys.
  await page.locator("h2").first().click();
  await page.keyboard.press(" ");
  await page.waitForFunction(() => document.querySelector("[data-testid=player-audio][data-active]").paused, null, { timeout: 5000 });
  await page.waitForSelector("[data-testid=player-toggle][aria-label=Play]", { timeout: 5000 })
    .catch(() => fail("paused, the toggle does not offer Play"));
  await page.keyboard.press(" ");
  await page.waitForFunction(() => !document.querySelector("[data-testid=player-audio][data-active]").paused, null, { timeout: 5000 });
  await page.keyboard.press("n");
  song = await waitForAnotherSong(page, song.id, "the N key");
  await page.keyboard.press("?");
  await page.waitForSelector("[data-testid=keys-help][open]", { timeout: 5000 });
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=keys-help]:not([open])", { state: "attached", timeout: 5000 });
  const said = await page.textContent("[data-testid=player-announce]");
  if (!/^Now playing .+ by .+\.$/.test(said)) fail(`the screen reader line says "${said}"`);
  log("player: like and skip reached the recommender; space, N and ? work; the live region says what plays");

  // What played: listed newest first with its mood, drawn under the mood timeline, saved as CSV and M3U8.
  await page.click("#history-summary");
  const plays = await page.$$eval("[data-testid=history-play]", (items) => items.map((item) => item.textContent));
  const playing = await page.textContent("[data-testid=player-title]");
  if (plays.length < 6 || !plays[0].includes(playing.split(" · ")[0])) fail(`what played: ${plays.join(" | ")} (playing ${playing})`);
  if (!plays.some((p) => p.includes("sad")) || !plays.some((p) => p.includes("happy"))) fail(`the moods songs played under: ${plays.join(" | ")}`);
  const drawn = await page.$eval("[data-testid=plays-timeline]", (canvas) =>
    canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data.some((v, i) => i % 4 === 3 && v > 0));
  if (!drawn) fail("the plays timeline is empty");
  const saved = async (button) => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    return { name: download.suggestedFilename(), text: readFileSync(await download.path(), "utf8") };
  };
  const history = await saved("[data-testid=save-history-csv]");
  const lines = history.text.trim().split("\r\n");
  if (history.name !== "melodora-history.csv" || lines[0] !== "played_at,title,artist,spotify_link,mood,reason" || lines.length !== plays.length + 1) {
    fail(`history CSV ${history.name}: ${history.text.slice(0, 300)}`);
  }
  const listed = (await page.$$("[data-testid=song][data-library]")).length;
  const list = await saved("[data-testid=save-list-m3u8]");
  const entries = list.text.split("\n").filter((line) => line.startsWith("http"));
  if (!list.text.startsWith("#EXTM3U\n#EXTINF:") || listed < 2 || entries.length !== listed || !entries.every((e) => /^http:\/\/127\.0\.0\.1:\d+\/api\/library\/tracks\/\d+\/audio$/.test(e))) {
    fail(`list M3U8: ${list.text}`);
  }
  log(`player: ${plays.length} plays listed and drawn; the history saved as CSV (${lines.length - 1} rows), the list as M3U8 (${entries.length} files)`);

  // The server kept the same history for this browser's profile; a
  // browser that lost its own copy shows the server's; Forget it forgets both.
  const served = () => page.evaluate(async () => {
    const response = await fetch("api/plays?limit=500&profile=" + encodeURIComponent(localStorage.getItem("melodora.profile")));
    return (await response.json()).plays.map((p) => p.title);
  });
  const onServer = await served();
  const inPage = await page.evaluate(() => JSON.parse(localStorage.getItem("melodora.plays")).map((p) => p.title).reverse());
  if (JSON.stringify(onServer) !== JSON.stringify(inPage)) fail(`the server kept ${JSON.stringify(onServer)}, the page ${JSON.stringify(inPage)}`);
  await page.evaluate(() => localStorage.removeItem("melodora.plays"));
  await page.reload();
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=history-play]").length === Math.min(n, 50), onServer.length, { timeout: 15000 })
    .catch(() => fail("a browser without its history did not show the server's"));
  await page.click("#history-summary");
  await page.click("#history-forget");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=history-play]").length === 0, null, { timeout: 10000 });
  const left = await served();
  if (left.length !== 0) fail(`Forget it left ${left.length} plays on the server`);
  log(`player: the server kept the profile's ${onServer.length} plays, a browser that lost its own showed them, and Forget it forgot both`);
}

/** "Add my music folder": a folder of two Wesnoth tracks, a text file
 *  named .mp3 and a note is heard in the page's music worker; the tracks
 *  become the list (from "this folder") and one plays from its object URL;
 *  the broken file is listed with why. Nothing of the folder leaves the
 *  page: no request after the pick but the page's own static files, no
 *  command naming a file. Picked again, nothing is heard again (IndexedDB).
 *  "everything" hands the list back to the server. */
async function checkFolder(page, traffic, work) {
  const folder = join(work, "folder", "Wesnoth");
  mkdirSync(folder, { recursive: true });
  for (const track of ["defeat.ogg", "elf-land.ogg"]) copyFileSync(join(WESNOTH, track), join(folder, track));
  writeFileSync(join(folder, "broken.mp3"), "a text file named like a song");
  writeFileSync(join(folder, "notes.txt"), "not music");
  const requestsBefore = traffic.requests.length, commandsBefore = traffic.commands.length;
  await page.click("#mood-chips button[data-emotion=sad]");
  await page.setInputFiles("[data-testid=folder-files]", dirname(folder));
  await page.waitForFunction(() => /^2 songs from your folder \(2 heard now, 0 known from before, 1 could not be heard/
    .test(document.querySelector("[data-testid=folder-info]").textContent), null, { timeout: 60000 });
  const skipped = await page.textContent("#folder-skipped-list");
  if (!/broken\.mp3: (unsupported: not a format|not decodable)/.test(skipped)) fail(`the broken file: ${skipped}`);
  await page.waitForSelector("button[data-source=folder][aria-pressed=true]", { timeout: 5000 });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("[data-testid=song]")];
    return rows.length === 2 && rows.every((row) => row.getAttribute("data-library") === "true" && Number(row.getAttribute("data-song-id")) < 0);
  }, null, { timeout: 15000 });
  await page.click("[data-testid=song] [data-testid=play]");
  await page.waitForFunction(() => {
    const audio = document.querySelector("[data-testid=player-audio][data-active]");
    return audio && audio.src.startsWith("blob:") && !audio.paused && audio.currentTime > 0.3;
  }, null, { timeout: 15000 });
  log(`folder: ${await page.textContent("[data-testid=folder-info]")}`);
  const after = traffic.requests.slice(requestsBefore);
  // (The page's icon may be fetched whenever the browser likes.)
  const unexpected = after.filter((r) => !/^GET https:\/\/127\.0\.0\.1:\d+\/static\/(music\/worker\.js|wasm\/melodora_wasm(_audio)?(_bg\.wasm|\.js)|icons\/icon-192\.png)$/.test(r)
    && !r.startsWith("GET blob:"));
  if (unexpected.length) fail(`requests after picking the folder: ${unexpected.join(", ")}`);
  const said = JSON.stringify(traffic.commands.slice(commandsBefore));
  if (/defeat|elf-land|broken|Wesnoth|folder/.test(said)) fail(`a command named the folder: ${said}`);

  await page.click("#player-close");
  await page.setInputFiles("[data-testid=folder-files]", dirname(folder));
  await page.waitForFunction(() => /^2 songs from your folder \(0 heard now, 2 known from before/
    .test(document.querySelector("[data-testid=folder-info]").textContent), null, { timeout: 30000 });
  await page.click("button[data-source=all]");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=song]")].some((row) => !row.hasAttribute("data-library")),
    null, { timeout: 15000 });
  await page.click("[data-testid=follow-face]");
  log("folder: picked again, nothing heard again; 'everything' brings the server's list back");
}

/** Calibration: while the clip shows the sad face (standing in for a
 *  resting face that reads sad), Calibrate takes 3 s of it; from then on
 *  that face reads neutral. The calibration is kept in the browser (on
 *  device) and Reset takes it back. */
async function checkCalibration(page) {
  await waitForMood(page, "sad", 30000);
  await page.click("[data-testid=calibrate]");
  await page.waitForFunction(() => /^(Calibrated|Not calibrated)/.test(document.querySelector("[data-testid=calibration-info]").textContent),
    null, { timeout: 15000 });
  const info = await page.textContent("[data-testid=calibration-info]");
  if (!info.startsWith("Calibrated: your relaxed face read sad and now reads neutral")) fail(`calibration: ${info}`);
  if (!(await page.isVisible("[data-testid=calibrated]"))) fail("no calibrated badge");
  const kept = await page.evaluate(() => JSON.parse(localStorage.getItem("melodora.calibration")));
  if (!kept || !(kept.sad < 0)) fail(`calibration not kept in the browser: ${JSON.stringify(kept)}`);
  // The next time the clip shows that face, it reads neutral.
  await waitForMood(page, "neutral", 30000);
  log(`${info} (sad offset ${kept.sad.toFixed(2)}); the sad face now reads neutral`);
  await page.click("[data-testid=calibration-reset]");
  if (!(await page.isHidden("[data-testid=calibrated]"))) fail("the calibrated badge stayed after Reset");
  if (await page.evaluate(() => localStorage.getItem("melodora.calibration"))) fail("Reset left the calibration kept");
  await waitForMood(page, "sad", 30000);
  log("reset: the face reads sad again");
}

/** The list's titles once they have stayed the same for 1.5 s (at most
 *  15 s), for checks that compare the list before and after something.
 *  @param {() => Promise<string>} titles */
async function quietList(page, titles) {
  let last = await titles();
  let quietSince = Date.now();
  const deadline = Date.now() + 15000;
  while (Date.now() - quietSince < 1500) {
    if (Date.now() > deadline) fail("the playlist kept changing for 15 s");
    await page.waitForTimeout(250);
    const now = await titles();
    if (now !== last) { last = now; quietSince = Date.now(); }
  }
  return last;
}

/** A photo instead of the camera: a file that is not an image, and a
 *  photo without a face, are refused with a message and the list stays;
 *  the happy face's photo sets the mood to happy (as a chip would) and the
 *  list follows it; Follow my face returns to the camera. */
async function checkPhoto(page, work) {
  const titles = () => page.$$eval("[data-testid=song] a", (as) => as.map((a) => a.textContent).join("\n"));
  const info = () => page.textContent("[data-testid=photo-info]");
  const settled = () => page.waitForFunction(() => /^(That photo|Your photo)/.test(document.querySelector("[data-testid=photo-info]").textContent),
    null, { timeout: 20000 });
  if (await page.isVisible("[data-testid=follow-face]")) await page.click("[data-testid=follow-face]");
  await page.click("label[for=mode-match]");
  await page.click("#mood-chips button[data-emotion=sad]");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=reason]")].every((r) => /sad/.test(r.textContent)),
    null, { timeout: 15000 });
  // The face may have read sad already, so a list that answered the face
  // (or the mode) can be on screen before the chip's own list arrives:
  // take "before" only once the list has stopped changing.
  const before = await quietList(page, titles);
  await page.setInputFiles("[data-testid=photo-input]", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a photo") });
  await settled();
  if (!/^That photo is not an image .*the playlist stays as it was/.test(await info())) fail(`not an image: ${await info()}`);
  await page.setInputFiles("[data-testid=photo-input]", join(root, "crates/vision/tests/fixtures/parity/images/noface_flat_gray_640x480.png"));
  await page.waitForFunction(() => /has no face/.test(document.querySelector("[data-testid=photo-info]").textContent), null, { timeout: 20000 });
  if ((await titles()) !== before) fail("a refused photo changed the list");
  log(`refused: ${await info()}`);
  await page.setInputFiles("[data-testid=photo-input]", join(work, "happy.png"));
  await page.waitForFunction(() => /^Your photo/.test(document.querySelector("[data-testid=photo-info]").textContent), null, { timeout: 20000 });
  if (!/reads happy/.test(await info())) fail(`the happy photo: ${await info()}`);
  await page.waitForFunction(() => {
    const rs = [...document.querySelectorAll("[data-testid=reason]")].map((r) => r.textContent);
    return rs.length >= 10 && rs.every((r) => /happy/.test(r));
  }, null, { timeout: 15000 });
  if (!(await page.isVisible("[data-testid=photo]"))) fail("the photo is not shown");
  if (!/from your photo/.test(await page.textContent("[data-testid=manual-info]"))) fail("the mood is not marked as the photo's");
  log(`${await info()} -> ${(await page.$$("[data-testid=song]")).length} happy songs`);
  await page.click("[data-testid=follow-face]");
  if (!(await page.isHidden("[data-testid=photo]"))) fail("Follow my face left the photo on the stage");
}

/** axe-core's automated accessibility check of the page as it is now (run
 *  through DevTools, so the page's CSP is left as it is): no serious or
 *  critical violation. */
async function checkAccessibility(page, what) {
  // The page at rest: no button under the mouse mid-way through its hover
  // transition (colours between two states are not the page's colours).
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.waitForTimeout(400);
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 25).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").slice(0, 300)) }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length > 0) fail(`accessibility (${what}): ${JSON.stringify(bad, null, 1)}`);
  log(`axe (${what}): no serious or critical violations` +
    (violations.length ? ` (${violations.length} lesser: ${violations.map((v) => v.id).join(", ")})` : ""));
}

/** The page on a 390x844 phone: a playlist, no horizontal overflow, every
 *  button inside the screen and at least 44 px high (a thumb's target),
 *  and the video and mood above the playlist. */
async function checkPhone(browser, origin) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  try {
    await context.grantPermissions(["camera"], { origin });
    const page = await context.newPage();
    page.on("pageerror", (e) => fail(`page error: ${e.message}`));
    await page.goto(`${origin}/`);
    await waitForDetecting(page);
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=song]").length >= 10, null, { timeout: 60000 });
    const layout = await page.evaluate(() => {
      const box = (el) => el.getBoundingClientRect();
      const buttons = [...document.querySelectorAll("button, label.btn")]
        .filter((b) => b.offsetParent !== null)
        .map((b) => ({ text: b.textContent.trim(), left: box(b).left + scrollX, right: box(b).right + scrollX, height: box(b).height }));
      return {
        scrollWidth: document.documentElement.scrollWidth,
        width: innerWidth,
        buttons,
        stageBottom: box(document.getElementById("stage")).bottom,
        moodBottom: box(document.getElementById("mood")).bottom,
        playlistTop: box(document.querySelector("[data-testid=song]")).top,
      };
    });
    if (layout.width !== 390) fail(`viewport ${layout.width}`);
    if (layout.scrollWidth !== layout.width) fail(`the phone page scrolls sideways: scroll width ${layout.scrollWidth} at ${layout.width}`);
    const outside = layout.buttons.filter((b) => b.left < 0 || b.right > layout.width + 0.5);
    if (outside.length) fail(`buttons off the screen: ${JSON.stringify(outside)}`);
    const small = layout.buttons.filter((b) => b.height < 43.5);
    if (small.length) fail(`buttons under 44 px: ${JSON.stringify(small)}`);
    if (!(layout.stageBottom <= layout.playlistTop && layout.moodBottom <= layout.playlistTop)) fail(`the video or mood is not above the playlist: ${JSON.stringify(layout)}`);
    log(`phone 390x844: scroll width ${layout.scrollWidth}, ${layout.buttons.length} buttons on screen and >= 44 px, video and mood above the playlist`);
    await screenshot(page, "phone.png");
    // With the player open (a Spotify song: its controls, and the embed's frame).
    await page.click("[data-testid=song] [data-testid=play]");
    await page.waitForSelector("[data-testid=player]:not(.d-none)", { timeout: 10000 });
    const playing = await page.evaluate(() => {
      const buttons = [...document.querySelectorAll("#player button")].filter((b) => b.offsetParent !== null)
        .map((b) => ({ text: b.textContent.trim(), left: b.getBoundingClientRect().left, right: b.getBoundingClientRect().right, height: b.getBoundingClientRect().height }));
      return { scrollWidth: document.documentElement.scrollWidth, buttons };
    });
    if (playing.scrollWidth !== 390) fail(`with the player open the phone page scrolls sideways: ${playing.scrollWidth}`);
    const cramped = playing.buttons.filter((b) => b.left < 0 || b.right > 390.5 || b.height < 43.5);
    if (playing.buttons.length < 5 || cramped.length) fail(`the player's buttons on a phone: ${JSON.stringify(playing.buttons)}`);
    log(`phone 390x844 with the player open: ${playing.buttons.length} player buttons on screen and >= 44 px, no sideways scroll`);
    await screenshot(page, "phone-player.png");
  } finally {
    await context.close();
  }
}

/** Calibration with the server analysing: a page whose WebSocket answers
 *  are edited in flight (two faces, then none, in every frame) is refused
 *  with a message each time; unedited, Calibrate is made and kept by the
 *  server for the profile (a reload is still calibrated, from the hello),
 *  and Reset forgets it there. */
async function checkServerCalibration(browser, port) {
  let edit = null;                // "several", "none" or null: what frames say
  const page = await openPage(browser, port, true, async (page) => {
    await page.addInitScript(() => { delete globalThis.WebAssembly; });
    await page.routeWebSocket(/\/ws(\?|$)/, (ws) => {
      const server = ws.connectToServer();
      server.onMessage((message) => {
        if (edit && typeof message === "string") {
          const parsed = JSON.parse(message);
          if (parsed.type === "frame" && parsed.faces.length) {
            parsed.faces = edit === "several" ? [parsed.faces[0], { ...parsed.faces[0], x: 0, y: 0 }] : [];
            message = JSON.stringify(parsed);
          }
        }
        ws.send(message);
      });
    });
  });
  const info = () => page.textContent("[data-testid=calibration-info]");
  const calibrate = async () => {
    await page.click("[data-testid=calibrate]");
    await page.waitForFunction(() => /^(Calibrated|Not calibrated)/.test(document.querySelector("[data-testid=calibration-info]").textContent),
      null, { timeout: 20000 });
    return info();
  };
  try {
    edit = "several";
    if (!/^Not calibrated: several faces/.test(await calibrate())) fail(`several faces: ${await info()}`);
    edit = "none";
    if (!/^Not calibrated: your face was not seen/.test(await calibrate())) fail(`no face: ${await info()}`);
    if (await page.isVisible("[data-testid=calibrated]")) fail("a refused calibration shows as calibrated");
    log(`refused: several faces, then no face ("${await info()}")`);
    edit = null;
    if (!/^Calibrated: /.test(await calibrate())) fail(`server calibration: ${await info()}`);
    await page.reload();
    await waitForDetecting(page);
    await page.waitForSelector("[data-testid=calibrated]", { state: "visible", timeout: 10000 });
    log(`${await page.textContent("[data-testid=calibrate]")}: the server kept the calibration across a reload`);
    await page.click("[data-testid=calibration-reset]");
    await page.reload();
    await waitForDetecting(page);
    await page.waitForTimeout(1000);
    if (await page.isVisible("[data-testid=calibrated]")) fail("Reset did not forget the server's calibration");
    log("reset: forgotten by the server");
  } finally {
    await page.context().close();
  }
}

/** Paused (no frames, so no mood change), Like marks the song and keeps the list. */
async function checkLikeKeepsTheList(page) {
  await page.click("#pause");
  const titles = () => page.$$eval("[data-testid=song] a", (as) => as.map((a) => a.textContent).join("\n"));
  // A frame in flight when pausing may still bring a list: wait until the list holds still.
  let before = await titles();
  for (let settled = 0; settled < 2;) {
    await page.waitForTimeout(500);
    const now = await titles();
    settled = now === before ? settled + 1 : 0;
    before = now;
  }
  await page.click("[data-testid=song] button[data-verdict=like]");
  await page.waitForFunction(
    () => document.querySelector("[data-testid=song] button[data-verdict=like]").classList.contains("btn-success"),
    null, { timeout: 10000 });
  const after = await titles();
  if (after !== before) fail(`Like replaced the list:\n${before}\n->\n${after}`);
  log("Like marked the song and kept the list");
  await page.click("#pause");
}

async function screenshot(page, name, copyTo) {
  await page.waitForTimeout(500);
  const shot = join(out, name);
  await page.screenshot({ path: shot });
  if (copyTo) copyFileSync(shot, resolve(root, copyTo));
  log(`screenshot: ${shot}`);
}

async function openPage(browser, port, withCamera, prepare = async () => {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (withCamera) await context.grantPermissions(["camera"], { origin: `http://127.0.0.1:${port}` });
  const page = await context.newPage();
  await prepare(page);
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") log("page:", m.text()); });
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitForDetecting(page);
  return page;
}

async function waitForDetecting(page) {
  await page.waitForFunction(() => document.querySelector("[data-testid=status]").textContent === "detecting", null, { timeout: 30000 });
}

/** What the page sends: WebSocket messages (binary ones counted, text ones
 *  parsed) and HTTP requests, from the moment it is watched. */
function watchTraffic(page) {
  const traffic = { binaryFrames: 0, commands: [], requests: [] };
  page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => {
      if (typeof payload === "string") traffic.commands.push(JSON.parse(payload));
      else traffic.binaryFrames++;
    });
  });
  page.on("request", (request) => traffic.requests.push(`${request.method()} ${request.url()}`));
  return traffic;
}

function cameraBrowser(clip, extraArgs = []) {
  return launchBrowser({
    args: [
      // The player moves on by itself; headless, no click would ever have started it.
      "--autoplay-policy=no-user-gesture-required",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-video-capture=${clip}`,
      ...extraArgs,
    ],
  });
}

async function expectOverlayBox(page) {
  const painted = await overlayHasDrawing(page);
  if (painted < 100) fail(`no face box on the overlay (${painted} painted pixels)`);
  log(`overlay: ${painted} painted pixels`);
}

/** The page analyses its (fake) webcam itself; only moods reach the server. */
export async function onDeviceMode(clip, work) {
  log("on-device mode (the default), over HTTPS with a self-signed certificate");
  const port = await freePort();
  const dataDir = join(work, "data-device");
  const server = await startServer(port, dataDir, ["--tls-self-signed"]);
  // Chromium trusts this certificate's key and nothing else it would refuse.
  const pem = readFileSync(join(dataDir, "tls/self-signed-cert.pem"));
  const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  const pin = createHash("sha256").update(spki).digest("base64");
  const browser = await cameraBrowser(clip, [`--ignore-certificate-errors-spki-list=${pin}`]);
  try {
    const origin = `https://127.0.0.1:${port}`;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(["camera"], { origin });
    const page = await context.newPage();
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") log("page:", m.text()); });
    page.on("pageerror", (e) => fail(`page error: ${e.message}`));
    const traffic = watchTraffic(page);
    const sockets = [];
    page.on("websocket", (socket) => sockets.push(socket.url()));
    await page.goto(`${origin}/`);
    await waitForDetecting(page);
    if (!(await page.evaluate(() => window.isSecureContext && location.protocol === "https:"))) fail("the page is not a secure https context");
    if (!sockets.length || !sockets.every((url) => url.startsWith("wss://"))) fail(`WebSockets not over TLS: ${sockets.join(", ")}`);
    // The page listens as a profile of this browser's own (likes, calibration).
    if (!sockets.every((url) => /\/ws\?profile=browser-[0-9a-f]{32}$/.test(url))) fail(`WebSocket without this browser's profile: ${sockets.join(", ")}`);
    log(`https page, WebSocket ${sockets[0]}`);
    await page.waitForFunction(() => document.querySelector("[data-testid=analysis-info]").textContent.startsWith("on this device"), null, { timeout: 30000 });
    if (!(await page.isChecked("#analysis-device"))) fail("on-device analysis is not the chosen default");
    log(`page: ${await page.textContent("[data-testid=analysis-info]")}`);
    await checkMoodsAndSongs(page, () => expectOverlayBox(page));
    await checkLikeKeepsTheList(page);
    await checkManualMood(page);
    await checkPlayer(page, traffic);
    await checkCalibration(page);
    await checkPhoto(page, work);
    await checkAccessibility(page, "on this device");
    await screenshot(page, "webcam.png", process.env.E2E_SCREENSHOT);
    await checkFolder(page, traffic, work);

    // Privacy: nothing but moods, modes and verdicts went to the server.
    if (traffic.binaryFrames > 0) fail(`${traffic.binaryFrames} binary WebSocket messages left the page`);
    const analyze = traffic.requests.filter((r) => r.includes("/api/analyze"));
    if (analyze.length > 0) fail(`the page called the analysis API: ${analyze.join(", ")}`);
    const posts = traffic.requests.filter((r) => !r.startsWith("GET "));
    if (posts.length > 0) fail(`the page sent requests with bodies: ${posts.join(", ")}`);
    const moods = traffic.commands.filter((c) => c.type === "mood").map((c) => c.emotion);
    if (!moods.includes("happy") || !moods.includes("sad")) fail(`the server heard moods ${JSON.stringify(moods)}`);
    const kinds = [...new Set(traffic.commands.map((c) => c.type))].sort();
    if (!kinds.includes("manual")) fail(`the mood set by hand never reached the server: ${JSON.stringify(kinds)}`);
    log(`sent: no binary messages, commands ${JSON.stringify(kinds)}, moods ${JSON.stringify(moods)}`);

    // The switch: on the server, frames are sent; the choice is remembered.
    await page.click("label[for=analysis-server]");
    await page.waitForFunction(() => document.querySelector("[data-testid=analysis-info]").textContent === "", null, { timeout: 5000 });
    const sentBefore = traffic.binaryFrames;
    await page.waitForTimeout(2000);
    if (traffic.binaryFrames <= sentBefore) fail("no frames went to the server after choosing it");
    log(`on the server: ${traffic.binaryFrames - sentBefore} frames sent in 2 s`);
    await page.reload();
    await waitForDetecting(page);
    if (!(await page.isChecked("#analysis-server"))) fail("the choice of the server was not remembered");
    log("the choice survives a reload");
  } finally {
    await browser.close();
    server.kill();
  }
}

/** The page's fallback: it says why and frames go to the server. */
async function expectFallback(page, reason) {
  await page.waitForFunction(() => !document.querySelector("[data-testid=analysis-message]").classList.contains("d-none"), null, { timeout: 30000 });
  const message = await page.textContent("[data-testid=analysis-message]");
  if (!message.includes(reason)) fail(`the fallback message does not say "${reason}": ${message}`);
  log(`page: ${message}`);
  if (!(await page.isDisabled("#analysis-device"))) fail("on-device analysis can still be chosen");
  if (!(await page.isChecked("#analysis-server"))) fail("the page does not show that the server analyses");
}

/** A page without WebAssembly: it says so and sends frames to the server,
 *  which analyses them; so does a page whose analyzer cannot be loaded. */
export async function serverAnalysisMode(clip, work) {
  log("browser camera, server analysis (a page without WebAssembly)");
  const port = await freePort();
  const server = await startServer(port, join(work, "data-browser"));
  const browser = await cameraBrowser(clip);
  try {
    const blocked = await openPage(browser, port, true,
      (page) => page.route("**/static/wasm/**", (route) => route.abort()));
    await expectFallback(blocked, "is not possible");
    await blocked.context().close();
    const corrupt = await openPage(browser, port, true, (page) => page.route("**/static/models/emotion.onnx",
      (route) => route.fulfill({ status: 200, contentType: "application/octet-stream", body: "not a model" })));
    await expectFallback(corrupt, "not an ONNX model");
    await corrupt.context().close();
    await checkServerCalibration(browser, port);

    let traffic;
    const page = await openPage(browser, port, true, async (page) => {
      traffic = watchTraffic(page);
      await page.addInitScript(() => { delete globalThis.WebAssembly; });
    });
    await expectFallback(page, "no WebAssembly");
    await checkMoodsAndSongs(page, () => expectOverlayBox(page));
    if (traffic.binaryFrames === 0) fail("no frames went to the server");
    log(`${traffic.binaryFrames} frames sent to the server`);
    // Without the analyzer in the page, a photo is analysed by the server.
    await checkPhoto(page, work);
    if (!traffic.requests.some((r) => r.startsWith("POST ") && r.includes("/api/analyze"))) fail("the photo did not go to /api/analyze");
    await checkAccessibility(page, "server analysis");
    await screenshot(page, "server-analysis.png");
    await page.context().close();
    addLibrary(work, join(work, "data-browser"));
    await checkLibrary(browser, port, "server", /^api\/library\/tracks\/\d+\/audio$/, /^20[06] audio\/ogg/);
  } finally {
    await browser.close();
    server.kill();
  }
}

// ---- other sites ----------------------------------------------------------

/** A web server for other sites' pages: an empty page at every path. */
async function startOtherSite(port) {
  const site = http.createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end("<!doctype html><title>another site</title>");
  });
  await new Promise((resolveListening) => site.listen(port, "127.0.0.1", resolveListening));
  return site;
}

/** What a page at `siteUrl` can get from Melodora at 127.0.0.1:`port`:
 *  the first message on its WebSocket (or how it closed), the API answer,
 *  and whether /video_feed shows in an <img> (plain and with CORS). */
async function probeFrom(browser, siteUrl, port) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(siteUrl);
    return await page.evaluate(async (target) => {
      const socket = await new Promise((resolveSocket) => {
        const ws = new WebSocket(`ws://${target}/ws`);
        const timer = setTimeout(() => { ws.close(); resolveSocket("no answer"); }, 15000);
        ws.onmessage = (e) => { clearTimeout(timer); ws.close(); resolveSocket(JSON.parse(e.data).type); };
        ws.onclose = (e) => { clearTimeout(timer); resolveSocket(`closed ${e.code}`); };
      });
      let api;
      try {
        const response = await fetch(`http://${target}/api/recommendations?emotion=happy&limit=3`);
        api = `${response.status} ${(await response.json()).length} songs`;
      } catch (e) {
        api = "unreadable";
      }
      const image = (crossOrigin) => new Promise((resolveImage) => {
        const img = new Image();
        if (crossOrigin) img.crossOrigin = "anonymous";
        const timer = setInterval(() => { if (img.naturalWidth > 0) { clearInterval(timer); resolveImage("shown"); } }, 100);
        img.onerror = () => { clearInterval(timer); resolveImage("refused"); };
        setTimeout(() => { clearInterval(timer); resolveImage("nothing in 15 s"); }, 15000);
        img.src = `http://${target}/video_feed?probe=${Math.random()}`;
      });
      return { socket, api, image: await image(false), corsImage: await image(true) };
    }, `127.0.0.1:${port}`);
  } finally {
    await context.close();
  }
}

function expectProbe(who, got, expected) {
  for (const [key, value] of Object.entries(expected)) {
    if (got[key] !== value) fail(`${who}: ${key} is "${got[key]}", expected "${value}" (${JSON.stringify(got)})`);
  }
  log(`${who}: ${JSON.stringify(got)}`);
}

/** Other sites' pages, an allowed origin's page, and a rebound name. */
async function checkOtherSites(browser, port, foreignPort, partnerPort) {
  expectProbe(`a page of http://evil.test:${foreignPort}`, await probeFrom(browser, `http://evil.test:${foreignPort}/`, port),
    { socket: "closed 1006", api: "unreadable", image: "refused", corsImage: "refused" });
  expectProbe(`a page of the allowed http://127.0.0.1:${partnerPort}`, await probeFrom(browser, `http://127.0.0.1:${partnerPort}/`, port),
    { socket: "hello", api: "200 3 songs", corsImage: "shown" });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const response = await page.goto(`http://evil.test:${port}/`);
    if (response.status() !== 421) fail(`the page under a rebound name answered ${response.status()}, expected 421`);
    log(`http://evil.test:${port}/ (DNS rebinding): 421`);
  } finally {
    await context.close();
  }
}

/** The server plays the clip itself; the browser has no camera. */
export async function serverCameraMode(clip, work) {
  log("server camera mode (--video)");
  const port = await freePort();
  const foreignPort = await freePort();
  const partnerPort = await freePort();
  const sites = [await startOtherSite(foreignPort), await startOtherSite(partnerPort)];
  // The server's own analysis with the CNN detector (BlazeFace, natively).
  const server = await startServer(port, join(work, "data-server"),
    ["--video", clip, "--detector", "blazeface", "--allowed-origin", `http://127.0.0.1:${partnerPort}`]);
  const browser = await launchBrowser({
    // evil.test is another site on this machine, as a rebinding name resolves.
    args: ["--host-resolver-rules=MAP evil.test 127.0.0.1", "--disable-features=HttpsUpgrades"],
  });
  try {
    const page = await openPage(browser, port, false);
    const video = await page.$eval("#video", (v) => v.classList.contains("d-none") && !v.srcObject);
    if (!video) fail("the page still uses a webcam in server camera mode");
    await checkMoodsAndSongs(page, async () => {
      const green = await feedBoxPixels(page);
      if (green < 300) fail(`no face box on the server's stream (${green} box pixels)`);
      log(`server stream: ${green} box pixels`);
    });
    await checkAccessibility(page, "server camera");
    await screenshot(page, "server-camera.png");
    await checkOtherSites(browser, port, foreignPort, partnerPort);
  } finally {
    await browser.close();
    server.kill();
    for (const site of sites) site.close();
  }
}

/** A second page on a full server says so, and gets in once there is room. */
export async function fullServer(_clip, work) {
  log("a full server (--max-connections 1)");
  const port = await freePort();
  const server = await startServer(port, join(work, "data-full"), ["--max-connections", "1"]);
  const browser = await launchBrowser();
  try {
    const status = (page) => page.$eval("[data-testid=status]", (e) => e.textContent);
    const first = await browser.newPage();
    await first.goto(`http://127.0.0.1:${port}/`);
    await first.waitForFunction(() => !/^starting|^disconnected|^server busy/.test(document.querySelector("[data-testid=status]").textContent), null, { timeout: 30000 });
    log(`first page: ${await status(first)}`);
    const second = await browser.newPage();
    await second.goto(`http://127.0.0.1:${port}/`);
    await second.waitForFunction(() => document.querySelector("[data-testid=status]").textContent.startsWith("server busy"), null, { timeout: 30000 });
    log(`second page: ${await status(second)}`);
    await first.close();
    await second.waitForFunction(() => !/^starting|^disconnected|^server busy/.test(document.querySelector("[data-testid=status]").textContent), null, { timeout: 30000 });
    log(`second page, once the first is closed: ${await status(second)}`);
  } finally {
    await browser.close();
    server.kill();
  }
}

/** `melodora site` served by a plain static file server. */
export async function staticSite(clip, work) {
  log("a static site (melodora site, served by python3 -m http.server)");
  const dir = join(work, "site");
  // The pages find faces with the CNN detector (BlazeFace, in WebAssembly).
  execFileSync(bin, ["site", dir, "--detector", "blazeface", "--data-dir", join(work, "data-site")]);
  const port = await freePort();
  const host = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir],
    { stdio: ["ignore", "ignore", "pipe"] });
  await waitForHttp(`http://127.0.0.1:${port}/`);
  const browser = await cameraBrowser(clip);
  let libraryHost = null;
  try {
    const origin = `http://127.0.0.1:${port}`;
    let requests = [];
    const page = await openPage(browser, port, true, async (page) => {
      page.on("request", (request) => requests.push(request.url()));
      page.on("websocket", (socket) => requests.push(socket.url()));
    });
    await page.waitForFunction(() => document.querySelector("[data-testid=analysis-info]").textContent.startsWith("on this device"), null, { timeout: 30000 });
    if (await page.isVisible("[data-testid=analysis-switch]")) fail("a static site offers analysis on a server");
    // The static host sends no CSP header; the page's own meta policy still
    // refuses inline script (hostile song titles are text anyway).
    const inlineRan = await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true";
      document.head.appendChild(script);
      return window.__inlineRan === true;
    });
    if (inlineRan) fail("inline script ran on the static site");
    await checkMoodsAndSongs(page, () => expectOverlayBox(page));
    if (!requests.some((url) => url === `${origin}/static/models/face_detection_short_range.tflite`)) {
      fail("the site's pages did not load BlazeFace's model, which the site chose");
    }
    log("the pages found faces with BlazeFace (--detector blazeface), in WebAssembly");
    await checkManualMood(page);
    await checkAccessibility(page, "static site");

    // A like survives a reload, with the list and the mood it was made for.
    await page.click("#pause");
    await page.waitForTimeout(1000);
    const liked = await page.$eval("[data-testid=song]", (row) => row.getAttribute("data-song-id"));
    await page.click(`[data-testid=song][data-song-id="${liked}"] button[data-verdict=like]`);
    const mood = await page.textContent("[data-testid=mood]");
    await page.reload();
    await page.waitForFunction((id) => {
      const button = document.querySelector(`[data-testid=song][data-song-id="${id}"] button[data-verdict=like]`);
      return button && button.classList.contains("btn-success");
    }, liked, { timeout: 30000 });
    const moodAfter = await page.textContent("[data-testid=mood]");
    if (moodAfter !== mood) fail(`the mood after a reload is ${moodAfter}, was ${mood}`);
    log(`after a reload: song ${liked} still liked, mood still ${moodAfter}`);

    // Installable, and offline after this first visit: the manifest names the
    // app and its icons, the worker keeps the files, and with the network cut
    // a reload still reaches a playlist.
    const manifest = await page.evaluate(async () => (await fetch(document.querySelector("link[rel=manifest]").href)).json());
    if (manifest.name !== "Melodora" || manifest.display !== "standalone" || !manifest.icons.some((icon) => icon.sizes === "512x512")) {
      fail(`the manifest: ${JSON.stringify(manifest)}`);
    }
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 30000 })
      .catch(() => fail("no service worker took the page"));
    await page.context().setOffline(true);
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=song]").length >= 5
      && document.querySelector("[data-testid=analysis-info]").textContent.startsWith("on this device"), null, { timeout: 30000 })
      .catch(() => fail("offline, the reloaded site reached no playlist"));
    await page.context().setOffline(false);
    log("offline: the site reloaded from its service worker and reached a playlist with the network cut");

    // The listener's own songs: the original's sad.csv replaces the catalog.
    const seedSad = resolve(root, "../shared/catalogs/seed-format/sad.csv");
    const importedText = readFileSync(seedSad, "utf8");
    await page.click("#pause");
    await page.setInputFiles("[data-testid=import-files]", seedSad);
    await page.waitForFunction(() => document.querySelector("[data-testid=import-report]").textContent.includes("Imported"), null, { timeout: 20000 });
    const report = await page.textContent("[data-testid=import-report]");
    if (!report.includes("replace the site's catalog") || report.includes("cannot keep")) fail(`import report: ${report}`);
    // Imported songs get ids above every id of the site's catalog.
    const siteIds = JSON.parse(readFileSync(join(dir, "static/catalog.json"), "utf8")).songs.map((song) => song.id);
    const highest = Math.max(...siteIds);
    await page.waitForFunction(({ csv, highest }) => {
      const rows = [...document.querySelectorAll("[data-testid=song]")];
      return rows.length >= 10 && rows.every((row) =>
        Number(row.getAttribute("data-song-id")) > highest && csv.includes(row.querySelector("a").textContent));
    }, { csv: importedText, highest }, { timeout: 20000 });
    log(`imported sad.csv: ${report.split("\n")[0].slice(0, 90)}; the playlist now comes from it`);

    await page.click("[data-testid=forget]");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=song]").length === 0, null, { timeout: 5000 });
    const kept = await page.evaluate(() => localStorage.getItem("melodora.site.v1"));
    if (kept !== null) fail(`"Forget me" left ${kept.slice(0, 80)}`);
    const importedKept = await page.evaluate(() => new Promise((resolve) => {
      const open = indexedDB.open("melodora", 1);
      open.onsuccess = () => {
        const get = open.result.transaction("catalog").objectStore("catalog").get("imported");
        get.onsuccess = () => resolve(get.result !== undefined);
        get.onerror = () => resolve(false);
      };
      open.onerror = () => resolve(false);
    }));
    if (importedKept) fail(`"Forget me" left the imported songs`);
    log("Forget me cleared the list and what the browser kept");

    const elsewhere = requests.filter((url) => !url.startsWith(origin + "/") && !url.startsWith("data:"));
    if (elsewhere.length) fail(`requests beyond the static host: ${elsewhere.join(", ")}`);
    log(`${requests.length} requests, all to ${origin}`);
    await screenshot(page, "static-site.png");
    await page.context().close();

    // A site written with --library carries the library's files and plays them.
    addLibrary(work, join(work, "data-site"));
    const libraryDir = join(work, "site-library");
    execFileSync(bin, ["site", libraryDir, "--library", "--data-dir", join(work, "data-site")]);
    const libraryPort = await freePort();
    libraryHost = spawn("python3", ["-m", "http.server", String(libraryPort), "--bind", "127.0.0.1", "--directory", libraryDir],
      { stdio: ["ignore", "ignore", "pipe"] });
    await waitForHttp(`http://127.0.0.1:${libraryPort}/`);
    await checkLibrary(browser, libraryPort, "site", /^static\/library\/\d+\.ogg$/, /^20[06] /);
  } finally {
    await browser.close();
    host.kill();
    libraryHost?.kill();
  }
}

async function waitForHttp(url) {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch (error) { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`${url} did not answer`);
}

/** A phone on the network: on-device mode on a 390x844 touch screen. */
export async function phone(clip, work) {
  log("a phone (390x844), analysing on the device");
  const port = await freePort();
  const server = await startServer(port, join(work, "data-phone"));
  const browser = await cameraBrowser(clip);
  try {
    await checkPhone(browser, `http://127.0.0.1:${port}`);
  } finally {
    await browser.close();
    server.kill();
  }
}

/** A work folder and the test clip in it: a happy face for 6 s, then a
 *  sad one, each the first val face the shipped detector and model read
 *  so. Resolves with {work, clip}; the caller removes `work`. */
export async function makeClip() {
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "melodora-e2e-"));
  const clip = join(work, "clip.y4m");
  const composer = await launchBrowser();
  try {
    const blank = await composer.newPage();
    const detectors = ["haar", "blazeface"];
    const happy = await pickFace(blank, { bin, val, emotion: "happy", work, clip: CLIP, log, detectors });
    const sad = await pickFace(blank, { bin, val, emotion: "sad", work, clip: CLIP, log, detectors });
    writeY4m(clip, [happy, sad], SECONDS_PER_FACE, CLIP);
  } finally {
    await composer.close();
  }
  log(`clip: ${clip}`);
  return { work, clip };
}
