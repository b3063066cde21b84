// Songs imported from CSV files in the page (where the transport makes
// playlists in the page: a static site), and the importer's report.

import { byId, h, showIf } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../actions/actions.js").Actions} Actions */

/** @param {Store} store @param {Actions} actions */
export function mount(store, actions) {
  const section = byId("import");
  const input = /** @type {HTMLInputElement} */ (byId("import-files"));
  const report = byId("import-report");
  byId("import-pick").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    if (input.files && input.files.length) actions.importFiles(input.files).finally(() => { input.value = ""; });
  });
  store.watch((s) => [s.importsSongs], (s) => showIf(section, s.importsSongs));
  store.watch((s) => [s.importReport], ({ importReport }) => {
    showIf(report, !!importReport);
    report.replaceChildren(...(importReport ? importReport.lines : []).map((line) =>
      h("div", { className: importReport && importReport.failed ? "text-danger" : "", text: line })));
  });
}
