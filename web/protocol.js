// The WebSocket's messages as the server's Rust types define them: the
// JSON Schema in docs/ws-protocol.schema.json, generated from those types
// and turned into types/ws-protocol.d.ts (scripts/ws_types.mjs), both
// checked by scripts/test.sh. The page's JSDoc names them through here, so
// tsc fails when the page and the server drift apart.

/** @typedef {import("./types/ws-protocol.js").ClientMessage} ClientMessage */
/** @typedef {import("./types/ws-protocol.js").ServerMessage} ServerMessage */
/** @typedef {import("./types/ws-protocol.js").FaceReport} FaceReport */
/** @typedef {import("./types/ws-protocol.js").Recommendation} Recommendation */
/** @typedef {import("./types/ws-protocol.js").Mode} Mode */
/** @typedef {import("./types/ws-protocol.js").Source} Source */
/** @typedef {import("./types/ws-protocol.js").LibrarySong} LibrarySong */
/** @typedef {import("./types/ws-protocol.js").Verdict} Verdict */
/** @typedef {import("./types/ws-protocol.js").AnalysisSettings} AnalysisSettings */
/** @typedef {import("./types/ws-protocol.js").StableMood} StableMood */
/** @typedef {{width: number, height: number, faces: FaceReport[], mood?: StableMood | null, mood_changed?: boolean}} FrameReport */

export {};
