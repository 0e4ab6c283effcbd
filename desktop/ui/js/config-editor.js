// The label-config editor: XML on the left, checked by the server as you type, and Label
// Studio's editor rendering it live on the right with sample data.
import * as api from "./api.js";
import {h, loading} from "./dom.js";
import {loadEditor, mountEditor, destroyEditor, sampleTask, PREVIEW_INTERFACES} from "./editor.js";

const DELAY = 350;

/** Returns {element, value(), setValue(xml), valid(), destroy()}; onChange(xml) after each edit. */
export function configEditor({value = "", projectId = null, onChange} = {}) {
  const textarea = h("textarea.code", {spellcheck: false, "aria-label": "Label config (XML)",
                                       autocomplete: "off"});
  textarea.value = value;
  const status = h("div.config-status", {role: "status"});
  const preview = h("div.preview", loading("Loading the preview…"));
  const element = h("div.split",
    h("div.editor-pane", h("div.pane-head", "Label config", h("span.grow"),
                           h("span.muted", {style: {fontWeight: 400}}, "Label Studio XML")),
      textarea, status),
    h("div.preview-pane", h("div.pane-head", "Preview", h("span.grow"),
                            h("span.muted", {style: {fontWeight: 400}}, "with sample data")), preview));
  let timer = null, instance = null, ok = false, destroyed = false, checks = 0;

  textarea.addEventListener("keydown", (e) => {  // Tab indents instead of leaving the editor
    if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
      schedule();
    }
  });
  textarea.addEventListener("input", schedule);

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, DELAY);
    onChange?.(textarea.value);
  }

  async function check() {
    const mine = ++checks;
    const xml = textarea.value;
    let errors = null;
    try {
      if (projectId) await api.post(`/api/projects/${projectId}/validate`, {label_config: xml});
      else await api.post("/api/projects/validate", {label_config: xml});
    } catch (e) {
      errors = e.message;
    }
    if (destroyed || mine !== checks) return;
    ok = !errors;
    status.className = `config-status ${ok ? "good" : "bad"}`;
    status.textContent = ok ? "✓ Valid config" : errors;
    if (ok) render(xml);
  }

  async function render(xml) {
    let LabelStudio;
    try {
      LabelStudio = await loadEditor();
    } catch (e) {
      preview.replaceChildren(h("div.empty", h("p", e.message)));
      return;
    }
    if (destroyed) return;
    destroyEditor(instance);
    try {
      instance = mountEditor(LabelStudio, preview, {
        config: xml, interfaces: PREVIEW_INTERFACES,
        user: {pk: 1, id: 1, firstName: "", lastName: ""},
        task: {id: 1, data: sampleTask(xml), annotations: [], predictions: []},
        onLabelStudioLoad: (ls) => {
          const annotation = ls.annotationStore.addAnnotation({userGenerate: true});
          ls.annotationStore.selectAnnotation(annotation.id);
        },
      });
    } catch (e) {
      preview.replaceChildren(h("div.empty", h("p", `The preview failed: ${e.message}`)));
    }
  }

  check();
  return {
    element,
    value: () => textarea.value,
    setValue(xml) { textarea.value = xml; clearTimeout(timer); check(); },
    valid: () => ok,
    async validate() { await check(); return ok; },
    focus: () => textarea.focus(),
    destroy() { destroyed = true; clearTimeout(timer); destroyEditor(instance); },
  };
}
