// The sound of library songs: two <audio> elements, so that one song can
// fade in while the other fades out, each through its own gain in a Web
// Audio graph (the loudness match and the fades), then the volume, then a
// limiter that keeps a boosted song from clipping. The graph is made on the
// first start, which follows a press of Play: the browser lets it sound.
// A browser without Web Audio still plays, with cuts instead of fades and
// the match applied through the elements' own volume (as far as 1 goes).
//
//   <audio> A ─ gain A ─┐
//                       ├─ volume ─ limiter ─ speakers
//   <audio> B ─ gain B ─┘

/** A cut still ramps this long, so that it does not click. */
const CUT_S = 0.03;

/**
 * @typedef {object} Playback
 * @property {boolean} paused
 * @property {number} position   seconds into the song
 * @property {number} duration   its length (NaN until known)
 */

export class Engine {
  /** @param {HTMLAudioElement[]} elements  two elements, one for each side of a crossfade */
  constructor(elements) {
    this.elements = elements;
    /** Which element plays the song (the other fades out, or waits with the next one loaded). */
    this.active = 0;
    /** @type {AudioContext | null} */
    this.context = null;
    /** @type {GainNode[]} */
    this.gains = [];
    /** @type {GainNode | null} */
    this.master = null;
    this.volume = 1;
    /** The linear gain each element's song is matched to. */
    this.levels = elements.map(() => 1);
    /** Seconds before the end at which `onNearEnd` is told (0: never). */
    this.nearEndS = 0;
    this.nearEndTold = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.fadeTimer = null;
    /** @type {string | null} a song to load on the idle element once it is free */
    this.waiting = null;
    /** @type {() => void} the active song ended */
    this.onEnded = () => {};
    /** @type {() => void} the active song is `nearEndS` from its end */
    this.onNearEnd = () => {};
    /** @type {(playback: Playback) => void} */
    this.onTime = () => {};
    /** @type {() => void} the active song's file could not be played */
    this.onError = () => {};
    for (const [i, element] of elements.entries()) {
      element.preload = "auto";
      element.addEventListener("ended", () => { if (i === this.active) this.onEnded(); });
      for (const type of ["timeupdate", "play", "pause", "durationchange", "seeked"]) {
        element.addEventListener(type, () => { if (i === this.active) this.tell(); });
      }
      element.addEventListener("error", () => {
        if (i === this.active && element.getAttribute("src")) this.onError();
      });
    }
  }

  /** The element playing the song. */
  get playingElement() {
    return this.elements[this.active];
  }

  /** Makes the graph (once): called from a start, which a press of Play led to. */
  graph() {
    if (this.context || typeof AudioContext === "undefined") return;
    try {
      const context = new AudioContext();
      const limiter = context.createDynamicsCompressor();
      limiter.threshold.value = -1;
      limiter.knee.value = 0;
      limiter.ratio.value = 20;
      limiter.attack.value = 0.003;
      limiter.release.value = 0.1;
      const master = context.createGain();
      master.gain.value = this.volume;
      master.connect(limiter).connect(context.destination);
      this.gains = this.elements.map((element) => {
        const gain = context.createGain();
        context.createMediaElementSource(element).connect(gain).connect(master);
        return gain;
      });
      this.context = context;
      this.master = master;
      // From now on the gains do the volume; the elements play at full scale.
      for (const element of this.elements) element.volume = 1;
    } catch (error) {
      // No graph: the elements play on their own.
      this.context = null;
    }
  }

  /**
   * Plays `url`, matched by `gainDb`, fading it in over `fadeS` seconds
   * while the song before fades out (0: a cut, or the gapless follow-on
   * of a song that ended).
   * @param {string} url @param {number} gainDb @param {number} fadeS
   */
  start(url, gainDb, fadeS) {
    this.graph();
    this.context?.resume().catch(() => {});
    const outgoing = this.active;
    const incoming = 1 - outgoing;
    const element = this.elements[incoming];
    if (element.getAttribute("src") !== url) element.src = url;
    else if (element.currentTime > 0) element.currentTime = 0;
    this.levels[incoming] = 10 ** (gainDb / 20);
    this.active = incoming;
    // (Marked for the page's tests and styles: which element is the song.)
    this.elements.forEach((other, i) => other.toggleAttribute("data-active", i === incoming));
    this.nearEndTold = false;
    this.waiting = null;
    const fade = this.context ? Math.max(0, fadeS) : 0;
    this.ramp(incoming, fade > 0 ? 0 : this.levels[incoming], this.levels[incoming], fade);
    const leaving = this.elements[outgoing];
    if (!leaving.paused) {
      this.ramp(outgoing, null, 0, Math.max(fade, CUT_S));
      if (this.fadeTimer) clearTimeout(this.fadeTimer);
      this.fadeTimer = setTimeout(() => this.finishFade(), Math.max(fade, CUT_S) * 1000 + 50);
    }
    element.play().catch(() => {});
    this.tell();
  }

