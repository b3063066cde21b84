// The page's side of on-device analysis: starts the analyzer worker
// (analyzer-worker.js) and hands it camera frames, one at a time, without
// encoding them. app.js decides when; this file only knows how.
"use strict";

window.MelodoraDevice = (function () {
  const MAX_WIDTH = 640;          // larger camera frames are scaled down to this width
  const LOAD_TIMEOUT_MS = 30000;
  // The worker sits beside this script, wherever the page is published.
  const WORKER_URL = new URL("analyzer-worker.js", document.currentScript.src);

  /** Why this browser cannot analyse on the device, or null when it can. */
  function unsupported() {
    if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
      return "this browser has no WebAssembly (or it is turned off)";
    }
    if (typeof Worker !== "function") return "this browser has no Web Workers";
    return null;
  }

  class DeviceAnalyzer {
    constructor() {
      this.worker = null;
      this.ready = null;          // promise of the load: resolves with ms, rejects with an Error
      this.pending = null;        // {resolve, reject} of the frame in the worker
      this.calibrating = null;    // {resolve, reject} of a calibration being made
      this.photo = null;          // {resolve, reject} of a photo being analysed
      this.onCalibrationRefused = () => {};
      this.capture = null;        // a canvas, where frames go as ImageData
      this.bitmaps = typeof createImageBitmap === "function" && typeof OffscreenCanvas === "function";
    }

    /** Starts the worker and loads the analyzer and models (once); a
     *  model description (a static site's, for a model without its own)
     *  goes with them. */
    load(modelDescription) {
      if (this.ready) return this.ready;
      const reason = unsupported();
      if (reason) return (this.ready = Promise.reject(new Error(reason)));
      this.ready = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the analyzer did not load in 30 s")), LOAD_TIMEOUT_MS);
        const fail = (text) => { clearTimeout(timer); this.stop(); reject(new Error(text)); };
        try {
          this.worker = new Worker(WORKER_URL, { type: "module" });
        } catch (error) {
          fail(`the analyzer worker could not start (${error.message})`);
          return;
        }
        // A module that fails to load (or wasm refused by the browser)
        // surfaces as an error event on the worker, not as a message.
        this.worker.onerror = (event) => {
          event.preventDefault();
          const text = event.message || "the analyzer worker failed to load";
          if (this.pending) this.settle(null, new Error(text));
          fail(text);
        };
        this.worker.onmessage = (event) => {
          const message = event.data;
          if (message.type === "ready") { clearTimeout(timer); resolve(message.loadMs); }
          else if (message.type === "failed") fail(message.message);
          else if (message.type === "result") this.settle(message, null);
          else if (message.type === "error") this.settle(null, new Error(message.message));
          else if (message.type === "calibrated") this.settleCalibration(message.calibration, null);
          else if (message.type === "calibrate-failed") this.settleCalibration(null, new Error(message.message));
          else if (message.type === "calibration-refused") this.onCalibrationRefused(message.message);
          else if (message.type === "photo-result") this.settlePhoto(message.frame, null);
          else if (message.type === "photo-failed") this.settlePhoto(null, new Error(message.message));
        };
        this.worker.postMessage({ type: "load", settings: null, description: modelDescription || null });
      });
      return this.ready;
    }

    /** The server's analysis settings (its hello), applied from the next frame. */
    configure(settings) {
      if (this.worker && settings) this.worker.postMessage({ type: "configure", settings });
    }

    /** Reads later frames through `calibration` (a map of offsets by
     *  emotion, as calibrate resolved with), or uncorrected (null). A
     *  calibration the analyzer cannot use is dropped, and onCalibrationRefused
     *  called with why. */
    setCalibration(calibration) {
      if (this.worker) this.worker.postMessage({ type: "calibration", calibration: calibration || null });
    }

    /** Makes a calibration from resting readings (uncalibrated
     *  probabilities of one face, a frame each) and uses it: resolves with
     *  it, or rejects with why not (too few readings, say). */
    calibrate(readings) {
      if (!this.worker) return Promise.reject(new Error("the analyzer is not running"));
      if (this.calibrating) return Promise.reject(new Error("a calibration is already being made"));
      return new Promise((resolve, reject) => {
        this.calibrating = { resolve, reject };
        this.worker.postMessage({ type: "calibrate", readings });
      });
    }

    /** Analyses a still image (an ImageBitmap, handed over) on its own:
     *  resolves with its frame (faces, no mood); the camera's tracked
     *  faces and mood are left alone. */
    analyzePhoto(bitmap) {
      if (!this.worker) return Promise.reject(new Error("the analyzer is not running"));
      if (this.photo) return Promise.reject(new Error("a photo is already being analysed"));
      return new Promise((resolve, reject) => {
        this.photo = { resolve, reject };
        this.worker.postMessage({ type: "photo", bitmap }, [bitmap]);
      });
    }

    settlePhoto(frame, error) {
      const pending = this.photo;
      this.photo = null;
      if (!pending) return;
      if (error) pending.reject(error); else pending.resolve(frame);
    }

    settleCalibration(calibration, error) {
      const pending = this.calibrating;
      this.calibrating = null;
      if (!pending) return;
      if (error) pending.reject(error); else pending.resolve(calibration);
    }

    /** Forgets tracked faces and the mood. */
    reset() {
      if (this.worker) this.worker.postMessage({ type: "reset" });
    }

    /** Analyses the video's current frame: resolves with {frame, analyzeMs}. */
    async analyze(video, now) {
      await this.ready;
      if (this.pending) throw new Error("a frame is already being analysed");
      const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
      const width = Math.max(1, Math.round(video.videoWidth * scale));
      const height = Math.max(1, Math.round(video.videoHeight * scale));
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
        ctx.drawImage(video, 0, 0, width, height);
        const image = ctx.getImageData(0, 0, width, height);
        message = [{ type: "frame", image, now }, [image.data.buffer]];
      }
      if (!this.worker) throw new Error("the analyzer stopped");
      return new Promise((resolve, reject) => {
        this.pending = { resolve, reject };
        this.worker.postMessage(...message);
      });
    }

    settle(result, error) {
      const pending = this.pending;
      this.pending = null;
      if (!pending) return;
      if (error) pending.reject(error); else pending.resolve(result);
    }

    stop() {
      if (this.worker) this.worker.terminate();
      this.worker = null;
      if (this.pending) this.settle(null, new Error("the analyzer stopped"));
      if (this.calibrating) this.settleCalibration(null, new Error("the analyzer stopped"));
      if (this.photo) this.settlePhoto(null, new Error("the analyzer stopped"));
    }
  }

  return { DeviceAnalyzer, unsupported };
})();
