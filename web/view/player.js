// The player bar: what plays (cover, title, where from), its controls
// (previous, play/pause, next, position, volume, like, skip), what comes
// next and "switch now" when the mood has moved on, the crossfade, and a
// line read out to screen readers when the song changes. Spotify's embed
// frame is the player's (player/spotify.js): nothing from Spotify loads
// before a Spotify song is played (the CSP allows only that frame origin).

import { byId, h, setText, showIf } from "../dom.js";
import { moodFollowed } from "../state.js";
import { clock } from "./playlist.js";
import { moodMoved, plannedNext, spotifyIdOk } from "../player/queue.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").State} State */
/** @typedef {import("../actions/actions.js").Actions} Actions */

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  const player = byId("player");
  const title = byId("player-title");
  const from = byId("player-from");
  const cover = /** @type {HTMLImageElement} */ (byId("player-cover"));
  const toggle = byId("player-toggle");
  const seek = /** @type {HTMLInputElement} */ (byId("player-seek"));
  const time = byId("player-time");
  const volume = /** @type {HTMLInputElement} */ (byId("player-volume"));
  const like = byId("player-like");
  const upNextLine = byId("player-up-next");
  const switchNow = byId("player-switch");
  const crossfade = /** @type {HTMLSelectElement} */ (byId("player-crossfade"));
  const announce = byId("player-announce");

  byId("player-previous").addEventListener("click", () => actions.playPrevious());
  toggle.addEventListener("click", () => actions.togglePlay());
  byId("player-next").addEventListener("click", () => actions.playNext());
  byId("player-close").addEventListener("click", () => actions.closePlayer());
  like.addEventListener("click", () => actions.judgePlaying("like"));
  byId("player-skip").addEventListener("click", () => actions.judgePlaying("skip"));
  switchNow.addEventListener("click", () => actions.switchNow());
  // While the thumb is dragged the position shown follows it, not the song.
  let seeking = false;
  seek.addEventListener("input", () => { seeking = true; setText(time, clock(Number(seek.value)) + " / " + clock(Number(seek.max))); });
  seek.addEventListener("change", () => { seeking = false; actions.seek(Number(seek.value)); });
  volume.addEventListener("input", () => actions.setVolume(Number(volume.value)));
  crossfade.addEventListener("change", () => actions.setCrossfade(Number(crossfade.value)));

  store.watch((s) => [s.playing], ({ playing }) => {
    showIf(player, !!playing);
    const urls = playing ? actions.libraryUrls(playing) : null;
    const spotify = !urls && !!playing && spotifyIdOk(playing.spotify_id);
    // Spotify's embed has no volume of its own to set; the rest works for both.
    for (const control of [toggle, seek, time]) showIf(control, !!urls || spotify);
    showIf(volume, !!urls);
    showIf(cover, !!urls?.cover);
    if (urls?.cover) cover.src = urls.cover; else cover.removeAttribute("src");
    if (!playing) {
      setText(announce, "The player is closed.");
      return;
    }
    setText(title, playing.title + " · " + playing.artist);
    setText(announce, "Now playing " + playing.title + " by " + playing.artist + ".");
    setText(from, urls ? "Playing from your library:" : "Playing from Spotify:");
  });

  store.watch((s) => [s.playback], ({ playback }) => {
    const label = playback.paused ? "Play" : "Pause";
    setText(toggle, label);
    toggle.setAttribute("aria-label", label);
    if (seeking) return;
    const duration = Number.isFinite(playback.duration) ? playback.duration : 0;
    if (seek.max !== String(Math.floor(duration))) seek.max = String(Math.floor(duration));
    seek.value = String(Math.floor(playback.position));
    setText(time, clock(playback.position) + " / " + clock(duration));
  });

  store.watch((s) => [s.volume, s.crossfadeS], (s) => {
    volume.value = String(s.volume);
    crossfade.value = String(s.crossfadeS);
    // A crossfade kept from elsewhere that is not among the choices still shows.
    if (crossfade.value !== String(s.crossfadeS)) {
      crossfade.append(h("option", { text: s.crossfadeS + " s", attrs: { value: String(s.crossfadeS) } }));
      crossfade.value = String(s.crossfadeS);
    }
  });

  store.watch((s) => [s.songs, s.playing, s.played, s.mood, s.manual, s.playingMood, s.verdicts], (s) => {
    const liked = !!s.playing && s.verdicts[String(s.playing.id)] === "like";
    like.classList.toggle("btn-success", liked);
    like.classList.toggle("btn-outline-secondary", !liked);
    like.setAttribute("aria-pressed", String(liked));
    const next = plannedNext(s.songs, s.playing, s.played, actions.followsOn);
    setText(upNextLine, next ? "Up next: " + next.title + " · " + next.artist : "");
    showIf(switchNow, !!s.playing && !!next && moodMoved(s.playingMood, moodFollowed(s)));
  });
}
