// The page without a Melodora server (a site written by `melodora site`):
// loads the site's settings and catalog, makes playlists in the browser
// (the recommender compiled to WebAssembly, web/wasm), and keeps the
// listener's mode, likes and skips, session, mood history and last list in
// localStorage, and songs the listener imported (CSV files, read by the same
// importer as `melodora catalog import`) in IndexedDB, which holds more.
// transport/site.js decides when; this file only knows how.

import init, { Playlists } from "../wasm/melodora_wasm.js";

/** @typedef {import("../protocol.js").Recommendation} Song */
/** @typedef {import("../protocol.js").Mode} Mode */
/** @typedef {import("../protocol.js").Verdict} Verdict */
/** @typedef {import("../state.js").Mood} Mood */
/** @typedef {import("../state.js").MoodChange} MoodChange */
/**
 * What survives a reload.
 * @typedef {object} Kept
 * @property {Mode} mode
 * @property {Record<string, Verdict>} feedback
 * @property {unknown} session        the recommender's session (what it has played)
 * @property {Mood | null} mood
 * @property {Song[]} list
 * @property {MoodChange[]} history
 */
/**
 * The importer's report.
 * @typedef {{songs_added: number, songs_known: number, replaced_default: boolean, problems: string[], kept?: boolean}} ImportReport
 */

const STATE_KEY = "melodora.site.v1";
const MAX_HISTORY = 500;        // mood changes kept for the timeline
const MAX_FILE_BYTES = 20 * 1024 * 1024;   // as the importer's limit (MAX_IMPORT_BYTES)
const DB = "melodora", DB_STORE = "catalog", DB_KEY = "imported";
// Files of the site: this module is in static/transport/, they are in static/.
const BASE = new URL("../", import.meta.url);

/** @param {string} path */
async function fetchOk(path) {
  const response = await fetch(new URL(path, BASE));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

/** The imported catalog kept in IndexedDB: get (null when none), put
 *  (JSON) or delete (null). Fails where IndexedDB does not work.
 *  @param {string | null} [value]
 *  @returns {Promise<string | null>} */
function importedCatalog(value) {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") { reject(new Error("no IndexedDB")); return; }
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(DB_STORE);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(DB_STORE, value === undefined ? "readonly" : "readwrite");
      const store = tx.objectStore(DB_STORE);
      const request = value === undefined ? store.get(DB_KEY)
        : value === null ? store.delete(DB_KEY) : store.put(value, DB_KEY);
      tx.oncomplete = () => { db.close(); resolve(value === undefined ? request.result || null : null); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  });
}

/** What survives a reload; a fresh state when nothing (readable) is kept.
 *  @returns {Kept} */
function emptyState() {
  return { mode: "match", feedback: {}, session: null, mood: null, list: [], history: [] };
}

/** The site's settings (site.json, written by `melodora site`).
 *  @typedef {{analysis: import("../protocol.js").AnalysisSettings, model_description?: unknown}} Settings */

export class Site {
  /** @param {Settings} settings @param {Playlists} playlists */
  constructor(settings, playlists) {
    this.settings = settings;       // {analysis, model_description?}
    this.playlists = playlists;     // wasm Playlists
    this.state = emptyState();
    this.storageWorks = true;
  }

  /** Loads site.json, the recommender and the catalog. */
  static async load() {
    const [settings, imported] = await Promise.all([
      fetchOk("site.json").then((r) => r.json()),
      importedCatalog().catch(() => null),
      init({ module_or_path: new URL("wasm/melodora_wasm_bg.wasm", BASE) }),
    ]);
    const seed = Math.random() * 2 ** 52;
    let playlists = null;
    if (imported) {
      try { playlists = new Playlists(imported, seed); } catch (error) { playlists = null; }
    }
    if (!playlists) playlists = new Playlists(await fetchOk("catalog.json").then((r) => r.text()), seed);
    const site = new Site(settings, playlists);
    site.restore();
    return site;
  }