  /** Stops the song that faded out, and loads the next one in its place. */
  finishFade() {
    this.fadeTimer = null;
    const idle = this.elements[1 - this.active];
    idle.pause();
    if (this.waiting) this.load(this.waiting);
  }

  /**
   * Loads `url` on the idle element, so that it starts at once when its
   * turn comes (after a fade still running, if one is).
   * @param {string | null} url
   */
  preload(url) {
    if (!url) return;
    if (this.fadeTimer) this.waiting = url;
    else this.load(url);
  }

  /** @param {string} url */
  load(url) {
    this.waiting = null;
    const idle = this.elements[1 - this.active];
    if (idle.getAttribute("src") === url) return;
    idle.src = url;
    idle.load();
  }

  /**
   * Moves element `index`'s gain from `from` (null: where it is) to `to` over `seconds`.
   * @param {number} index @param {number | null} from @param {number} to @param {number} seconds
   */
  ramp(index, from, to, seconds) {
    const gain = this.gains[index]?.gain;
    const context = this.context;
    if (!gain || !context) {
      this.elements[index].volume = Math.min(1, to * this.volume);
      return;
    }
    const now = context.currentTime;
    gain.cancelScheduledValues(now);
    gain.setValueAtTime(from ?? gain.value, now);
    if (seconds > 0) gain.linearRampToValueAtTime(to, now + seconds);
    else gain.setValueAtTime(to, now);
  }

  pause() {
    for (const element of this.elements) element.pause();
  }

  resume() {
    this.context?.resume().catch(() => {});
    if (this.playingElement.getAttribute("src")) this.playingElement.play().catch(() => {});
  }

  /** @param {number} seconds */
  seek(seconds) {
    const element = this.playingElement;
    if (Number.isFinite(element.duration)) element.currentTime = Math.max(0, Math.min(element.duration, seconds));
    this.nearEndTold = false;
  }

  /** @param {number} volume 0 to 1 */
  setVolume(volume) {
    this.volume = Math.max(0, Math.min(1, volume));
    if (this.master && this.context) this.master.gain.setValueAtTime(this.volume, this.context.currentTime);
    else this.elements.forEach((element, i) => { element.volume = Math.min(1, this.levels[i] * this.volume); });
  }

  /**
   * Silence after a fade of `seconds` (0: at once), for a song that gives
   * way to one that plays elsewhere (Spotify's embed).
   * @param {number} seconds
   */
  fadeOut(seconds) {
    const fade = this.context ? Math.max(0, seconds) : 0;
    if (fade === 0 || this.playingElement.paused) {
      this.stop();
      return;
    }
    this.ramp(this.active, null, 0, fade);
    if (this.fadeTimer) clearTimeout(this.fadeTimer);
    this.fadeTimer = setTimeout(() => this.stop(), fade * 1000 + 50);
  }

  /** Silence: both elements stopped and emptied. */
  stop() {
    if (this.fadeTimer) clearTimeout(this.fadeTimer);
    this.fadeTimer = null;
    this.waiting = null;
    for (const element of this.elements) {
      element.pause();
      element.removeAttribute("src");
      element.load();
    }
    this.tell();
  }

  /** Tells where the song is, and `onNearEnd` when its end comes near. */
  tell() {
    const element = this.playingElement;
    const playback = { paused: element.paused, position: element.currentTime || 0, duration: element.duration };
    this.onTime(playback);
    const left = playback.duration - playback.position;
    if (this.nearEndS > 0 && !this.nearEndTold && !element.paused && Number.isFinite(left) && left <= this.nearEndS) {
      this.nearEndTold = true;
      this.onNearEnd();
    }
  }
}
