// Export: the formats this project's label config supports, then a file saved where the user
// chooses (the native save dialog in the desktop window, the browser's download otherwise).
import * as api from "../api.js";
import {setTopbar} from "../main.js";
import {h, clear, icon, toast, toastError, emptyState, formatNumber, formatBytes} from "../dom.js";
import {native, followJob} from "../desktop.js";

export async function render({content, project, stale}) {
  const base = `#/projects/${project.id}`;
  setTopbar([{label: "Projects", href: "#/projects"}, {label: project.title || "Untitled", href: `${base}/data`},
             {label: "Export"}]);
  let formats;
  try {
    formats = await api.get(`/api/projects/${project.id}/export/formats`);
  } catch (e) {
    clear(content, emptyState({art: "download", title: "Export is not available", text: e.message}));
    return;
  }
  if (stale()) return;
  let ids = null;
  try { ids = JSON.parse(sessionStorage.getItem(`labeldesk.export.${project.id}`) || "null"); } catch (e) { /* none */ }

  let chosen = formats.find((f) => !f.disabled)?.name;
  const cards = formats.map((f) => h("button.format", {
      type: "button", disabled: !!f.disabled, "data-format": f.name, "aria-pressed": f.name === chosen,
      class: f.name === chosen ? "on" : "", title: f.disabled ? "Not available for this project's label config" : "",
      onclick: () => pick(f.name)},
    h("b", f.title), h("small", f.description || ""),
    f.tags?.length ? h("div.tags", f.tags.map((t) => h("span.badge", t))) : null));
  const allTasks = h("input#export-all", {type: "checkbox"});
  const onlySelected = ids ? h("input#export-selected", {type: "checkbox", checked: true}) : null;
  const exportButton = h("button.btn.btn-primary#export-button", {onclick: run}, icon("download"), "Export");
  const progress = h("div", {hidden: true});
  const archiveButton = h("button.btn#archive-button", {onclick: downloadArchive}, icon("download"), "Download project file (.zip)");
  const archiveProgress = h("div#archive-progress", {hidden: true, style: {padding: "0 20px 16px"}});
  const counts = `${formatNumber(project.num_tasks_with_annotations)} of ${formatNumber(project.task_number)} tasks have annotations.`;
  clear(content, h("div.page",
    h("div.page-head", h("div.grow", h("h1", "Export"), h("p.muted", counts))),
    h("div.formats", {role: "radiogroup", "aria-label": "Format"}, cards),
    h("div.panel", {style: {marginTop: "16px"}}, h("div.panel-body",
      h("label.row", {style: {marginBottom: "8px"}}, allTasks, "Include tasks without annotations"),
      onlySelected ? h("label.row", {style: {marginBottom: "8px"}}, onlySelected,
        `Only the ${formatNumber(ids.length)} tasks selected in the data manager`) : null,
      h("div.row", {style: {marginTop: "12px"}}, exportButton, h("span.muted", native() ? "You'll choose where to save the file." : "")),
      progress)),
    h("section.panel#archive-panel", {style: {marginTop: "16px"}}, h("div.setting",
      h("div.text", h("h3", "Whole project"),
        h("p", "One .zip with everything: the label config and settings, all tasks, annotations, predictions and uploaded files. ",
          "Open it in LabelDesk (Projects → Open project file…) on this or another computer.")),
      archiveButton),
      archiveProgress)));

  function pick(name) {
    chosen = name;
    for (const card of cards) {
      card.classList.toggle("on", card.dataset.format === name);
      card.setAttribute("aria-pressed", card.dataset.format === name);
    }
  }

  function url() {
    const params = new URLSearchParams({exportType: chosen});
    if (allTasks.checked) params.set("download_all_tasks", "true");
    if (onlySelected?.checked) for (const id of ids) params.append("ids[]", id);
    return `/api/projects/${project.id}/export?${params}`;
  }

  function run() {
    if (chosen) save(url(), `project-${project.id}-${chosen}`, exportButton, progress, "Preparing the export…");
  }

  function downloadArchive() {
    save(`/api/projects/${project.id}/archive`, `project-${project.id}.zip`, archiveButton, archiveProgress,
         "Packing the project…");
  }

  /** Save what `address` answers: where the user chooses (window) or as a browser download. */
  async function save(address, fallback, button, progress, preparing) {
    const desktop = native();
    button.disabled = true;
    progress.hidden = false;
    const bar = h("i", {style: {width: "0%"}});
    const label = h("span", preparing);
    clear(progress, h("div", {style: {marginTop: "14px"}}, h("div.progress-label", label),
                      h("div.progress.accent", {role: "progressbar"}, bar)));
    try {
      if (desktop) {
        const id = await desktop.save_export(address, fallback);
        const job = await followJob(id, (j) => {
          if (j.stage === "choosing") label.textContent = "Choose where to save…";
          if (j.stage === "saving") {
            label.textContent = `Saving ${formatBytes(j.done)}${j.total ? ` of ${formatBytes(j.total)}` : ""}`;
            bar.style.width = j.total ? `${Math.round((100 * j.done) / j.total)}%` : "60%";
          }
        });
        if (job.state === "error") throw new Error(job.error);
        if (job.state === "cancelled") { progress.hidden = true; return; }
        bar.style.width = "100%";
        label.textContent = `Saved ${job.result.name} (${formatBytes(job.result.size)})`;
        toast(`Saved ${job.result.path}`, {kind: "ok", action: {label: "Show", run: () => desktop.reveal(job.result.path.replace(/[\\/][^\\/]*$/, ""))}});
      } else {
        await browserDownload(address, (done) => {
          label.textContent = `Downloading ${formatBytes(done)}…`;
          bar.style.width = "60%";
        });
        bar.style.width = "100%";
        label.textContent = "Downloaded. Your browser saved the file.";
      }
    } catch (e) {
      progress.hidden = true;
      toastError(e);
    } finally {
      button.disabled = false;
    }
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