  /** Imports CSV files (a FileList); resolves with the importer's report
   *  ({songs_added, songs_known, replaced_default, problems, rows}), or
   *  rejects with a message (too big, not a catalog, nothing accepted).
   *  @param {FileList} files
   *  @returns {Promise<ImportReport>} */
  async importFiles(files) {
    const chosen = Array.from(files);
    if (!chosen.length) throw new Error("no file chosen");
    for (const file of chosen) {
      if (file.size > MAX_FILE_BYTES) {
        throw new Error(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; files of at most ${MAX_FILE_BYTES / (1024 * 1024)} MB can be imported here`);
      }
    }
    const buffers = await Promise.all(chosen.map((f) => f.arrayBuffer()));
    const bytes = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const buffer of buffers) { bytes.set(new Uint8Array(buffer), at); at += buffer.byteLength; }
    const report = JSON.parse(this.playlists.importFiles(
      chosen.map((f) => f.name), new Uint32Array(buffers.map((b) => b.byteLength)), bytes));
    try {
      await importedCatalog(this.playlists.snapshotJson());
      report.kept = true;
    } catch (error) {
      report.kept = false;            // imported for this visit only
    }
    this.save();
    return report;
  }

  /** Reads the kept state; a session kept before is continued. */
  restore() {
    let kept = null;
    try {
      kept = JSON.parse(localStorage.getItem(STATE_KEY) || "null");
    } catch (error) {
      this.storageWorks = false;
    }
    if (!kept || typeof kept !== "object") return;
    const state = Object.assign(emptyState(), kept);
    if (state.mode !== "match" && state.mode !== "uplift") state.mode = "match";
    if (!state.feedback || typeof state.feedback !== "object") state.feedback = {};
    if (!Array.isArray(state.list)) state.list = [];
    if (!Array.isArray(state.history)) state.history = [];
    if (state.session) {
      try {
        this.playlists.restoreSession(JSON.stringify(state.session));
      } catch (error) {
        state.session = null;       // a session of another catalog: start afresh
      }
    }
    this.state = state;
  }

  /** Keeps the state; false (and storageWorks false) when the browser refuses. */
  save() {
    try {
      this.state.session = JSON.parse(this.playlists.sessionJson());
      localStorage.setItem(STATE_KEY, JSON.stringify(this.state));
      return true;
    } catch (error) {
      this.storageWorks = false;
      return false;
    }
  }

  /** A new list for `mood` in the kept mode, following the kept verdicts.
   *  @param {Mood} mood
   *  @returns {Song[]} */
  recommend(mood) {
    const feedback = Object.entries(this.state.feedback).map(([id, verdict]) => [Number(id), verdict]);
    const list = JSON.parse(this.playlists.recommend(mood.emotion, this.state.mode, 15, JSON.stringify(feedback)));
    this.state.mood = { emotion: mood.emotion, confidence: mood.confidence };
    this.state.list = list;
    this.save();
    return list;
  }

  /** Keeps the session's mood changes (the newest MAX_HISTORY) for the
   *  timeline; an unchanged history is not written again.
   *  @param {MoodChange[]} history */
  keepHistory(history) {
    const known = this.state.history;
    if (known[known.length - 1] === history[history.length - 1]) return;
    this.state.history = history.slice(-MAX_HISTORY);
    this.save();
  }

  /** @param {Mode} mode */
  setMode(mode) {
    this.state.mode = mode;
    this.save();
  }

  /** Records a like or skip; later lists follow it.
   *  @param {number} songId @param {Verdict} verdict */
  judge(songId, verdict) {
    this.state.feedback[songId] = verdict;
    return this.save();
  }

  /** Forgets everything kept, imported songs included (the site's own
   *  catalog comes back); the next list starts a new session. */
  async forget() {
    this.state = emptyState();
    try { localStorage.removeItem(STATE_KEY); } catch (error) { /* nothing kept */ }
    await importedCatalog(null).catch(() => null);
    const catalog = await fetchOk("catalog.json").then((r) => r.text());
    this.playlists = new Playlists(catalog, Math.random() * 2 ** 52);
  }
}

