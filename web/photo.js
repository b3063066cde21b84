// A photo instead of the camera, the page's side: the checks a file must
// pass, decoding it to a canvas of a sensible size, and having the server
// analyse it when the page cannot. app.js decides what the faces found do.
"use strict";

window.MelodoraPhoto = (function () {
  const MAX_BYTES = 20 * 1024 * 1024; // larger files are refused before decoding
  const MAX_SIDE = 1280;              // photos are scaled down to this before analysis

  /** Why `file` is refused before it is read, or null. */
  function refusal(file) {
    if (file.size > MAX_BYTES) {
      return "is too large (" + (file.size / 1048576).toFixed(1) + " MB; at most " + MAX_BYTES / 1048576 + " MB)";
    }
    return null;
  }

  /** The photo drawn on a canvas, at most MAX_SIDE on each side; rejects
   *  when the browser cannot decode it. */
  async function decode(file) {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return canvas;
  }

  /** The faces the server's /api/analyze finds in the canvas, read
   *  through `profile`'s calibration when one is named. */
  async function analyseOnServer(canvas, profile) {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
    if (!blob) throw new Error("the photo could not be encoded");
    const url = "api/analyze" + (profile ? "?profile=" + encodeURIComponent(profile) : "");
    const response = await fetch(url, { method: "POST", body: blob, headers: { "Content-Type": "image/jpeg" } });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || "the server answered " + response.status);
    return answer;
  }

  return { refusal, decode, analyseOnServer };
})();
