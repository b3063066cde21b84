// A music folder analysed in this browser, nothing uploaded: the listener
// picks a folder; each audio file in it is heard by the music worker
// (worker.js, melodora-audio in WebAssembly) or found in what the browser
// kept from an earlier visit (cache.js); the songs play from object URLs of
// the files themselves; and the recommender in WebAssembly (the one a
// static site uses, loaded only when a folder is added) makes their lists
// for the mood. No request carries the
// files, their bytes or their names: only the mood leaves the page, as
// before.

import * as cache from "./cache.js";
import { notice } from "../state.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").Song} Song */
/** @typedef {import("../state.js").Verdict} Verdict */
/**
 * What the music worker heard in a file (crates/wasm-audio's HeardSong).
 * @typedef {object} Heard
 * @property {string} [title]
 * @property {string} [artist]
 * @property {string} [album]
 * @property {number} duration_s
 * @property {number} [tempo_bpm]
 * @property {number} [loudness_lufs]
 * @property {number} valence
 * @property {number} arousal
 * @property {"Q1" | "Q2" | "Q3" | "Q4"} quadrant
 * @property {string} [cover_type]
 */
/** @typedef {{id: number, heard?: Heard, cover?: Uint8Array, error?: string, other?: boolean}} Answer */

const LIST_LENGTH = 15;

