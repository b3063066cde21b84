// What the page keeps in this browser's localStorage, read and written so
// that a browser refusing storage (private mode, full, turned off) never
// throws: reads come back empty and writes report false.

/**
 * The text kept under `key`, or null (none kept, or storage refused).
 * @param {string} key
 * @returns {string | null}
 */
export function read(key) {
  try {
    return localStorage.getItem(key);
  } catch (error) {
    return null;
  }
}

/**
 * Keeps `value` under `key`; false when the browser refuses.
 * @param {string} key
 * @param {string} value
 * @returns {boolean}
 */
export function write(key, value) {
  try {
    localStorage.setItem(key, value);
    return true;
  } catch (error) {
    return false;
  }
}

/**
 * Forgets `key`; quietly does nothing when storage is refused.
 * @param {string} key
 */
export function remove(key) {
  try {
    localStorage.removeItem(key);
  } catch (error) { /* nothing was kept */ }
}

/**
 * The JSON value kept under `key`, or null (none, refused, or not JSON).
 * @param {string} key
 * @returns {unknown}
 */
export function readJson(key) {
  const text = read(key);
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    return null;
  }
}
