// Project files: what LabelDesk adds to Label Studio's web app for a project, as files on this
// computer. Open a project file (.zip); per project: save it as a project file, import local
// files or folders (in the window, through its native dialogs), save an export to a file, keep a
// live export folder, duplicate. Labeling, the data and the project's settings are the web
// app's (each project links to its data manager there).
import * as api from "../api.js";
import {setTopbar, go} from "../main.js";
import {h, clear, icon, modal, toast, toastError, emptyState, formatNumber, formatBytes, pickFile} from "../dom.js";
import {native, whenReady, followJob} from "../desktop.js";
import {liveExportPanel} from "../live-export.js";
import {duplicateProject} from "./project-actions.js";

export async function render({content, stale}) {
  const desktop = await whenReady();
  const openButton = h("button.btn#open-archive", {onclick: openProjectFile,
                        title: "Open a whole project saved as a .zip (Save project file…)"},
                       icon("upload"), "Open project file…");
  setTopbar([{label: "Project files"}],
            [openButton, h("a.btn", {href: "/projects"}, icon("grid"), "Label Studio projects")]);
  const data = await api.get("/api/projects", {page_size: 100, ordering: "-created_at"});
  if (stale()) return;
  const projects = data.results;
  if (!projects.length) {
    clear(content, emptyState({
      art: "grid", title: "No projects yet",
      text: "Create one in Label Studio (Projects → Create), or open a project file saved by LabelDesk.",
      actions: [h("a.btn.btn-primary", {href: "/projects"}, icon("plus"), "Label Studio projects"),
                h("button.btn", {onclick: openProjectFile}, icon("upload"), "Open project file…")]}));
    return;
  }
  const panels = [];
  clear(content, h("div.page-narrow",
    h("div.page-head", h("div.grow", h("h1", "Project files"),
      h("p.muted", "A project as one file, local files into a project, exports into files and folders. " +
        "Label, browse the data and change a project's settings in Label Studio: click its name." +
        (data.count > projects.length ? ` The newest ${projects.length} of ${data.count} projects.` : "")))),
    h("section.panel#project-files", projects.map(row))));
  return () => panels.forEach((p) => p.destroy());

  function row(p) {
    const status = h("div.project-status", {hidden: true});
    const counts = h("p.project-counts", describe(p));
    const extra = h("div.project-extra");
    let live = null;
    const button = (cls, iconName, label, run, title = "") =>
      h(`button.btn.btn-sm.${cls}`, {onclick: run, title}, icon(iconName), label);
    const actions = [
      button("save-archive", "download", "Save project file…",
             () => save(`/api/projects/${p.id}/archive`, `project-${p.id}.zip`, status, "Packing the project…"),
             "One .zip with the label config, settings, tasks, annotations, predictions and uploaded files"),
      desktop ? button("import-files", "file", "Import files…", () => importFrom(desktop.choose_import_files())) : null,
      desktop ? button("import-folder", "folder", "Import folder…", () => importFrom(desktop.choose_import_folder())) : null,
      button("save-export", "download", "Save export…", () => exportToFile(p, status)),
      button("live-toggle", "refresh", "Live export folder", toggleLive),
      button("duplicate", "copy", "Duplicate…", async () => {
        if (await duplicateProject(p)) go("/projects");
      }),
    ];
    return h("div.project-row", {"data-project": p.id},
      h("div.setting",
        h("div.text",
          h("h3", h("a.project-link", {href: `/projects/${p.id}/data`}, p.title || "Untitled")),
          counts),
        h("div.row.project-actions", actions)),
      status, extra);

    function toggleLive() {
      if (live) {
        live.destroy();
        panels.splice(panels.indexOf(live), 1);
        live = null;
        clear(extra);
        return;
      }
      live = liveExportPanel(p);
      panels.push(live);
      clear(extra, live.element);
    }

    /** Files or a folder chosen in the window's native dialog, uploaded by its native side in
     *  batches (desktop.import_paths), with progress; then what was created. */
    async function importFrom(choosing) {
      const chosen = await choosing;
      const files = Array.isArray(chosen) ? chosen : chosen?.files || [];
      if (!chosen || (Array.isArray(chosen) && !chosen.length)) return;  // the dialog was cancelled
      if (!files.length) { toast("That folder has no files LabelDesk can import.", {kind: "error"}); return; }
      const show = progress(status, `Importing ${formatNumber(files.length)} file${files.length === 1 ? "" : "s"}…`);
      try {
        const id = await desktop.import_paths(p.id, files.map((f) => f.path));
        const job = await followJob(id, (j) => show(j.done, j.total, j.done >= j.total && j.total
          ? "Creating tasks…" : `Uploading ${formatBytes(j.done)} of ${formatBytes(j.total)}`));
        if (job.state === "error") throw new Error(job.error);
        const s = job.result;
        const errors = (s.errors || []).map((e) => new api.ApiError(e.status || 400, e.answer).message);
        clear(status, h("p.import-summary", {class: errors.length ? "form-error" : ""},
          `${formatNumber(s.task_count)} tasks created from ${formatNumber(s.files)} files` +
          (s.annotation_count ? `, ${formatNumber(s.annotation_count)} annotations` : "") +
          (s.prediction_count ? `, ${formatNumber(s.prediction_count)} predictions` : "") +
          (errors.length ? `. Errors: ${errors.join(" ")}` : ".")));
        counts.textContent = describe(await api.get(`/api/projects/${p.id}`));
      } catch (e) {
        status.hidden = true;
        toastError(e);
      }
    }
  }

  /** Choose a format (those the project's label config supports), then save the export. */
  async function exportToFile(p, status) {
    let formats;
    try { formats = await api.get(`/api/projects/${p.id}/export/formats`); } catch (e) { toastError(e); return; }
    const answer = await modal((close) => {
      const usable = formats.filter((f) => !f.disabled);
      const format = h("select#export-format", usable.map((f) => h("option", {value: f.name, title: f.description || ""}, f.title || f.name)));
      const all = h("input#export-all", {type: "checkbox"});
      return {
        title: `Export “${p.title}”`,
        text: `${formatNumber(p.num_tasks_with_annotations)} of ${formatNumber(p.task_number)} tasks have annotations.`,
        body: h("div", h("label.field", h("span", "Format"), format),
                h("label.row", all, "Include tasks without annotations")),
        buttons: [h("button.btn", {onclick: () => close()}, "Cancel"),
                  h("button.btn.btn-primary#export-button", {onclick: () => close({format: format.value, all: all.checked})},
                    icon("download"), "Export")],
      };
    });
    if (!answer) return;
    const params = new URLSearchParams({exportType: answer.format});
    if (answer.all) params.set("download_all_tasks", "true");
    await save(`/api/projects/${p.id}/export?${params}`, `project-${p.id}-${answer.format}`, status,
               "Preparing the export…");
  }

  /** Save what `address` answers: where the user chooses (the window's native save dialog) or
   *  as a browser download. */
  async function save(address, fallback, status, preparing) {
    const show = progress(status, preparing);
    try {
      if (desktop) {
        const id = await desktop.save_export(address, fallback);
        const job = await followJob(id, (j) => {
          if (j.stage === "choosing") show(0, 0, "Choose where to save…");
          if (j.stage === "saving") {
            show(j.total ? j.done : 0.6, j.total || 1,
                 `Saving ${formatBytes(j.done)}${j.total ? ` of ${formatBytes(j.total)}` : ""}`);
          }
        });
        if (job.state === "error") throw new Error(job.error);
        if (job.state === "cancelled") { status.hidden = true; return; }
        show(1, 1, `Saved ${job.result.name} (${formatBytes(job.result.size)})`);
        toast(`Saved ${job.result.path}`, {kind: "ok", action: {label: "Show",
          run: () => desktop.reveal(job.result.path.replace(/[\\/][^\\/]*$/, ""))}});
      } else {
        await browserDownload(address, (done) => show(0.6, 1, `Downloading ${formatBytes(done)}…`));
        show(1, 1, "Downloaded. Your browser saved the file.");
      }
    } catch (e) {
      status.hidden = true;
      toastError(e);
    }
  }
}

