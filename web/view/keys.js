// Keyboard shortcuts for the player, and their help (?): space plays or
// pauses, N and P move on and back, L likes and S skips the song playing.
// Keys typed into a field, or with Ctrl, Alt or Meta held, are left to the
// page; space on a button presses the button, as it always does.

import { byId } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../actions/actions.js").Actions} Actions */

/**
 * What a key does, or null when it is not a shortcut.
 * @param {string} key  KeyboardEvent.key
 * @returns {null | "toggle" | "next" | "previous" | "like" | "skip" | "help"}
 */
export function shortcut(key) {
  switch (key) {
    case " ": return "toggle";
    case "n": case "N": return "next";
    case "p": case "P": return "previous";
    case "l": case "L": return "like";
    case "s": case "S": return "skip";
    case "?": return "help";
    default: return null;
  }
}

/** Whether a key pressed on `target` belongs to it (typing, or a control's own keys).
 *  @param {EventTarget | null} target @param {string} key */
export function keptByTarget(target, key) {
  // (Anything with `closest` is an element; the page's keys come from the document.)
  const element = target && "closest" in target ? /** @type {Element} */ (target) : null;
  if (!element) return false;
  if (element.closest("input, textarea, select, [contenteditable=true], dialog")) return true;
  return key === " " && !!element.closest("button, a, summary, [role=button]");
}

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  const help = /** @type {HTMLDialogElement} */ (byId("keys-help"));
  const showHelp = () => { if (!help.open) help.showModal(); };
  byId("player-keys").addEventListener("click", showHelp);
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    const action = shortcut(event.key);
    if (!action || keptByTarget(event.target, event.key)) return;
    const playing = store.state.playing;
    switch (action) {
      case "help": showHelp(); break;
      case "toggle": actions.togglePlay(); break;
      case "next": if (playing) actions.playNext(); break;
      case "previous": if (playing) actions.playPrevious(); break;
      case "like": if (playing) actions.judgePlaying("like"); break;
      case "skip": if (playing) actions.judgePlaying("skip"); break;
    }
    event.preventDefault();
  });
}
