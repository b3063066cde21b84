// Spotify's songs, played in Spotify's own embed (one frame, reused from
// song to song) and driven from the page with the messages that the embed
// exchanges with Spotify's iFrame API: the page speaks them itself, so no
// script of Spotify's ever runs in the page that holds the camera; Spotify's
// code runs only inside its frame, on its own origin, as any embed does.
//
//   page ── {command: "load_complete_ack" | "play" | "pause" | "resume" | "seek"} ──▶ embed
//   page ◀── {type: "ready" | "playback_update" {position, duration, isPaused} | "error"} ── embed
//
// The API has no "ended" event: a song ends when its playback updates reach
// its duration, or the embed stops and rewinds right at the end, or its
// updates stop coming once the time it had left has passed. If an
// embed never answers (Spotify changed its messages, or the network is
// down), the frame still shows Spotify's own play button: its songs then
// play one click each, and the queue passes over them again.

/** @typedef {import("./engine.js").Playback} Playback */

/** The embed's origin: the only sender listened to, the only receiver written to. */
export const SPOTIFY_ORIGIN = "https://open.spotify.com";
/** How long a newly loaded embed may take to say it is ready. */
export const ANSWER_WITHIN_MS = 15000;
/** An update this close to the end (seconds) is the end (the embed's last one says the duration itself). */
const END_SLACK_S = 0.05;
/** An embed that stops and rewinds within this of the end (seconds) has ended. */
const REWIND_SLACK_S = 2;
/** When updates stop this long (seconds) after the time a song had left, it has ended. */
const SILENCE_AFTER_END_S = 1.5;

/** The embed's address for a track. @param {string} id a well-formed track id */
export function embedUrl(id) {
  return `${SPOTIFY_ORIGIN}/embed/track/${id}`;
}

/**
 * @typedef {{kind: "ready"} | {kind: "playback", playback: Playback} | {kind: "error"}} EmbedMessage
 */

/**
 * What a message from the embed says, or null for anything else (other
 * messages, or malformed ones: the embed is another site, so nothing in its
 * message is trusted further than its shape).
 * @param {unknown} data
 * @returns {EmbedMessage | null}
 */
export function readEmbedMessage(data) {
  let message = data;
  if (typeof message === "string") {
    try { message = JSON.parse(message); } catch (error) { return null; }
  }
  if (!message || typeof message !== "object") return null;
  const { type, payload } = /** @type {{type?: unknown, payload?: unknown}} */ (message);
  if (type === "ready") return { kind: "ready" };
  if (type === "error") return { kind: "error" };
  if (type !== "playback_update" || !payload || typeof payload !== "object") return null;
  const { position, duration, isPaused } = /** @type {{position?: unknown, duration?: unknown, isPaused?: unknown}} */ (payload);
  if (typeof position !== "number" || !Number.isFinite(position) || position < 0) return null;
  if (typeof duration !== "number" || !Number.isFinite(duration) || duration < 0) return null;
  // The embed counts milliseconds; the player counts seconds.
  return { kind: "playback", playback: { paused: isPaused === true, position: position / 1000, duration: duration > 0 ? duration / 1000 : NaN } };
}

/**
 * Whether `now` (following `before`, null for the first update) says the
 * song has ended: its position reached its duration, or it stopped and
 * went back to the start just after being at its end.
 * @param {Playback | null} before @param {Playback} now
 */
export function reachedEnd(before, now) {
  if (!(now.duration > 0)) return false;
  if (now.position >= now.duration - END_SLACK_S) return true;
  return !!before && !before.paused && before.duration > 0 && before.position >= before.duration - REWIND_SLACK_S
    && now.paused && now.position < before.position;
}

