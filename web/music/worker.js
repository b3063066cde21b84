// The music worker: hears the files of a folder the listener picked, one
// at a time, with melodora-audio compiled to WebAssembly
// (web/wasm/melodora_wasm_audio*), off the page's thread and apart from
// the camera's analyzer worker. Files come in as File objects from the
// page; nothing goes anywhere but back to the page.
//
// In:  {id, file}            a File to hear
// Out: {id, heard, cover?}   what was heard (cover: the picture's bytes)
//      {id, error}           why the file cannot be heard
//      {id, other: true}     not audio (a cover, a playlist): passed over

import init, { fileKind, hear, readCover } from "../wasm/melodora_wasm_audio.js";

/** @type {Promise<unknown> | null} */
let ready = null;

/** @param {string} name */
function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

self.onmessage = async (/** @type {MessageEvent<{id: number, file: File}>} */ event) => {
  const { id, file } = event.data;
  try {
    ready ||= init({ module_or_path: new URL("../wasm/melodora_wasm_audio_bg.wasm", import.meta.url) });
    await ready;
    const kind = extension(file.name);
    const what = fileKind(kind);
    if (what === "other") { self.postMessage({ id, other: true }); return; }
    if (what !== "decoded") { self.postMessage({ id, error: what }); return; }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const heard = JSON.parse(hear(bytes, kind));
    const cover = heard.cover_type ? readCover(bytes, kind) : undefined;
    self.postMessage({ id, heard, cover }, cover ? [cover.buffer] : []);
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
