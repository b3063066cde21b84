// The few DOM helpers the views share. Text goes into the page only as text
// (textContent), never parsed as HTML: song titles, reasons and messages
// come from catalogs and other people's files.

/**
 * The element with `id`; a page without it is a broken page, so this throws.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/**
 * @typedef {object} Props
 * @property {string} [className]
 * @property {string} [text]         the element's text (never HTML)
 * @property {Record<string, string>} [attrs]
 * @property {Record<string, EventListener>} [on]
 */

/**
 * A new element with its class, text, attributes, listeners and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Node | string)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs || {})) element.setAttribute(name, value);
  for (const [type, listener] of Object.entries(props.on || {})) element.addEventListener(type, listener);
  element.append(...children);
  return element;
}

/**
 * Shows or hides an element the Bootstrap way (its `d-none` class).
 * @param {Element} element
 * @param {boolean} visible
 */
export function showIf(element, visible) {
  element.classList.toggle("d-none", !visible);
}

/**
 * Sets an element's text only when it differs (no needless layout).
 * @param {Element} element
 * @param {string} text
 */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
