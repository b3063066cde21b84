// The page's side of on-device analysis: starts the analyzer worker
// (analyzer/worker.js) and hands it camera frames, one at a time, without
// encoding them. actions/frames.js decides when; this file only knows how.

/** @typedef {import("../protocol.js").FrameReport} FrameReport */
/** @typedef {import("../calibration.js").Calibration} Calibration */
/** @typedef {import("../calibration.js").Probabilities} Probabilities */
/** @typedef {import("../protocol.js").AnalysisSettings} AnalysisSettings */
/** @typedef {{resolve: (value: any) => void, reject: (error: Error) => void}} Waiting */
/** @typedef {"frame" | "calibrate" | "photo"} RequestKind */

const MAX_WIDTH = 640;          // larger camera frames are scaled down to this width
const LOAD_TIMEOUT_MS = 30000;
// The worker sits beside this module, wherever the page is published.
const WORKER_URL = new URL("./worker.js", import.meta.url);

/** Why this browser cannot analyse on the device, or null when it can.
 *  @returns {string | null} */
export function unsupported() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    return "this browser has no WebAssembly (or it is turned off)";
  }
  if (typeof Worker !== "function") return "this browser has no Web Workers";
  return null;
}

export class DeviceAnalyzer {
  constructor() {
    /** @type {Worker | null} */
    this.worker = null;
    /** @type {Promise<number> | null} the load: resolves with ms, rejects with an Error */
    this.ready = null;
    /** @type {Record<RequestKind, Waiting | null>} each request in the worker, by kind (one each at most) */
    this.waiting = { frame: null, calibrate: null, photo: null };
    /** @type {(why: string) => void} */
    this.onCalibrationRefused = () => {};
    /** @type {HTMLCanvasElement | null} where frames go as ImageData, without bitmaps */
    this.capture = null;
    this.bitmaps = typeof createImageBitmap === "function" && typeof OffscreenCanvas === "function";
  }

