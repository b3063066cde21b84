//! The page offline: the service worker (`web/offline/sw.js`) with the list of
//! files it keeps, each with a hash of its bytes. `serve` answers it at
//! `/sw.js` for the embedded page; `melodora site` writes it beside the
//! site's `index.html` with the site's own files (catalog and settings
//! included). A changed file changes the list, so browsers install the new
//! worker on their next visit.
//!
//! Kept: the page and everything under `static/` that the page loads. Never
//! kept: `/api` (recommendations, library audio and covers, photos), the
//! WebSocket and the camera's feed, and a site's library copies (songs are
//! large; they play from the network).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::assets::{content_hash, files};

/// The worker's code; the list is put before it.
const WORKER: &str = include_str!("../../../web/offline/sw.js");

/// The service worker for `kept`: (path relative to the page's folder, hash of its bytes).
pub(crate) fn service_worker(kept: &[(String, String)]) -> String {
    let listing: Vec<[&str; 2]> = kept
        .iter()
        .map(|(path, hash)| [path.as_str(), hash.as_str()])
        .collect();
    let listing = serde_json::to_string(&listing).expect("a list of strings serialises");
    let version = content_hash(listing.as_bytes());
    format!(
        "// Made by Melodora from web/offline/sw.js: the files kept for offline use, and their version.\n\
         self.OFFLINE = {{\"version\": \"{version}\", \"files\": {listing}}};\n{WORKER}"
    )
}

/// The files the served page keeps: itself (`./`) and its static files.
pub(crate) fn served_files() -> Vec<(String, String)> {
    files()
        .iter()
        .map(|(name, _, bytes)| {
            let path = if *name == "index.html" {
                "./".to_string()
            } else {
                format!("static/{name}")
            };
            (path, content_hash(bytes))
        })
        .collect()
}

static SERVED_WORKER: LazyLock<String> = LazyLock::new(|| service_worker(&served_files()));

/// `GET /sw.js`: the served page's service worker (revalidated on every
/// visit, so a new build is noticed).
pub async fn worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SERVED_WORKER.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_the_page_and_its_files_and_a_change_changes_the_version() {
        let served = served_files();
        assert!(served.iter().any(|(path, _)| path == "./"));
        assert!(served.iter().any(|(path, _)| path == "static/main.js"));
        assert!(served
            .iter()
            .any(|(path, _)| path == "static/models/emotion.onnx"));
        assert!(
            !served.iter().any(|(path, _)| path.contains("sw.js")),
            "the worker does not keep itself"
        );
        let worker = service_worker(&served);
        assert!(worker.contains("\"static/wasm/melodora_wasm_bg.wasm\""));
        assert!(worker.contains("worker.addEventListener(\"fetch\""));
        assert!(
            worker.starts_with("// Made by Melodora")
                && worker.contains("\nself.OFFLINE = {\"version\": \"")
        );
        let mut changed = served.clone();
        changed[0].1 = "0000000000000000".into();
        let version = |text: &str| text.lines().nth(1).map(str::to_owned);
        assert_ne!(version(&worker), version(&service_worker(&changed)));
        assert_eq!(
            worker,
            service_worker(&served),
            "the same files make the same worker"
        );
    }
}
