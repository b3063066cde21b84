// Where this page's camera frames are analysed: by the analyzer in the page
// (analyzer/, the default: frames never leave the page) or by the server
// (when the transport has one). The choice is kept in this browser; when
// the analyzer cannot run here, frames go to the server, or, with no server,
// the camera cannot be read and the mood is set by hand.

import { DeviceAnalyzer } from "../analyzer/client.js";
import * as kept from "../kept.js";
import * as calibration from "../calibration.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../protocol.js").AnalysisSettings} AnalysisSettings */

const ANALYSIS_KEY = "melodora.analysis";

/** The remembered choice; on the device unless the user chose the server.
 *  @returns {"device" | "server"} */
export function storedAnalysis() {
  return kept.read(ANALYSIS_KEY) === "server" ? "server" : "device";
}

/** Owns the analyzer in the page and where frames are analysed. */
export class Analysis {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    /** @type {DeviceAnalyzer | null} */
    this.device = null;
    /** @type {AnalysisSettings | null} */
    this.settings = null;
    /** Called when analysis moves or the analyzer fails (the frame loop restarts). */
    this.onChange = () => {};
  }

  /** Starts loading the analyzer in the page (once); on failure frames go
   *  to the server, where there is one.
   *  @param {unknown} [modelDescription] a static site's, for a model without its own */
  load(modelDescription) {
    if (this.device || this.store.state.deviceFailed) return;
    const device = new DeviceAnalyzer();
    this.device = device;
    device.onCalibrationRefused = (/** @type {string} */ why) => {
      calibration.forget();
      this.store.update({ deviceCalibration: null,
        calibrationInfo: "Your calibration could not be used (" + why + ") and was reset; calibrate again." });
    };
    device.load(modelDescription).then((ms) => {
      console.info(`melodora: on-device analyzer ready in ${Math.round(ms)} ms`);
      if (this.settings) device.configure(this.settings);
      const kept = this.store.state.deviceCalibration;
      if (kept) device.setCalibration(kept);
    }, (error) => this.failed(error.message));
  }

  /** @param {string} why */
  failed(why) {
    this.device = null;
    const state = this.store.state;
    this.store.update({
      deviceFailed: why,
      analysisMessage: state.serverAnalysis
        ? "Analysing on this device is not possible here (" + why + "), so camera frames are sent to the Melodora server instead."
        : "This browser cannot run Melodora's analyzer (" + why + "), so the camera cannot be read here.",
      analysis: state.serverAnalysis ? "server" : state.analysis,
      analysisInfo: "",
      ...(state.serverAnalysis ? {} : { status: { text: "analyzer failed", kind: "danger" } }),
    });
    this.onChange();
  }

  /** The server's analysis settings, for the analyzer in the page.
   *  @param {AnalysisSettings | null} settings */
  configure(settings) {
    this.settings = settings;
    if (this.device && settings) this.device.configure(settings);
  }

  /** Analyse on the device or on the server from now on (and remember it).
   *  @param {"device" | "server"} where */
  choose(where) {
    kept.write(ANALYSIS_KEY, where);
    this.store.update({ analysis: where, analysisInfo: "", ...(where === "server" ? { deviceMood: null } : {}) });
    if (where === "device") {
      this.load();
      this.device?.reset();
    }
    this.onChange();
  }

  /** The analyzer in the page, when frames are analysed there and it runs. */
  inUse() {
    return this.store.state.analysis === "device" ? this.device : null;
  }
}
