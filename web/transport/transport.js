// The one interface the page speaks to whatever makes its playlists: a
// Melodora server over its WebSocket (server.js) or, on a static site, the
// recommender compiled to WebAssembly in this page (site.js). Views and
// actions call these methods and never ask which transport they have; what
// a transport can do shows in the state it sets (serverAnalysis,
// keepsHistory, importsSongs).
//
// This file holds only the types of that interface (JSDoc, for tsc).

/** @typedef {import("../state.js").Mood} Mood */
/** @typedef {import("../state.js").Mode} Mode */
/** @typedef {import("../state.js").Source} Source */
/** @typedef {{audio: string, cover: string | null}} LibraryUrls */
/** @typedef {import("../state.js").Verdict} Verdict */
/** @typedef {import("../emotions.js").Emotion} Emotion */
/** @typedef {import("../calibration.js").Calibration} Calibration */
/** @typedef {import("../calibration.js").Probabilities} Probabilities */
/** @typedef {import("../protocol.js").FrameReport} FrameReport */
/** @typedef {import("../protocol.js").AnalysisSettings} AnalysisSettings */
/** @typedef {import("../protocol.js").Recommendation} Song */
/** @typedef {import("../player/history.js").Play} Play */

/**
 * Where frames come from, once a transport knows.
 * @typedef {object} Start
 * @property {"browser" | "server"} capture   this page's camera, or the server's stream
 * @property {string | null} videoFeed        the server's annotated stream (server capture)
 * @property {AnalysisSettings | null} settings  how the analyzer in the page should analyse
 * @property {unknown} [modelDescription]     a static site's description of its model
 */

/**
 * What the page does with what a transport hears.
 * @typedef {object} Hooks
 * @property {(start: Start) => void} started          (again after every reconnect)
 * @property {(frame: FrameReport, songs: Song[] | null) => void} frame  a frame the server analysed
 * @property {(retryMs: number) => void} frameUnanswered  a frame sent was dropped or refused
 * @property {(calibration: Calibration | null) => void} calibration  the server's calibration now
 * @property {(message: string) => void} refused       a command the server could not use
 */

/**
 * @typedef {object} Transport
 * @property {(hooks: Hooks) => void} start             connects (or loads), then calls hooks.started
 * @property {(mode: Mode) => void} setMode
 * @property {(from: Source) => void} setSource          which songs lists hold from now on
 * @property {(song: Song) => LibraryUrls | null} libraryUrls  where a library song's audio and cover are (null: not a library song)
 * @property {(mood: Mood) => void} sendMood             the stable mood this page found
 * @property {(emotion: Emotion | null) => boolean} setManual  a mood by hand, or back to the face; false: not sent
 * @property {(songId: number, verdict: Verdict) => boolean} feedback
 * @property {(resting: Probabilities[]) => boolean} calibrate  the server makes the calibration; false: not sent
 * @property {() => boolean} uncalibrate
 * @property {(frame: Blob) => boolean} sendFrame        a camera frame for the server to analyse
 * @property {() => boolean} canSendFrame
 * @property {(canvas: HTMLCanvasElement, calibrated: boolean) => Promise<FrameReport>} analysePhoto
 * @property {() => Promise<void>} forget                forgets what the page kept (keepsHistory)
 * @property {(play: Play) => void} played              a song the player started: a server keeps it for the profile
 * @property {() => Promise<string>} forgetPlays        forgets what played beyond this browser; where, in words
 * @property {(files: FileList) => Promise<void>} importFiles  (importsSongs)
 */

export {};
