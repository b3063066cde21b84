// The queue: which song plays next. The playlist is the queue: a song that
// ends gives way to the first song of the list as it is *now* that has a
// player and has not played yet, so a list re-made for a new mood re-plans
// what follows without cutting the song playing. Pure functions of the
// state, so the page and its unit tests share them.

/** @typedef {import("../state.js").Song} Song */
/** @typedef {import("../emotions.js").Emotion} Emotion */

/** How many songs the page remembers having played (for Previous, and so
 *  that the queue does not come back to them). */
export const PLAYED_KEPT = 200;

/** Whether Spotify's player can play `id` (a well-formed track id).
 *  @param {unknown} id @returns {id is string} */
export function spotifyIdOk(id) {
  return typeof id === "string" && /^[0-9A-Za-z]{22}$/.test(id);
}

/** Whether the page can play a song: a library file, or a Spotify track.
 *  @param {Song} song */
export function playable(song) {
  return !!song.library || spotifyIdOk(song.spotify_id);
}

/**
 * The song to play after `playing`: the first song of `songs` that can
 * play (and that `may` allows) and is not playing and has not played yet;
 * when every one has, the first after `playing` in the list (the list
 * goes round again); null when the list has nothing else to play.
 * @param {Song[]} songs      the list as it is now
 * @param {Song | null} playing
 * @param {Song[]} played     what played before, oldest first
 * @param {(song: Song) => boolean} [may]  which songs may come next (default: any playable one)
 * @returns {Song | null}
 */
export function upNext(songs, playing, played, may = () => true) {
  const fits = (/** @type {Song} */ song) => playable(song) && may(song) && song.id !== playing?.id;
  const heard = new Set(played.map((song) => song.id));
  const fresh = songs.find((song) => fits(song) && !heard.has(song.id));
  if (fresh) return fresh;
  const at = playing ? songs.findIndex((song) => song.id === playing.id) : -1;
  return [...songs.slice(at + 1), ...songs.slice(0, Math.max(at, 0))].find(fits) || null;
}

/**
 * What "Up next" names and "switch now" plays: after a song the queue may
 * move on from by itself (`followsOn`: a library song, or a Spotify song
 * while Spotify's embed answers), the next such song, as the queue goes on
 * by itself; after any other song, the next song with a player.
 * @param {Song[]} songs @param {Song | null} playing @param {Song[]} played
 * @param {(song: Song) => boolean} followsOn
 * @returns {Song | null}
 */
export function plannedNext(songs, playing, played, followsOn) {
  if (!playing) return null;
  return upNext(songs, playing, played, followsOn(playing) ? followsOn : undefined);
}

/**
 * Previous: the song before `playing` in what played, and what played
 * without the songs stepped back over (so that Previous again goes
 * further back, not back and forth); `song` is null when there is none.
 * @param {Song[]} played  oldest first; ends with `playing` once it started
 * @param {Song | null} playing
 * @returns {{song: Song | null, played: Song[]}}
 */
export function stepBack(played, playing) {
  let end = played.length;
  while (end > 0 && played[end - 1].id === playing?.id) end--;
  if (end === 0) return { song: null, played };
  return { song: played[end - 1], played: played.slice(0, end) };
}

/**
 * `played` with `song` added at its end (kept to the newest PLAYED_KEPT).
 * @param {Song[]} played @param {Song} song @returns {Song[]}
 */
export function withPlayed(played, song) {
  const next = [...played, song];
  return next.length > PLAYED_KEPT ? next.slice(next.length - PLAYED_KEPT) : next;
}

/**
 * Whether the list now follows another mood than the song playing was
 * chosen for, so that "switch now" is worth offering.
 * @param {Emotion | null} playingMood  the mood when the song started (null: unknown)
 * @param {Emotion | null} mood         the stable mood now
 */
export function moodMoved(playingMood, mood) {
  return !!playingMood && !!mood && playingMood !== mood;
}

/**
 * The gain, in dB, that brings a library song measured at `lufs` to
 * `target` (no boost past `maxBoostDb`: a quiet song is not pushed into
 * clipping; no change for a song not measured).
 * @param {number | null | undefined} lufs
 * @param {number} target
 * @param {number} maxBoostDb
 */
export function matchingGainDb(lufs, target, maxBoostDb) {
  if (typeof lufs !== "number" || !Number.isFinite(lufs) || lufs < -70) return 0;
  return Math.min(maxBoostDb, target - lufs);
}
