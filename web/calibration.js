// Personal calibration, the page's side (docs/CALIBRATION.md): what a 3 s
// capture of a relaxed face is made of, when it is refused, and where a
// calibration made on this device is kept. app.js decides when to capture;
// the analyzer (in the page's worker, or the server's) makes the
// correction itself.
"use strict";

window.MelodoraCalibration = (function () {
  const EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"];
  const KEY = "melodora.calibration";
  const CAPTURE_MS = 3000;        // how long the relaxed face is held
  const MIN_READINGS = 5;         // as the analyzer requires

  /** The calibration kept in this browser, or null. */
  function load() {
    try {
      const text = localStorage.getItem(KEY);
      return text ? JSON.parse(text) : null;
    } catch (error) {
      return null;                // storage off, or not JSON: not calibrated
    }
  }

  /** Keeps a calibration in this browser; false when storage refuses. */
  function save(calibration) {
    try {
      localStorage.setItem(KEY, JSON.stringify(calibration));
      return true;
    } catch (error) {
      return false;
    }
  }

  function forget() {
    try { localStorage.removeItem(KEY); } catch (error) { /* nothing was kept */ }
  }

  /** A reading as the model gave it, before `calibration` corrected it
   *  (each probability divided by e^offset, renormalised). */
  function uncorrected(probabilities, calibration) {
    if (!calibration) return probabilities;
    const raw = {};
    let sum = 0;
    for (const e of EMOTIONS) {
      raw[e] = (probabilities[e] || 0) * Math.exp(-(calibration[e] || 0));
      sum += raw[e];
    }
    if (!(sum > 0)) return probabilities;
    for (const e of EMOTIONS) raw[e] /= sum;
    return raw;
  }

  /** The frames of one capture. Frames arrive read through the
   *  calibration in use (`inUse`, or null); their readings are kept
   *  uncorrected, one face per frame. */
  class Capture {
    constructor(inUse) {
      this.inUse = inUse;
      this.readings = [];
      this.frames = 0;
      this.several = 0;
    }

    add(frame) {
      this.frames++;
      if (frame.faces.length > 1) this.several++;
      if (frame.faces.length === 1) this.readings.push(uncorrected(frame.faces[0].probabilities, this.inUse));
    }

    /** Why these frames cannot make a calibration, or null when they can. */
    refusal() {
      if (this.several > 0) return "several faces were in view; calibrate with only your face in the picture";
      if (this.readings.length < MIN_READINGS || this.readings.length < this.frames / 2) {
        return "your face was not seen (or too rarely); face the camera in good light and try again";
      }
      return null;
    }

    /** The emotion the resting face leaned to, on average. */
    leading() {
      let best = null;
      let bestSum = -1;
      for (const e of EMOTIONS) {
        const sum = this.readings.reduce((total, r) => total + (r[e] || 0), 0);
        if (sum > bestSum) { best = e; bestSum = sum; }
      }
      return best;
    }
  }

  return { CAPTURE_MS, load, save, forget, Capture };
})();
