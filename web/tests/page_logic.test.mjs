// Unit tests of the page's logic that does not need a browser: the
// calibration capture (what it keeps, when it refuses, what it leaned to,
// where it is kept) and the photo's size check. The scripts are loaded as
// the page loads them, as classic scripts that set a `window.Melodora*`
// global, into a context with a stand-in localStorage. The browser tests
// (tests/e2e) drive the same code through the page.
//
//   node --test web/tests/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"];

/** A page-like context with `script` run in it; `storage` stands in for localStorage. */
function load(script, storage) {
  const context = { window: {}, localStorage: storage, Math, JSON };
  vm.createContext(context);
  vm.runInContext(readFileSync(new URL(`../${script}`, import.meta.url), "utf8"), context, { filename: script });
  return context.window;
}

/** localStorage as the browser has it (strings in, strings out). */
function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

/** localStorage in a browser that refuses it (private mode, storage off). */
const refusingStorage = {
  getItem() { throw new Error("SecurityError"); },
  setItem() { throw new Error("QuotaExceededError"); },
  removeItem() { throw new Error("SecurityError"); },
};

function reading(leaning, share = 0.7) {
  const probabilities = {};
  for (const e of EMOTIONS) probabilities[e] = e === leaning ? share : (1 - share) / (EMOTIONS.length - 1);
  return probabilities;
}

const oneFace = (probabilities) => ({ faces: [{ probabilities }] });
const noFace = { faces: [] };
const twoFaces = { faces: [{ probabilities: reading("happy") }, { probabilities: reading("sad") }] };

test("a capture keeps readings as the model gave them, undoing the calibration in use", () => {
  const { MelodoraCalibration } = load("calibration.js", memoryStorage());
  const inUse = { sad: -1.5, neutral: 0.8 };
  const raw = reading("sad", 0.5);
  // The analyzer's correction: each probability times e^offset, renormalised.
  const corrected = {};
  let sum = 0;
  for (const e of EMOTIONS) sum += (corrected[e] = raw[e] * Math.exp(inUse[e] || 0));
  for (const e of EMOTIONS) corrected[e] /= sum;
  assert.ok(corrected.sad < raw.sad, "the stand-in correction lowers sad");

  const capture = new MelodoraCalibration.Capture(inUse);
  capture.add(oneFace(corrected));
  assert.equal(capture.readings.length, 1);
  for (const e of EMOTIONS) assert.ok(Math.abs(capture.readings[0][e] - raw[e]) < 1e-12, e);
  // Without a calibration in use, readings are kept as they came.
  const plain = new MelodoraCalibration.Capture(null);
  plain.add(oneFace(raw));
  assert.deepEqual({ ...plain.readings[0] }, raw);
});

test("a capture is refused with several faces, or with the face seen too rarely", () => {
  const { MelodoraCalibration } = load("calibration.js", memoryStorage());
  const capture = () => new MelodoraCalibration.Capture(null);

  const enough = capture();
  for (let i = 0; i < 6; i++) enough.add(oneFace(reading("neutral")));
  assert.equal(enough.refusal(), null);

  const crowded = capture();
  for (let i = 0; i < 6; i++) crowded.add(oneFace(reading("neutral")));
  crowded.add(twoFaces);
  assert.match(crowded.refusal(), /several faces/);

  const fewReadings = capture();
  for (let i = 0; i < 4; i++) fewReadings.add(oneFace(reading("neutral")));
  assert.match(fewReadings.refusal(), /not seen/);

  const mostlyAway = capture(); // 6 readings in 13 frames: under half
  for (let i = 0; i < 6; i++) mostlyAway.add(oneFace(reading("neutral")));
  for (let i = 0; i < 7; i++) mostlyAway.add(noFace);
  assert.match(mostlyAway.refusal(), /not seen/);

  const halfAway = capture(); // 6 of 12: exactly half is enough
  for (let i = 0; i < 6; i++) halfAway.add(oneFace(reading("neutral")));
  for (let i = 0; i < 6; i++) halfAway.add(noFace);
  assert.equal(halfAway.refusal(), null);
});

test("a capture leans to the emotion with the largest summed share", () => {
  const { MelodoraCalibration } = load("calibration.js", memoryStorage());
  const capture = new MelodoraCalibration.Capture(null);
  capture.add(oneFace(reading("happy", 0.9)));
  capture.add(oneFace(reading("sad", 0.6)));
  capture.add(oneFace(reading("sad", 0.6)));
  assert.equal(capture.leading(), "sad"); // 1.2 + 0.02 against 0.9 + 0.13
});

test("a calibration is kept in, read from and forgotten by localStorage", () => {
  const storage = memoryStorage();
  const { MelodoraCalibration } = load("calibration.js", storage);
  assert.equal(MelodoraCalibration.load(), null);
  const calibration = { sad: -1.25, neutral: 0.5 };
  assert.equal(MelodoraCalibration.save(calibration), true);
  assert.deepEqual({ ...MelodoraCalibration.load() }, calibration);
  MelodoraCalibration.forget();
  assert.equal(MelodoraCalibration.load(), null);

  storage.setItem("melodora.calibration", "{not json");
  assert.equal(MelodoraCalibration.load(), null, "a damaged entry reads as not calibrated");
});

test("storage that refuses leaves the page uncalibrated, without throwing", () => {
  const { MelodoraCalibration } = load("calibration.js", refusingStorage);
  assert.equal(MelodoraCalibration.load(), null);
  assert.equal(MelodoraCalibration.save({ sad: -1 }), false);
  assert.doesNotThrow(() => MelodoraCalibration.forget());
});

test("a photo over 20 MB is refused before it is read, with its size", () => {
  const { MelodoraPhoto } = load("photo.js", memoryStorage());
  assert.equal(MelodoraPhoto.refusal({ size: 20 * 1024 * 1024 }), null);
  assert.equal(MelodoraPhoto.refusal({ size: 0 }), null);
  assert.match(MelodoraPhoto.refusal({ size: 20 * 1024 * 1024 + 1 }), /too large \(20\.0 MB; at most 20 MB\)/);
  assert.match(MelodoraPhoto.refusal({ size: 31.5 * 1024 * 1024 }), /31\.5 MB/);
});
