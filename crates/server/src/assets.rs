//! The web page, embedded at build time from `web/`, and what the page's
//! on-device mode loads: the analyzer compiled to WebAssembly (`web/wasm`)
//! and the embedded cascade and emotion model.
//!
//! Every file carries an ETag (a hash of its bytes) and `no-cache`: the
//! browser keeps its copy and revalidates it, and an unchanged file costs a
//! 304 rather than megabytes.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use melodora_vision::{DEFAULT_CASCADE_XML, DEFAULT_MODEL_ONNX};

/// (URL path, content type, bytes) of an embedded file.
pub(crate) type EmbeddedFile = (&'static str, &'static str, &'static [u8]);

/// Every file of `web/` the browser loads, listed by `build.rs` from the
/// folder itself; `index.html` is served at `/`, the others under `/static/`.
const WEB_FILES: &[EmbeddedFile] = include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

/// The embedded detectors and model, which the page's analyzer loads (the
/// detector `serve` or `site` chose; every one is kept offline, so that a
/// site's pages need nothing the worker did not keep).
const MODEL_FILES: &[EmbeddedFile] = &[
    (
        "models/face_detection_short_range.tflite",
        "application/octet-stream",
        melodora_vision::SHORT_RANGE_TFLITE,
    ),
    (
        "models/face_detection_full_range.tflite",
        "application/octet-stream",
        melodora_vision::FULL_RANGE_TFLITE,
    ),
    (
        "models/haarcascade_frontalface_default.xml",
        "application/xml",
        DEFAULT_CASCADE_XML.as_bytes(),
    ),
    (
        "models/emotion.onnx",
        "application/octet-stream",
        DEFAULT_MODEL_ONNX,
    ),
];

/// Every embedded file: the page's, then the models.
static FILES: LazyLock<Vec<EmbeddedFile>> =
    LazyLock::new(|| WEB_FILES.iter().chain(MODEL_FILES).copied().collect());

/// Every embedded file, in one order (the site writer copies them all).
pub(crate) fn files() -> &'static [EmbeddedFile] {
    &FILES
}

/// A short hash of a file's bytes (FNV-1a, 16 hex digits): its ETag, and
/// its version in the offline worker's list.
pub(crate) fn content_hash(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Each file's ETag, in [`FILES`] order: its content hash, quoted.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, _, bytes)| format!("\"{}\"", content_hash(bytes)))
        .collect()
});

fn file(path: &str, request: &HeaderMap) -> Response {
    let Some(index) = FILES.iter().position(|(name, _, _)| *name == path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let (_, content_type, bytes) = FILES[index];
    let etag = ETAGS[index].as_str();
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-cache"),
        (header::ETAG, etag),
    ];
    let known = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if known {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, bytes).into_response()
    }
}

/// `GET /`: the page.
pub async fn index(request: HeaderMap) -> Response {
    file("index.html", &request)
}

/// `GET /static/{*path}`: the page's scripts, styles and vendored libraries,
/// the WebAssembly analyzer, the cascade and the model.
pub async fn asset(Path(path): Path<String>, request: HeaderMap) -> Response {
    file(&path, &request)
}

#[cfg(test)]
mod tests {
    use melodora_vision::Range;

    use super::*;

    #[test]
    fn each_blazeface_model_is_served_under_the_name_pages_ask_for() {
        for range in [Range::Short, Range::Full] {
            let path = format!("models/{}", range.model_file());
            assert!(
                files()
                    .iter()
                    .any(|(name, _, bytes)| *name == path && *bytes == range.embedded_model()),
                "{path}"
            );
        }
    }
}
