// A photo instead of the camera: analysed where camera frames are (the
// analyzer in the page, or the server through the transport); the largest
// face's emotion sets the mood as a chip would. Whatever goes wrong, the
// playlist stays as it was.

import * as photo from "../photo.js";
import { analysingOnDevice, largestFace } from "../state.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../transport/transport.js").Transport} Transport */
/** @typedef {import("../protocol.js").FrameReport} FrameReport */
/** @typedef {import("./analysis.js").Analysis} Analysis */
/** @typedef {import("./manual.js").ManualMood} ManualMood */
/** @typedef {import("./frames.js").Frames} Frames */

export class Photos {
  /**
   * @param {Store} store
   * @param {Transport} transport
   * @param {Analysis} analysis
   * @param {ManualMood} manual
   * @param {Frames} frames
   */
  constructor(store, transport, analysis, manual, frames) {
    this.store = store;
    this.transport = transport;
    this.analysis = analysis;
    this.manual = manual;
    this.frames = frames;
  }

  /** @param {string} text */
  info(text) {
    this.store.update({ photoInfo: text });
  }

  /** @param {File} file */
  async use(file) {
    /** @param {string} why */
    const refuse = (why) => this.info("That photo " + why + "; the playlist stays as it was.");
    const refusal = photo.refusal(file);
    if (refusal) return refuse(refusal);
    this.info("Reading the photo…");
    let canvas;
    try {
      canvas = await photo.decode(file);
    } catch (error) {
      return refuse("is not an image this browser can read");
    }
    let frame;
    try {
      frame = await this.analyse(canvas);
    } catch (error) {
      return refuse("could not be analysed (" + (error instanceof Error ? error.message : String(error)) + ")");
    }
    const largest = largestFace(frame);
    if (!largest) return refuse("has no face Melodora can find");
    this.store.update({ photo: canvas.toDataURL("image/jpeg", 0.9), boxes: frame, largest });
    this.manual.set(largest.emotion, "from your photo");
    const faces = frame.faces.length === 1 ? "one face" : frame.faces.length + " faces, the largest";
    this.info("Your photo: " + faces + " reads " + largest.emotion + " (" +
      Math.round(largest.confidence * 100) + "%). Follow my face returns to the camera.");
  }

  /** The photo's faces, from the analyzer in this page or from the server
   *  (read through the profile's calibration when it has one).
   *  @param {HTMLCanvasElement} canvas
   *  @returns {Promise<FrameReport>} */
  async analyse(canvas) {
    const state = this.store.state;
    const device = this.analysis.inUse();
    if (analysingOnDevice(state) && device) {
      await device.ready;
      return device.analyzePhoto(await createImageBitmap(canvas));
    }
    return this.transport.analysePhoto(canvas, !!state.serverCalibration);
  }

  /** Puts the camera (or the server's stream) back on the stage. */
  hide() {
    if (!this.store.state.photo) return;
    this.store.update({ photo: null, boxes: null });
    this.frames.schedule();
  }
}