  /** Starts the worker and loads the analyzer and models (once); a
   *  model description (a static site's, for a model without its own)
   *  goes with them.
   *  @param {unknown} [modelDescription]
   *  @returns {Promise<number>} */
  load(modelDescription) {
    if (this.ready) return this.ready;
    const reason = unsupported();
    if (reason) return (this.ready = Promise.reject(new Error(reason)));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the analyzer did not load in 30 s")), LOAD_TIMEOUT_MS);
      /** @param {string} text */
      const fail = (text) => { clearTimeout(timer); this.stop(); reject(new Error(text)); };
      try {
        this.worker = new Worker(WORKER_URL, { type: "module" });
      } catch (error) {
        fail(`the analyzer worker could not start (${error instanceof Error ? error.message : error})`);
        return;
      }
      // A module that fails to load (or wasm refused by the browser)
      // surfaces as an error event on the worker, not as a message.
      this.worker.onerror = (/** @type {ErrorEvent} */ event) => {
        event.preventDefault();
        const text = event.message || "the analyzer worker failed to load";
        this.settle("frame", null, new Error(text));
        fail(text);
      };
      this.worker.onmessage = (event) => {
        const message = event.data;
        if (message.type === "ready") { clearTimeout(timer); resolve(message.loadMs); }
        else if (message.type === "failed") fail(message.message);
        else if (message.type === "result") this.settle("frame", message, null);
        else if (message.type === "error") this.settle("frame", null, new Error(message.message));
        else if (message.type === "calibrated") this.settle("calibrate", message.calibration, null);
        else if (message.type === "calibrate-failed") this.settle("calibrate", null, new Error(message.message));
        else if (message.type === "calibration-refused") this.onCalibrationRefused(message.message);
        else if (message.type === "photo-result") this.settle("photo", message.frame, null);
        else if (message.type === "photo-failed") this.settle("photo", null, new Error(message.message));
      };
      this.worker.postMessage({ type: "load", settings: null, description: modelDescription || null });
    });
    return this.ready;
  }

  /** The server's analysis settings (its hello), applied from the next frame.
   *  @param {AnalysisSettings} settings */
  configure(settings) {
    if (this.worker && settings) this.worker.postMessage({ type: "configure", settings });
  }

  /** Reads later frames through `calibration` (a map of offsets by
   *  emotion, as calibrate resolved with), or uncorrected (null). A
   *  calibration the analyzer cannot use is dropped, and onCalibrationRefused
   *  called with why.
   *  @param {Calibration | null} calibration */
  setCalibration(calibration) {
    if (this.worker) this.worker.postMessage({ type: "calibration", calibration: calibration || null });
  }

  /** Makes a calibration from resting readings (uncalibrated
   *  probabilities of one face, a frame each) and uses it: resolves with
   *  it, or rejects with why not (too few readings, say).
   *  @param {Probabilities[]} readings
   *  @returns {Promise<Calibration>} */
  calibrate(readings) {
    return this.request("calibrate", "a calibration is already being made", [{ type: "calibrate", readings }]);
  }

  /** Analyses a still image (an ImageBitmap, handed over) on its own:
   *  resolves with its frame (faces, no mood); the camera's tracked
   *  faces and mood are left alone.
   *  @param {ImageBitmap} bitmap
   *  @returns {Promise<FrameReport>} */
  analyzePhoto(bitmap) {
    return this.request("photo", "a photo is already being analysed", [{ type: "photo", bitmap }, [bitmap]]);
  }

  /** Posts `message` (postMessage's arguments) for a request of `kind`:
   *  resolves or rejects with the worker's answer to it; refused while
   *  one of that kind is still waiting, or when the worker is gone.
   *  @param {RequestKind} kind @param {string} busy
   *  @param {[unknown, Transferable[]?]} message
   *  @returns {Promise<any>} */
  request(kind, busy, message) {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("the analyzer is not running"));
    if (this.waiting[kind]) return Promise.reject(new Error(busy));
    return new Promise((resolve, reject) => {
      this.waiting[kind] = { resolve, reject };
      worker.postMessage(message[0], message[1] || []);
    });
  }

  /** Answers the request of `kind` waiting, if any.
   *  @param {RequestKind} kind @param {unknown} value @param {Error | null} error */
  settle(kind, value, error) {
    const waiting = this.waiting[kind];
    this.waiting[kind] = null;
    if (!waiting) return;
    if (error) waiting.reject(error); else waiting.resolve(value);
  }

  /** Forgets tracked faces and the mood. */
  reset() {
    if (this.worker) this.worker.postMessage({ type: "reset" });
  }

  /** Analyses the video's current frame.
   *  @param {HTMLVideoElement} video @param {number} now when it was taken (ms, performance.now)
   *  @returns {Promise<{frame: FrameReport, analyzeMs: number}>} */
  async analyze(video, now) {
    await this.ready;
    if (this.waiting.frame) throw new Error("a frame is already being analysed");
    const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
    const width = Math.max(1, Math.round(video.videoWidth * scale));
    const height = Math.max(1, Math.round(video.videoHeight * scale));
    /** @type {[unknown, Transferable[]]} */
    let message;
    if (this.bitmaps) {
      const bitmap = await createImageBitmap(video, scale < 1
        ? { resizeWidth: width, resizeHeight: height, resizeQuality: "medium" } : {});
      message = [{ type: "frame", bitmap, now }, [bitmap]];
    } else {
      if (!this.capture) this.capture = document.createElement("canvas");
      this.capture.width = width;
      this.capture.height = height;
      const ctx = this.capture.getContext("2d", { willReadFrequently: true });
      if (!ctx) throw new Error("this browser cannot draw the frame");
      ctx.drawImage(video, 0, 0, width, height);
      const image = ctx.getImageData(0, 0, width, height);
      message = [{ type: "frame", image, now }, [image.data.buffer]];
    }
    if (!this.worker) throw new Error("the analyzer stopped");
    return this.request("frame", "a frame is already being analysed", message);
  }

  stop() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    for (const kind of /** @type {RequestKind[]} */ (Object.keys(this.waiting))) {
      this.settle(kind, null, new Error("the analyzer stopped"));
    }
  }
}

