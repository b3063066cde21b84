// The transport of a static site (`melodora site`, no server): playlists
// are made in this page by the recommender compiled to WebAssembly
// (site-store.js), which also keeps the mode, likes, skips, mood history and
// the last list in this browser. Frames are always analysed in the page.

import { Site } from "./site-store.js";
import { notice, showsTransportSongs } from "../state.js";
import { chosenSource, keepSource } from "../source.js";

/** @typedef {import("./transport.js").Transport} Transport */
/** @typedef {import("./transport.js").Hooks} Hooks */
/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").Mood} Mood */

const NO_ANALYZER = "this browser cannot run Melodora's analyzer";

/** @implements {Transport} */
export class SiteTransport {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    /** @type {Site | null} */
    this.site = null;
    store.update({ serverAnalysis: false, analysis: "device", keepsHistory: true, importsSongs: true,
      status: { text: "loading", kind: "secondary" } });
  }

  /** Loads the site's settings, catalog and kept state, then starts the camera.
   *  @param {Hooks} hooks */
  async start(hooks) {
    let site;
    try {
      site = await Site.load();
    } catch (error) {
      this.store.update({ cameraMessage: "Melodora could not load its files (" + message(error) + "). Reload to try again.",
        status: { text: "failed", kind: "danger" } });
      return;
    }
    this.site = site;
    const librarySongs = site.playlists.librarySongCount();
    const source = chosenSource(librarySongs);
    site.playlists.setSource(source);
    const kept = site.state;
    this.store.update({
      storageRefused: !site.storageWorks,
      mode: kept.mode,
      verdicts: { ...kept.feedback },
      history: [...kept.history],
      startedAt: kept.history.length ? kept.history[0].t : Date.now(),
      mood: kept.mood,
      deviceMood: kept.mood,
      songs: kept.list,
      librarySongs,
      source,
    });
    // Mood changes are kept for the next visit's timeline.
    this.store.watch((s) => [s.history], (s) => this.site?.keepHistory(s.history));
    hooks.started({ capture: "browser", videoFeed: null, settings: site.settings.analysis,
      modelDescription: site.settings.model_description });
  }

  /** A new list for `mood`, shown; a failure is a notice, the list stays.
   *  @param {Mood} mood */
  list(mood) {
    const site = this.site;
    if (!site) return;
    try {
      const songs = site.recommend(mood);
      if (showsTransportSongs(this.store.state)) this.store.update({ songs });
    } catch (error) {
      this.store.update(notice("No playlist: " + message(error)));
    }
    if (!site.storageWorks) this.store.update({ storageRefused: true });
  }

  /** @param {import("../state.js").Source} from */
  setSource(from) {
    keepSource(from);
    try { this.site?.playlists.setSource(from); } catch (error) { return; }
    const mood = this.site?.state.mood;
    if (mood) this.list(mood);
  }

  /** Where the site keeps its copy of a library song (`melodora site --library`).
   *  @param {import("../state.js").Song} song */
  libraryUrls(song) {
    const file = song.library?.file;
    return file ? { audio: file, cover: song.library?.cover_file || null } : null;
  }

  /** @param {import("../state.js").Mode} mode */
  setMode(mode) {
    this.site?.setMode(mode);
    const mood = this.site?.state.mood;
    if (mood) this.list(mood);
  }

  /** @param {Mood} mood */
  sendMood(mood) {
    if (!this.store.state.manual) this.list(mood);
  }

  /** @param {import("../emotions.js").Emotion | null} emotion */
  setManual(emotion) {
    const mood = emotion ? { emotion, confidence: 1 } : this.store.state.deviceMood;
    if (mood) this.list(mood);
    return true;
  }

  /** @param {number} songId @param {import("../state.js").Verdict} verdict */
  feedback(songId, verdict) {
    if (!this.site) return false;
    const kept = this.site.judge(songId, verdict);
    this.store.update((s) => ({ verdicts: { ...s.verdicts, [songId]: verdict }, storageRefused: s.storageRefused || !kept }));
    return true;
  }

  /** There is no server: what played is kept in this browser only. */
  played() {}
  async forgetPlays() { return "in this browser"; }

  /** There is no server: a calibration is made by the analyzer in the page. */
  calibrate() { return false; }
  uncalibrate() { return false; }
  sendFrame() { return false; }
  canSendFrame() { return false; }
  /** @returns {Promise<import("../protocol.js").FrameReport>} */
  async analysePhoto() { throw new Error(NO_ANALYZER); }

  /** Forgets everything kept, imported songs included. */
  async forget() {
    if (!this.site) return;
    await this.site.forget();
    this.store.update({ mode: "match", verdicts: {}, history: [], startedAt: Date.now(), mood: null, deviceMood: null,
      songs: [], importReport: null });
  }

  /** Imports CSV files and reports what the importer made of them.
   *  @param {FileList} files */
  async importFiles(files) {
    const site = this.site;
    if (!site) return;
    this.store.update({ importReport: { lines: [], failed: false } });
    try {
      const report = await site.importFiles(files);
      const lines = [`Imported ${report.songs_added} new songs (${report.songs_known} already known)` +
        (report.replaced_default ? ", which replace the site's catalog" : "") +
        (report.kept ? "." : "; this browser cannot keep them, so they last until the page is closed.")];
      if (report.problems.length) {
        lines.push(`${report.problems.length} rows were skipped:`);
        for (const problem of report.problems.slice(0, 20)) lines.push("• " + problem);
        if (report.problems.length > 20) lines.push(`… and ${report.problems.length - 20} more.`);
      }
      this.store.update({ importReport: { lines, failed: false } });
      if (site.state.mood) this.list(site.state.mood);
    } catch (error) {
      this.store.update({ importReport: { lines: ["Nothing imported: " + message(error)], failed: true } });
    }
  }
}

/** @param {unknown} error */
function message(error) {
  return error instanceof Error ? error.message : String(error);
}
