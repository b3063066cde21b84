//! Melodora in the browser, compiled to WebAssembly with wasm-bindgen:
//!
//! * [`Analyzer`]: the same detector, classifier, tracking and mood
//!   smoothing as `melodora serve`, so the page analyses camera frames
//!   itself and no frame leaves it. Loaded once from the cascade XML and
//!   the ONNX model (fetched by the page), then fed RGBA frames; each call
//!   answers with the faces, their emotions and the stable mood as JSON, in
//!   the shape of the server's `frame` message. The classifier runs on the
//!   direct engine alone (no tract), one thread.
//! * [`Playlists`]: the recommender over a catalog file (`melodora site`
//!   writes one), for a page with no server: the same lists, rounds and
//!   feedback adjustments as the server's.
//!
//! Knows nothing of the page or the network: the page fetches the files,
//! keeps the listener's verdicts and talks to a server when there is one.

mod analyzer;
mod playlists;

pub use analyzer::{gray_from_rgba, Analyzer, MAX_FRAME_SIDE};
pub use playlists::Playlists;
