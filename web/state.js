// The page's one state: every value a view shows lives here, changed only
// through `update`, and each view renders from it (view/*.js). Runtime
// handles that nothing shows (the socket, the worker, timers) stay with the
// module that owns them.

/** @typedef {import("./emotions.js").Emotion} Emotion */
/** @typedef {import("./protocol.js").Recommendation} Song */
/** @typedef {import("./protocol.js").FaceReport} Face */
/** @typedef {import("./protocol.js").Mode} Mode */
/** @typedef {import("./protocol.js").Source} Source */
/** @typedef {Source | "folder"} ListSource  which songs lists hold; "folder": a folder heard in this browser */
/**
 * A music folder heard in this browser (music/folder.js).
 * @typedef {object} FolderState
 * @property {boolean} busy       files are being heard
 * @property {number} total       files picked
 * @property {number} done        files looked at so far
 * @property {number} heard       heard now
 * @property {number} reused      found in what the browser kept
 * @property {string[]} skipped   "name: why", for files that could not be heard
 * @property {number} songs       the folder's songs
 * @property {number} seconds     how long it took
 */
/** @typedef {import("./protocol.js").Verdict} Verdict */
/** @typedef {import("./player/engine.js").Playback} Playback */
/** @typedef {import("./player/history.js").Play} Play */
/** @typedef {import("./calibration.js").Calibration} Calibration */
/** @typedef {{emotion: Emotion, confidence: number}} Mood */
/** @typedef {{width: number, height: number, faces: Face[]}} Boxes  a frame's faces, to draw on the overlay */
/** @typedef {{text: string, kind: string}} Status */
/** @typedef {{emotion: Emotion, until: number, from: string}} Manual  a mood set by hand, and until when */
/** @typedef {{t: number, emotion: Emotion}} MoodChange */
/** @typedef {{lines: string[], failed: boolean}} ImportReport */
/** @typedef {{text: string, at: number}} Notice  a message, and when it was said (a repeat shows again) */

/**
 * @typedef {object} State
 * @property {Status} status                 the badge in the navigation bar
 * @property {string} cameraMessage          why the camera cannot be used ("" when it can)
 * @property {string} analysisMessage        why on-device analysis is not possible ("" when it is)
 * @property {boolean} storageRefused        the browser keeps nothing
 * @property {Notice | null} notice         a passing message under the playlist
 * @property {null | "browser" | "server"} capture   where frames come from (null until known)
 * @property {string | null} videoFeed       the server camera's stream, when frames come from it
 * @property {"device" | "server"} analysis  where this page's camera frames are analysed
 * @property {boolean} serverAnalysis        a server can analyse frames (the choice is offered)
 * @property {string | null} deviceFailed    why the analyzer in the page cannot run
 * @property {string} analysisInfo           where and how fast the last frame was analysed
 * @property {boolean} paused
 * @property {Boxes | null} boxes            faces to draw over the picture (none when it carries its own)
 * @property {Face | null} largest           the largest face of the last frame, for the bars
 * @property {Mood | null} mood              the stable mood shown
 * @property {MoodChange[]} history          the session's mood changes, for the timeline
 * @property {number} startedAt              when the timeline starts (ms since the epoch)
 * @property {Mode} mode
 * @property {ListSource} source             which songs lists hold: all, the library's, the catalog's, a folder's
 * @property {FolderState} folder
 * @property {number} librarySongs           songs in the listener's own library (the choice shows when some)
 * @property {Song[]} songs
 * @property {Record<string, Verdict>} verdicts  likes and skips recorded, by song id
 * @property {Song | null} playing           the song playing (a library file, or in Spotify's player)
 * @property {Emotion | null} playingMood     the stable mood when it started (a newer one offers "switch now")
 * @property {Song[]} played                  the songs started, oldest first (Previous; the queue passes over them)
 * @property {Playback} playback              where the library song playing is
 * @property {number} volume                  the player's volume, 0 to 1 (kept in the browser)
 * @property {number} crossfadeS              seconds two library songs overlap (0: none; kept in the browser)
 * @property {Play[]} plays                   what played, with the mood each played under (kept in the browser)
 * @property {Manual | null} manual
 * @property {number} now                    the clock, as countdowns last showed it
 * @property {Mood | null} deviceMood        the stable mood the analyzer in the page found, last sent
 * @property {Calibration | null} deviceCalibration  kept in this browser (analysis on the device)
 * @property {Calibration | null} serverCalibration  kept by the server for this profile
 * @property {boolean} calibrating           a calibration is being captured or made
 * @property {string} calibrationInfo
 * @property {string | null} photo           a photo shown instead of the camera (a data URL)
 * @property {string} photoInfo
 * @property {boolean} keepsHistory          the page keeps likes and history itself ("Forget me")
 * @property {boolean} importsSongs          songs can be imported from CSV in the page
 * @property {ImportReport | null} importReport
 */

