// The playlist: one row per song (title linking to it, why it was chosen,
// album, artist; Play where Spotify's player can play it, Like and Skip),
// the verdicts recorded, and Spotify's player for the song playing.
// Nothing from Spotify loads until Play is pressed: the embed frame is made
// then, one at a time (the CSP allows only this frame origin).

import { byId, h, setText, showIf } from "../dom.js";

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
  mountPlayer(store, actions);
}

/** Whether Spotify's player can play `id` (a well-formed track id).
 *  @param {unknown} id @returns {id is string} */
export function spotifyIdOk(id) {
  return typeof id === "string" && /^[0-9A-Za-z]{22}$/.test(id);
}

/** The song to play after `playing`: the next one down the list with a player.
 *  @param {Song[]} songs @param {Song | null} playing @returns {Song | null} */
export function nextPlayable(songs, playing) {
  const at = playing ? songs.findIndex((song) => song.id === playing.id) : -1;
  return songs.slice(at + 1).find((song) => spotifyIdOk(song.spotify_id)) || null;
}

/** A link only when it is a web address (a catalog's text is not trusted).
 *  @param {string} link */
function webLink(link) {
  return /^https?:\/\//i.test(link) ? link : "#";
}

/** @param {Song} song @param {Actions} actions */
function songRow(song, actions) {
  const link = h("a", { text: song.title, attrs: { href: webLink(song.link), target: "_blank", rel: "noopener noreferrer" } });
  // Why the recommender chose it, under the title (as text only).
  const reason = h("div", { className: "small text-body-secondary", text: song.reason || "", attrs: { "data-testid": "reason" } });
  const buttons = h("td", { className: "actions text-end text-nowrap" });
  const row = h("tr", { attrs: { "data-testid": "song", "data-song-id": String(song.id) } },
    h("td", { className: "title" }, link, reason),
    h("td", { className: "album", text: song.album }),
    h("td", { className: "artist", text: song.artist }),
    buttons);
  if (spotifyIdOk(song.spotify_id)) {
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

/** @param {Store} store @param {Actions} actions */
function mountPlayer(store, actions) {
  const player = byId("player");
  const frame = byId("player-frame");
  const title = byId("player-title");
  byId("player-next").addEventListener("click", () => actions.playNext());
  byId("player-close").addEventListener("click", () => actions.closePlayer());
  store.watch((s) => [s.playing], ({ playing }) => {
    showIf(player, !!playing);
    if (!playing || !spotifyIdOk(playing.spotify_id)) {
      frame.replaceChildren();
      return;
    }
    setText(title, playing.title + " · " + playing.artist);
    frame.replaceChildren(h("iframe", { attrs: { "data-testid": "player-frame", width: "100%", height: "80",
      allow: "encrypted-media", loading: "lazy", title: "Spotify player: " + playing.title,
      src: "https://open.spotify.com/embed/track/" + playing.spotify_id } }));
  });
}
