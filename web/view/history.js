// What played: the songs started, newest first, each with the mood it
// played under (a list, and a band of colours under the mood timeline),
// and saving the list or the history as M3U8 or CSV (files made in the
// page and downloaded; nothing is sent anywhere).

import { COLORS } from "../emotions.js";
import { byId, h, setText } from "../dom.js";
import { moodFollowed } from "../state.js";
import { historyCsv, listCsv, m3u8 } from "../player/history.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").State} State */
/** @typedef {import("../state.js").Song} Song */
/** @typedef {import("../actions/actions.js").Actions} Actions */
/** @typedef {import("../player/history.js").Play} Play */

/** How many plays the list shows (the files saved hold them all). */
const SHOWN = 50;

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  const summary = byId("history-summary");
  const list = byId("history-list");
  const timeline = /** @type {HTMLCanvasElement} */ (byId("plays-timeline"));
  /** Where a music player finds a library song: an address (not an object URL of this page). @param {Song} song */
  const location = (song) => {
    const urls = actions.libraryUrls(song);
    if (!urls || urls.audio.startsWith("blob:")) return null;
    return new URL(urls.audio, document.baseURI).href;
  };
  /** The songs of `plays` as they are known now (for their files). @param {Play[]} plays */
  const songsOf = (plays) => {
    const known = new Map([...store.state.played, ...store.state.songs].map((song) => [song.id, song]));
    return plays.map((play) => known.get(play.id) || null);
  };
  byId("save-list-m3u8").addEventListener("click", () => {
    const songs = store.state.songs;
    download("melodora-list.m3u8", "audio/x-mpegurl", m3u8(songs.map((s) => ({ ...s, duration_s: s.library?.duration_s })), (i) => location(songs[i])));
  });
  byId("save-list-csv").addEventListener("click", () => {
    download("melodora-list.csv", "text/csv", listCsv(store.state.songs, moodFollowed(store.state)));
  });
  byId("save-history-m3u8").addEventListener("click", () => {
    const plays = store.state.plays;
    const songs = songsOf(plays);
    download("melodora-history.m3u8", "audio/x-mpegurl", m3u8(plays, (i) => {
      const song = songs[i];
      return song ? location(song) : null;
    }));
  });
  byId("save-history-csv").addEventListener("click", () => {
    download("melodora-history.csv", "text/csv", historyCsv(store.state.plays));
  });

  byId("history-forget").addEventListener("click", () => actions.forgetPlays());
  store.watch((s) => [s.plays], ({ plays }) => {
    setText(summary, plays.length ? `What played (${plays.length})` : "What played (nothing yet)");
    list.replaceChildren(...plays.slice(-SHOWN).reverse().map((play) => h("li", { attrs: { "data-testid": "history-play" } },
      h("span", { className: "text-body-secondary me-1", text: new Date(play.t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
      h("span", { className: "fw-semibold", text: play.title }),
      " · " + play.artist,
      h("span", { className: "badge text-bg-light ms-1", text: play.mood || "no mood yet" }))));
  });
  store.watch((s) => [s.plays, s.history], (s) => drawPlays(timeline, s, Date.now()));
  window.addEventListener("resize", () => drawPlays(timeline, store.state, Date.now()));
}

/**
 * The session's plays as bands from each start to the next, coloured by
 * the mood each played under, on the mood timeline's scale.
 * @param {HTMLCanvasElement} canvas @param {State} state @param {number} now
 */
export function drawPlays(canvas, state, now) {
  canvas.width = canvas.getBoundingClientRect().width;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const span = Math.max(now - state.startedAt, 1);
  const plays = state.plays.filter((play) => play.t >= state.startedAt);
  plays.forEach((play, i) => {
    const end = i + 1 < plays.length ? plays[i + 1].t : now;
    const x = ((play.t - state.startedAt) / span) * canvas.width;
    ctx.fillStyle = play.mood ? COLORS[play.mood] : "#adb5bd";
    ctx.fillRect(x, 0, Math.max(1, ((end - play.t) / span) * canvas.width - 1), canvas.height);
  });
}

/** Hands `text` to the browser as a file to save. @param {string} name @param {string} type @param {string} text */
function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { attrs: { href: url, download: name } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
