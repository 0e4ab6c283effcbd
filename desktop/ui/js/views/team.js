// Team server: hand a project to a Label Studio server and back while labeling goes on
// (desktop/pushpull/jobs.py, /api/ui/handovers). A push form, a pull form, the jobs of this run
// with their live progress and Cancel, and the previous hand-overs (from the data folder's
// mapping files) with "Push again" / "Pull again". The Label Studio token is sent with the job
// and kept in the app's memory for that server only: never saved, never shown again.
import * as api from "../api.js";
import {setTopbar} from "../main.js";
import {h, clear, icon, promptDialog, toast, toastError, formatNumber} from "../dom.js";

const STATUS = {running: ["Running", "accent"], done: ["Done", "ok"], error: ["Failed", "error"],
                cancelled: ["Cancelled", ""]};
const POLL_MS = 800;

export async function render({content, stale}) {
  setTopbar([{label: "Team server"}]);
  const [projectPage, first] = await Promise.all([
    api.get("/api/projects", {page_size: 1000, ordering: "-created_at"}),
    api.get("/api/ui/handovers")]);
  if (stale()) return;
  const projects = projectPage.results;
  const lastUrl = first.previous[0]?.url || "";

  const jobList = h("div#handover-jobs");
  const previousList = h("div#handover-previous");
  const push = pushForm();
  const pull = pullForm();
  clear(content, h("div.page-narrow.team",
    h("div.page-head", h("div.grow", h("h1", "Team server"),
      h("p.muted", "Hand a project to a Label Studio server and bring one back, while you go on " +
        "labeling. Running it again sends only what is new or changed; a cancelled run resumes. " +
        "The token stays in this app's memory for that server only: it is never saved."))),
    h("section.panel", {"aria-labelledby": "push-heading"},
      h("div.panel-head", h("div.grow", h("h2#push-heading", "Push a project"),
        h("p.muted", "Its label config, settings, tasks, annotations, predictions and uploaded files."))),
      push),
    h("section.panel", {"aria-labelledby": "pull-heading"},
      h("div.panel-head", h("div.grow", h("h2#pull-heading", "Pull a project"),
        h("p.muted", "A Label Studio project into LabelDesk, with its media files."))),
      pull),
    h("section.panel", {"aria-labelledby": "jobs-heading"},
      h("div.panel-head", h("div.grow", h("h2#jobs-heading", "Hand-overs"),
        h("p.muted", "Running, and finished since LabelDesk started."))), jobList),
    h("section.panel", {"aria-labelledby": "previous-heading"},
      h("div.panel-head", h("div.grow", h("h2#previous-heading", "Previous hand-overs"),
        h("p.muted", "Each one remembers which task is which on the server, so it can run again."))),
      previousList)));

  let timer = null;
  let finishedIds = "";
  show(first);
  return () => clearTimeout(timer);

  // -- the forms ------------------------------------------------------------------------

  function field(label, input, hint) {
    return h("label.field", h("span", label), input, hint ? h("span.hint", hint) : null);
  }

  function serverFields(prefix) {
    return {
      url: h(`input#${prefix}-url`, {type: "text", value: lastUrl, spellcheck: false,
                                     placeholder: "https://labelstudio.example.org"}),
      token: h(`input#${prefix}-token`, {type: "password", autocomplete: "off", spellcheck: false,
                                         placeholder: "Account & Settings in Label Studio"}),
    };
  }

  function pushForm() {
    const server = serverFields("push");
    const project = h("select#push-project", projects.map((p) =>
      h("option", {value: String(p.id)}, `${p.title || "Untitled"} (#${p.id})`)));
    const remote = h("input#push-remote", {type: "number", min: 1, placeholder: "a new project"});
    const error = h("p.form-error", {hidden: true});
    const button = h("button.btn.btn-primary#push-start", {type: "submit", disabled: !projects.length},
                     icon("upload"), "Push");
    return h("form.handover-form", {onsubmit: (e) => submit(e, error, button, server, {
        direction: "push", project: Number(project.value) || null,
        remote_project: Number(remote.value) || null})},
      field("LabelDesk project", project, projects.length ? null : "No projects yet."),
      field("Label Studio project id", remote, "Optional: push into this existing project."),
      field("Server", server.url), field("Token", server.token),
      error, h("div.form-actions", button));
  }

  function pullForm() {
    const server = serverFields("pull");
    const remote = h("input#pull-remote", {type: "number", min: 1, required: true});
    const into = h("select#pull-into", h("option", {value: ""}, "A new project"),
      projects.map((p) => h("option", {value: String(p.id)}, `${p.title || "Untitled"} (#${p.id})`)));
    const error = h("p.form-error", {hidden: true});
    const button = h("button.btn.btn-primary#pull-start", {type: "submit"}, icon("download"), "Pull");
    return h("form.handover-form", {onsubmit: (e) => submit(e, error, button, server, {
        direction: "pull", remote_project: Number(remote.value) || null,
        into: Number(into.value) || null})},
      field("Label Studio project id", remote), field("Into", into, "A new project, or one of yours."),
      field("Server", server.url), field("Token", server.token),
      error, h("div.form-actions", button));
  }

  async function submit(event, error, button, server, fields) {
    event.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      await start({...fields, url: server.url.value.trim(), token: server.token.value.trim()});
      server.token.value = "";  // sent: the app keeps it, the page doesn't
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
    button.disabled = false;
  }

  async function start(fields) {
    const job = await api.post("/api/ui/handovers", fields);
    toast(`${job.direction === "push" ? "Push" : "Pull"} started`, {kind: "ok"});
    await refresh();
  }

  // -- jobs and previous hand-overs ----------------------------------------------------------

  async function refresh() {
    clearTimeout(timer);
    let listing;
    try {
      listing = await api.get("/api/ui/handovers");
    } catch (e) { toastError(e); return; }
    if (!stale()) show(listing);
  }

  function show(listing) {
    clear(jobList, listing.jobs.length ? listing.jobs.map(jobRow)
      : h("div.setting", h("p.muted#no-jobs", "Nothing is being handed over.")));
    // the previous hand-overs change when a job ends
    const ended = listing.jobs.filter((j) => j.status !== "running").map((j) => j.id).join();
    if (ended !== finishedIds || !previousList.childElementCount) {
      finishedIds = ended;
      clear(previousList, listing.previous.length ? listing.previous.map(previousRow)
        : h("div.setting", h("p.muted#no-previous", "None yet.")));
    }
    if (listing.jobs.some((j) => j.status === "running")) timer = setTimeout(refresh, POLL_MS);
  }

  function describe(item) {
    const title = item.project_title ?? projects.find((p) => p.id === item.project)?.title;
    const local = item.project ? `LabelDesk project ${title ? `“${title}” ` : ""}#${item.project}` : "a new LabelDesk project";
    const remote = item.remote_project ? `project #${item.remote_project}` : "a new project";
    return item.direction === "push" ? `${local} → ${remote} on ${item.url}`
                                     : `${remote} on ${item.url} → ${local}`;
  }

  function jobRow(job) {
    const [label, kind] = job.cancel_requested ? ["Cancelling…", ""] : STATUS[job.status];
    const share = job.total ? Math.min(100, (100 * job.done) / job.total) : 0;
    const summary = job.summary;
    const created = summary ? Object.entries(summary.created).map(([k, n]) => `${formatNumber(n)} ${k}`).join(", ") : "";
    return h("div.setting.handover-job", {"data-job": job.id, "data-status": job.status},
      h("div.text",
        h("h3", `${job.direction === "push" ? "Push" : "Pull"} #${job.id} `,
          h("span.badge.job-status", {class: kind}, label)),
        h("p", describe(job)),
        job.status === "running" ? h("div.job-progress",
          h("div.progress-label", h("span", job.stage || "starting"),
            h("span.job-count", job.total ? `${formatNumber(job.done)} / ${formatNumber(job.total)}` : "")),
          h("div.progress.accent", h("i", {style: {width: `${share}%`}}))) : null,
        job.messages.length ? h("p.job-message", job.messages[job.messages.length - 1]) : null,
        created ? h("p.job-summary", `Created ${created}` +
          (summary.updated.annotations ? `, updated ${formatNumber(summary.updated.annotations)} annotations` : "") + ".") : null,
        job.error ? h("p.job-error", job.error) : null),
      job.status === "running"
        ? h("button.btn.btn-sm.cancel-job", {onclick: () => cancel(job), disabled: job.cancel_requested},
            icon("x"), "Cancel")
        : job.direction === "pull" && job.project
          ? h("a.btn.btn-sm", {href: `/projects/${job.project}/data`}, "Open project") : null);
  }

  async function cancel(job) {
    try {
      await api.post(`/api/ui/handovers/${job.id}/cancel`);
    } catch (e) { toastError(e); }
    await refresh();
  }

  function previousRow(item) {
    const again = item.direction === "push" ? "Push again" : "Pull again";
    const when = new Date(item.updated_at).toLocaleString();
    return h("div.setting.handover-previous", {"data-direction": item.direction},
      h("div.text", h("h3", item.direction === "push" ? "Pushed" : "Pulled"),
        h("p", describe(item)),
        h("p", `${formatNumber(item.tasks)} tasks · last run ${when}`)),
      h("button.btn.btn-sm.again", {onclick: () => runAgain(item), title: item.token_kept ? "" : "Asks for the token"},
        icon("refresh"), again));
  }

  async function runAgain(item) {
    let token = "";
    if (!item.token_kept) {
      token = await promptDialog({title: `${item.direction === "push" ? "Push" : "Pull"} again`,
        text: `The Label Studio token for ${item.url} (Account & Settings there). It is kept in this app's memory only.`,
        label: "Token", type: "password", confirm: item.direction === "push" ? "Push" : "Pull",
        validate: (v) => (v ? "" : "Enter the token.")});
      if (token === undefined) return;
    }
    // the mapping file names the other side: gone there, push makes it again, pull a new one
    const fields = item.direction === "push" ? {direction: "push", project: item.project}
                                             : {direction: "pull", remote_project: item.remote_project};
    try {
      await start({...fields, url: item.url, token});
    } catch (e) { toastError(e); }
  }
}
