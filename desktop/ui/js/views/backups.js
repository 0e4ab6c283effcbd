// Settings > Backups: the copies LabelDesk keeps of its data (desktop/core/backups.py), "Back up
// now", and restoring one in place (the current state is backed up first).
import * as api from "../api.js";
import {h, clear, icon, confirmDialog, toast, toastError} from "../dom.js";

const KINDS = {
  manual: "Backed up by you",
  daily: "Daily backup",
  "before-restore": "State before a restore",
  compaction: "Earlier version, kept automatically",
};

function size(bytes) {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["kB", "MB", "GB"];
  let value = bytes, unit = "";
  for (unit of units) { value /= 1000; if (value < 1000) break; }
  return `${value.toFixed(1)} ${unit}`;
}

function when(backup) {
  return new Date(backup.created_at).toLocaleString();
}

function counts(backup) {
  if (backup.damaged) return `damaged: ${backup.damaged}`;
  if (backup.projects === null || backup.projects === undefined) return "";
  const n = (v, one, many) => `${v.toLocaleString()} ${v === 1 ? one : many}`;
  return `${n(backup.projects, "project", "projects")}, ${n(backup.tasks, "task", "tasks")}`;
}

/** The Backups panel; `canRestore`: this LabelDesk can switch its data while it runs. */
export function backupsPanel({canRestore = true} = {}) {
  const list = h("div#backup-list", h("div.setting", h("p.muted", "Loading…")));
  const where = h("p.muted#backups-where", "");
  const now = h("button.btn.btn-sm#backup-now", {onclick: backupNow}, icon("download"), "Back up now");
  const panel = h("section.panel", {"aria-labelledby": "backups-heading"},
    h("div.panel-head", h("div.grow", h("h2#backups-heading", "Backups"), where), now),
    list);
  load();
  return panel;

  async function load() {
    let answer;
    try {
      answer = await api.get("/api/ui/backups");
    } catch (e) { toastError(e); return; }
    where.textContent = `LabelDesk backs up its data when it starts (once a day at most) and keeps the newest ${answer.keep} backups, in ${answer.folder}. Uploaded files are not part of a backup.`;
    if (!answer.backups.length) {
      clear(list, h("div.setting", h("p.muted#no-backups", "No backups yet.")));
      return;
    }
    clear(list, answer.backups.map((backup) => h("div.setting.backup", {"data-backup": backup.name},
      h("div.text", h("h3", when(backup)),
        h("p", [KINDS[backup.kind] || backup.kind, size(backup.size), counts(backup)].filter(Boolean).join(" · "))),
      h("button.btn.btn-sm.restore-backup", {onclick: () => restore(backup), disabled: !!backup.damaged || !canRestore,
        title: canRestore ? "" : "Close LabelDesk and run: labeldesk restore " + backup.name}, icon("refresh"), "Restore…"))));
  }

  async function backupNow() {
    now.disabled = true;
    try {
      const backup = await api.post("/api/ui/backups");
      toast(`Backed up: ${counts(backup)} (${size(backup.size)})`, {kind: "ok"});
      await load();
    } catch (e) { toastError(e); }
    now.disabled = false;
  }

  async function restore(backup) {
    const what = counts(backup);
    if (!(await confirmDialog({title: "Restore this backup?", confirm: "Restore", danger: true,
        text: `Your data goes back to how it was on ${when(backup)}${what ? ` (${what})` : ""}.\n\n` +
              "The current state is backed up first, so you can go back to it: restore the " +
              "backup named “State before a restore”."}))) return;
    let answer;
    try {
      answer = await api.post("/api/ui/backups/restore", {name: backup.name});
    } catch (e) { toastError(e); return; }
    toast(`Restored the backup of ${when(backup)}. The state before is backed up.`, {kind: "ok"});
    // the data was reopened: sign in to it again (a fresh page load)
    setTimeout(() => location.replace(answer.url ? answer.url.replace("#", `?restored=${Date.now()}#`) : "/desktop"), 300);
  }
}
