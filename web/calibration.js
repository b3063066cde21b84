// Personal calibration, the page's side (docs/CALIBRATION.md): what a 3 s
// capture of a relaxed face is made of, when it is refused, and where a
// calibration made on this device is kept. actions/calibrate.js decides
// when to capture; the analyzer (in the page's worker, or the server's)
// makes the correction itself.

import { EMOTIONS } from "./emotions.js";
import * as kept from "./kept.js";

/** @typedef {import("./emotions.js").Emotion} Emotion */
/** @typedef {Partial<Record<Emotion, number>>} Probabilities  probability by emotion */
/** @typedef {Partial<Record<Emotion, number>>} Calibration    log-offset by emotion */
/** @typedef {{faces: {probabilities: Probabilities}[]}} Frame */

const KEY = "melodora.calibration";
/** How long the relaxed face is held, in ms. */
export const CAPTURE_MS = 3000;
const MIN_READINGS = 5;           // as the analyzer requires

/**
 * The calibration kept in this browser, or null.
 * @returns {Calibration | null}
 */
export function load() {
  const value = kept.readJson(KEY);
  return value && typeof value === "object" ? /** @type {Calibration} */ (value) : null;
}

/**
 * Keeps a calibration in this browser; false when storage refuses.
 * @param {Calibration} calibration
 */
export function save(calibration) {
  return kept.write(KEY, JSON.stringify(calibration));
}

export function forget() {
  kept.remove(KEY);
}

/**
 * A reading as the model gave it, before `calibration` corrected it
 * (each probability divided by e^offset, renormalised).
 * @param {Probabilities} probabilities
 * @param {Calibration | null} calibration
 * @returns {Probabilities}
 */
export function uncorrected(probabilities, calibration) {
  if (!calibration) return probabilities;
  /** @type {Probabilities} */
  const raw = {};
  let sum = 0;
  for (const e of EMOTIONS) {
    const value = (probabilities[e] || 0) * Math.exp(-(calibration[e] || 0));
    raw[e] = value;
    sum += value;
  }
  if (!(sum > 0)) return probabilities;
  for (const e of EMOTIONS) raw[e] = /** @type {number} */ (raw[e]) / sum;
  return raw;
}

/** The frames of one capture. Frames arrive read through the calibration
 *  in use (`inUse`, or null); their readings are kept uncorrected, one
 *  face per frame. */
export class Capture {
  /** @param {Calibration | null} inUse */
  constructor(inUse) {
    this.inUse = inUse;
    /** @type {Probabilities[]} */
    this.readings = [];
    this.frames = 0;
    this.several = 0;
  }

  /** @param {Frame} frame */
  add(frame) {
    this.frames++;
    if (frame.faces.length > 1) this.several++;
    if (frame.faces.length === 1) this.readings.push(uncorrected(frame.faces[0].probabilities, this.inUse));
  }

  /** Why these frames cannot make a calibration, or null when they can.
   *  @returns {string | null} */
  refusal() {
    if (this.several > 0) return "several faces were in view; calibrate with only your face in the picture";
    if (this.readings.length < MIN_READINGS || this.readings.length < this.frames / 2) {
      return "your face was not seen (or too rarely); face the camera in good light and try again";
    }
    return null;
  }

  /** The emotion the resting face leaned to, on average.
   *  @returns {Emotion} */
  leading() {
    /** @type {Emotion} */
    let best = EMOTIONS[0];
    let bestSum = -1;
    for (const e of EMOTIONS) {
      const sum = this.readings.reduce((total, r) => total + (r[e] || 0), 0);
      if (sum > bestSum) { best = e; bestSum = sum; }
    }
    return best;
  }
}
