// One contender per page load (run.mjs opens a fresh context for each):
// waits for the fake webcam, loads the contender, then analyses the
// current camera frame in a tight loop for the given seconds and draws the
// boxes, as an app would. Reports frames per second, frames with a face,
// per-frame latency (frame taken -> boxes drawn) and the time from loading
// to the first answer. The result lands in window.benchResult.

const params = new URLSearchParams(location.search);
const contender = params.get("contender");
const seconds = Number(params.get("seconds") || 10);
const video = document.getElementById("video");
const overlay = document.getElementById("overlay");

async function camera() {
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  await new Promise((resolve) => {
    const ready = () => (video.videoWidth && video.readyState >= 2 ? resolve() : setTimeout(ready, 20));
    ready();
  });
  overlay.width = video.videoWidth;
  overlay.height = video.videoHeight;
}

function draw(boxes) {
  const ctx = overlay.getContext("2d");
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  ctx.strokeStyle = "#0f0";
  for (const b of boxes) ctx.strokeRect(b.x, b.y, b.w, b.h);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Loops `step` (frame taken at t -> boxes) for `seconds`. */
async function loop(step) {
  const latencies = [];
  let withFace = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const taken = performance.now();
    const boxes = await step(taken);
    draw(boxes);
    latencies.push(performance.now() - taken);
    if (boxes.length) withFace++;
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    frames: latencies.length,
    fps: latencies.length / elapsed,
    faceRate: withFace / latencies.length,
    latencyP50: percentile(latencies, 0.5),
    latencyP95: percentile(latencies, 0.95),
  };
}

async function melodora(tracking, detector = "haar") {
  const loadStarted = performance.now();
  const { DeviceAnalyzer } = await import("/web/analyzer/client.js");
  const device = new DeviceAnalyzer();
  const loadMs = await device.load();
  device.configure({
    follow: "largest_face", half_life_ms: 250, dwell_ms: 700, min_confidence: 0.4, forget_after_ms: 3000,
    full_scan_every: tracking ? 15 : null, detector,
  });
  const first = await device.analyze(video, performance.now());
  const firstMs = performance.now() - loadStarted;
  const boxesOf = (frame) => frame.faces.map((f) => ({ x: f.x, y: f.y, w: f.w, h: f.h }));
  const timing = await loop(async (taken) => boxesOf((await device.analyze(video, taken)).frame));
  device.stop();
  return { ...timing, loadMs, firstMs, firstBoxes: boxesOf(first.frame) };
}

async function faceApi(backend, inputSize) {
  const loadStarted = performance.now();
  const faceapi = await import("/face-api/dist/face-api.esm.js");
  faceapi.tf.setWasmPaths("/tfjs-wasm/");
  if (!(await faceapi.tf.setBackend(backend))) throw new Error(`no ${backend} backend`);
  await faceapi.tf.ready();
  await faceapi.nets.tinyFaceDetector.loadFromUri("/face-api/model");
  await faceapi.nets.faceExpressionNet.loadFromUri("/face-api/model");
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold: 0.5 });
  const detect = async () => (await faceapi.detectAllFaces(video, options).withFaceExpressions())
    .map((r) => ({ x: r.detection.box.x, y: r.detection.box.y, w: r.detection.box.width, h: r.detection.box.height }));
  await detect();
  const firstMs = performance.now() - loadStarted;
  const timing = await loop(detect);
  return { ...timing, firstMs, backend: faceapi.tf.getBackend(), tfjs: faceapi.tf.version_core, faceApi: faceapi.version };
}

/** MediaPipe's own BlazeFace solution (@mediapipe/face_detection: its
 *  WebAssembly build, with SIMD where the browser has it), detection only. */
async function mediapipe(model) {
  const loadStarted = performance.now();
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/mediapipe/face_detection.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("face_detection.js did not load"));
    document.head.append(script);
  });
  const detector = new window.FaceDetection({ locateFile: (file) => `/mediapipe/${file}` });
  // Inference on the CPU (its XNNPACK build), as Melodora's; the score
  // threshold left at its default, 0.5 (setting it breaks the graph).
  detector.setOptions({ model, useCpuInference: true });
  let latest = [];
  detector.onResults((results) => {
    const { width, height } = overlay;
    latest = results.detections.map(({ boundingBox: b }) => ({
      x: (b.xCenter - b.width / 2) * width, y: (b.yCenter - b.height / 2) * height, w: b.width * width, h: b.height * height,
    }));
  });
  await detector.initialize();
  const detect = async () => { await detector.send({ image: video }); return latest; };
  await detect();
  const firstMs = performance.now() - loadStarted;
  const timing = await loop(detect);
  detector.close();
  return { ...timing, firstMs };
}

/** Runs `run` while the page's player engine plays music: a Wesnoth track,
 *  then a 3 s crossfade to the next every 4 s (the busiest the player gets:
 *  two songs decoding and mixing at once); says what was heard. */
async function withMusic(run) {
  const { Engine } = await import("/web/player/engine.js");
  const elements = [new Audio(), new Audio()];
  document.body.append(...elements);
  const engine = new Engine(elements);
  const songs = ["/music/battle.ogg", "/music/elf-land.ogg", "/music/defeat.ogg", "/music/breaking_the_chains.ogg"];
  let started = 0, crossfades = 0;
  const play = (fadeS) => { engine.start(songs[started++ % songs.length], -3, fadeS); };
  play(0);
  await new Promise((resolve, reject) => {
    engine.playingElement.addEventListener("playing", resolve, { once: true });
    engine.playingElement.addEventListener("error", () => reject(new Error("the music did not play")), { once: true });
  });
  let heard = 0, last = engine.playingElement.currentTime;
  engine.onTime = (playback) => { if (!playback.paused && playback.position > last) heard += Math.min(1, playback.position - last); last = playback.position; };
  const timer = setInterval(() => { crossfades++; last = 0; play(3); }, 4000);
  const result = await run();
  clearInterval(timer);
  const running = engine.context ? engine.context.state === "running" : !engine.playingElement.paused;
  engine.stop();
  if (!running || heard < 1) throw new Error(`the music was not playing (context ${engine.context?.state}, ${heard.toFixed(1)} s heard)`);
  return { ...result, music: { songs: started, crossfades, playedS: heard, graph: !!engine.context } };
}

window.benchResult = (async () => {
  await camera();
  if (contender === "melodora-tracking") return melodora(true);
  if (contender === "melodora-tracking-music") return withMusic(() => melodora(true));
  if (contender === "melodora-full") return melodora(false);
  if (contender === "melodora-blazeface") return melodora(false, "blazeface");
  if (contender === "melodora-blazeface-tracking") return melodora(true, "blazeface");
  if (contender === "melodora-blazeface-full") return melodora(false, "blazeface-full");
  if (contender === "mediapipe-short") return mediapipe("short");
  if (contender === "mediapipe-full") return mediapipe("full");
  const match = /^face-api-(wasm|cpu)-(\d+)$/.exec(contender || "");
  if (match) return faceApi(match[1], Number(match[2]));
  throw new Error(`unknown contender ${contender}`);
})().then((r) => ({ ok: true, ...r }), (e) => ({ ok: false, error: String(e && e.stack || e) }));
