// Personal calibration, the flow: the listener holds a relaxed face for
// 3 s; their face's readings in those frames make a per-emotion correction
// (calibration.js, and docs/CALIBRATION.md). With the analyzer in the page
// it makes the correction and this browser keeps it; with the server
// analysing, the server makes it and keeps it for the profile.

import * as calibration from "../calibration.js";
import { analysingOnDevice, calibrationInUse, notice } from "../state.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../transport/transport.js").Transport} Transport */
/** @typedef {import("./analysis.js").Analysis} Analysis */
/** @typedef {import("./frames.js").Frames} Frames */
/** @typedef {import("../calibration.js").Calibration} Calibration */
/** @typedef {import("../protocol.js").FrameReport} FrameReport */

const TICK_MS = 250;

export class Calibrator {
  /**
   * @param {Store} store
   * @param {Transport} transport
   * @param {Analysis} analysis
   * @param {Frames} frames
   */
  constructor(store, transport, analysis, frames) {
    this.store = store;
    this.transport = transport;
    this.analysis = analysis;
    this.frames = frames;
    /** @type {calibration.Capture | null} */
    this.capture = null;
    /** @type {((frame: FrameReport) => void) | null} */
    this.listener = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    this.sent = false;            // the capture went to the server; its answer is awaited
  }

  /** @param {string} text */
  info(text) {
    this.store.update({ calibrationInfo: text });
  }

  start() {
    const state = this.store.state;
    if (state.calibrating) return;
    if (state.paused) return this.info("Resume first: calibration needs the camera running.");
    if (state.photo) return this.info("Follow my face first: calibration needs the camera, not a photo.");
    if (state.capture === "browser" && !this.frames.cameraWorks) {
      return this.info("Calibration needs a camera; set your mood by hand instead.");
    }
    if (!state.capture || (!analysingOnDevice(state) && !this.transport.canSendFrame())) {
      return this.info("Not connected; try again in a moment.");
    }
    const capture = new calibration.Capture(calibrationInUse(state));
    this.capture = capture;
    this.sent = false;
    this.listener = (frame) => capture.add(frame);
    this.frames.listeners.add(this.listener);
    const ends = Date.now() + calibration.CAPTURE_MS;
    const tick = () => this.info("Hold a relaxed face, looking at the camera… " + Math.ceil((ends - Date.now()) / 1000));
    this.store.update({ calibrating: true });
    tick();
    this.timer = setInterval(() => { if (Date.now() >= ends) this.finish(); else tick(); }, TICK_MS);
  }

  stopCapturing() {
    clearInterval(this.timer);
    if (this.listener) this.frames.listeners.delete(this.listener);
    this.listener = null;
  }

  finish() {
    this.stopCapturing();
    const capture = /** @type {calibration.Capture} */ (this.capture);
    const refusal = capture.refusal();
    if (refusal) return this.refused(refusal);
    this.info("Calibrating…");
    const device = this.analysis.inUse();
    if (analysingOnDevice(this.store.state) && device) {
      device.calibrate(capture.readings).then((made) => {
        this.store.update({ deviceCalibration: made });
        if (!calibration.save(made)) {
          this.store.update(notice("This browser does not let Melodora keep the calibration: it lasts until the page is closed."));
        }
        this.made(made);
      }, (error) => this.refused(error.message));
    } else {
      this.sent = true;
      if (!this.transport.calibrate(capture.readings)) this.refused("not connected; try again in a moment");
    }
  }

  /** The server's calibration now (its answer to calibrate or uncalibrate).
   *  @param {Calibration | null} made */
  fromServer(made) {
    this.store.update({ serverCalibration: made });
    if (this.sent) this.made(made);
  }

  /** A command the server refused: the calibration sent, or another one.
   *  @param {string} message */
  refusedByServer(message) {
    if (this.sent) this.refused(message); else this.store.update(notice(message));
  }

  /** @param {Calibration | null} made */
  made(made) {
    const read = this.capture ? this.capture.leading() : null;
    this.end();
    const changed = made && Object.values(made).some((offset) => offset !== 0);
    this.info(changed
      ? "Calibrated: your relaxed face read " + read + " and now reads neutral."
      : "Calibrated: your relaxed face already reads neutral, so nothing needs correcting.");
  }

  /** @param {string} why */
  refused(why) {
    this.end();
    this.info("Not calibrated: " + why + ".");
  }

  /** Stops a capture in progress, saying why (the analysis moved, say).
   *  @param {string} why */
  cancel(why) {
    if (this.store.state.calibrating) this.refused(why);
  }

  end() {
    this.stopCapturing();
    this.capture = null;
    this.sent = false;
    this.store.update({ calibrating: false });
  }

  reset() {
    if (this.store.state.calibrating) return;
    if (analysingOnDevice(this.store.state)) {
      calibration.forget();
      this.store.update({ deviceCalibration: null });
      this.analysis.device?.setCalibration(null);
    } else if (!this.transport.uncalibrate()) {
      this.store.update(notice("Not connected; try again in a moment."));
      return;
    }
    this.info("Calibration reset: your faces are read as the model sees them.");
  }
}
