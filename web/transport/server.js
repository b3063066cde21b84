// The transport to a Melodora server: its WebSocket (/ws), one handler per
// message type, and its HTTP API for photos and what played. Reconnects by itself; a new
// connection is a new viewer on the server, so the hello is answered with
// what this page shows (mode, the mood found here, a mood set by hand).

import * as kept from "../kept.js";
import { PLAYS_KEPT, playsFromServer } from "../player/history.js";
import { jpeg } from "../photo.js";
import { chosenSource, keepSource } from "../source.js";
import { showsTransportSongs } from "../state.js";

/** @typedef {import("./transport.js").Transport} Transport */
/** @typedef {import("./transport.js").Hooks} Hooks */
/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../protocol.js").ServerMessage} ServerMessage */
/** @typedef {import("../protocol.js").ClientMessage} ClientMessage */
/** @typedef {import("../protocol.js").FrameReport} FrameReport */

const PROFILE_KEY = "melodora.profile";
const RETRY_MS = 1000;
const BUSY_RETRY_MS = 5000;       // the server is at its connection limit
const DROPPED_RETRY_MS = 100;

/** This browser's listener profile on the server: made once, at random,
 *  and kept in localStorage, so that people sharing a server keep their
 *  own likes, skips and calibration (without storage: one per visit). */
function browserProfile() {
  const stored = kept.read(PROFILE_KEY);
  if (stored && /^browser-[0-9a-f]{32}$/.test(stored)) return stored;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const made = "browser-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  kept.write(PROFILE_KEY, made);
  return made;
}

