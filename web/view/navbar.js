// The navigation bar's controls: where frames are analysed, match or lift,
// pause, and "Forget me" where the page keeps the listener's history.

import { byId, setText, showIf } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../actions/actions.js").Actions} Actions */

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  const analysisSwitch = byId("analysis-switch");
  const onDevice = /** @type {HTMLInputElement} */ (byId("analysis-device"));
  const onServer = /** @type {HTMLInputElement} */ (byId("analysis-server"));
  const modes = /** @type {HTMLInputElement[]} */ ([byId("mode-match"), byId("mode-uplift")]);
  const pause = byId("pause");
  const forget = byId("forget");

  store.watch((s) => [s.capture, s.serverAnalysis, s.analysis, s.deviceFailed], (s) => {
    showIf(analysisSwitch, s.capture === "browser" && s.serverAnalysis);
    onDevice.checked = s.analysis === "device";
    onDevice.disabled = !!s.deviceFailed;
    onServer.checked = s.analysis === "server";
  });
  store.watch((s) => [s.mode], (s) => { for (const input of modes) input.checked = input.value === s.mode; });
  store.watch((s) => [s.paused], (s) => setText(pause, s.paused ? "Resume" : "Pause"));
  store.watch((s) => [s.keepsHistory], (s) => showIf(forget, s.keepsHistory));

  for (const input of [onDevice, onServer]) {
    input.addEventListener("change", () => actions.chooseAnalysis(input.value === "server" ? "server" : "device"));
  }
  for (const input of modes) {
    input.addEventListener("change", () => actions.setMode(input.value === "uplift" ? "uplift" : "match"));
  }
  pause.addEventListener("click", () => actions.togglePause());
  forget.addEventListener("click", () => actions.forget());
}
