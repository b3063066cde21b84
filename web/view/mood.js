// The stable mood, where and how fast frames are analysed, and the
// session's timeline of moods.

import { COLORS } from "../emotions.js";
import { byId, setText } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").State} State */

/** @param {Store} store */
export function mount(store) {
  const mood = byId("mood");
  const confidence = byId("mood-confidence");
  const info = byId("analysis-info");
  const timeline = /** @type {HTMLCanvasElement} */ (byId("timeline"));
  store.watch((s) => [s.mood], (s) => {
    setText(mood, s.mood ? s.mood.emotion : "—");
    setText(confidence, s.mood ? Math.round(s.mood.confidence * 100) + "%" : "");
  });
  store.watch((s) => [s.analysisInfo], (s) => setText(info, s.analysisInfo));
  // The last mood lasts until now, so the timeline is drawn again with each frame.
  store.watch((s) => [s.history, s.mood, s.largest], (s) => drawTimeline(timeline, s, Date.now()));
  window.addEventListener("resize", () => drawTimeline(timeline, store.state, Date.now()));
}

/**
 * Each mood of the session as a band as wide as it lasted.
 * @param {HTMLCanvasElement} timeline
 * @param {State} state
 * @param {number} now
 */
export function drawTimeline(timeline, state, now) {
  timeline.width = timeline.getBoundingClientRect().width;
  const ctx = timeline.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, timeline.width, timeline.height);
  const { history, startedAt } = state;
  const span = Math.max(now - startedAt, 1);
  history.forEach((m, i) => {
    const end = i + 1 < history.length ? history[i + 1].t : now;
    ctx.fillStyle = COLORS[m.emotion];
    const x = ((m.t - startedAt) / span) * timeline.width;
    ctx.fillRect(x, 0, Math.max(1, ((end - m.t) / span) * timeline.width), timeline.height);
  });
}
