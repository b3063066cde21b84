// The status badge in the navigation bar and the messages above the stage
// (camera, analysis, storage) and under the playlist (a passing notice).

import { byId, setText, showIf } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */

const NOTICE_MS = 6000;
const STORAGE_REFUSED = "This browser does not let Melodora keep anything (storage is full or turned off): " +
  "it still works, but likes, skips and your history will not be kept.";

/** @param {Store} store */
export function mount(store) {
  const status = byId("status");
  store.watch((s) => [s.status], ({ status: { text, kind } }) => {
    setText(status, text);
    status.className = "badge text-bg-" + kind;
  });
  message(store, "camera-message", (s) => s.cameraMessage);
  message(store, "analysis-message", (s) => s.analysisMessage);
  message(store, "storage-message", (s) => (s.storageRefused ? STORAGE_REFUSED : ""));

  const notice = byId("notice");
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  store.watch((s) => [s.notice], (s) => {
    clearTimeout(timer);
    showIf(notice, !!s.notice);
    if (!s.notice) return;
    setText(notice, s.notice.text);
    timer = setTimeout(() => showIf(notice, false), NOTICE_MS);
  });
}

/**
 * An alert showing the text `pick` chooses, hidden while it is empty.
 * @param {Store} store
 * @param {string} id
 * @param {(state: import("../state.js").State) => string} pick
 */
function message(store, id, pick) {
  const element = byId(id);
  store.watch((s) => [pick(s)], (s) => {
    const text = pick(s);
    setText(element, text);
    showIf(element, !!text);
  });
}
