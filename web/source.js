// Which songs lists hold (the listener's own music, everything, the
// catalog): the choice is kept in this browser; without one, the library
// when there is one.

import * as kept from "./kept.js";

const SOURCE_KEY = "melodora.source";

/** The choice kept in this browser, else the library when it has songs,
 *  else all.
 *  @param {number} librarySongs @returns {import("./state.js").Source} */
export function chosenSource(librarySongs) {
  const stored = kept.read(SOURCE_KEY);
  if (stored === "all" || stored === "catalog" || (stored === "library" && librarySongs > 0)) return stored;
  return librarySongs > 0 ? "library" : "all";
}

/** Keeps the listener's choice for the next visit.
 *  @param {import("./state.js").Source} from */
export function keepSource(from) {
  kept.write(SOURCE_KEY, from);
}
