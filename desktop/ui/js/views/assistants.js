// Assistants, per project: LabelDesk's built-in models (desktop/assistants). Which fit the
// project's labeling config and with which tags, what a missing one needs, a switch (an
// assistant turned on is one of the project's ML backends, in the web app's Model tab too), a
// label map where the model's labels differ from the project's, "Predict all tasks" with its
// progress, teach mode's labels seen and accuracy, the near-duplicates scan; the heavy ones
// installed offline from a pack file (`make assistant-pack`) when they are missing.
import * as api from "../api.js";
import {setTopbar} from "../main.js";
import {h, clear, icon, toast, toastError, formatNumber, formatBytes, emptyState, pickFile} from "../dom.js";
import {native, followJob} from "../desktop.js";

const KIND = {true: "Comes with LabelDesk", false: "Installed on demand"};

export async function render({content, query, stale}) {
  setTopbar([{label: "Assistants"}]);
  const projects = (await api.get("/api/projects", {page_size: 1000, include: "id,title"})).results || [];
  if (stale()) return;
  if (!projects.length) {
    clear(content, emptyState({art: "star", title: "No projects yet",
      text: "Create a project in the web app first: assistants work for a project's labeling config."}));
    return;
  }
  const wanted = Number(query.get("project")) || Number(localStorage.getItem("labeldesk.assistants.project"));
  let project = projects.find((p) => p.id === wanted) || projects[0];
  const picker = h("select#assistants-project", {"aria-label": "Project", onchange: () => {
    project = projects.find((p) => String(p.id) === picker.value);
    history.replaceState(null, "", `#/assistants?project=${project.id}`);
    load();
  }}, projects.map((p) => h("option", {value: String(p.id), selected: p.id === project.id}, p.title || `Project ${p.id}`)));
  const list = h("div#assistant-list");
  const progress = h("div#assistant-progress");
  const packPanel = h("div#assistant-pack");
  const timers = new Set();
  clear(content, h("div.page-narrow",
    h("div.page-head", h("div.grow", h("h1", "Assistants"),
      h("p.muted", "Models that work offline, on this computer. One turned on is an ML backend of the project: the label stream, Retrieve Predictions and the editor use it.")),
      h("div.assistants-picker", picker)),
    progress, list, packPanel));
  await load();
  return () => timers.forEach(clearInterval);

  async function load() {
    localStorage.setItem("labeldesk.assistants.project", String(project.id));
    clear(list, h("div.panel", h("div.setting", h("p.muted", "Loading…"))));
    let items;
    try {
      items = await api.get("/api/assistants", {project: project.id});
    } catch (e) { clear(list, h("div.panel", h("div.setting", h("p.form-error", e.message)))); return; }
    if (stale()) return;
    clear(list, h("section.panel", {"aria-label": "Assistants"}, items.map(row)));
    const missing = items.filter((item) => item.pack);
    clear(packPanel, missing.length ? h("section.panel", {"aria-label": "Install from a pack file"},
      h("div.setting", h("div.text",
        h("h3", "Install from a pack file"),
        h("p.muted", `${missing.map((item) => item.title).join(" and ")}: install offline from an assistant pack, made with `,
          h("code", "make assistant-pack"), " on a computer with the package registry (or ",
          h("code", "labeldesk assistants install PACK"), ")."),
        h("p.assistant-pack-status")),
      h("button.btn.btn-sm#install-pack", {onclick: installPack}, icon("upload"), "Install from a pack file…"))) : []);
  }

  /** An assistant pack chosen in the native dialog (the window) or the browser's file input,
   *  uploaded to POST /api/assistants/install; then the install's progress until it ends. */
  async function installPack() {
    const status = packPanel.querySelector(".assistant-pack-status");
    const desktop = native();
    const file = desktop ? await desktop.choose_assistant_pack() : await pickFile(".zip,application/zip", "assistant-pack-input");
    if (!file) return;
    const show = (done, total) => {
      status.textContent = `Uploading ${file.name}: ${formatBytes(done)} of ${formatBytes(total)}`;
    };
    let job;
    try {
      if (desktop) {
        const upload = await followJob(await desktop.install_assistant_pack(file.path), (j) => show(j.done, j.total));
        if (upload.state === "error") throw new Error(upload.error);
        job = upload.result;
      } else {
        const form = new FormData();
        form.append("file", file);
        job = await api.upload("/api/assistants/install", form, show);
      }
    } catch (e) { status.textContent = ""; toastError(e); return; }
    status.textContent = `Installing ${job.files} packages (offline)…`;
    const timer = setInterval(async () => {
      let state;
      try { state = await api.get(job.url); } catch (e) { clearInterval(timer); timers.delete(timer); toastError(e); return; }
      if (["queued", "running"].includes(state.status)) return;
      clearInterval(timer);
      timers.delete(timer);
      if (state.status === "failed") {
        status.textContent = "";
        toastError(new Error(state.error || "The pack could not be installed."));
      } else {
        toast(`Installed from ${state.pack}: ${(state.extras || []).join(", ") || "the pack"}`, {kind: "ok"});
        if (!stale()) load();
      }
    }, 500);
    timers.add(timer);
  }

  function row(item) {
    const status = h("p.assistant-status");
    const toggle = h("input", {type: "checkbox", checked: item.enabled,
      disabled: !item.installed || !item.fits, onchange: () => flip(item, toggle, status)});
    const details = h("div.assistant-details");
    const el = h("div.setting.assistant", {"data-assistant": item.name},
      h("div.text",
        h("h3", item.title, " ", item.version ? h("span.badge", `v${item.version}`) : null, " ",
          h("span.badge", {class: item.light ? "ok" : ""}, KIND[item.light])),
        h("p", describe(item)),
        details, status),
      h("label.switch", toggle, h("span.track"), h("span.sr", {hidden: true}, `Turn ${item.title} on`)));
    fill(details, item, status);
    return el;
  }

  function describe(item) {
    if (!item.installed) return `Not installed: ${item.needs}`;
    if (!item.fits) return "Nothing to do in this project: its labeling config has none of the tags it fills.";
    const fit = item.fits;
    if (!fit.from_name) return `Compares the tasks' ${fit.to_name || fit.value} (${fit.type})`;
    const labels = (fit.labels || []).length ? ` · labels ${fit.labels.join(", ")}` : "";
    return `Fills ${fit.from_name} (${fit.type}) on ${fit.to_name}${labels}`;
  }

  function fill(details, item, status) {
    const parts = [];
    if (item.enabled && item.name === "teach") {
      const stats = item.stats || {};
      const accuracy = stats.accuracy === null || stats.accuracy === undefined ? "—" : `${Math.round(stats.accuracy * 100)}%`;
      parts.push(h("p.teach-stats", `Labels seen: ${formatNumber(stats.labels_seen || 0)} · accuracy on labels it had not seen yet: ${accuracy}`));
      parts.push(h("p", "Its least sure task comes next when the project's sampling is “Uncertainty sampling”. ",
        h("button.btn.btn-sm#use-uncertainty", {onclick: () => useUncertainty(status)}, "Use uncertainty sampling")));
    }
    if (item.name === "duplicates" && item.enabled && item.scan) {
      parts.push(h("p.duplicates-scan", `${formatNumber(item.scan.found)} near-duplicates found. The data manager's “Near-duplicate of” column and filter show them; its actions delete or merge them. `,
        h("a", {href: `/projects/${project.id}/data`}, "Open the data manager")));
    }
    if (item.enabled && item.fits && (item.fits.model_labels || []).length) {
      parts.push(labelMap(item, status));
    }
    if (item.enabled) {
      parts.push(h("div.row", h("button.btn.btn-sm.predict-all", {onclick: () => predictAll(item, status)}, icon("refresh"),
        item.name === "duplicates" ? "Scan again" : "Predict all tasks")));
    }
    clear(details, parts);
  }

  function labelMap(item, status) {
    // what the model uses: the assistant's own map (spaCy's PERSON -> PER, ...) under the user's
    const current = {...(item.fits.label_map || {}), ...(item.label_map || {})};
    const inputs = item.fits.model_labels.map((label) => {
      const select = h("select", {"aria-label": `Project label for ${label}`},
        h("option", {value: ""}, "—"),
        item.fits.labels.map((p) => h("option", {value: p, selected: current[label] === p}, p)));
      return [label, select];
    });
    return h("div.label-map", h("p", "Label map (model → project):"),
      inputs.map(([label, select]) => h("div.row", h("code", label), h("span", "→"), select)),
      h("button.btn.btn-sm", {onclick: async () => {
        const map = Object.fromEntries(inputs.filter(([, s]) => s.value).map(([l, s]) => [l, s.value]));
        await flip(item, {checked: true}, status, map);
      }}, "Save the label map"));
  }

  async function flip(item, toggle, status, labelMap) {
    status.textContent = toggle.checked ? "Turning on…" : "Turning off…";
    try {
      const body = {project: project.id};
      if (labelMap) body.label_map = labelMap;
      const answer = await api.post(`/api/assistants/${item.name}/${toggle.checked ? "enable" : "disable"}`, body);
      toast(`${item.title} ${toggle.checked ? "on" : "off"} for ${project.title}`, {kind: "ok"});
      if (answer.job) follow(answer.job);
      status.textContent = "";
      await load();
    } catch (e) {
      toggle.checked = !toggle.checked;
      status.textContent = "";
      toastError(e);
    }
  }

  async function predictAll(item, status) {
    try {
      follow(await api.post(`/api/assistants/${item.name}/predict`, {project: project.id}));
    } catch (e) { toastError(e); }
  }

  function follow(job) {
    const bar = h("i", {style: {width: "0%"}});
    const label = h("span", "Starting…");
    clear(progress, h("div.panel.assistant-progress", h("div.progress.accent", bar), h("div.progress-label", label)));
    const timer = setInterval(async () => {
      let state;
      try { state = await api.get(job.url); } catch (e) { clearInterval(timer); timers.delete(timer); toastError(e); return; }
      const share = state.total ? state.processed / state.total : 1;
      bar.style.width = `${Math.round(share * 100)}%`;
      label.textContent = `${formatNumber(state.processed)} of ${formatNumber(state.total)} tasks · ${state.status}`;
      if (!["queued", "running"].includes(state.status)) {
        clearInterval(timer);
        timers.delete(timer);
        if (state.status === "failed") toastError(new Error(state.error || "It failed."));
        else toast(state.found !== undefined ? `${formatNumber(state.found)} near-duplicates found` : `${formatNumber(state.predictions || 0)} predictions made`, {kind: "ok"});
        if (!stale()) load();
      }
    }, 400);
    timers.add(timer);
  }

  async function useUncertainty(status) {
    try {
      await api.patch(`/api/projects/${project.id}`, {sampling: "Uncertainty sampling"});
      status.textContent = "The label stream now shows the task teach mode is least sure of.";
    } catch (e) { toastError(e); }
  }
}

