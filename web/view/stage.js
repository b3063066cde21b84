// The stage: this page's camera, the server camera's stream or a photo,
// and the overlay with a box and label for each face found.

import { COLORS, isEmotion } from "../emotions.js";
import { byId, showIf } from "../dom.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").Boxes} Boxes */

/** @param {Store} store */
export function mount(store) {
  const video = byId("video");
  const feed = /** @type {HTMLImageElement} */ (byId("feed"));
  const photo = /** @type {HTMLImageElement} */ (byId("photo"));
  const overlay = /** @type {HTMLCanvasElement} */ (byId("overlay"));

  store.watch((s) => [s.capture, s.videoFeed, s.photo], (s) => {
    showIf(photo, !!s.photo);
    if (s.photo) photo.src = s.photo; else photo.removeAttribute("src");
    showIf(video, !s.photo && s.capture !== "server");
    showIf(feed, !s.photo && s.capture === "server");
    if (s.videoFeed) {
      if (feed.getAttribute("src") !== s.videoFeed) feed.src = s.videoFeed;
    } else {
      feed.removeAttribute("src");
    }
  });
  store.watch((s) => [s.boxes], (s) => drawBoxes(overlay, s.boxes));
  window.addEventListener("resize", () => drawBoxes(overlay, store.state.boxes));
}

/**
 * Draws each face's box and label over the picture, which is shown with
 * object-fit: contain (frame pixels mapped to the shown picture).
 * @param {HTMLCanvasElement} overlay
 * @param {Boxes | null} boxes
 */
export function drawBoxes(overlay, boxes) {
  const rect = overlay.getBoundingClientRect();
  overlay.width = rect.width;
  overlay.height = rect.height;
  const ctx = overlay.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  if (!boxes || !boxes.width) return;
  const scale = Math.min(rect.width / boxes.width, rect.height / boxes.height);
  const dx = (rect.width - boxes.width * scale) / 2;
  const dy = (rect.height - boxes.height * scale) / 2;
  ctx.lineWidth = 3;
  ctx.font = "16px system-ui, sans-serif";
  for (const face of boxes.faces) {
    const color = isEmotion(face.emotion) ? COLORS[face.emotion] : "#fff";
    const x = dx + face.x * scale, y = dy + face.y * scale;
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, face.w * scale, face.h * scale);
    const label = face.emotion + " " + Math.round(face.confidence * 100) + "%";
    const width = ctx.measureText(label).width + 8;
    ctx.fillStyle = color;
    ctx.fillRect(x, Math.max(0, y - 22), width, 22);
    ctx.fillStyle = "#000";
    ctx.fillText(label, x + 4, Math.max(16, y - 6));
  }
}
