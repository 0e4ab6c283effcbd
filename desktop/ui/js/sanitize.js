// The one HTML sanitizer for everything the editor renders as HTML: DOMPurify (served from
// /static/dompurify/, fetched at set-up), which parses with the browser's own HTML5 parser, so
// what it checks is what the browser will build (no parser-differential or mutation XSS).
//
// The web app is patched at set-up (desktop/ui/webapp.py PATCHES) so that the editor's own
// sanitizer calls window.LabelDeskSanitize: HyperText values (from task data, the label config,
// or fetched for valueType="url"), the `html` of Label/Choice/List items (config or dynamic
// choices from task data), the Style tag, error messages. If this module never ran, the patched
// editor shows the text escaped instead (fails closed). CSS in that HTML is kept to the HTML's
// own box (js/task-css.js).

import {TASK_STYLE_ATTR, keepInlineStyle, scopeStyleSheet} from "./task-css.js";

// Tags that can run script, navigate, submit, load another document or rewrite URLs: never.
const FORBID_TAGS = ["script", "iframe", "frame", "frameset", "object", "embed", "applet",
  "portal", "fencedframe", "base", "link", "meta", "form", "input", "button", "select",
  "option", "textarea", "noscript", "noembed", "noframes", "template", "slot",
  // SVG: foreign HTML, references to other documents, animation that can rewrite href
  "foreignobject", "use", "animate", "animatemotion", "animatetransform", "set", "discard",
  "handler", "listener"];
const FORBID_ATTR = ["srcdoc", "action", "formaction", "ping", "http-equiv", "xlink:href",
  "autofocus", "nonce", "is", "target"];
// CSS that loads something (a tracker, a stylesheet) or hides text from the checks below.
const CSS_FETCH = /@import|url\s*\(|image-set\s*\(|expression\s*\(|-moz-binding|behavior\s*:|\\|&#|<\s*\//i;

export const CONFIG = {
  FORCE_BODY: true, // a leading <style> stays in the body instead of being hoisted and lost
  FORBID_TAGS, FORBID_ATTR,
  ALLOW_DATA_ATTR: true,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  // http(s), mailto, tel, and relative URLs; data: only where DOMPurify allows it (images, media)
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|tel):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  SAFE_FOR_TEMPLATES: false,
  RETURN_TRUSTED_TYPE: false,
};

let purify = null;

/** Load DOMPurify once and install window.LabelDeskSanitize. */
export async function installSanitizer() {
  if (purify) return purify;
  const {default: DOMPurify} = await import("/static/dompurify/purify.es.mjs");
  return installWith(DOMPurify);
}

/** Install window.LabelDeskSanitize with an already loaded DOMPurify (the web app's boot
 * module imports it statically, so the sanitizer is there before the app's scripts run). */
export function installWith(DOMPurify) {
  if (purify) return purify;
  const instance = DOMPurify(window);
  if (!instance.isSupported) throw new Error("This browser can't run the HTML sanitizer.");
  instance.addHook("uponSanitizeElement", (node, data) => {
    if (data.tagName !== "style") return;
    const text = node.textContent || "";
    const scoped = CSS_FETCH.test(text) ? "" : scopeStyleSheet(text);
    node.textContent = CSS_FETCH.test(scoped) ? "" : scoped;
    node.setAttribute(TASK_STYLE_ATTR, "");
  });
  instance.addHook("uponSanitizeAttribute", (node, data) => {
    if (data.attrName !== "style") return;
    const kept = CSS_FETCH.test(data.attrValue || "") ? null
      : keepInlineStyle(data.attrValue || "", node.ownerDocument);
    if (kept === null) data.keepAttr = false;
    else data.attrValue = kept;
  });
  instance.addHook("afterSanitizeAttributes", (node) => {
    // a link someone clicks leaves no window.opener and no referrer behind
    if (node.nodeName === "A" && node.hasAttribute("href")) node.setAttribute("rel", "noopener noreferrer");
  });
  purify = instance;
  Object.defineProperty(window, "LabelDeskSanitize", {
    value: sanitizeHtml, writable: false, configurable: false,
  });
  return purify;
}

/** HTML from task data, a config or a model, with nothing in it that can run or navigate. */
export function sanitizeHtml(html) {
  if (!purify) throw new Error("The HTML sanitizer is not loaded.");
  return purify.sanitize(String(html ?? ""), CONFIG);
}