export class SpotifyEmbed {
  /**
   * @param {HTMLElement} container  where the one embed frame goes (made on the first song)
   * @param {Window} [page]          the window whose messages are read
   */
  constructor(container, page = window) {
    this.container = container;
    /** @type {HTMLIFrameElement | null} */
    this.frame = null;
    /** Whether a Spotify song is what plays (updates are ignored otherwise). */
    this.active = false;
    /** Whether the song loaded should start once its embed is ready. */
    this.wantsPlay = false;
    /** Whether embeds answer at all (null: not known yet). */
    this.answering = /** @type {boolean | null} */ (null);
    /** @type {Playback | null} */
    this.last = null;
    this.endTold = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.answerTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} the end, should the updates stop near it */
    this.endTimer = null;
    /** @type {(playback: Playback) => void} */
    this.onPlayback = () => {};
    /** @type {() => void} the song playing ended */
    this.onEnded = () => {};
    /** @type {() => void} an embed did not answer: its songs need a click each */
    this.onSilent = () => {};
    page.addEventListener("message", (event) => this.hear(event));
  }

  /** Loads track `id` into the embed (the frame made once, then reused) and plays it. @param {string} id @param {string} title */
  load(id, title) {
    if (!this.frame) {
      this.frame = document.createElement("iframe");
      this.frame.setAttribute("data-testid", "player-frame");
      this.frame.width = "100%";
      this.frame.height = "80";
      // Autoplay: after the first press of Play, the next songs start by themselves.
      this.frame.allow = "autoplay; encrypted-media";
      this.container.append(this.frame);
    }
    this.frame.title = "Spotify player: " + title;
    this.frame.src = embedUrl(id);
    this.container.classList.remove("d-none");
    this.active = true;
    this.wantsPlay = true;
    this.last = null;
    this.endTold = false;
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.answerTimer = setTimeout(() => {
      this.answerTimer = null;
      if (this.answering === true) return;
      this.answering = false;
      this.onSilent();
    }, ANSWER_WITHIN_MS);
  }

  /** @param {MessageEvent} event */
  hear(event) {
    if (!this.frame || event.origin !== SPOTIFY_ORIGIN || event.source !== this.frame.contentWindow) return;
    const message = readEmbedMessage(event.data);
    if (!message) return;
    if (message.kind === "ready") {
      this.answering = true;
      if (this.answerTimer) clearTimeout(this.answerTimer);
      this.answerTimer = null;
      // The iFrame API's handshake: the embed reports playback only once it is acknowledged.
      this.send({ command: "load_complete_ack" });
      if (this.active && this.wantsPlay) this.send({ command: "play" });
      this.wantsPlay = false;
    } else if (message.kind === "playback" && this.active) {
      const before = this.last;
      const now = message.playback;
      this.last = now;
      this.onPlayback(now);
      if (this.endTimer) clearTimeout(this.endTimer);
      this.endTimer = null;
      if (reachedEnd(before, now)) {
        this.ended();
      } else if (!now.paused && now.duration - now.position < REWIND_SLACK_S) {
        this.endTimer = setTimeout(() => this.ended(), (now.duration - now.position + SILENCE_AFTER_END_S) * 1000);
      }
    }
  }

  /** Tells the end of the song playing, once. */
  ended() {
    this.endTimer = null;
    if (this.endTold || !this.active) return;
    this.endTold = true;
    this.onEnded();
  }

  /** @param {object} message */
  send(message) {
    this.frame?.contentWindow?.postMessage(message, SPOTIFY_ORIGIN);
  }

  pause() {
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
    this.send({ command: "pause" });
  }

  resume() {
    this.send({ command: "resume" });
  }

  /** @param {number} seconds */
  seek(seconds) {
    this.endTold = false;
    this.send({ command: "seek", timestamp: Math.max(0, seconds) });
  }

  /** Stops the embed and hides it (kept, to be reused by the next Spotify song). */
  stop() {
    if (!this.active) return;
    this.active = false;
    this.wantsPlay = false;
    for (const timer of [this.answerTimer, this.endTimer]) if (timer) clearTimeout(timer);
    this.answerTimer = null;
    this.endTimer = null;
    this.pause();
    this.container.classList.add("d-none");
  }
}
