// This page's webcam: starting it (and saying why it cannot start), and
// taking a frame from it as JPEG for a server to analyse.

/** @typedef {import("./state.js").Store} Store */

const FRAME_WIDTH = 480;          // frames sent to a server are downscaled to this width
const JPEG_QUALITY = 0.8;
const SET_BY_HAND = "set your mood by hand with the buttons under the video";

/**
 * Starts the webcam into `video`; resolves true when it runs, false (with
 * the reason on the page) when there is none, it is refused, or the page
 * is not a secure context.
 * @param {HTMLVideoElement} video
 * @param {Store} store
 * @returns {Promise<boolean>}
 */
export async function startCamera(video, store) {
  /** @param {string} message @param {string} status */
  const refuse = (message, status) => {
    store.update({ cameraMessage: message, status: { text: status, kind: "danger" } });
    return false;
  };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return refuse("This browser cannot use a camera here (a camera needs https or localhost). Set your mood by " +
      "hand with the buttons under the video.", "no camera");
  }
  store.update({ status: { text: "waiting for camera", kind: "secondary" } });
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
    video.srcObject = stream;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener("ended", () => {
        store.update({ cameraMessage: "The camera stopped (unplugged, or taken by another app). Reload the page to start it again.",
          status: { text: "camera stopped", kind: "danger" }, boxes: null });
      });
    }
    return true;
  } catch (error) {
    const denied = error instanceof DOMException && (error.name === "NotAllowedError" || error.name === "SecurityError");
    return refuse((denied
      ? "Camera access was denied. Allow the camera for this page and reload"
      : "No camera was found. Connect one and reload") + ", or " + SET_BY_HAND + ".", denied ? "camera denied" : "no camera");
  }
}

/** Takes the video's current frame as JPEG, at most FRAME_WIDTH wide. */
export class FrameGrabber {
  constructor() {
    this.canvas = document.createElement("canvas");
  }

  /**
   * @param {HTMLVideoElement} video
   * @returns {Promise<Blob | null>} null when the frame could not be encoded
   */
  grab(video) {
    const scale = Math.min(1, FRAME_WIDTH / video.videoWidth);
    this.canvas.width = Math.round(video.videoWidth * scale);
    this.canvas.height = Math.round(video.videoHeight * scale);
    const context = this.canvas.getContext("2d");
    if (!context) return Promise.resolve(null);
    context.drawImage(video, 0, 0, this.canvas.width, this.canvas.height);
    return new Promise((resolve) => this.canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
  }
}
