//! HTTP + WebSocket application of Melodora, composing vision and music.
//!
//! Its implementation lands with the web-app issue; until then it only fixes
//! the crate's place in the workspace.
