// The listener's hand on the mood: the mood chips and "Follow my face",
// personal calibration, and a photo instead of the camera.

import { isEmotion } from "../emotions.js";
import { byId, setText, showIf } from "../dom.js";
import { calibrationInUse } from "../state.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").State} State */
/** @typedef {import("../actions/actions.js").Actions} Actions */

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  mountChips(store, actions);
  mountCalibration(store, actions);
  mountPhoto(store, actions);
}

/** @param {Store} store @param {Actions} actions */
function mountChips(store, actions) {
  const chips = /** @type {HTMLButtonElement[]} */ ([...byId("mood-chips").querySelectorAll("button[data-emotion]")]);
  const follow = byId("follow-face");
  const info = byId("manual-info");
  for (const chip of chips) {
    chip.addEventListener("click", () => { if (isEmotion(chip.dataset.emotion)) actions.setManual(chip.dataset.emotion); });
  }
  follow.addEventListener("click", () => actions.followFace());
  store.watch((s) => [s.manual, s.now], (s) => {
    for (const chip of chips) {
      const chosen = !!s.manual && s.manual.emotion === chip.dataset.emotion;
      chip.classList.toggle("btn-secondary", chosen);
      chip.classList.toggle("btn-outline-secondary", !chosen);
      chip.setAttribute("aria-pressed", String(chosen));
    }
    showIf(follow, !!s.manual);
    showIf(info, !!s.manual);
    setText(info, manualText(s));
  });
}

/**
 * "Playlist for sad, set by hand; following your face again in 9:58."
 * @param {State} state
 */
export function manualText(state) {
  if (!state.manual) return "";
  const left = Math.max(0, Math.ceil((state.manual.until - state.now) / 1000));
  const clock = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  return "Playlist for " + state.manual.emotion + ", " + state.manual.from + "; following your face again in " + clock + ".";
}

/** @param {Store} store @param {Actions} actions */
function mountCalibration(store, actions) {
  const calibrate = /** @type {HTMLButtonElement} */ (byId("calibrate"));
  const calibrated = byId("calibrated");
  const reset = byId("calibration-reset");
  const info = byId("calibration-info");
  calibrate.addEventListener("click", () => actions.calibrate());
  reset.addEventListener("click", () => actions.resetCalibration());
  store.watch((s) => [calibrationInUse(s), s.calibrating], (s) => {
    const inUse = !!calibrationInUse(s);
    showIf(calibrated, inUse);
    showIf(reset, inUse);
    calibrate.disabled = s.calibrating;
    setText(calibrate, inUse ? "Calibrate again" : "Calibrate");
  });
  store.watch((s) => [s.calibrationInfo], (s) => setText(info, s.calibrationInfo));
}

/** @param {Store} store @param {Actions} actions */
function mountPhoto(store, actions) {
  const input = /** @type {HTMLInputElement} */ (byId("photo-input"));
  const info = byId("photo-info");
  byId("photo-pick").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (file) actions.usePhoto(file).finally(() => { input.value = ""; });
  });
  const stage = byId("stage");
  stage.addEventListener("dragover", (event) => event.preventDefault());
  stage.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) actions.usePhoto(file);
  });
  store.watch((s) => [s.photoInfo], (s) => setText(info, s.photoInfo));
}
