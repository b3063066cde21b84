// The playlist: which songs it holds (the listener's own music, everything,
// the catalog), one row per song (title linking to it, or the cover of a
// library song; why it was chosen, album, artist; Play where it can be
// played, Like and Skip) and the verdicts recorded. The list is also the
// player's queue (view/player.js, player/player.js).

import { byId, h, showIf } from "../dom.js";
import { spotifyIdOk } from "../player/queue.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").Song} Song */
/** @typedef {import("../state.js").Verdict} Verdict */
/** @typedef {import("../actions/actions.js").Actions} Actions */

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  const body = byId("songs");
  const empty = byId("songs-empty");
  /** @type {Map<string, HTMLTableRowElement>} */
  let rows = new Map();
  store.watch((s) => [s.songs], (s) => {
    rows = new Map(s.songs.map((song) => [String(song.id), songRow(song, actions)]));
    body.replaceChildren(...rows.values());
    showIf(empty, s.songs.length === 0);
  });
  store.watch((s) => [s.songs, s.verdicts, s.playing], (s) => {
    for (const [id, row] of rows) {
      markVerdict(row, s.verdicts[id] || null);
      row.classList.toggle("table-active", !!s.playing && String(s.playing.id) === id);
    }
  });
  mountSourceChoice(store, actions);
}

/** @param {Store} store @param {Actions} actions */
function mountSourceChoice(store, actions) {
  const choice = byId("source-choice");
  const buttons = /** @type {HTMLButtonElement[]} */ (Array.from(choice.querySelectorAll("button[data-source]")));
  for (const button of buttons) {
    button.addEventListener("click", () => actions.setSource(/** @type {import("../state.js").ListSource} */ (button.dataset.source)));
  }
  store.watch((s) => [s.source, s.librarySongs, s.folder.songs], (s) => {
    showIf(choice, s.librarySongs > 0 || s.folder.songs > 0);
    for (const button of buttons) {
      const chosen = button.dataset.source === s.source;
      button.classList.toggle("active", chosen);
      button.setAttribute("aria-pressed", String(chosen));
    }
  });
}

/** "3:07" for 187 seconds.  @param {number} seconds */
export function clock(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
}

/** A link only when it is a web address (a catalog's text is not trusted).
 *  @param {string} link */
function webLink(link) {
  return /^https?:\/\//i.test(link) ? link : "#";
}

/** @param {Song} song @param {Actions} actions */
function songRow(song, actions) {
  const urls = actions.libraryUrls(song);
  // A library song opens in the player, not on another site.
  const name = urls
    ? h("span", { className: "fw-semibold", text: song.title })
    : h("a", { text: song.title, attrs: { href: webLink(song.link), target: "_blank", rel: "noopener noreferrer" } });
  // Why the recommender chose it, under the title (as text only).
  const reason = h("div", { className: "small text-body-secondary", text: song.reason || "", attrs: { "data-testid": "reason" } });
  const title = h("td", { className: "title" }, name, reason);
  if (urls) {
    const cover = urls.cover
      ? h("img", { className: "rounded me-2 float-start", attrs: { src: urls.cover, width: "36", height: "36", alt: "", loading: "lazy", "data-testid": "cover" } })
      : h("span", { className: "badge text-bg-light me-2 float-start", text: "♪", attrs: { title: "From your library" } });
    title.prepend(cover);
    const length = song.library ? " · " + clock(song.library.duration_s) : "";
    reason.textContent = (song.reason || "") + length;
  }
  const buttons = h("td", { className: "actions text-end text-nowrap" });
  const row = h("tr", { attrs: { "data-testid": "song", "data-song-id": String(song.id) } },
    title,
    h("td", { className: "album", text: song.album }),
    h("td", { className: "artist", text: song.artist }),
    buttons);
  if (urls) {
    row.setAttribute("data-library", "true");
    buttons.append(h("button", { className: "btn btn-sm btn-outline-success", text: "Play",
      attrs: { type: "button", "data-testid": "play", title: "Play the whole song from your library", "aria-label": "Play " + song.title },
      on: { click: () => actions.play(song) } }), " ");
  } else if (spotifyIdOk(song.spotify_id)) {
    row.setAttribute("data-spotify-id", song.spotify_id);
    buttons.append(h("button", { className: "btn btn-sm btn-outline-success", text: "Play",
      attrs: { type: "button", "data-testid": "play", title: "Play here with Spotify's player", "aria-label": "Play " + song.title },
      on: { click: () => actions.play(song) } }), " ");
  }
  buttons.append(verdictButton(song, "like", "Like", actions), " ", verdictButton(song, "skip", "Skip", actions));
  return row;
}

/** @param {Song} song @param {Verdict} verdict @param {string} label @param {Actions} actions */
function verdictButton(song, verdict, label, actions) {
  return h("button", { className: "btn btn-sm btn-outline-secondary", text: label,
    attrs: { type: "button", "aria-pressed": "false", "data-verdict": verdict,
      title: verdict === "like" ? "More like this" : "Less like this" },
    on: { click: () => actions.feedback(song.id, verdict) } });
}

/** Marks a song's row with the verdict recorded for it (none: unmarked).
 *  @param {HTMLTableRowElement} row @param {Verdict | null} verdict */
function markVerdict(row, verdict) {
  for (const button of row.querySelectorAll("button[data-verdict]")) {
    const chosen = button.getAttribute("data-verdict") === verdict;
    button.classList.toggle("btn-success", chosen && verdict === "like");
    button.classList.toggle("btn-secondary", chosen && verdict === "skip");
    button.classList.toggle("btn-outline-secondary", !chosen);
    button.setAttribute("aria-pressed", String(chosen));
  }
  row.classList.toggle("opacity-50", verdict === "skip");
  if (verdict) row.setAttribute("data-marked", verdict); else row.removeAttribute("data-marked");
}
