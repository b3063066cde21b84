//! The `/ws` protocol as one JSON Schema (draft 2020-12), generated from
//! the message types themselves (their utoipa schemas), so the written
//! contract cannot drift from the code: `docs/ws-protocol.schema.json` is
//! checked to equal it (`tests/ws_schema.rs`), and the page's JSDoc types
//! are made from that file (`scripts/ws_types.mjs`).

use serde_json::{json, Value};
use utoipa::OpenApi;

use super::protocol::{Command, ServerMessage};

#[derive(OpenApi)]
#[openapi(components(schemas(Command, ServerMessage)))]
struct Protocol;

/// The schema: every message type under `$defs` (`ClientMessage` for what
/// a page sends as text, `ServerMessage` for what the server says, and the
/// types they are made of); a message is valid when it is one of the two.
pub fn ws_protocol_schema() -> Value {
    let schemas = Protocol::openapi()
        .components
        .map(|components| components.schemas)
        .unwrap_or_default();
    // OpenAPI's references point into its components; here they point
    // into this document's $defs.
    let defs = serde_json::to_string(&schemas)
        .expect("schemas serialise")
        .replace("#/components/schemas/", "#/$defs/");
    let defs: Value = serde_json::from_str(&defs).expect("what was serialised parses");
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Melodora's WebSocket protocol (/ws)",
        "description": "Text messages of GET /ws: a page sends ClientMessage (binary messages are camera frames, \
            JPEG or PNG); the server sends ServerMessage. Generated from the Rust types in \
            crates/server/src/ws/protocol.rs; do not edit by hand.",
        "anyOf": [
            { "$ref": "#/$defs/ClientMessage" },
            { "$ref": "#/$defs/ServerMessage" }
        ],
        "$defs": defs,
    })
}
