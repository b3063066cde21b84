// A mood set by hand (a chip, or a photo): the list follows it, and the
// camera's reading is still shown but changes nothing, until "Follow my
// face" or HOLD_MS later (the countdown is on the page).

import { notice } from "../state.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../transport/transport.js").Transport} Transport */
/** @typedef {import("../emotions.js").Emotion} Emotion */

const HOLD_MS = 10 * 60 * 1000;   // a mood set by hand holds this long
const TICK_MS = 1000;

export class ManualMood {
  /**
   * @param {Store} store
   * @param {Transport} transport
   * @param {() => void} hidePhoto  puts the camera back on the stage
   */
  constructor(store, transport, hidePhoto) {
    this.store = store;
    this.transport = transport;
    this.hidePhoto = hidePhoto;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
  }

  /** @param {Emotion} emotion @param {string} [from] */
  set(emotion, from = "set by hand") {
    this.store.update({ manual: { emotion, until: Date.now() + HOLD_MS, from }, now: Date.now() });
    if (!this.transport.setManual(emotion)) {
      this.store.update(notice("Not connected; the mood is sent when the page reconnects."));
    }
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      const manual = this.store.state.manual;
      if (manual && Date.now() >= manual.until) this.followFace(); else this.store.update({ now: Date.now() });
    }, TICK_MS);
  }

  /** Hands the mood back to the camera. */
  followFace() {
    clearInterval(this.timer);
    this.store.update({ manual: null });
    this.hidePhoto();
    this.transport.setManual(null);
  }
}
