// "Add my music folder": the listener picks a folder (the directory picker
// where the browser has one, a folder input elsewhere); the page hears its
// audio files in its music worker, nothing uploaded (music/folder.js), and
// says how far it is, what it kept from an earlier visit and what could
// not be heard.

import { byId, h, setText, showIf } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../actions/actions.js").Actions} Actions */

/** Every file under a folder the directory picker opened (with its path
 *  in the folder, as a folder input gives it).
 *  @param {any} directory @param {string} prefix @returns {Promise<File[]>} */
async function filesUnder(directory, prefix) {
  /** @type {File[]} */
  const files = [];
  for await (const entry of directory.values()) {
    const path = prefix + entry.name;
    if (entry.kind === "directory") {
      files.push(...await filesUnder(entry, path + "/"));
    } else {
      const file = await entry.getFile();
      Object.defineProperty(file, "webkitRelativePath", { value: path });
      files.push(file);
    }
  }
  return files;
}

/** The line under the button.  @param {import("../state.js").FolderState} f */
export function folderText(f) {
  if (f.busy) return `hearing the folder: ${f.done} of ${f.total} files looked at (${f.heard} heard, ${f.reused} known from before)…`;
  if (!f.total) return "";
  const skipped = f.skipped.length ? `, ${f.skipped.length} could not be heard` : "";
  return `${f.songs} songs from your folder (${f.heard} heard now, ${f.reused} known from before${skipped}; ${f.seconds.toFixed(1)} s), heard in this browser: nothing was uploaded.`;
}

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  const pick = /** @type {HTMLButtonElement} */ (byId("folder-pick"));
  const input = /** @type {HTMLInputElement} */ (byId("folder-files"));
  const info = byId("folder-info");
  const skipped = byId("folder-skipped");
  const skippedList = byId("folder-skipped-list");
  const folderChoice = /** @type {HTMLElement} */ (byId("source-choice").querySelector("[data-source=folder]"));
  pick.addEventListener("click", async () => {
    const picker = /** @type {any} */ (window).showDirectoryPicker;
    if (typeof picker !== "function") { input.click(); return; }
    try {
      const directory = await picker.call(window, { mode: "read" });
      await actions.addFolder(await filesUnder(directory, directory.name + "/"));
    } catch (error) {
      // The listener closed the picker: nothing to say.
      if (!(error instanceof DOMException && error.name === "AbortError")) input.click();
    }
  });
  input.addEventListener("change", () => {
    if (input.files?.length) actions.addFolder(Array.from(input.files));
    input.value = "";
  });
  store.watch((s) => [s.folder], ({ folder }) => {
    pick.disabled = folder.busy;
    setText(info, folderText(folder));
    showIf(folderChoice, folder.songs > 0);
    showIf(skipped, !folder.busy && folder.skipped.length > 0);
    skippedList.replaceChildren(...folder.skipped.map((line) => h("li", { text: line })));
  });
}
