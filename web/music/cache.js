// What the browser keeps of heard files, in IndexedDB: one record per
// file, keyed by its path in the folder, size and modification time, so a
// second visit (the folder picked again) hears nothing it heard before. A
// browser without IndexedDB keeps nothing and hears again; nothing throws.
// VERSION counts the analyses: a new one (2: musicnn's tags among the mood's
// inputs) drops what an older one heard, so every file is heard again once.

const DB = "melodora-music", STORE = "heard", VERSION = 2;

/**
 * @typedef {object} Kept
 * @property {import("./folder.js").Heard} heard
 * @property {Uint8Array} [cover]
 */

/** @returns {Promise<IDBDatabase | null>} */
function open() {
  return new Promise((resolve) => {
    if (typeof indexedDB === "undefined") { resolve(null); return; }
    const request = indexedDB.open(DB, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (db.objectStoreNames.contains(STORE)) db.deleteObjectStore(STORE);
      db.createObjectStore(STORE);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
}

/** The key of a file: where it is in the folder, its size and time.
 *  @param {File} file */
export function fileKey(file) {
  return [file.webkitRelativePath || file.name, file.size, file.lastModified].join("|");
}

/** What is kept for each key (absent keys: nothing kept).
 *  @param {string[]} keys @returns {Promise<Map<string, Kept>>} */
export async function readAll(keys) {
  const found = new Map();
  const db = await open();
  if (!db) return found;
  await new Promise((resolve) => {
    const tx = db.transaction(STORE, "readonly");
    const store = tx.objectStore(STORE);
    for (const key of keys) {
      const get = store.get(key);
      get.onsuccess = () => { if (get.result) found.set(key, get.result); };
    }
    tx.oncomplete = tx.onerror = tx.onabort = () => resolve(undefined);
  });
  db.close();
  return found;
}

/** Keeps what was heard of one file; false when the browser refuses.
 *  @param {string} key @param {Kept} kept @returns {Promise<boolean>} */
export async function write(key, kept) {
  const db = await open();
  if (!db) return false;
  const done = await new Promise((resolve) => {
    const tx = db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put(kept, key);
    tx.oncomplete = () => resolve(true);
    tx.onerror = tx.onabort = () => resolve(false);
  });
  db.close();
  return /** @type {boolean} */ (done);
}

/** Forgets every heard file. */
export async function clear() {
  const db = await open();
  if (!db) return;
  await new Promise((resolve) => {
    const tx = db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).clear();
    tx.oncomplete = tx.onerror = tx.onabort = () => resolve(undefined);
  });
  db.close();
}
