// The seven emotions Melodora reads, in the model's order, and the colour
// each one has on the page (boxes, bars, timeline). The one list of them in
// the page: every other module imports it from here.

/** @typedef {"angry" | "disgust" | "fear" | "happy" | "neutral" | "sad" | "surprise"} Emotion */

/** @type {readonly Emotion[]} */
export const EMOTIONS = Object.freeze(["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]);

/** @type {Readonly<Record<Emotion, string>>} */
export const COLORS = Object.freeze({
  angry: "#dc3545", disgust: "#6f42c1", fear: "#fd7e14", happy: "#ffc107",
  neutral: "#6c757d", sad: "#0d6efd", surprise: "#20c997",
});

/**
 * Whether `name` is one of the seven.
 * @param {unknown} name
 * @returns {name is Emotion}
 */
export function isEmotion(name) {
  return typeof name === "string" && /** @type {readonly string[]} */ (EMOTIONS).includes(name);
}
