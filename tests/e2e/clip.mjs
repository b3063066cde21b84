// Fake-webcam clips of FER2013 faces, for the browser end-to-end test and the
// browser benchmark (bench/browser): a face picked by what melodora itself
// sees in it, composed on a plain background in the browser, written as a
// 4:2:0 Y4M file that Chromium plays as its camera.
//
// A clip is {width, height, fps, side}: the frame size, the frame rate and
// the side of the (upscaled, centred) face.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";

/** Composes a FER face on a plain background in the browser; returns the
 *  frame as PNG bytes and as raw RGBA bytes. */
export async function composeFrame(page, jpegPath, clip) {
  const composed = await page.evaluate(async ({ image, width, height, side }) => {
    const img = new Image();
    img.src = image;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = width; canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "rgb(200,200,200)";
    ctx.fillRect(0, 0, width, height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(img, (width - side) / 2, (height - side) / 2, side, side);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    let binary = "";
    for (let i = 0; i < rgba.length; i += 0x8000) binary += String.fromCharCode.apply(null, rgba.subarray(i, i + 0x8000));
    return { png: canvas.toDataURL("image/png").split(",")[1], rgba: btoa(binary) };
  }, { image: dataUrl(jpegPath), width: clip.width, height: clip.height, side: clip.side });
  return { png: Buffer.from(composed.png, "base64"), rgba: Buffer.from(composed.rgba, "base64") };
}

function dataUrl(path) {
  return "data:image/jpeg;base64," + readFileSync(path).toString("base64");
}

/** The RGBA frame of the first val face of `emotion` (sorted by file name)
 *  that melodora (`bin detect --json`) finds alone and classifies as such
 *  with confidence > 0.8, with each of `detectors` (the e2e runs Haar and
 *  BlazeFace); the frame is also written to `work/<emotion>.png`.
 *  `val` is the FER2013 val directory, `work` a scratch directory. */
export async function pickFace(page, { bin, val, emotion, work, clip, log = () => {}, detectors = ["haar"] }) {
  const dir = join(val, emotion);
  const files = readdirSync(dir).filter((f) => f.endsWith(".jpg")).sort().slice(0, 60);
  for (const [i, file] of files.entries()) {
    const frame = await composeFrame(page, join(dir, file), clip);
    const png = join(work, `${emotion}-${i}.png`);
    writeFileSync(png, frame.png);
    const readings = detectors.map((detector) =>
      JSON.parse(execFileSync(bin, ["detect", "--json", "--detector", detector, png]).toString()).faces);
    const clear = (faces) => faces.length === 1 && faces[0].emotion === emotion && faces[0].confidence > 0.8;
    if (readings.every(clear)) {
      const confidences = readings.map((faces) => faces[0].confidence.toFixed(2)).join(", ");
      log(`${emotion}: ${file} (confidence ${confidences} with ${detectors.join(", ")})`);
      writeFileSync(join(work, `${emotion}.png`), frame.png);
      return frame.rgba;
    }
  }
  throw new Error(`no ${emotion} face among the first ${files.length} that melodora sees as ${emotion}`);
}

/** Writes a 4:2:0 Y4M clip: each RGBA frame shown for `seconds`. */
export function writeY4m(path, frames, seconds, { width, height, fps }) {
  const fd = openSync(path, "w");
  writeSync(fd, `YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  for (const rgba of frames) {
    const y = Buffer.alloc(width * height);
    const u = Buffer.alloc((width / 2) * (height / 2));
    const v = Buffer.alloc((width / 2) * (height / 2));
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const i = (row * width + col) * 4;
        const [r, g, b] = [rgba[i], rgba[i + 1], rgba[i + 2]];
        y[row * width + col] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
        if (row % 2 === 0 && col % 2 === 0) {
          const c = (row / 2) * (width / 2) + col / 2;
          u[c] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
          v[c] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
        }
      }
    }
    for (let n = 0; n < fps * seconds; n++) {
      writeSync(fd, "FRAME\n");
      writeSync(fd, y); writeSync(fd, u); writeSync(fd, v);
    }
  }
  closeSync(fd);
}
