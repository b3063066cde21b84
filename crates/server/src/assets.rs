//! The web page, embedded at build time from `web/`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// (URL path, content type, bytes) of every embedded file.
const FILES: &[(&str, &str, &[u8])] = &[
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
];

fn file(path: &str) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == path) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /`: the page.
pub async fn index() -> Response {
    file("index.html")
}

/// `GET /static/{*path}`: the page's scripts, styles and vendored libraries.
pub async fn asset(Path(path): Path<String>) -> Response {
    file(&path)
}