/** @implements {Transport} */
export class ServerTransport {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    this.profile = browserProfile();
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {Hooks | null} */
    this.hooks = null;
    store.update({ serverAnalysis: true, status: { text: "connecting", kind: "secondary" } });
  }

  /** @param {Hooks} hooks */
  start(hooks) {
    this.hooks = hooks;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws?profile=" + encodeURIComponent(this.profile));
    socket.binaryType = "arraybuffer";
    socket.onclose = (event) => this.closed(event);
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    this.socket = socket;
  }

  /** @param {CloseEvent} event */
  closed(event) {
    const busy = event.code === 1013;
    this.store.update({
      status: busy
        ? { text: "server busy (" + (event.reason || "too many connections") + "), retrying…", kind: "warning" }
        : { text: "disconnected, retrying…", kind: "danger" },
    });
    // A frame in flight is lost with the connection.
    this.hooks?.frameUnanswered(busy ? BUSY_RETRY_MS : RETRY_MS);
    setTimeout(() => this.connect(), busy ? BUSY_RETRY_MS : RETRY_MS);
  }

  /** @param {ServerMessage} message */
  receive(message) {
    const hooks = /** @type {Hooks} */ (this.hooks);
    switch (message.type) {
      case "hello": return this.hello(message, hooks);
      case "frame": return hooks.frame(message, message.songs || null);
      case "dropped": return hooks.frameUnanswered(DROPPED_RETRY_MS);
      case "songs": if (message.songs && showsTransportSongs(this.store.state)) this.store.update({ songs: message.songs }); return;
      case "feedback": return this.store.update((s) => ({ verdicts: { ...s.verdicts, [message.song_id]: message.verdict } }));
      case "calibration": return hooks.calibration(message.calibration || null);
      case "played": return;
      case "error": return this.error(message, hooks);
    }
  }

  /**
   * @param {Extract<ServerMessage, {type: "hello"}>} hello
   * @param {Hooks} hooks
   */
  hello(hello, hooks) {
    // Lists come from the listener's own music when there is some, unless
    // they chose otherwise in this browser.
    const librarySongs = hello.library_songs || 0;
    // A folder heard in this page stays the source across reconnects.
    if (this.store.state.source === "folder") this.store.update({ librarySongs });
    else this.store.update({ librarySongs, source: chosenSource(librarySongs) });
    const state = this.store.state;
    // The server starts every viewer in "match", from every song, without a mood.
    if (state.source !== "all" && state.source !== "folder") this.send({ type: "source", from: state.source });
    if (state.mode !== "match") this.send({ type: "mode", mode: state.mode });
    if (state.deviceMood && state.analysis === "device") this.sendMood(state.deviceMood);
    if (state.manual) this.send({ type: "manual", emotion: state.manual.emotion });
    this.store.update({ serverCalibration: hello.calibration || null });
    this.restorePlays();
    hooks.started({ capture: hello.capture, videoFeed: hello.video_feed || null, settings: hello.analysis || null });
  }

  /**
   * @param {Extract<ServerMessage, {type: "error"}>} error
   * @param {Hooks} hooks
   */
  error(error, hooks) {
    console.warn("melodora:", error.message);
    // A frame the server could not use still counts as answered.
    if (error.about === "command") hooks.refused(error.message); else hooks.frameUnanswered(0);
  }

  /**
   * Sends a command; false when the socket is not open.
   * @param {ClientMessage} command
   */
  send(command) {
    if (!this.canSendFrame()) return false;
    /** @type {WebSocket} */ (this.socket).send(JSON.stringify(command));
    return true;
  }

  canSendFrame() {
    return !!this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  /** @param {Blob} frame */
  sendFrame(frame) {
    const socket = this.socket;
    if (!socket || !this.canSendFrame()) return false;
    frame.arrayBuffer().then((buffer) => { if (socket.readyState === WebSocket.OPEN) socket.send(buffer); });
    return true;
  }

  /** While disconnected a change waits: the next hello sends it.
   *  @param {import("../state.js").Mode} mode */
  setMode(mode) { this.send({ type: "mode", mode }); }

  /** @param {import("../state.js").Source} from */
  setSource(from) {
    keepSource(from);
    this.send({ type: "source", from });
  }

  /** A library song's file and cover, from this server.
   *  @param {import("../state.js").Song} song */
  libraryUrls(song) {
    if (!song.library) return null;
    // A folder heard in this page plays from its own object URLs.
    if (song.library.file) return { audio: song.library.file, cover: song.library.cover_file || null };
    const base = "api/library/tracks/" + encodeURIComponent(String(song.id));
    return { audio: base + "/audio", cover: song.library.cover_type ? base + "/cover" : null };
  }

  /** The server keeps hearing the camera's mood while one is set by hand
   *  (it holds the list), so following the face again is then current.
   *  @param {import("../state.js").Mood} mood */
  sendMood(mood) { this.send({ type: "mood", emotion: mood.emotion, confidence: mood.confidence }); }

  /** @param {import("../emotions.js").Emotion | null} emotion */
  setManual(emotion) { return this.send({ type: "manual", emotion }); }

  /** @param {number} songId @param {import("../state.js").Verdict} verdict */
  feedback(songId, verdict) { return this.send({ type: "feedback", song_id: songId, verdict }); }

  /** The server keeps what played for this browser's profile (a folder's
   *  songs never reach it: their ids are the page's own).
   *  @param {import("../player/history.js").Play} play */
  played(play) {
    this.send({ type: "played", song_id: play.id, mood: play.mood, reason: play.reason });
  }

  /** Forgets the profile's plays on the server too. @returns {Promise<string>} */
  async forgetPlays() {
    const response = await fetch("api/plays?profile=" + encodeURIComponent(this.profile), { method: "DELETE" });
    if (!response.ok) throw new Error("the server answered " + response.status);
    return "in this browser and on the server";
  }

  /** A browser that kept no history (a new one, or one cleared) shows the
   *  profile's from the server. */
  async restorePlays() {
    if (this.store.state.plays.length > 0) return;
    const response = await fetch("api/plays?limit=" + PLAYS_KEPT + "&profile=" + encodeURIComponent(this.profile)).catch(() => null);
    const answer = response?.ok ? await response.json().catch(() => null) : null;
    if (!Array.isArray(answer?.plays) || this.store.state.plays.length > 0) return;
    const plays = playsFromServer(answer.plays);
    if (plays.length > 0) this.store.update({ plays });
  }

  /** @param {import("../calibration.js").Probabilities[]} resting */
  calibrate(resting) { return this.send({ type: "calibrate", resting: /** @type {any} */ (resting) }); }

  uncalibrate() { return this.send({ type: "uncalibrate" }); }

  /** The faces the server's /api/analyze finds in the canvas, read through
   *  this profile's calibration when it has one.
   *  @param {HTMLCanvasElement} canvas @param {boolean} calibrated
   *  @returns {Promise<FrameReport>} */
  async analysePhoto(canvas, calibrated) {
    const blob = await jpeg(canvas, 0.9);
    const url = "api/analyze" + (calibrated ? "?profile=" + encodeURIComponent(this.profile) : "");
    const response = await fetch(url, { method: "POST", body: blob, headers: { "Content-Type": "image/jpeg" } });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || "the server answered " + response.status);
    return answer;
  }

  /** The server keeps a profile's likes; the page keeps nothing to forget. */
  async forget() { throw new Error("the server keeps this profile's likes"); }

  /** Importing is the server's `melodora catalog import`, not the page's. */
  async importFiles() { throw new Error("import songs with melodora catalog import"); }
}
