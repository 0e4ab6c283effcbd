// Label Studio's own editor (vendor build, served locally): loading it once, mounting it on a
// task, and the sample data its live preview needs.

import {installSanitizer} from "./sanitize.js";

let loaded = null;

/** window.LabelStudio, loading /static/editor/main.{css,js} the first time: after DOMPurify,
 * which the (patched) editor calls for every HTML string it renders (js/sanitize.js). */
export function loadEditor() {
  if (loaded) return loaded;
  loaded = installSanitizer().then(startEditor, (e) => {
    loaded = null;
    throw new Error(`The labeling editor's HTML sanitizer could not be loaded (${e.message}). Run \`make setup\` to install it.`);
  });
  return loaded;
}

function startEditor() {
  // Label Studio's own fix for Text: plain text is escaped, never passed through the HTML
  // sanitizer (which would show "&lt;" for "<").
  window.FEATURE_FLAGS = {...(window.FEATURE_FLAGS || {}), fflag_fix_leap_466_text_sanitization: true};
  return new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/static/editor/main.css";
    // before our stylesheet, so the app's own styles win where both speak
    document.head.insertBefore(css, document.head.querySelector("link[rel=stylesheet]"));
    const script = document.createElement("script");
    script.src = "/static/editor/main.js";
    script.onload = () => window.LabelStudio ? resolve(window.LabelStudio)
      : reject(new Error("The labeling editor did not start."));
    script.onerror = () => { loaded = null; reject(new Error("The labeling editor could not be loaded. Run `make setup` to install it.")); };
    document.head.append(script);
  });
}

export const LABELING_INTERFACES = [
  "panel", "update", "submit", "skip", "controls", "infobar", "topbar", "instruction",
  "side-column", "annotations:history", "annotations:tabs", "annotations:menu",
  "annotations:current", "annotations:add-new", "annotations:delete", "annotations:view-all",
  "predictions:tabs", "predictions:menu", "edit-history",
];

export const PREVIEW_INTERFACES = [];

/** Mount an editor in `host`; returns the instance (call destroyEditor on it). */
export function mountEditor(LabelStudio, host, options) {
  const root = document.createElement("div");
  root.className = "lsf-root";
  host.replaceChildren(root);
  return new LabelStudio(root, options);
}

export function destroyEditor(instance) {
  try { instance?.destroy?.(); } catch (e) { console.warn("editor destroy", e); }
}

/** What the editor emits for an annotation, as Label Studio's own front end sends it. */
export function annotationBody(annotation) {
  return {
    result: annotation.serializeAnnotation() ?? [],
    lead_time: (Date.now() - new Date(annotation.loadedDate).getTime()) / 1000,
    parent_prediction: annotation.parent_prediction ?? null,
    parent_annotation: annotation.parent_annotation ?? null,
  };
}

// -- sample data for the live preview ------------------------------------------------------

const SAMPLE_TEXT = "Apple opened a new office in Berlin on Monday, and Tim Cook said the team " +
  "would hire 200 engineers by next spring.";

const SAMPLES = {
  image: "/static/samples/street.jpg",
  audio: "/static/samples/tone.wav",
  video: "/static/samples/tone.wav",
  text: SAMPLE_TEXT,
  hypertext: `<p>${SAMPLE_TEXT}</p>`,
  header: "Which answer is better?",
  paragraphs: [{author: "Alice", text: "Hi! How can I reset my password?"},
               {author: "Bot", text: "Open Settings and choose Reset password."}],
  timeseries: (() => {
    const time = [], value = [], other = [];
    for (let i = 0; i < 120; i++) {
      time.push(i); value.push(Math.round(100 * Math.sin(i / 9) + 20 * Math.cos(i / 3)) / 10);
      other.push(Math.round(60 * Math.cos(i / 14)) / 10);
    }
    return {time, value, other};
  })(),
  list: [{id: 1, title: "Offline labeling tools", body: "A desktop app that works without a network."},
         {id: 2, title: "Cloud labeling services", body: "Hosted tools that need an account."},
         {id: 3, title: "Labeling with scripts", body: "Drive the API from Python."}],
  table: {"Name": "Berlin office", "Opened": "Monday", "Engineers": 200},
};

/** Data for every `$key` the config reads, chosen by the tag that reads it. */
export function sampleTask(config) {
  const data = {};
  let doc;
  try { doc = new DOMParser().parseFromString(config, "text/xml"); } catch (e) { return data; }
  for (const el of doc.getElementsByTagName("*")) {
    const value = el.getAttribute("value") || el.getAttribute("valueList") || "";
    if (!value.startsWith("$")) continue;
    const key = value.slice(1);
    if (key in data) continue;
    const tag = el.tagName.toLowerCase();
    if (tag === "image" && el.hasAttribute("valueList")) data[key] = [SAMPLES.image];
    else if (tag === "text" || tag === "textarea" || tag === "choice") data[key] = SAMPLES.text;
    else if (tag in SAMPLES) data[key] = SAMPLES[tag];
    else if (tag === "audioplus") data[key] = SAMPLES.audio;
    else if (tag === "choices") data[key] = [{value: "Option A"}, {value: "Option B"}];
    else data[key] = SAMPLES.text;
  }
  return data;
}
