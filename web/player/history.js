// What played, and taking it along: each song started is remembered with
// the mood it played under (kept in this browser, newest PLAYS_KEPT; a
// server keeps the profile's too, which a browser without any shows), and
// the list or the history can be saved as M3U8 (the library files, for
// any music player) or CSV (every song: title, artist, Spotify link, mood,
// why it was chosen). Pure functions, shared with the unit tests.

import { isEmotion } from "../emotions.js";
import * as kept from "../kept.js";

/** @typedef {import("../state.js").Song} Song */
/** @typedef {import("../emotions.js").Emotion} Emotion */
/** @typedef {import("../transport/transport.js").LibraryUrls} LibraryUrls */

/**
 * One song that played.
 * @typedef {object} Play
 * @property {number} t          when it started, ms since the epoch
 * @property {number} id         the song's id
 * @property {string} title
 * @property {string} artist
 * @property {string} album
 * @property {Emotion | null} mood  the mood the list followed when it started
 * @property {string} reason     why it was chosen
 * @property {string | null} spotify_id
 * @property {number | null} duration_s  its length, for a library song
 */

/** Where the history is kept in this browser. */
export const PLAYS_KEY = "melodora.plays";
/** How many plays are kept. */
export const PLAYS_KEPT = 500;

/** A song as a play starting at `t` under `mood`.
 *  @param {Song} song @param {Emotion | null} mood @param {number} t @returns {Play} */
export function playOf(song, mood, t) {
  return {
    t, id: song.id, title: song.title, artist: song.artist, album: song.album || "", mood,
    reason: song.reason || "", spotify_id: song.spotify_id || null, duration_s: song.library?.duration_s ?? null,
  };
}

/** `plays` with `play` at the end, kept to the newest PLAYS_KEPT.
 *  @param {Play[]} plays @param {Play} play @returns {Play[]} */
export function withPlay(plays, play) {
  const next = [...plays, play];
  return next.length > PLAYS_KEPT ? next.slice(next.length - PLAYS_KEPT) : next;
}

/** The plays kept in this browser (none, refused, or malformed: an empty history).
 *  @returns {Play[]} */
export function keptPlays() {
  const saved = kept.readJson(PLAYS_KEY);
  if (!Array.isArray(saved)) return [];
  return saved.filter((p) => p && typeof p === "object" && typeof p.t === "number" && typeof p.id === "number"
    && typeof p.title === "string" && typeof p.artist === "string").slice(-PLAYS_KEPT);
}

/**
 * The plays a server kept for the profile (`GET /api/plays`: newest first,
 * `at_ms`, `song_id`) as the page keeps them (oldest first); malformed
 * entries are left out.
 * @param {unknown[]} served @returns {Play[]}
 */
export function playsFromServer(served) {
  /** @type {Play[]} */
  const plays = [];
  for (const p of served) {
    if (!p || typeof p !== "object") continue;
    const { at_ms, song_id, title, artist, mood, reason, spotify_id } = /** @type {Record<string, unknown>} */ (p);
    if (typeof at_ms !== "number" || typeof song_id !== "number" || typeof title !== "string" || typeof artist !== "string") continue;
    plays.push({
      t: at_ms, id: song_id, title, artist, album: "",
      mood: isEmotion(mood) ? mood : null,
      reason: typeof reason === "string" ? reason : "",
      spotify_id: typeof spotify_id === "string" ? spotify_id : null, duration_s: null,
    });
  }
  return plays.reverse().slice(-PLAYS_KEPT);
}

/** Keeps `plays` in this browser (false when it refuses). @param {Play[]} plays */
export function keepPlays(plays) {
  return kept.write(PLAYS_KEY, JSON.stringify(plays));
}

/** A Spotify song's web address, or "". @param {string | null | undefined} id */
export function spotifyLink(id) {
  return typeof id === "string" && /^[0-9A-Za-z]{22}$/.test(id) ? `https://open.spotify.com/track/${id}` : "";
}

/** One line of text with no line breaks (an M3U8 line cannot hold one). @param {string} text */
function oneLine(text) {
  return text.replace(/[\r\n\u2028\u2029]+/g, " ").trim();
}

/**
 * An M3U8 playlist of the library songs among `songs` (others have no file
 * a music player could open), each located by `location` (an absolute
 * address on a server, a relative path on a static site; null: left out).
 * @param {{title: string, artist: string, duration_s?: number | null}[]} songs
 * @param {(index: number) => string | null} location
 */
export function m3u8(songs, location) {
  const lines = ["#EXTM3U"];
  songs.forEach((song, i) => {
    const where = location(i);
    if (!where) return;
    const seconds = typeof song.duration_s === "number" ? Math.round(song.duration_s) : -1;
    lines.push(`#EXTINF:${seconds},${oneLine(song.artist)} - ${oneLine(song.title)}`, oneLine(where));
  });
  return lines.join("\n") + "\n";
}

/** One CSV cell: quoted when it must be, and a leading = + - @ (which a
 *  spreadsheet would run as a formula) defused with a quote mark.
 *  @param {string | number | null} value */
export function csvCell(value) {
  let text = value === null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text from a header and rows. @param {string[]} header @param {(string | number | null)[][]} rows */
export function csv(header, rows) {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/** The playlist as CSV. @param {Song[]} songs @param {Emotion | null} mood */
export function listCsv(songs, mood) {
  return csv(["title", "artist", "spotify_link", "mood", "reason"],
    songs.map((s) => [s.title, s.artist, spotifyLink(s.spotify_id), mood, s.reason || ""]));
}

/** The history as CSV, oldest first. @param {Play[]} plays */
export function historyCsv(plays) {
  return csv(["played_at", "title", "artist", "spotify_link", "mood", "reason"],
    plays.map((p) => [new Date(p.t).toISOString(), p.title, p.artist, spotifyLink(p.spotify_id), p.mood, p.reason]));
}
