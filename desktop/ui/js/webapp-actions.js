// The web app's confirm dialog before a bulk delete says what LabelDesk will do. Label Studio
// 1.23.2's data manager shows "Delete selected tasks?" and "You are about to delete the selected
// tasks. This can't be undone." for its delete actions, whatever the server's action list
// says; here the text becomes the server's count for the current selection (how many tasks,
// annotations, predictions and drafts: POST /api/ui/trash/preview, the same query and body the
// action would send) and where they go: the trash, from which they can be restored. Text only
// (textContent), no markup from anywhere.

const ACTIONS = {
  "Delete selected tasks?": "delete_tasks",
  "Delete selected annotations?": "delete_tasks_annotations",
  "Delete selected predictions?": "delete_tasks_predictions",
};

/** The body POST /api/dm/actions gets from the data manager (its invokeAction). */
function actionBody(view) {
  return {
    ordering: view.ordering ? [...view.ordering] : [],
    selectedItems: view.selected?.snapshot ?? {all: false, included: []},
    filters: {conjunction: view.conjunction ?? "and", items: view.serializedFilters ?? []},
  };
}

async function tell(dialog, action) {
  const text = dialog.querySelector("[class*='dialog-content__text']");
  const view = (window.DM?.store || window.DM)?.currentView;  // the data manager's root store
  const project = location.pathname.match(/^\/projects\/(\d+)/)?.[1];
  if (!text || !view || !project) return;
  text.dataset.labeldesk = "counting";
  let answer;
  try {
    const response = await fetch(
      `/api/ui/trash/preview?id=${action}&project=${project}`,
      {method: "POST", credentials: "same-origin",
       headers: {"Content-Type": "application/json", Accept: "application/json"},
       body: JSON.stringify(actionBody(view))});
    if (!response.ok) return;  // the dialog keeps the app's own words
    answer = await response.json();
  } catch {
    return;
  }
  if (!text.isConnected) return;  // closed meanwhile
  text.textContent = answer.text;
  text.dataset.labeldesk = "counted";
}

function look() {
  for (const dialog of document.querySelectorAll(".lsf-modal-ls_visible")) {
    if (dialog.dataset.labeldesk) continue;
    const title = dialog.querySelector(".lsf-modal-ls__title")?.textContent.trim();
    const action = ACTIONS[title];
    if (!action) continue;
    dialog.dataset.labeldesk = "1";
    tell(dialog, action);
  }
}

export function installActionCounts() {
  new MutationObserver(look).observe(document.documentElement, {childList: true, subtree: true});
}
