// What the views may ask for: the page's actions, in one object that
// main.js assembles from the action modules and hands to each view's mount.
// Views call these and render from the state; they never reach a transport
// or the analyzer themselves. (Types only, for tsc.)

/**
 * @typedef {object} Actions
 * @property {(mode: import("../state.js").Mode) => void} setMode
 * @property {(from: import("../state.js").ListSource) => void} setSource
 * @property {(files: File[]) => Promise<void>} addFolder
 * @property {(song: import("../state.js").Song) => import("../transport/transport.js").LibraryUrls | null} libraryUrls
 * @property {(song: import("../state.js").Song) => boolean} followsOn  whether the queue may move on to `song` by itself
 * @property {(where: "device" | "server") => void} chooseAnalysis
 * @property {() => void} togglePause
 * @property {() => void} forget
 * @property {(emotion: import("../emotions.js").Emotion) => void} setManual
 * @property {() => void} followFace
 * @property {() => void} calibrate
 * @property {() => void} resetCalibration
 * @property {(file: File) => Promise<void>} usePhoto
 * @property {(files: FileList) => Promise<void>} importFiles
 * @property {(songId: number, verdict: import("../state.js").Verdict) => void} feedback
 * @property {(song: import("../state.js").Song) => void} play
 * @property {() => void} playNext
 * @property {() => void} playPrevious
 * @property {() => void} togglePlay
 * @property {(seconds: number) => void} seek
 * @property {(volume: number) => void} setVolume
 * @property {(seconds: number) => void} setCrossfade
 * @property {() => void} switchNow
 * @property {(verdict: import("../state.js").Verdict) => void} judgePlaying
 * @property {() => void} closePlayer
 * @property {() => void} forgetPlays
 */

export {};
