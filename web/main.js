// Melodora's page: camera → faces, mood → songs. The one script the page
// loads; it picks the transport (a Melodora server, or a static site's
// recommender in the page), makes the one state, mounts the views and
// starts.
//
// Frames come from this page's webcam or, when the server says so, from the
// server's own camera (shown from /video_feed with the boxes drawn on it).
// With the webcam, frames are analysed in this page by default (the
// analyzer in a Web Worker, in WebAssembly) and only the stable mood goes to
// the server; "on the server" sends the frames instead. A static site
// (`melodora site`, <html data-melodora="static">) has no server: playlists
// are made in the page and likes, skips and history are kept in the browser.

import { Analysis, storedAnalysis } from "./actions/analysis.js";
import { Calibrator } from "./actions/calibrate.js";
import { Frames } from "./actions/frames.js";
import { ManualMood } from "./actions/manual.js";
import { Photos } from "./actions/photo.js";
import { FolderMusic } from "./music/folder.js";
import * as calibration from "./calibration.js";
import { byId } from "./dom.js";
import { initialState, notice, Store } from "./state.js";
import * as navbar from "./view/navbar.js";
import * as status from "./view/status.js";
import * as stage from "./view/stage.js";
import * as bars from "./view/bars.js";
import * as mood from "./view/mood.js";
import * as steering from "./view/steering.js";
import * as playlist from "./view/playlist.js";
import * as importer from "./view/importer.js";
import * as folderView from "./view/folder.js";
import * as playerView from "./view/player.js";
import * as keys from "./view/keys.js";
import { Player, keptSettings } from "./player/player.js";
import { keptPlays, PLAYS_KEY } from "./player/history.js";
import * as history from "./view/history.js";
import * as kept from "./kept.js";

/** @typedef {import("./transport/transport.js").Transport} Transport */
/** @typedef {import("./actions/actions.js").Actions} Actions */

/** The transport this page was published for: the only place that asks.
 *  @param {Store} store @returns {Promise<Transport>} */
async function transportFor(store) {
  if (document.documentElement.dataset.melodora === "static") {
    const { SiteTransport } = await import("./transport/site.js");
    return new SiteTransport(store);
  }
  const { ServerTransport } = await import("./transport/server.js");
  return new ServerTransport(store);
}

async function main() {
  const store = new Store({ ...initialState(), ...keptSettings(), plays: keptPlays(), analysis: storedAnalysis(), deviceCalibration: calibration.load() });
  const transport = await transportFor(store);
  const analysis = new Analysis(store);
  const frames = new Frames(store, transport, analysis, /** @type {HTMLVideoElement} */ (byId("video")));
  const calibrator = new Calibrator(store, transport, analysis, frames);
  /** @type {Photos} */
  let photos;
  const manual = new ManualMood(store, transport, () => photos.hide());
  photos = new Photos(store, transport, analysis, manual, frames);
  analysis.onChange = () => frames.schedule();
  const folder = new FolderMusic(store);
  /** @param {number} songId @param {import("./state.js").Verdict} verdict */
  const feedback = (songId, verdict) => {
    // A folder's songs (negative ids) are known to this page only.
    if (songId < 0) folder.feedback(songId, verdict);
    else if (!transport.feedback(songId, verdict)) store.update(notice("Not connected; try again in a moment."));
  };
  const player = new Player(store, {
    libraryUrls: (song) => transport.libraryUrls(song),
    feedback,
    // A folder's songs (negative ids) are known to this page only.
    played: (play) => { if (play.id >= 0) transport.played(play); },
  }, [/** @type {HTMLAudioElement} */ (byId("player-audio-a")), /** @type {HTMLAudioElement} */ (byId("player-audio-b"))],
  byId("player-frame"));

  /** @type {Actions} */
  const actions = {
    setMode: (mode) => { store.update({ mode }); transport.setMode(mode); },
    setSource: (from) => {
      store.update({ source: from });
      // A folder's lists are made here; the server keeps its own source meanwhile.
      if (from !== "folder") transport.setSource(from);
    },
    addFolder: (files) => folder.add(files),
    libraryUrls: (song) => transport.libraryUrls(song),
    followsOn: (song) => player.followsOn(song),
    chooseAnalysis: (where) => { calibrator.cancel("the analysis moved; calibrate again"); analysis.choose(where); },
    togglePause: () => frames.togglePause(),
    forget: () => {
      transport.forget().then(() => {
        calibration.forget();
        analysis.device?.reset();
        analysis.device?.setCalibration(null);
        kept.remove(PLAYS_KEY);
        store.update({ deviceCalibration: null, plays: [], ...notice("Forgotten: likes, skips, mode, history, calibration and the last playlist are cleared from this browser.") });
      }, (error) => store.update(notice("Nothing was forgotten: " + error.message)));
    },
    setManual: (emotion) => manual.set(emotion),
    followFace: () => manual.followFace(),
    calibrate: () => calibrator.start(),
    resetCalibration: () => calibrator.reset(),
    usePhoto: (file) => photos.use(file),
    importFiles: (files) => transport.importFiles(files),
    feedback,
    play: (song) => player.play(song),
    playNext: () => player.next(false),
    playPrevious: () => player.previous(),
    togglePlay: () => player.togglePlay(),
    seek: (seconds) => player.seek(seconds),
    setVolume: (volume) => player.setVolume(volume),
    setCrossfade: (seconds) => player.setCrossfade(seconds),
    switchNow: () => player.switchNow(),
    judgePlaying: (verdict) => player.judge(verdict),
    closePlayer: () => player.close(),
    forgetPlays: () => {
      kept.remove(PLAYS_KEY);
      store.update({ plays: [] });
      transport.forgetPlays().then(
        (where) => store.update(notice("What played is forgotten " + where + ".")),
        () => store.update(notice("What played is forgotten in this browser; the server could not be reached to forget its copy.")));
    },
  };

  for (const view of [status, navbar, stage, bars, mood, steering, playlist, playerView, keys, history, importer, folderView]) view.mount(store, actions);

  transport.start({
    started: (start) => {
      // The analyzer loads while the camera starts: the first frame is analysed as soon as it runs.
      if (start.capture === "browser" && store.state.analysis === "device") analysis.load(start.modelDescription);
      frames.started(start);
    },
    frame: (frame, songs) => frames.fromServer(frame, songs),
    frameUnanswered: (retryMs) => frames.unanswered(retryMs),
    calibration: (made) => calibrator.fromServer(made),
    refused: (message) => calibrator.refusedByServer(message),
  });
  // On a server the analyzer loads while the page connects.
  if (store.state.serverAnalysis && store.state.analysis === "device") analysis.load();
  // Offline after the first visit: sw.js keeps the page's files (not on
  // plain http to another machine, where browsers offer no service worker).
  navigator.serviceWorker?.register("sw.js").catch(() => {});
}

main();
