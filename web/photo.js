// A photo instead of the camera, the page's side: the checks a file must
// pass and decoding it to a canvas of a sensible size. Where it is analysed
// (the analyzer in the page, or the server) is actions/photo.js's choice.

const MAX_BYTES = 20 * 1024 * 1024; // larger files are refused before decoding
const MAX_SIDE = 1280;              // photos are scaled down to this before analysis

/**
 * Why `file` is refused before it is read, or null.
 * @param {{size: number}} file
 * @returns {string | null}
 */
export function refusal(file) {
  if (file.size > MAX_BYTES) {
    return "is too large (" + (file.size / 1048576).toFixed(1) + " MB; at most " + MAX_BYTES / 1048576 + " MB)";
  }
  return null;
}

/**
 * The photo drawn on a canvas, at most MAX_SIDE on each side; rejects when
 * the browser cannot decode it.
 * @param {Blob} file
 * @returns {Promise<HTMLCanvasElement>}
 */
export async function decode(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const context = canvas.getContext("2d");
  if (!context) throw new Error("this browser cannot draw the photo");
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas;
}

/**
 * The canvas as JPEG bytes.
 * @param {HTMLCanvasElement} canvas
 * @param {number} quality 0 to 1
 * @returns {Promise<Blob>}
 */
export function jpeg(canvas, quality) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the picture could not be encoded"))),
      "image/jpeg", quality);
  });
}
