// Trash: deleted projects, tasks, annotations and predictions (desktop/core/trash.py), kept for
// the Settings page's number of days. Restore one (back with its ids and files), delete one
// for good, or empty the trash.
import * as api from "../api.js";
import {setTopbar} from "../main.js";
import {h, clear, icon, confirmDialog, emptyState, formatBytes, toast, toastError} from "../dom.js";

const WORDS = {projects: "project", tasks: "task", annotations: "annotation",
               predictions: "prediction", drafts: "draft", views: "tab", files: "file"};

function contents(counts) {
  return Object.entries(WORDS).filter(([key]) => counts[key])
    .map(([key, one]) => `${counts[key].toLocaleString()} ${counts[key] === 1 ? one : `${one}s`}`)
    .join(", ");
}

function when(iso) {
  return new Date(iso).toLocaleString();
}

function title(item) {
  return item.kind === "project" ? `Project “${item.name}”` : item.name;
}

export async function render({content, stale}) {
  const empty = h("button.btn.btn-sm.btn-danger#empty-trash", {onclick: emptyAll, disabled: true},
                  icon("trash"), "Empty trash");
  setTopbar([{label: "Trash"}], [empty]);
  const summary = h("p.muted#trash-summary", "");
  const list = h("div#trash-list");
  clear(content, h("div.page-narrow",
    h("div.page-head", h("div.grow", h("h1", "Trash"), summary)),
    h("section.panel", list)));
  await load();

  async function load() {
    let answer;
    try {
      answer = await api.get("/api/ui/trash");
    } catch (e) { toastError(e); return; }
    if (stale()) return;
    empty.disabled = !answer.items.length;
    summary.textContent = answer.days > 0
      ? `Deleted projects, tasks and annotations stay here ${answer.days} days, with their files, then go for good (Settings changes how long).`
      : "The trash is off: deletes are final (Settings turns it on).";
    if (!answer.items.length) {
      clear(list, emptyState({art: "trash", title: "The trash is empty",
                              text: "What you delete in Label Studio comes here first."}));
      return;
    }
    clear(list, answer.items.map((item) => h("div.setting.trash-item", {"data-item": String(item.id)},
      h("div.text",
        h("h3", title(item)),
        h("p", [item.kind === "project" ? null : item.project_title && `in “${item.project_title}”`,
                contents(item.counts), formatBytes(item.size)].filter(Boolean).join(" · ")),
        h("p", `Deleted ${when(item.deleted_at)} · goes for good ${when(item.expires_at)}`)),
      h("div.row", {style: {flexShrink: 0}},
        h("button.btn.btn-sm.restore-item", {onclick: () => restore(item)}, icon("refresh"), "Restore"),
        h("button.btn.btn-sm.delete-item", {onclick: () => remove(item), title: "Delete for good"},
          icon("trash"), "Delete")))));
  }

  async function restore(item) {
    let answer;
    try {
      answer = await api.post(`/api/ui/trash/${item.id}/restore`);
    } catch (e) { toastError(e); return; }
    const back = answer.restored;
    const open = back.project ? {label: "Open", run: () => location.assign(`/projects/${back.project}/data`)} : undefined;
    toast(`Restored: ${title(back)}`, {kind: "ok", action: open});
    await load();
  }

  async function remove(item) {
    if (!(await confirmDialog({title: "Delete for good?", confirm: "Delete", danger: true,
        text: `${title(item)} (${contents(item.counts)}) is removed with its files. This can't be undone.`}))) return;
    try {
      await api.request("DELETE", `/api/ui/trash/${item.id}`);
    } catch (e) { toastError(e); return; }
    toast(`Deleted for good: ${title(item)}`, {kind: "ok"});
    await load();
  }

  async function emptyAll() {
    if (!(await confirmDialog({title: "Empty the trash?", confirm: "Empty trash", danger: true,
        text: "Everything in the trash is removed for good, with its files. This can't be undone."}))) return;
    let answer;
    try {
      answer = await api.request("DELETE", "/api/ui/trash");
    } catch (e) { toastError(e); return; }
    toast(`The trash is empty: ${formatBytes(answer.size)} given back`, {kind: "ok"});
    await load();
  }
}
