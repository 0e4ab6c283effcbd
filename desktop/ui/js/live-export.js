// The live export folder of a project (Project settings): a folder kept in sync with the
// annotations as they are saved, in a format the project supports. GET/PUT/DELETE
// /api/projects/{id}/live-export and POST …/live-export/sync (docs/export.md).
import * as api from "./api.js";
import {h, clear, icon, toast, toastError} from "./dom.js";
import {native} from "./desktop.js";

const POLL = 3000;

export function liveExportPanel(project) {
  const base = `/api/projects/${project.id}/live-export`;
  const desktop = native();
  const format = h("select#live-format", {"aria-label": "Live export format"}, h("option", {value: "JSON"}, "JSON"));
  const path = h("input#live-path", {type: "text", "aria-label": "Live export folder", spellcheck: false});
  const choose = desktop ? h("button.btn.btn-sm", {onclick: chooseFolder}, icon("folder"), "Choose…") : null;
  const start = h("button.btn.btn-sm.btn-primary#live-start", {onclick: save}, "Start");
  const sync = h("button.btn.btn-sm#live-sync", {onclick: syncNow, hidden: true}, icon("refresh"), "Sync now");
  const stop = h("button.btn.btn-sm#live-stop", {onclick: stopLive, hidden: true}, "Stop");
  const status = h("div.status#live-status", "Loading…");
  const element = h("div.live-export#live-export", h("b", "Live export folder"), format, path, choose, start, sync, stop, status);
  let state = null;
  let timer = null;

  async function load() {
    const [formats, current, settings] = await Promise.all([
      api.get(`/api/projects/${project.id}/export/formats`).catch(() => []),
      api.get(base), api.get("/api/ui/settings").catch(() => ({}))]);
    const usable = formats.filter((f) => !f.disabled);
    clear(format, usable.map((f) => h("option", {value: f.name, title: f.description || ""},
      f.name === "JSON" ? "JSON (a file per annotation)" : f.title || f.name)));
    const root = settings.local_files_root || settings.data_dir || "";
    const sep = root.includes("\\") ? "\\" : "/";
    path.placeholder = root ? `${root.replace(/[\\/]$/, "")}${sep}labeldesk-live${sep}project-${project.id}` : "/absolute/folder";
    show(current);
  }

  function show(current) {
    state = current;
    const on = !!current.enabled;
    if (on) {
      format.value = current.format;
      if (document.activeElement !== path) path.value = current.path;
    } else if (!path.value) {
      path.value = path.placeholder;
    }
    start.textContent = on ? "Save" : "Start";
    sync.hidden = stop.hidden = !on;
    status.className = on ? "status on" : "status";
    if (!on) {
      clear(status, "Off. When on, each annotation you save is written to the folder: JSON as one file per annotation " +
            "(as Label Studio's local export storage), other formats as the whole project, re-exported a moment after each change.");
    } else {
      const when = current.last_written_at ? `last written ${new Date(current.last_written_at).toLocaleString()}` : "nothing written yet";
      clear(status, `On: ${current.format} into ${current.path} · ${current.pending ? "writing…" : when}`,
            current.last_error ? h("span.error", ` · ${current.last_error}`) : null);
    }
    clearTimeout(timer);
    if (on) timer = setTimeout(refresh, POLL);
  }

  async function refresh() {
    if (!element.isConnected) return;
    try { show(await api.get(base)); } catch (e) { /* the next action reports it */ }
  }

  async function chooseFolder() {
    const chosen = await desktop.choose_folder();
    if (chosen) path.value = chosen;
  }

  async function save() {
    start.disabled = true;
    try {
      show(await api.request("PUT", base, {json: {path: path.value.trim(), format: format.value}}));
      toast(`Live export on: ${state.path}`, {kind: "ok"});
    } catch (e) { toastError(e); } finally { start.disabled = false; }
  }

  async function syncNow() {
    sync.disabled = true;
    try {
      show(await api.post(`${base}/sync`));
      toast("The folder was rewritten", {kind: "ok"});
    } catch (e) { toastError(e); } finally { sync.disabled = false; }
  }

  async function stopLive() {
    try {
      await api.del(base);
      show(await api.get(base));
      toast("Live export stopped (the files stay)", {kind: "ok"});
    } catch (e) { toastError(e); }
  }

  load().catch((e) => { status.textContent = e.message; });
  return {element, destroy: () => clearTimeout(timer)};
}
