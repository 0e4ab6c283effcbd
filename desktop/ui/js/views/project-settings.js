// A project's settings: name and description, the labeling interface (its label config, with
// the live preview), the label stream's sampling, the live export folder, and deleting the
// project.
import * as api from "../api.js";
import {setTopbar, go, projectChanged} from "../main.js";
import {h, clear, icon, confirmDialog, toast, toastError, formatNumber} from "../dom.js";
import {configEditor} from "../config-editor.js";
import {liveExportPanel} from "../live-export.js";
import {validTitle} from "./projects.js";
import {duplicateProject} from "./project-actions.js";

const SAMPLING = ["Sequential sampling", "Uniform sampling", "Uncertainty sampling"];

export async function render({content, project}) {
  content.className = "content flush";
  const base = `#/projects/${project.id}`;
  const title = h("input#settings-title", {type: "text", value: project.title, maxlength: 50});
  const description = h("input", {type: "text", value: project.description || ""});
  const sampling = h("select", {style: {width: "auto"}}, SAMPLING.map((s) => h("option", {value: s, selected: project.sampling === s}, s)));
  const skip = h("input", {type: "checkbox", checked: project.show_skip_button !== false});
  const predictions = h("input", {type: "checkbox", checked: project.show_collab_predictions !== false});
  const error = h("p.form-error", {hidden: true, style: {margin: 0}});
  const save = h("button.btn.btn-primary#save-settings", {onclick: submit}, "Save");
  const editor = configEditor({value: project.label_config, projectId: project.id});
  const live = liveExportPanel(project);
  setTopbar([{label: "Projects", href: "#/projects"}, {label: project.title || "Untitled", href: `${base}/data`},
             {label: "Settings"}],
            [h("button.btn", {onclick: duplicate}, icon("copy"), "Duplicate…"),
             h("button.btn", {onclick: remove, style: {color: "var(--danger)"}}, icon("trash"), "Delete…"), save]);
  clear(content, h("div", {style: {display: "flex", flexDirection: "column", height: "100%"}},
    h("div.create-head", {style: {flexWrap: "wrap"}},
      h("label.field", {style: {width: "280px"}}, h("span", "Project name"), title),
      h("label.field.grow", h("span", "Description"), description),
      h("label.field", h("span", "Task order"), sampling),
      h("div.field", h("span", "Labeling"),
        h("label.row", skip, "Allow skipping"), h("label.row", predictions, "Show predictions"))),
    live.element,
    error,
    h("div.work", {style: {flex: 1}}, editor.element)));

  async function submit() {
    error.hidden = true;
    const name = title.value.trim();
    const problem = validTitle(name);
    if (problem) { error.textContent = problem; error.hidden = false; return; }
    save.disabled = true;
    try {
      if (!(await editor.validate())) { error.textContent = "Fix the label config first."; error.hidden = false; return; }
      const updated = await api.patch(`/api/projects/${project.id}`, {
        title: name, description: description.value.trim(), label_config: editor.value(),
        sampling: sampling.value, show_skip_button: skip.checked, show_collab_predictions: predictions.checked});
      projectChanged(updated);
      Object.assign(project, updated);
      setTopbar([{label: "Projects", href: "#/projects"}, {label: updated.title, href: `${base}/data`}, {label: "Settings"}],
                [...document.querySelectorAll("#topbar .actions > *")]);
      toast("Settings saved", {kind: "ok"});
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  }

  async function duplicate() {
    const copy = await duplicateProject(project);
    if (copy) go(`/projects/${copy.id}/data`);
  }

  async function remove() {
    const ok = await confirmDialog({
      title: `Delete “${project.title}”?`, danger: true, confirm: "Delete project",
      text: `This deletes the project, its ${formatNumber(project.task_number)} tasks, their annotations and predictions, and its uploaded files. It can't be undone.`});
    if (!ok) return;
    try {
      await api.del(`/api/projects/${project.id}`);
      toast(`Deleted “${project.title}”`, {kind: "ok"});
      go("/projects");
    } catch (e) { toastError(e); }
  }

  return () => { editor.destroy(); live.destroy(); };
}
