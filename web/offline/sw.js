// Melodora offline: the service worker that keeps the page's files (the
// page, its modules and styles, both WebAssembly modules, the cascade and
// the model, and on a static site the catalog and settings), so that the
// page opens again with no network. The server (and `melodora site`) serves
// this file with one line put before it, `self.OFFLINE = {version, files}`:
// the files as paths relative to this script's folder, each with a hash of
// its bytes. A changed file changes that line, so the browser installs the
// new worker on the next visit and the old cache is dropped.
//
// Only the listed files are ever answered from the cache: the WebSocket,
// /api (recommendations, library audio, covers, photos) and the camera's
// feed always go to the network, and nothing is written but those files.
/// <reference lib="webworker" />
/** @typedef {{version: string, files: [string, string][]}} Offline */
/** @type {ServiceWorkerGlobalScope} */
const worker = /** @type {any} */ (self);
/** @type {Offline} */
const offline = /** @type {any} */ (worker).OFFLINE;
const CACHE = "melodora-" + offline.version;
const scope = worker.registration.scope;
/** Each kept file's address. */
const KEPT = new Set(offline.files.map(([path]) => new URL(path, scope).href));
const PAGE = new URL("./", scope).href;

worker.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll([...KEPT]))
      .then(() => worker.skipWaiting()),
  );
});

worker.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("melodora-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => worker.clients.claim()),
  );
});

worker.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  url.search = "";
  url.hash = "";
  const address = url.href === PAGE + "index.html" ? PAGE : url.href;
  if (!KEPT.has(address)) return;
  if (request.mode === "navigate") {
    // The page: the network's when there is one (a new version shows at
    // once), the kept one when there is none.
    event.respondWith(fetch(request).catch(() => caches.match(address).then((kept) => kept || Response.error())));
    return;
  }
  // Everything else the page loads: as kept for this version.
  event.respondWith(caches.match(address).then((kept) => kept || fetch(request)));
});
