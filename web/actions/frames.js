// The frame loop: one frame at a time from this page's camera to wherever
// it is analysed (the analyzer in the page, or the server through the
// transport), and every analysed frame (from either, or from the server's
// own camera) into the state: boxes, bars, the mood.

import { startCamera, FrameGrabber } from "../camera.js";
import { largestFace, showsTransportSongs, withMood } from "../state.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../transport/transport.js").Transport} Transport */
/** @typedef {import("../transport/transport.js").Start} Start */
/** @typedef {import("../protocol.js").FrameReport} FrameReport */
/** @typedef {import("../protocol.js").Recommendation} Song */
/** @typedef {import("./analysis.js").Analysis} Analysis */

const RETRY_MS = 100;             // a camera not ready yet, or a frame refused
const MAX_HISTORY = 500;          // mood changes kept for the timeline

export class Frames {
  /**
   * @param {Store} store
   * @param {Transport} transport
   * @param {Analysis} analysis
   * @param {HTMLVideoElement} video
   */
  constructor(store, transport, analysis, video) {
    this.store = store;
    this.transport = transport;
    this.analysis = analysis;
    this.video = video;
    /** @type {null | "device" | "server"} where the frame in flight is */
    this.inFlight = null;
    /** @type {Promise<boolean> | null} the camera starting (once) */
    this.camera = null;
    this.cameraWorks = false;
    /** @type {Song[] | null} a list that came while the server camera was paused */
    this.pendingSongs = null;
    this.grabber = new FrameGrabber();
    /** @type {Set<(frame: FrameReport) => void>} told of every frame shown (calibration) */
    this.listeners = new Set();
  }

  /** Frames' source is known (again, after a reconnect).
   *  @param {Start} start */
  started(start) {
    this.store.update({ capture: start.capture });
    if (start.capture === "server") {
      // Always reload: after a server restart the old stream has ended.
      this.store.update((s) => ({ videoFeed: start.videoFeed + "?since=" + Date.now(), analysisInfo: "",
        ...(s.paused ? {} : { status: { text: "detecting", kind: "success" } }) }));
      return;
    }
    this.store.update({ videoFeed: null });
    this.analysis.configure(start.settings);
    if (!this.camera) {
      this.camera = startCamera(this.video, this.store);
      this.camera.then((ok) => { this.cameraWorks = ok; });
    }
    this.camera.then((ok) => {
      if (!ok) return;
      this.store.update({ status: { text: "detecting", kind: "success" } });
      this.schedule();
    });
  }

  /** Asks for the next frame, unless one is in flight or there is no reason to. */
  schedule() {
    const state = this.store.state;
    if (state.capture === "browser" && !state.paused && !this.inFlight && !state.photo) {
      requestAnimationFrame(() => this.next());
    }
  }

  next() {
    if (this.analysis.inUse()) this.analyseOnDevice(); else this.sendToServer();
  }

  /** The current frame to the analyzer in the page; its answer shown as the server's would be. */
  analyseOnDevice() {
    const device = this.analysis.inUse();
    if (!device || this.store.state.paused || this.inFlight) return;
    if (!this.video.videoWidth || this.video.readyState < 2) { setTimeout(() => this.schedule(), RETRY_MS); return; }
    this.inFlight = "device";
    const capturedAt = performance.now();
    device.analyze(this.video, capturedAt).then(({ frame, analyzeMs }) => {
      this.inFlight = null;
      if (this.analysis.inUse() !== device) { this.schedule(); return; }
      this.show(frame, true);
      const state = this.store.state;
      if (frame.mood && (frame.mood_changed || !state.deviceMood)) {
        const mood = { emotion: frame.mood.emotion, confidence: frame.mood.confidence };
        this.store.update({ deviceMood: mood });
        this.transport.sendMood(mood);
      }
      this.store.update({ analysisInfo: "on this device · " + Math.round(performance.now() - capturedAt) +
        " ms/frame (" + Math.round(analyzeMs) + " ms analysis)" });
      this.schedule();
    }, (error) => {
      // A frame the analyzer refused (or a camera hiccup): try the next one.
      this.inFlight = null;
      if (!this.store.state.deviceFailed) console.warn("melodora: on-device analysis:", error.message);
      setTimeout(() => this.schedule(), RETRY_MS);
    });
  }

  /** The current frame, as JPEG, to the server. */
  sendToServer() {
    if (this.store.state.paused || this.inFlight || !this.transport.canSendFrame()) return;
    if (!this.video.videoWidth) { setTimeout(() => this.schedule(), RETRY_MS); return; }
    this.inFlight = "server";
    this.grabber.grab(this.video).then((blob) => {
      if (!blob || !this.transport.sendFrame(blob)) this.inFlight = null;
    });
  }

  /** A frame the server analysed (from this page's camera or its own).
   *  @param {FrameReport} frame @param {Song[] | null} songs */
  fromServer(frame, songs) {
    const state = this.store.state;
    if (state.capture === "server" && state.paused) {
      // Lists come only with mood changes: keep the latest for Resume.
      if (songs) this.pendingSongs = songs;
      return;
    }
    if (this.inFlight === "server") this.inFlight = null;
    // Server frames arrive with their boxes drawn; the overlay is for ours.
    this.show(frame, state.capture === "browser");
    if (songs && showsTransportSongs(this.store.state)) this.store.update({ songs });
    this.schedule();
  }

  /** A frame sent to the server was dropped or refused, or the connection
   *  went: the next one after `retryMs`.
   *  @param {number} retryMs */
  unanswered(retryMs) {
    if (this.inFlight !== "server") return;
    this.inFlight = null;
    setTimeout(() => this.schedule(), retryMs);
  }

  /** One analysed frame into the state: boxes (unless the picture carries
   *  them), the largest face's bars, the mood and the status.
   *  @param {FrameReport} frame @param {boolean} drawBoxes */
  show(frame, drawBoxes) {
    const state = this.store.state;
    const mood = frame.mood ? { emotion: frame.mood.emotion, confidence: frame.mood.confidence } : null;
    if (state.photo) {
      if (mood) this.store.update((s) => withMood(s, mood, Date.now(), MAX_HISTORY));
      return;
    }
    for (const listener of this.listeners) listener(frame);
    this.store.update((s) => ({
      boxes: drawBoxes ? frame : null,
      largest: largestFace(frame),
      ...(mood ? withMood(s, mood, Date.now(), MAX_HISTORY) : {}),
      ...(s.paused ? {} : { status: frame.faces.length ? { text: "detecting", kind: "success" } : { text: "no face", kind: "warning" } }),
    }));
  }

  /** Pauses or resumes analysis (and the server camera's lists). */
  togglePause() {
    const paused = !this.store.state.paused;
    this.store.update({ paused, status: paused ? { text: "paused", kind: "secondary" } : { text: "detecting", kind: "success" },
      ...(!paused && this.pendingSongs && showsTransportSongs(this.store.state) ? { songs: this.pendingSongs } : {}) });
    if (!paused) this.pendingSongs = null;
    this.schedule();
  }
}