/** @returns {State} */
export function initialState() {
  return {
    status: { text: "starting…", kind: "secondary" },
    cameraMessage: "",
    analysisMessage: "",
    storageRefused: false,
    notice: null,
    capture: null,
    videoFeed: null,
    analysis: "device",
    serverAnalysis: false,
    deviceFailed: null,
    analysisInfo: "",
    paused: false,
    boxes: null,
    largest: null,
    mood: null,
    history: [],
    startedAt: Date.now(),
    mode: "match",
    source: "all",
    librarySongs: 0,
    folder: { busy: false, total: 0, done: 0, heard: 0, reused: 0, skipped: [], songs: 0, seconds: 0 },
    songs: [],
    verdicts: {},
    playing: null,
    playingMood: null,
    played: [],
    playback: { paused: true, position: 0, duration: NaN },
    volume: 1,
    crossfadeS: 3,
    plays: [],
    manual: null,
    now: Date.now(),
    deviceMood: null,
    deviceCalibration: null,
    serverCalibration: null,
    calibrating: false,
    calibrationInfo: "",
    photo: null,
    photoInfo: "",
    keepsHistory: false,
    importsSongs: false,
    importReport: null,
  };
}

/**
 * Whether songs a transport made may be shown: not while the list comes
 * from a folder heard in this browser (music/folder.js makes those).
 * @param {State} state
 */
export function showsTransportSongs(state) {
  return state.source !== "folder";
}

/**
 * The change that shows `text` under the playlist for a few seconds.
 * @param {string} text
 * @returns {{notice: Notice}}
 */
export function notice(text) {
  return { notice: { text, at: Date.now() } };
}

/** @typedef {(state: State, previous: State) => void} Subscriber */

/** One state, changed by `update`, and the subscribers told of each change. */
export class Store {
  /** @param {State} state */
  constructor(state) {
    /** @type {State} */
    this.state = state;
    /** @type {Subscriber[]} */
    this.subscribers = [];
  }

  /**
   * Changes some fields (a new state object; values are replaced, never
   * edited in place) and tells every subscriber.
   * @param {Partial<State> | ((state: State) => Partial<State>)} change
   */
  update(change) {
    const previous = this.state;
    const patch = typeof change === "function" ? change(previous) : change;
    this.state = { ...previous, ...patch };
    for (const subscriber of this.subscribers) subscriber(this.state, previous);
  }

  /**
   * Calls `subscriber` after every update, and once now.
   * @param {Subscriber} subscriber
   */
  subscribe(subscriber) {
    this.subscribers.push(subscriber);
    subscriber(this.state, this.state);
  }

  /**
   * Calls `render` now and whenever one of the values `select` picks has
   * changed (compared by identity), so a view redraws only for its part.
   * @param {(state: State) => unknown[]} select
   * @param {(state: State) => void} render
   */
  watch(select, render) {
    /** @type {unknown[] | null} */
    let last = null;
    this.subscribe((state) => {
      const picked = select(state);
      if (last && picked.length === last.length && picked.every((value, i) => value === /** @type {unknown[]} */ (last)[i])) return;
      last = picked;
      render(state);
    });
  }
}

/**
 * The state with a mood change added to the history (when the emotion
 * differs from the last one); `limit` keeps the newest changes only.
 * @param {State} state
 * @param {Mood} mood
 * @param {number} now
 * @param {number} [limit]
 * @returns {Partial<State>}
 */
export function withMood(state, mood, now, limit = Infinity) {
  const last = state.history[state.history.length - 1];
  if (last && last.emotion === mood.emotion) return { mood };
  const history = [...state.history, { t: now, emotion: mood.emotion }];
  return { mood, history: history.length > limit ? history.slice(history.length - limit) : history };
}

/**
 * The mood the playlist follows: one set by hand while it holds, else the
 * face's stable mood (null: none yet).
 * @param {State} state
 * @returns {Emotion | null}
 */
export function moodFollowed(state) {
  return state.manual?.emotion ?? state.mood?.emotion ?? null;
}

/**
 * The largest face of a frame, or null.
 * @param {{faces: Face[]}} frame
 * @returns {Face | null}
 */
export function largestFace(frame) {
  return frame.faces.reduce((/** @type {Face | null} */ a, f) => (!a || f.w * f.h > a.w * a.h ? f : a), null);
}

/**
 * Whether the page's own analyzer reads its frames (the browser's camera,
 * analysed on this device) rather than a server.
 * @param {State} state
 */
export function analysingOnDevice(state) {
  return state.capture === "browser" && state.analysis === "device" && !state.deviceFailed;
}

/**
 * The calibration the faces shown are read through.
 * @param {State} state
 */
export function calibrationInUse(state) {
  return analysingOnDevice(state) ? state.deviceCalibration : state.serverCalibration;
}
