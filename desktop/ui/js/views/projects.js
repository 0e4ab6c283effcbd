// The project list: cards with counts and progress; create, open a config file, rename,
// duplicate, delete.
import * as api from "../api.js";
import {setTopbar, go} from "../main.js";
import {h, clear, icon, menu, modal, confirmDialog, promptDialog, toast, toastError, emptyState,
        formatNumber, formatBytes, loading} from "../dom.js";
import {native, followJob} from "../desktop.js";
import {duplicateProject} from "./project-actions.js";

export async function render({content, stale}) {
  const openButton = h("button.btn", {onclick: openConfigFile, title: "Start a project from a label config file (.xml)"},
                       icon("folder"), "Open config…");
  const archiveButton = h("button.btn#open-archive", {onclick: openProjectFile,
                           title: "Open a whole project saved as a .zip (Export → Download project file)"},
                          icon("upload"), "Open project file…");
  setTopbar([{label: "Projects"}],
            [archiveButton, openButton, h("a.btn.btn-primary", {href: "#/projects/new"}, icon("plus"), "New project")]);
  const data = await api.get("/api/projects", {page_size: 100, ordering: "-created_at"});
  if (stale()) return;
  const projects = data.results;
  if (!projects.length) {
    clear(content, emptyState({
      art: "grid", title: "Create your first project",
      text: "A project holds a label config, the tasks you import and their annotations. Start from a template: images, text, audio, time series and more.",
      actions: [h("a.btn.btn-primary", {href: "#/projects/new"}, icon("plus"), "New project"),
                h("button.btn", {onclick: openProjectFile}, icon("upload"), "Open project file…")]}));
    return;
  }
  const grid = h("div.projects", projects.map((p) => card(p)));
  clear(content, h("div.page",
    h("div.page-head", h("div.grow", h("h1", "Projects"),
      h("p.muted", `${projects.length} project${projects.length === 1 ? "" : "s"}` +
        (data.count > projects.length ? ` (showing the newest ${projects.length} of ${data.count})` : "")))),
    grid));

  function card(p) {
    const total = p.task_number || 0;
    const done = p.num_tasks_with_annotations || 0;
    const pct = total ? Math.round((100 * done) / total) : 0;
    const more = h("button.btn.btn-ghost.btn-icon.btn-sm.menu-btn", {"aria-label": `Actions for ${p.title}`,
      onclick: (e) => { e.preventDefault(); e.stopPropagation(); actions(e.currentTarget, p); }}, icon("more"));
    return h("a.project-card", {href: `#/projects/${p.id}/data`, "data-project": p.id},
      h("div.title", p.title || "Untitled"), more,
      h("div.desc", p.description || describeConfig(p)),
      h("div.progress-label", h("span", `${formatNumber(done)} of ${formatNumber(total)} tasks labeled`), h("span", `${pct}%`)),
      h("div.progress", {role: "progressbar", "aria-valuenow": pct, "aria-valuemin": 0, "aria-valuemax": 100},
        h("i", {style: {width: `${pct}%`}})),
      h("div.stats",
        h("span", h("b", formatNumber(total)), " tasks"),
        h("span", h("b", formatNumber(p.total_annotations_number - (p.skipped_annotations_number || 0))), " annotations"),
        h("span", h("b", formatNumber(p.total_predictions_number)), " predictions")));
  }

  function actions(anchor, p) {
    menu(anchor, [
      {label: "Open", icon: "table", run: () => go(`/projects/${p.id}/data`)},
      {label: "Label", icon: "tag", run: () => go(`/projects/${p.id}/label`)},
      "-",
      {label: "Rename…", icon: "edit", run: () => rename(p)},
      {label: "Duplicate…", icon: "copy", run: () => duplicate(p)},
      "-",
      {label: "Delete…", icon: "trash", danger: true, run: () => remove(p)},
    ]);
  }

  async function rename(p) {
    const title = await promptDialog({title: "Rename project", label: "Title", value: p.title,
                                      validate: validTitle});
    if (title === undefined || title === p.title) return;
    try {
      await api.patch(`/api/projects/${p.id}`, {title});
      toast("Project renamed", {kind: "ok"});
      go("/projects");
    } catch (e) { toastError(e); }
  }

  async function duplicate(p) {
    const copy = await duplicateProject(p);
    if (copy) go(`/projects/${copy.id}/data`);
  }

  async function remove(p) {
    const ok = await confirmDialog({
      title: `Delete “${p.title}”?`, danger: true, confirm: "Delete project",
      text: `This deletes the project, its ${formatNumber(p.task_number)} tasks, their annotations and predictions, and its uploaded files. It can't be undone.`});
    if (!ok) return;
    try {
      await api.del(`/api/projects/${p.id}`);
      toast(`Deleted “${p.title}”`, {kind: "ok"});
      go("/projects");
    } catch (e) { toastError(e); }
  }

  async function openConfigFile() {
    const desktop = native();
    let file = null;
    if (desktop) {
      file = await desktop.open_config();
    } else {
      file = await pickConfigInBrowser();
    }
    if (!file) return;
    sessionStorage.setItem("labeldesk.newConfig", JSON.stringify(file));
    go("/projects/new");
  }
}

