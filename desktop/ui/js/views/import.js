// Import: files or a folder, by drag and drop or a dialog (the native one in the desktop
// window), uploaded in batches with a progress bar, then a summary of what was created.
import * as api from "../api.js";
import {setTopbar} from "../main.js";
import {h, clear, icon, formatNumber, formatBytes} from "../dom.js";
import {native, followJob} from "../desktop.js";

export const EXTENSIONS = [".bmp", ".csv", ".flac", ".gif", ".htm", ".html", ".jpg", ".jpeg", ".json",
  ".jsonl", ".m4a", ".mp3", ".ogg", ".png", ".svg", ".tsv", ".txt", ".wav", ".xml", ".mp4", ".webm",
  ".webp", ".pdf"];
const BATCH_FILES = 100;
const BATCH_BYTES = 100 * 1024 * 1024;

const extension = (name) => (name.match(/\.[^.]+$/) || [""])[0].toLowerCase();

export async function render({content, project}) {
  const base = `#/projects/${project.id}`;
  setTopbar([{label: "Projects", href: "#/projects"}, {label: project.title || "Untitled", href: `${base}/data`},
             {label: "Import"}]);
  const keys = [...new Set(Object.values(project.parsed_label_config || {})
    .flatMap((c) => (c.inputs || []).map((i) => i.value || i.valueList)).filter(Boolean))];
  const desktop = native();

  // files: [{name, size, file?: File, path?: string}]
  let files = [];
  const fileInput = h("input#file-input", {type: "file", multiple: true, hidden: true,
                                           accept: EXTENSIONS.join(","), onchange: (e) => choose([...e.target.files].map(fromFile))});
  const folderInput = h("input", {type: "file", multiple: true, hidden: true, webkitdirectory: true,
                                  onchange: (e) => choose([...e.target.files].map(fromFile))});
  const zone = h("div.dropzone#dropzone",
    h("div.art", icon("upload")),
    h("h2", "Drop files or a folder here"),
    h("p", "JSON, CSV, TSV or TXT with tasks, or media files (images, audio, video, PDF, HTML): one task per file."),
    h("div.row", {style: {justifyContent: "center"}},
      h("button.btn.btn-primary#choose-files", {onclick: pickFiles}, icon("file"), "Choose files…"),
      h("button.btn#choose-folder", {onclick: pickFolder}, icon("folder"), "Choose folder…")),
    fileInput, folderInput);
  const staging = h("div");
  const page = h("div.page-narrow",
    h("div.page-head", h("div.grow", h("h1", "Import data"),
      h("p.muted", keys.length ? `Each task needs ${keys.map((k) => `“${k}”`).join(", ")} in its data. `
        + "A CSV or JSON file gives one task per row or item." : "The label config reads no data yet: add an object tag (Image, Text, …) to it first."))),
    zone, staging);
  clear(content, page);

  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  zone.addEventListener("dragleave", (e) => { if (!zone.contains(e.relatedTarget)) zone.classList.remove("over"); });
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    choose(await droppedFiles(e.dataTransfer));
  });

  async function pickFiles() {
    if (!desktop) { fileInput.value = ""; fileInput.click(); return; }
    const chosen = await desktop.choose_import_files();
    if (chosen?.length) choose(chosen);
  }

  async function pickFolder() {
    if (!desktop) { folderInput.value = ""; folderInput.click(); return; }
    const chosen = await desktop.choose_import_folder();
    if (chosen) choose(chosen.files, chosen.folder);
  }

  function choose(list, folder = null) {
    const usable = list.filter((f) => EXTENSIONS.includes(extension(f.name)) && !f.name.startsWith("."));
    const skipped = list.length - usable.length;
    files = usable;
    if (!files.length) {
      clear(staging, h("div.panel", {style: {marginTop: "16px"}}, h("div.panel-body",
        h("p.form-error", {style: {margin: 0}}, list.length
          ? `None of these ${list.length} files can be imported. Supported: ${EXTENSIONS.join(" ")}`
          : "That folder has no files LabelDesk can import."))));
      return;
    }
    const total = files.reduce((n, f) => n + f.size, 0);
    const startButton = h("button.btn.btn-primary#start-import", {onclick: start},
                          `Import ${formatNumber(files.length)} file${files.length === 1 ? "" : "s"}`);
    clear(staging, h("div.panel", {style: {marginTop: "16px"}},
      h("div.panel-head", h("div.grow", h("h2", folder ? folder : `${formatNumber(files.length)} file${files.length === 1 ? "" : "s"} chosen`),
        h("p.muted", `${formatNumber(files.length)} files · ${formatBytes(total)}` +
          (skipped ? ` · ${skipped} skipped (not a supported type)` : ""))),
        h("button.btn.btn-ghost", {onclick: () => { files = []; clear(staging); }}, "Clear"), startButton),
      h("div.panel-body", h("ul.file-list", files.slice(0, 200).map((f) =>
        h("li", h("span", f.name), h("span.muted", formatBytes(f.size)))),
        files.length > 200 ? h("li.muted", `… and ${formatNumber(files.length - 200)} more`) : null))));
    startButton.focus();
  }

  async function start() {
    const bar = h("i", {style: {width: "0%"}});
    const label = h("span", "Uploading…");
    const percent = h("span", "0%");
    clear(staging, h("div.panel#import-progress", {style: {marginTop: "16px"}}, h("div.panel-body",
      h("div.progress-label", label, percent), h("div.progress.accent", {role: "progressbar"}, bar))));
    const show = (done, total, stage) => {
      const pct = total ? Math.min(100, Math.round((100 * done) / total)) : 0;
      bar.style.width = `${pct}%`;
      percent.textContent = `${pct}%`;
      label.textContent = stage === "processing" || (total && done >= total)
        ? "Creating tasks…" : `Uploading ${formatBytes(done)} of ${formatBytes(total)}`;
    };
    zone.hidden = true;
    let summary;
    try {
      summary = files[0].path ? await uploadNative(show) : await uploadBrowser(show);
    } catch (e) {
      summary = {task_count: 0, annotation_count: 0, prediction_count: 0, found_formats: {},
                 files: files.length, errors: [{files: [], answer: {detail: e.message}}]};
    }
    zone.hidden = false;
    showSummary(summary);
  }

  async function uploadNative(show) {
    const id = await desktop.import_paths(project.id, files.map((f) => f.path));
    const job = await followJob(id, (j) => show(j.done, j.total));
    if (job.state === "error") throw new Error(job.error);
    return job.result;
  }

  async function uploadBrowser(show) {
    const total = files.reduce((n, f) => n + f.size, 0);
    const summary = {task_count: 0, annotation_count: 0, prediction_count: 0, found_formats: {},
                     files: files.length, errors: [], duration: 0};
    const started = performance.now();
    let sent = 0;
    for (const batch of batches(files)) {
      const form = new FormData();
      batch.forEach((f, i) => form.append(`file${i}`, f.file, f.file.name));
      try {
        const answer = await api.upload(`/api/projects/${project.id}/import`, form,
                                        (loaded) => show(sent + loaded, total));
        for (const key of ["task_count", "annotation_count", "prediction_count"]) summary[key] += answer[key] || 0;
        for (const [ext, n] of Object.entries(answer.found_formats || {})) {
          summary.found_formats[ext] = (summary.found_formats[ext] || 0) + n;
        }
      } catch (e) {
        summary.errors.push({files: batch.map((f) => f.name), answer: e.body && typeof e.body === "object" ? e.body : {detail: e.message}});
      }
      sent += batch.reduce((n, f) => n + f.size, 0);
      show(sent, total);
    }
    summary.duration = (performance.now() - started) / 1000;
    return summary;
  }

  function showSummary(s) {
    const failed = s.errors?.length > 0;
    const formats = Object.entries(s.found_formats || {}).map(([ext, n]) => `${n} ${ext}`).join(", ");
    const errors = (s.errors || []).map((err) => h("div.form-error",
      err.files?.length ? h("b", err.files.length > 3 ? `${err.files.slice(0, 3).join(", ")} and ${err.files.length - 3} more: ` : `${err.files.join(", ")}: `) : null,
      new api.ApiError(err.status || 400, err.answer).message));
    clear(staging, h("div.panel#import-summary", {style: {marginTop: "16px"}},
      h("div.panel-head", h("div.grow",
        h("h2", failed ? (s.task_count ? "Imported, with errors" : "Nothing was imported") : "Import complete"),
        h("p.muted", `${formatNumber(s.files)} file${s.files === 1 ? "" : "s"}` + (formats ? ` (${formats})` : "") +
          (s.duration ? ` in ${s.duration.toFixed(1)} s` : "")))),
      h("div.panel-body",
        h("div.summary",
          stat(s.task_count, "tasks created"), stat(s.annotation_count, "annotations"),
          stat(s.prediction_count, "predictions"), stat(s.errors?.length || 0, "errors")),
        errors,
        h("div.row", {style: {marginTop: "12px"}},
          s.task_count ? h("a.btn.btn-primary", {href: `${base}/label`}, icon("tag"), "Start labeling") : null,
          s.task_count ? h("a.btn", {href: `${base}/data`}, icon("table"), "Open data manager") : null,
          h("button.btn.btn-ghost", {onclick: () => { files = []; clear(staging); }}, "Import more")))));
  }
}

function stat(value, label) {
  return h("div.stat", h("b", formatNumber(value || 0)), h("span", label));
}

function fromFile(file) {
  return {name: file.webkitRelativePath || file.name, size: file.size, file};
}

function* batches(files) {
  let batch = [], size = 0;
  for (const f of files) {
    if (batch.length && (batch.length >= BATCH_FILES || size + f.size > BATCH_BYTES)) {
      yield batch;
      batch = []; size = 0;
    }
    batch.push(f);
    size += f.size;
  }
  if (batch.length) yield batch;
}

/** Files of a drop, folders walked (the desktop window gives their paths too). */
async function droppedFiles(transfer) {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...transfer.files].map(fromFile);
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push({...fromFile(file), name: prefix + file.name});
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, "");
  return out;
}