function describe(p) {
  return `${formatNumber(p.task_number)} tasks · ${formatNumber(p.num_tasks_with_annotations)} labeled · ` +
         `${formatNumber(p.total_annotations_number)} annotations`;
}

/** A progress bar in `status`; returns show(done, total, label). */
function progress(status, label) {
  const bar = h("i", {style: {width: "0%"}});
  const text = h("span", label);
  status.hidden = false;
  clear(status, h("div.progress-label", text), h("div.progress.accent", {role: "progressbar"}, bar));
  return (done, total, what) => {
    bar.style.width = `${total ? Math.min(100, Math.round((100 * done) / total)) : 0}%`;
    if (what) text.textContent = what;
  };
}

/** A project .zip (from Save project file…) opened as a new project, with the upload's
 *  progress; then the new project's data manager in Label Studio. */
async function openProjectFile() {
  const desktop = native();
  const file = desktop ? await desktop.choose_project_file() : await pickFile(".zip,application/zip", "archive-input");
  if (!file) return;
  const bar = h("i", {style: {width: "0%"}});
  const label = h("span", `Uploading ${file.name}…`);
  let closeProgress = null;
  modal((close) => {
    closeProgress = close;
    return {title: "Opening the project file", body: h("div#archive-upload", h("div.progress-label", label),
                                                       h("div.progress.accent", {role: "progressbar"}, bar))};
  });
  const show = (done, total) => {
    bar.style.width = `${total ? Math.round((100 * done) / total) : 0}%`;
    label.textContent = done >= total ? "Restoring the project…" : `Uploading ${formatBytes(done)} of ${formatBytes(total)}`;
  };
  try {
    let answer;
    if (desktop) {
      const job = await followJob(await desktop.open_project_file(file.path), (j) => show(j.done, j.total));
      if (job.state === "error") throw new Error(job.error);
      answer = job.result;
    } else {
      const form = new FormData();
      form.append("file", file);
      answer = await api.upload("/api/projects/archive", form, show);
    }
    closeProgress();
    const c = answer.counts || {};
    toast(`Opened “${answer.project.title}”: ${formatNumber(c.tasks)} tasks, ${formatNumber(c.annotations)} annotations`, {kind: "ok"});
    location.assign(`/projects/${answer.id}/data`);
  } catch (e) {
    closeProgress();
    toastError(e);
  }
}

/** Fetch the export (progress as it arrives), then hand it to the browser as a download. */
async function browserDownload(url, onProgress) {
  const response = await api.request("GET", url, {raw: true});
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    throw new api.ApiError(response.status, body);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="?([^";]+)"?/) || [])[1] || "export";
  const reader = response.body.getReader();
  const chunks = [];
  let done = 0;
  for (;;) {
    const {value, done: end} = await reader.read();
    if (end) break;
    chunks.push(value);
    done += value.length;
    onProgress(done);
  }
  const blob = new Blob(chunks, {type: response.headers.get("Content-Type") || "application/octet-stream"});
  const link = h("a", {href: URL.createObjectURL(blob), download: name, style: {display: "none"}});
  document.body.append(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}
