// The annotation history in Label Studio's editor (issue 20). The editor's History panel lists
// the versions of the annotation in front of the user (a set-up patch switches it on:
// desktop/ui/webapp.py); Label Studio Enterprise feeds it, the Community web app doesn't. This
// feeds it from LabelDesk's API (GET /api/annotation-history/?annotation=, LSE's shape) each
// time an annotation is shown, saved or changed, and adds what the panel lacks: under a version
// picked in the panel, a "Restore this version" button (POST /api/annotation-history/{id}/
// restore), after which the editor shows the annotation as it is now, that version again.
//
// It works through the app's own objects, never its markup's insides: the data manager
// (window.DM.SDK: its events, and lsf.loadTask), the editor's store (window.Htx: setHistory,
// history, selectedHistory). Text goes in as text (docs/adr/0006).

const POLL_MS = 250;
// the panel's words for LSE's actions, and LabelDesk's "deleted"
const ACTIONS = {submitted: "Submitted", updated: "Updated", skipped: "Skipped",
                 imported: "Imported", prediction: "From prediction", accepted: "Accepted",
                 rejected: "Rejected", fixed_and_accepted: "Fixed", deleted: "Deleted",
                 propagated_annotation: "Propagated", deleted_review: "Review deleted"};
let shown = {annotation: null, items: []};  // what the panel was last given
let loading = 0;
let asking = null;  // the annotation whose history is being fetched

function dataManager() {
  return window.DM?.SDK || null;  // window.DM is the data manager's app store
}

// The editor's annotation store, when the editor on screen is the data manager's labeling
// view's: not the settings page's preview, nor an editor left behind by a page gone (its
// store is dead; changing it is an error).
function store() {
  const htx = window.Htx;
  if (!htx || !/^\/projects\/\d+\/data\/?$/.test(location.pathname)) return null;
  if (dataManager()?.lsf?.lsf !== htx) return null;
  return htx.annotationStore || null;
}

function selectedAnnotation() {
  const annotation = store()?.selected;
  const pk = Number(annotation?.pk);
  return annotation && annotation.type === "annotation" && Number.isInteger(pk) && pk > 0
    ? pk : null;
}

async function refresh(force = false) {
  const pk = selectedAnnotation();
  if (pk === null) {
    shown = {annotation: null, items: []};
    showBar(null);
    return;
  }
  if (!force && shown.annotation === pk) {
    // the editor empties the panel when it loads a task again: give it the versions back
    if (store().history.length !== shown.items.length) window.Htx.setHistory(shown.items);
    return;
  }
  if (!force && asking === pk) return;
  const ticket = ++loading;
  asking = pk;
  let items = [];
  try {
    const answer = await fetch(`/api/annotation-history/?annotation=${pk}`,
                               {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (answer.ok) items = await answer.json();
  } catch {
    items = [];  // a reload under way: nothing to show
  } finally {
    if (ticket === loading) asking = null;
  }
  if (ticket !== loading || selectedAnnotation() !== pk || !Array.isArray(items)) return;
  shown = {annotation: pk, items};
  window.Htx.setHistory(items);  // the editor keeps them only for the annotation they name
  showBar(null);
}

// -- the restore button, under the version picked in the panel ----------------------------

function pickedVersion() {
  const annotations = store();
  const picked = annotations?.selectedHistory;
  if (!picked) return null;
  const index = [...annotations.history].indexOf(picked);
  const item = shown.items[index];
  return item && item.annotation_id === shown.annotation ? item : null;
}

function showBar(item) {
  let bar = document.getElementById("labeldesk-history-restore");
  if (!item) {
    bar?.remove();
    return;
  }
  const panel = document.querySelector(".lsf-history");
  if (!panel) return;
  if (!bar || bar.parentElement !== panel) {
    bar?.remove();
    bar = document.createElement("div");
    bar.id = "labeldesk-history-restore";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Restore a version");
    const label = document.createElement("span");
    label.className = "labeldesk-history-restore__label";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "labeldesk-history-restore__button";
    button.textContent = "Restore this version";
    button.addEventListener("click", () => restore(bar));
    const note = document.createElement("span");
    note.className = "labeldesk-history-restore__note";
    note.setAttribute("role", "status");
    bar.append(label, button, note);
    panel.prepend(bar);  // at the top, and kept in view as the list scrolls (css/webapp.css)
  }
  bar.dataset.version = String(item.id);
  const when = item.created_at ? new Date(item.created_at).toLocaleString() : "";
  const what = [ACTIONS[item.action] || item.action, when].filter(Boolean).join(", ");
  bar.querySelector(".labeldesk-history-restore__label").textContent =
    `Version #${item.id}${what ? ` (${what})` : ""}`;
  bar.querySelector(".labeldesk-history-restore__note").textContent = "";
  bar.querySelector("button").disabled = false;
}

async function restore(bar) {
  const version = Number(bar.dataset.version);
  const button = bar.querySelector("button");
  const note = bar.querySelector(".labeldesk-history-restore__note");
  button.disabled = true;
  note.textContent = "Restoring…";
  let answer;
  try {
    answer = await fetch(`/api/annotation-history/${version}/restore`, {
      method: "POST", credentials: "same-origin", headers: {Accept: "application/json"}});
  } catch {
    answer = null;
  }
  if (!answer || !answer.ok) {
    let detail = "the version could not be restored";
    try { detail = (await answer.json()).detail || detail; } catch { /* not JSON */ }
    note.textContent = `Not restored: ${detail}`;
    button.disabled = false;
    return;
  }
  const annotation = await answer.json();
  store()?.selectHistory(null);
  showBar(null);
  shown = {annotation: null, items: []};
  const wrapper = dataManager()?.lsf;
  if (wrapper?.loadTask) {
    await wrapper.loadTask(annotation.task, annotation.id);  // the annotation as it is now
  }
  refresh(true);
}

// -- wiring -----------------------------------------------------------------------------------

function watch(dm) {
  if (dm.labeldeskHistory) return;
  dm.labeldeskHistory = true;
  for (const event of ["annotationSet", "onSelectAnnotation", "updateAnnotation",
                       "deleteAnnotation", "labelStudioLoad"]) {
    dm.on(event, () => setTimeout(() => refresh(event === "updateAnnotation"), 0));
  }
}

function pickedChanged() {
  const item = pickedVersion();
  const bar = document.getElementById("labeldesk-history-restore");
  if ((item && bar?.dataset.version === String(item.id) && bar.isConnected) || (!item && !bar)) {
    return;
  }
  showBar(item);
}

export function installHistory() {
  // The data manager (window.DM) is made when a project's pages open; its events say when an
  // annotation is shown or saved. A picked version has no event: it is looked for after each
  // click, and now and then (a panel drawn again loses the bar).
  setInterval(() => {
    const dm = dataManager();
    if (dm?.on) watch(dm);
    if (store()) {
      if (selectedAnnotation() !== shown.annotation ||
          store().history.length !== shown.items.length) refresh();
      pickedChanged();
    }
  }, POLL_MS);
  document.addEventListener("click", () => setTimeout(pickedChanged, 0));
}