/** A project .zip (from Export → Download project file) opened as a new project, with the
 *  upload's progress; then the new project's data manager. */
async function openProjectFile() {
  const desktop = native();
  let file;
  if (desktop) {
    file = await desktop.choose_project_file();
  } else {
    file = await pickFile(".zip,application/zip");
  }
  if (!file) return;
  const bar = h("i", {style: {width: "0%"}});
  const label = h("span", `Uploading ${file.name}…`);
  let closeProgress = null;
  modal((close) => {
    closeProgress = close;
    return {title: "Opening the project file", body: h("div#archive-upload", h("div.progress-label", label),
                                                       h("div.progress.accent", {role: "progressbar"}, bar))};
  });
  const progress = (done, total) => {
    const pct = total ? Math.round((100 * done) / total) : 0;
    bar.style.width = `${pct}%`;
    label.textContent = done >= total ? "Restoring the project…" : `Uploading ${formatBytes(done)} of ${formatBytes(total)}`;
  };
  try {
    let answer;
    if (desktop) {
      const job = await followJob(await desktop.open_project_file(file.path), (j) => progress(j.done, j.total));
      if (job.state === "error") throw new Error(job.error);
      answer = job.result;
    } else {
      const form = new FormData();
      form.append("file", file);
      answer = await api.upload("/api/projects/archive", form, progress);
    }
    closeProgress();
    const c = answer.counts || {};
    toast(`Opened “${answer.project.title}”: ${formatNumber(c.tasks)} tasks, ${formatNumber(c.annotations)} annotations`, {kind: "ok"});
    go(`/projects/${answer.id}/data`);
  } catch (e) {
    closeProgress();
    toastError(e);
  }
}

function pickFile(accept) {
  return new Promise((resolve) => {
    const input = h("input#archive-input", {type: "file", accept, style: {display: "none"}});
    input.addEventListener("change", () => {
      const f = input.files[0];
      input.remove();
      resolve(f || null);
    });
    input.addEventListener("cancel", () => { input.remove(); resolve(null); });
    document.body.append(input);
    input.click();
  });
}

export function validTitle(title) {
  if (title.length < 3) return "The title needs at least 3 characters.";
  if (title.length > 50) return "The title can have at most 50 characters.";
  return "";
}

function describeConfig(p) {
  const controls = Object.values(p.parsed_label_config || {});
  if (!controls.length) return "No labels configured yet.";
  const labels = controls.flatMap((c) => c.labels || []);
  const kinds = [...new Set(controls.map((c) => c.type))].join(", ");
  return labels.length ? `${kinds}: ${labels.slice(0, 6).join(", ")}${labels.length > 6 ? "…" : ""}` : kinds;
}

function pickConfigInBrowser() {
  return new Promise((resolve) => {
    const input = h("input", {type: "file", accept: ".xml,.txt,text/xml", style: {display: "none"}});
    input.addEventListener("change", async () => {
      const f = input.files[0];
      input.remove();
      resolve(f ? {name: f.name, text: await f.text()} : null);
    });
    document.body.append(input);
    input.click();
  });
}
