// Actions on a whole project shared by several screens.
import * as api from "../api.js";
import {h, modal, toast, toastError, formatNumber} from "../dom.js";

const COPIED_FIELDS = ["description", "label_config", "expert_instruction", "show_instruction",
  "show_skip_button", "enable_empty_annotation", "show_annotation_history", "color",
  "maximum_annotations", "sampling", "show_collab_predictions", "skip_queue",
  "show_ground_truth_first", "show_overlap_first", "overlap_cohort_percentage"];

/** Ask for a title (and whether to copy the tasks), then copy the project. */
export async function duplicateProject(project) {
  const answer = await modal((close) => {
    const title = h("input", {type: "text", value: `${project.title} (copy)`.slice(0, 50), autofocus: true});
    const withTasks = h("input", {type: "checkbox", checked: true});
    const error = h("p.form-error", {hidden: true});
    const submit = (e) => {
      e?.preventDefault();
      const value = title.value.trim();
      if (value.length < 3 || value.length > 50) {
        error.textContent = "The title needs 3 to 50 characters."; error.hidden = false; return;
      }
      close({title: value, withTasks: withTasks.checked});
    };
    return {
      title: "Duplicate project",
      text: "The copy gets the same label config and settings.",
      body: h("form", {onsubmit: submit}, h("label.field", h("span", "Title"), title),
              h("label.row", withTasks, `Copy the ${formatNumber(project.task_number)} tasks (their data, without annotations)`),
              error),
      buttons: [h("button.btn", {onclick: () => close()}, "Cancel"),
                h("button.btn.btn-primary", {onclick: submit}, "Duplicate")],
    };
  });
  if (!answer) return null;
  const progress = toast("Duplicating…", {timeout: 600000});
  try {
    const fields = {title: answer.title};
    for (const key of COPIED_FIELDS) if (project[key] !== undefined) fields[key] = project[key];
    const copy = await api.post("/api/projects", fields);
    if (answer.withTasks && project.task_number) {
      for (let page = 1; ; page++) {
        let batch;
        try {
          batch = await api.get("/api/tasks", {project: project.id, page, page_size: 1000, include: "data,meta"});
        } catch (e) {
          if (e.status === 404) break;
          throw e;
        }
        if (!batch.tasks.length) break;
        await api.post(`/api/projects/${copy.id}/import`, batch.tasks.map((t) => ({data: t.data, meta: t.meta || {}})));
        progress.textContent = `Duplicating… ${formatNumber((page - 1) * 1000 + batch.tasks.length)} tasks`;
        if (batch.tasks.length < 1000) break;
      }
    }
    progress.remove();
    toast(`Created “${copy.title}”`, {kind: "ok"});
    return copy;
  } catch (e) {
    progress.remove();
    toastError(e);
    return null;
  }
}