/** "Get You The Moon" for "music/Get_You_The_Moon.mp3".  @param {string} name */
export function titleFromName(name) {
  const base = name.replace(/^.*\//, "");
  const dot = base.lastIndexOf(".");
  return (dot > 0 ? base.slice(0, dot) : base).replace(/_/g, " ").trim();
}

/** The folder a file is in ("Artist/Album/x.mp3": "Album").  @param {File} file */
function folderName(file) {
  const parts = (file.webkitRelativePath || "").split("/");
  return parts.length > 1 ? parts[parts.length - 2] : "";
}

/** A tag as shown: no control characters, at most 500 characters.
 *  @param {string | undefined} text @param {string} fallback */
function shown(text, fallback) {
  // eslint-disable-next-line no-control-regex
  const clean = (text || "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 500);
  return clean || fallback.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 500);
}

/** The song a heard file becomes (a catalog-file song: see
 *  melodora_music::Song), with the object URLs it plays from.
 *  @param {number} id @param {File} file @param {Heard} heard @param {string} audio @param {string | null} cover */
export function folderSong(id, file, heard, audio, cover) {
  const title = shown(heard.title, titleFromName(file.name));
  const artist = shown(heard.artist, folderName(file));
  return {
    id, title, artist, album: shown(heard.album, ""),
    // A catalog file's songs carry a web link; a folder song's is a search.
    link: "https://open.spotify.com/search/" + encodeURIComponent(`${artist} ${title}`.trim()),
    emotions: [],
    features: { valence: (heard.valence + 1) / 2, energy: (heard.arousal + 1) / 2, ...(heard.tempo_bpm ? { tempo: heard.tempo_bpm } : {}) },
    library: {
      duration_s: heard.duration_s, valence: heard.valence, arousal: heard.arousal, quadrant: heard.quadrant,
      ...(heard.tempo_bpm ? { tempo_bpm: heard.tempo_bpm } : {}),
      ...(heard.loudness_lufs ? { loudness_lufs: heard.loudness_lufs } : {}),
      media_type: file.type || "audio/mpeg",
      file: audio,
      ...(cover ? { cover_type: heard.cover_type, cover_file: cover } : {}),
    },
  };
}

/** The folder's songs as a catalog file (melodora_music::CatalogSnapshot).
 *  @param {object[]} songs */
export function snapshotJson(songs) {
  return JSON.stringify({ format: "melodora-catalog", version: 1, songs, filings: [], default_catalog: false });
}

/** The listener's folder, heard in this browser. */
export class FolderMusic {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    /** @type {Worker | null} */
    this.worker = null;
    /** @type {Map<number, (answer: Answer) => void>} */
    this.waiting = new Map();
    this.nextAsk = 1;
    /** @type {string[]} object URLs of the songs shown, revoked with them */
    this.urls = [];
    /** @type {import("../wasm/melodora_wasm.js").Playlists | null} */
    this.playlists = null;
    /** @type {Record<string, Verdict>} */
    this.verdicts = {};
    // Lists follow the mood, the mode and a mood set by hand while the folder is chosen.
    store.watch((s) => [s.source, s.mood?.emotion, s.manual?.emotion, s.mode, s.folder.songs], () => this.list());
  }

  /** Hears the audio files among `files` (a picked folder's), keeps what
   *  was heard, and makes the folder's songs the list's source.
   *  @param {File[]} files */
  async add(files) {
    if (this.store.state.folder.busy) return;
    const started = performance.now();
    const keys = files.map(cache.fileKey);
    const kept = await cache.readAll(keys);
    /** @type {string[]} */
    const skipped = [];
    const songs = [];
    let heard = 0, reused = 0, done = 0;
    const progress = () => this.store.update({ folder: { ...this.store.state.folder, busy: true, total: files.length, done, heard, reused, skipped: [...skipped] } });
    progress();
    this.forgetSongs();
    for (let i = 0; i < files.length; i++) {
      const file = files[i];
      let entry = kept.get(keys[i]);
      if (entry) {
        reused++;
      } else {
        const answer = await this.hear(file);
        if (answer.error) skipped.push(`${file.webkitRelativePath || file.name}: ${answer.error}`);
        if (answer.heard) {
          entry = { heard: answer.heard, ...(answer.cover ? { cover: answer.cover } : {}) };
          heard++;
          cache.write(keys[i], entry);
        }
      }
      if (entry) songs.push(this.song(-(files.length - i), file, entry));
      done++;
      progress();
    }
    try {
      // Loaded only now: a page whose WebAssembly cannot load still works without a folder.
      const { default: init, Playlists } = await import("../wasm/melodora_wasm.js");
      await init({ module_or_path: new URL("../wasm/melodora_wasm_bg.wasm", import.meta.url) });
      this.playlists = songs.length ? new Playlists(snapshotJson(songs), Math.random() * 2 ** 52) : null;
    } catch (error) {
      this.playlists = null;
      this.store.update(notice("This browser cannot make lists of the folder: " + (error instanceof Error ? error.message : String(error))));
    }
    const seconds = (performance.now() - started) / 1000;
    this.store.update({
      folder: { busy: false, total: files.length, done, heard, reused, skipped, songs: songs.length, seconds },
      ...(songs.length && this.playlists ? { source: "folder" } : {}),
    });
  }

  /** @param {number} id @param {File} file @param {import("./cache.js").Kept} kept */
  song(id, file, kept) {
    const audio = URL.createObjectURL(file);
    this.urls.push(audio);
    let cover = null;
    if (kept.cover && kept.heard.cover_type) {
      cover = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (/** @type {unknown} */ (kept.cover))], { type: kept.heard.cover_type }));
      this.urls.push(cover);
    }
    return folderSong(id, file, kept.heard, audio, cover);
  }

  forgetSongs() {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    this.playlists = null;
    this.verdicts = {};
  }

  /** What the worker hears in one file.  @param {File} file @returns {Promise<Answer>} */
  hear(file) {
    if (!this.worker) {
      this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
      this.worker.onmessage = (/** @type {MessageEvent<Answer>} */ event) => {
        const done = this.waiting.get(event.data.id);
        this.waiting.delete(event.data.id);
        done?.(event.data);
      };
      this.worker.onerror = () => {
        for (const done of this.waiting.values()) done({ id: 0, error: "the music worker failed to load" });
        this.waiting.clear();
        this.worker = null;
      };
    }
    const id = this.nextAsk++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      /** @type {Worker} */ (this.worker).postMessage({ id, file });
    });
  }

  /** A like or skip of a folder song: kept here, weighed in its next lists.
   *  @param {number} songId @param {Verdict} verdict */
  feedback(songId, verdict) {
    this.verdicts[songId] = verdict;
    this.store.update((s) => ({ verdicts: { ...s.verdicts, [songId]: verdict } }));
  }

  /** A new list of the folder's songs for the mood in force, when the folder is the source. */
  list() {
    const s = this.store.state;
    const emotion = s.manual?.emotion || s.mood?.emotion;
    if (s.source !== "folder" || !this.playlists || !emotion) return;
    const feedback = Object.entries(this.verdicts).map(([id, verdict]) => [Number(id), verdict]);
    try {
      const songs = JSON.parse(this.playlists.recommend(emotion, s.mode, LIST_LENGTH, JSON.stringify(feedback)));
      this.store.update({ songs });
    } catch (error) {
      this.store.update(notice("No playlist of the folder: " + (error instanceof Error ? error.message : String(error))));
    }
  }
}
