// New project: a template (or a config file), its XML with a live preview, a title.
import * as api from "../api.js";
import {setTopbar, go} from "../main.js";
import {h, clear, icon, toast, toastError} from "../dom.js";
import {configEditor} from "../config-editor.js";
import {validTitle} from "./projects.js";

let templatesCache = null;

export async function render({content, stale}) {
  content.className = "content flush";
  setTopbar([{label: "Projects", href: "#/projects"}, {label: "New project"}]);
  templatesCache = templatesCache || await api.get("/api/ui/templates");
  if (stale()) return;
  const {groups, templates} = templatesCache;

  let opened = null;
  try { opened = JSON.parse(sessionStorage.getItem("labeldesk.newConfig") || "null"); } catch (e) { /* none */ }
  sessionStorage.removeItem("labeldesk.newConfig");

  const title = h("input#project-title", {type: "text", placeholder: "e.g. Street scenes", maxlength: 50,
                                          value: opened ? opened.name.replace(/\.[^.]+$/, "").slice(0, 50) : ""});
  const description = h("input", {type: "text", placeholder: "Optional"});
  const error = h("p.form-error", {hidden: true, style: {margin: 0}});
  const createButton = h("button.btn.btn-primary#create-project", {onclick: create}, "Create project");
  const head = h("div.create-head",
    h("label.field", {style: {width: "320px"}}, h("span", "Project name"), title),
    h("label.field.grow", h("span", "Description"), description),
    h("div.row", h("a.btn", {href: "#/projects"}, "Cancel"), createButton));

  const buttons = new Map();
  const aside = h("aside", {"aria-label": "Templates"});
  for (const group of groups) {
    aside.append(h("div.template-group", group));
    for (const t of templates.filter((x) => x.group === group)) {
      const button = h("button.template", {"data-template": t.id, onclick: () => choose(t.id)},
        h("span.ico", icon(t.icon)), h("span", t.title, h("small", t.description)));
      buttons.set(t.id, button);
      aside.append(button);
    }
  }
  const custom = h("button.template", {"data-template": "custom", onclick: () => choose("custom")},
    h("span.ico", icon("file")), h("span", "Custom", h("small", "Write your own config.")));
  buttons.set("custom", custom);
  aside.append(h("div.template-group", "Other"), custom);

  const editor = configEditor({value: opened ? opened.text : templates[0].config,
                               onChange: () => mark("custom", false)});
  clear(content, h("div", {style: {display: "flex", flexDirection: "column", height: "100%"}},
    head, error, h("div.create", {style: {flex: 1, minHeight: 0}}, aside, h("div.work", editor.element))));
  mark(opened ? "custom" : templates[0].id);
  title.focus();

  function mark(id, force = true) {
    if (!force && !buttons.get("custom").classList.contains("on")) {
      // editing a template's XML makes it a custom config only once it differs
      const current = [...buttons.values()].find((b) => b.classList.contains("on"));
      const t = templates.find((x) => x.id === current?.dataset.template);
      if (t && t.config === editor.value()) return;
    }
    for (const [key, button] of buttons) {
      button.classList.toggle("on", key === id);
      button.setAttribute("aria-pressed", key === id);
    }
  }

  function choose(id) {
    const t = templates.find((x) => x.id === id);
    if (t) editor.setValue(t.config);
    mark(id);
    if (!t) editor.focus();
  }

  async function create() {
    error.hidden = true;
    const name = title.value.trim();
    const problem = validTitle(name);
    if (problem) { showError(problem); title.focus(); return; }
    createButton.disabled = true;
    try {
      if (!(await editor.validate())) { showError("Fix the label config first (see below the XML)."); return; }
      const project = await api.post("/api/projects", {title: name, description: description.value.trim(),
                                                        label_config: editor.value()});
      toast(`Created “${project.title}”`, {kind: "ok"});
      go(`/projects/${project.id}/import`);
    } catch (e) {
      showError(e.message);
    } finally {
      createButton.disabled = false;
    }
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  return () => editor.destroy();
}
