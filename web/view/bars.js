// One bar per emotion: the largest face's probabilities.

import { COLORS, EMOTIONS } from "../emotions.js";
import { byId, h } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */

/** @param {Store} store */
export function mount(store) {
  const bars = EMOTIONS.map((emotion) => {
    const bar = h("div", { className: "progress-bar" });
    bar.style.width = "0%";
    bar.style.backgroundColor = COLORS[emotion];
    const progress = h("div", { className: "progress flex-grow-1", attrs: { role: "progressbar", "aria-valuemin": "0",
      "aria-valuemax": "100", "aria-valuenow": "0", "aria-label": emotion } }, bar);
    byId("bars").append(h("div", { className: "d-flex align-items-center gap-2 mb-1" },
      h("span", { className: "bar-label small", text: emotion }), progress));
    return { emotion, bar, progress };
  });
  store.watch((s) => [s.largest], ({ largest }) => {
    for (const { emotion, bar, progress } of bars) {
      const p = largest ? largest.probabilities[emotion] || 0 : 0;
      bar.style.width = (p * 100).toFixed(1) + "%";
      progress.setAttribute("aria-valuenow", String(Math.round(p * 100)));
    }
  });
}
