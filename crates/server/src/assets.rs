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

/// (URL path, content type, bytes) of every embedded file; `index.html`
/// is served at `/`, the others under `/static/`.
pub(crate) const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../web/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/app.js"),
    ),
    (
        "device-analysis.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/device-analysis.js"),
    ),
    (
        "calibration.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/calibration.js"),
    ),
    (
        "photo.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/photo.js"),
    ),
    (
        "static-site.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/static-site.js"),
    ),
    (
        "analyzer-worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/analyzer-worker.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/app.css"),
    ),
    (
        "vendor/bootstrap/bootstrap.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/vendor/bootstrap/bootstrap.min.css"),
    ),
    (
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/vendor/bootstrap/bootstrap.bundle.min.js"),
    ),
    (
        "vendor/jquery/jquery.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/vendor/jquery/jquery.min.js"),
    ),
    (
        "wasm/melodora_wasm.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/wasm/melodora_wasm.js"),
    ),
    (
        "wasm/melodora_wasm_bg.wasm",
        "application/wasm",
        include_bytes!("../../../web/wasm/melodora_wasm_bg.wasm"),
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

/// Each file's ETag, in [`FILES`] order: FNV-1a of its bytes, quoted.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, _, bytes)| {
            let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            format!("\"{hash:016x}\"")
        })
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
