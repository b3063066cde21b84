// Melodora's on-device analysis: a module Web Worker that runs the frame
// analyzer compiled to WebAssembly (web/wasm, built by scripts/build_wasm.sh).
// analyzer/client.js is its other end, in the page.
// Frames arrive from the page as ImageBitmap (drawn here, off the page's
// thread) or as ImageData; faces, emotions and the stable mood go back.
// Nothing here touches the network after loading the analyzer and models.
//
// Messages in:  {type: "load", settings, description} settings: the server's hello.analysis (or null);
//                                                    description: the model's, when it has none of its own
//               {type: "configure", settings}        (a detector other than the one in use loads its model)
//               {type: "frame", bitmap | image, now} one frame; answered by one "result" or "error"
//               {type: "reset"}
//               {type: "calibrate", readings} resting readings (uncalibrated probabilities, one
//                                             face per frame): answered "calibrated" or "calibrate-failed"
//               {type: "calibration", calibration} use a kept calibration (or null: none)
//               {type: "photo", bitmap} a still image on its own (the camera's mood untouched):
//                                       answered "photo-result" or "photo-failed"
// Messages out: {type: "ready", loadMs} | {type: "failed", message}
//               {type: "result", frame, analyzeMs} | {type: "error", message}
//               {type: "calibrated", calibration} | {type: "calibrate-failed", message}
//               {type: "calibration-refused", message} (a kept calibration it cannot use)
//               {type: "photo-result", frame} | {type: "photo-failed", message}
import init, { Analyzer } from "../wasm/melodora_wasm.js";

/** The page's files: the wasm and the models sit beside the worker's folder. */
const base = new URL("../", import.meta.url);
/** @type {Analyzer | null} */
let analyzer = null;
/** @type {OffscreenCanvas | null} */
let canvas = null;   // where ImageBitmap frames are drawn to read their pixels
/** The detector in use, as the settings name it (the analyzer starts with Haar). */
let detector = "haar";
/** BlazeFace's models, by the detector's name; Haar's cascade is always loaded.
 *  @type {Record<string, string>} */
const DETECTOR_MODELS = {
  "blazeface": "models/face_detection_short_range.tflite",
  "blazeface-full": "models/face_detection_full_range.tflite",
};

/** @param {string} path */
async function fetchOk(path) {
  const response = await fetch(new URL(path, base));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

/** @param {unknown} settings @param {unknown} description */
async function load(settings, description) {
  const started = performance.now();
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  const [, cascade, model] = await Promise.all([
    init({ module_or_path: new URL("wasm/melodora_wasm_bg.wasm", base) }),
    fetchOk("models/haarcascade_frontalface_default.xml").then((r) => r.text()),
    fetchOk("models/emotion.onnx").then((r) => r.arrayBuffer()),
  ]);
  analyzer = new Analyzer(cascade, new Uint8Array(model), description ? JSON.stringify(description) : undefined);
  detector = "haar";
  if (settings) await configure(settings);
  return performance.now() - started;
}

/** Analyses under `settings` from the next frame, first switching to their
 *  detector (fetching its model) when it is not the one in use.
 *  @param {any} settings */
async function configure(settings) {
  if (!analyzer) return;
  const wanted = typeof settings.detector === "string" ? settings.detector : "haar";
  if (wanted !== detector) {
    const file = DETECTOR_MODELS[wanted];
    const model = file ? new Uint8Array(await (await fetchOk(file)).arrayBuffer()) : undefined;
    analyzer.useDetector(wanted, model);
    detector = wanted;
  }
  analyzer.configure(JSON.stringify(settings));
}

/** The RGBA pixels of a frame message: ImageData as is, a bitmap drawn.
 *  @param {{image?: ImageData, bitmap?: ImageBitmap}} message
 *  @returns {ImageData} */
function pixels(message) {
  if (message.image) return message.image;
  const bitmap = message.bitmap;
  if (!bitmap) throw new Error("a frame without pixels");
  try {
    if (!canvas) canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) throw new Error("this browser cannot draw the frame");
    ctx.drawImage(bitmap, 0, 0);
    return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

self.onmessage = async (event) => {
  const message = event.data;
  try {
    if (message.type === "load") {
      const loadMs = await load(message.settings, message.description);
      self.postMessage({ type: "ready", loadMs });
    } else if (message.type === "configure") {
      if (message.settings) await configure(message.settings);
    } else if (message.type === "reset") {
      if (analyzer) analyzer.reset();
    } else if (message.type === "calibration") {
      try {
        if (analyzer) analyzer.setCalibration(message.calibration ? JSON.stringify(message.calibration) : undefined);
      } catch (error) {
        // A kept calibration this analyzer cannot read: frames go uncorrected.
        analyzer?.setCalibration(undefined);
        self.postMessage({ type: "calibration-refused", message: errorText(error) });
      }
    } else if (message.type === "photo") {
      try {
        if (!analyzer) throw new Error("the analyzer is not loaded");
        const image = pixels(message);
        const frame = JSON.parse(analyzer.analyzeImageRgba(image.width, image.height, bytes(image)));
        self.postMessage({ type: "photo-result", frame });
      } catch (error) {
        self.postMessage({ type: "photo-failed", message: errorText(error) });
      }
    } else if (message.type === "calibrate") {
      try {
        if (!analyzer) throw new Error("the analyzer is not loaded");
        const calibration = JSON.parse(analyzer.calibrate(JSON.stringify(message.readings)));
        self.postMessage({ type: "calibrated", calibration });
      } catch (error) {
        self.postMessage({ type: "calibrate-failed", message: errorText(error) });
      }
    } else if (message.type === "frame") {
      if (!analyzer) throw new Error("the analyzer is not loaded");
      const started = performance.now();
      const image = pixels(message);
      const frame = JSON.parse(analyzer.analyzeRgba(image.width, image.height, bytes(image), message.now));
      self.postMessage({ type: "result", frame, analyzeMs: performance.now() - started });
    }
  } catch (error) {
    const text = errorText(error);
    self.postMessage({ type: message.type === "load" ? "failed" : "error", message: text });
  }
};

/** @param {unknown} error */
function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/** The frame's RGBA bytes as the analyzer takes them (a view, not a copy).
 *  @param {ImageData} image */
function bytes(image) {
  return new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
}
