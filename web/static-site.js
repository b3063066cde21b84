// The page without a Melodora server (a site written by `melodora site`):
// loads the site's settings and catalog, makes playlists in the browser
// (the recommender compiled to WebAssembly, web/wasm), and keeps the
// listener's mode, likes and skips, session, mood history and last list in
// localStorage. app.js decides when; this file only knows how.
"use strict";

window.MelodoraSite = (function () {
  const STATE_KEY = "melodora.site.v1";
  const MAX_HISTORY = 500;        // mood changes kept for the timeline
  // Files of the site, beside this script wherever the site is published.
  const BASE = new URL("./", document.currentScript.src);

  async function fetchOk(path) {
    const response = await fetch(new URL(path, BASE));
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response;
  }

  /** What survives a reload; a fresh state when nothing (readable) is kept. */
  function emptyState() {
    return { mode: "match", feedback: {}, session: null, mood: null, list: [], history: [] };
  }

  class Site {
    constructor(settings, playlists) {
      this.settings = settings;       // {analysis, model_description?}
      this.playlists = playlists;     // wasm Playlists
      this.state = emptyState();
      this.storageWorks = true;
    }

    /** Loads site.json, the recommender and the catalog. */
    static async load() {
      const [settings, wasm, catalog] = await Promise.all([
        fetchOk("site.json").then((r) => r.json()),
        import(new URL("wasm/melodora_wasm.js", BASE).href),
        fetchOk("catalog.json").then((r) => r.text()),
      ]);
      await wasm.default({ module_or_path: new URL("wasm/melodora_wasm_bg.wasm", BASE) });
      const site = new Site(settings, new wasm.Playlists(catalog, Math.random() * 2 ** 52));
      site.restore();
      return site;
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

    /** A new list for `mood` in the kept mode, following the kept verdicts. */
    recommend(mood) {
      const feedback = Object.entries(this.state.feedback).map(([id, verdict]) => [Number(id), verdict]);
      const list = JSON.parse(this.playlists.recommend(mood.emotion, this.state.mode, 15, JSON.stringify(feedback)));
      this.state.mood = { emotion: mood.emotion, confidence: mood.confidence };
      this.state.list = list;
      this.save();
      return list;
    }

    /** Notes a mood change for the timeline. */
    remember(t, emotion) {
      this.state.history.push({ t, emotion });
      if (this.state.history.length > MAX_HISTORY) this.state.history.splice(0, this.state.history.length - MAX_HISTORY);
      this.save();
    }

    setMode(mode) {
      this.state.mode = mode;
      this.save();
    }

    /** Records a like or skip; later lists follow it. */
    judge(songId, verdict) {
      this.state.feedback[songId] = verdict;
      return this.save();
    }

    verdictOf(songId) {
      return this.state.feedback[songId] || null;
    }

    /** Forgets everything kept; the next list starts a new session. */
    forget() {
      this.state = emptyState();
      try { localStorage.removeItem(STATE_KEY); } catch (error) { /* nothing kept */ }
      this.playlists.restoreSession(JSON.stringify({ seed: Math.floor(Math.random() * 2 ** 52), seen: [] }));
    }
  }

  return { Site };
})();
