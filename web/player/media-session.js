// The Media Session: what the operating system shows of the song playing
// (lock screen, notification, headset and keyboard media keys) and what
// those keys do. Browsers without it are left alone.

/** @typedef {import("../state.js").Song} Song */
/** @typedef {import("./engine.js").Playback} Playback */

/**
 * @typedef {object} SessionHandlers
 * @property {() => void} play
 * @property {() => void} pause
 * @property {() => void} next
 * @property {() => void} previous
 * @property {(seconds: number) => void} seekTo
 * @property {(by: number) => void} seekBy
 */

/** The seconds a "seek backward/forward" key moves. */
const SEEK_STEP_S = 10;

/** @returns {MediaSession | null} */
function session() {
  return typeof navigator !== "undefined" && "mediaSession" in navigator ? navigator.mediaSession : null;
}

/** Hands the player's controls to the system's media keys (once). @param {SessionHandlers} handlers */
export function connect(handlers) {
  const media = session();
  if (!media) return;
  /** @type {[MediaSessionAction, MediaSessionActionHandler][]} */
  const actions = [
    ["play", () => handlers.play()],
    ["pause", () => handlers.pause()],
    ["nexttrack", () => handlers.next()],
    ["previoustrack", () => handlers.previous()],
    ["seekto", (details) => { if (typeof details.seekTime === "number") handlers.seekTo(details.seekTime); }],
    ["seekbackward", (details) => handlers.seekBy(-(details.seekOffset || SEEK_STEP_S))],
    ["seekforward", (details) => handlers.seekBy(details.seekOffset || SEEK_STEP_S)],
  ];
  for (const [action, handler] of actions) {
    try {
      media.setActionHandler(action, handler);
    } catch (error) { /* an action this browser does not know */ }
  }
}

/**
 * Shows `song` (null: nothing) as what plays, with its cover when it has one.
 * @param {Song | null} song @param {string | null} cover
 */
export function show(song, cover) {
  const media = session();
  if (!media) return;
  if (!song) {
    media.metadata = null;
    media.playbackState = "none";
    return;
  }
  media.metadata = new MediaMetadata({
    title: song.title,
    artist: song.artist,
    album: song.album,
    artwork: cover ? [{ src: cover }] : [],
  });
}

/** Where the song is, for the system's progress bar. @param {Playback} playback */
export function position(playback) {
  const media = session();
  if (!media) return;
  media.playbackState = playback.paused ? "paused" : "playing";
  if (!Number.isFinite(playback.duration) || playback.duration <= 0) return;
  try {
    media.setPositionState({ duration: playback.duration, position: Math.min(playback.position, playback.duration), playbackRate: 1 });
  } catch (error) { /* a position the browser refuses */ }
}
