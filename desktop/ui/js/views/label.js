// Labeling: Label Studio's editor on one task at a time, either the project's label stream
// (the server's next task, by the project's sampling) or one task opened from the data manager.
import * as api from "../api.js";
import {setTopbar, app, go} from "../main.js";
import {h, clear, icon, loading, toast, toastError, emptyState} from "../dom.js";
import {loadEditor, mountEditor, destroyEditor, annotationBody, LABELING_INTERFACES} from "../editor.js";

export async function render({content, query, project, stale}) {
  content.className = "content flush";
  const base = `#/projects/${project.id}`;
  const fixedTask = Number(query.get("task")) || null;
  const info = h("span.muted#task-info");
  const nextButton = h("button.btn.btn-sm", {onclick: () => fixedTask ? go(`/projects/${project.id}/label`) : show(null)},
                       fixedTask ? "Label next unlabeled" : "Next task", icon("next"));
  const bar = h("div.label-bar", h("a.btn.btn-sm.btn-ghost", {href: `${base}/data`}, icon("prev"), "Data"),
                info, h("span.grow"), nextButton);
  const host = h("div.label-host", loading("Loading the editor…"));
  clear(content, h("div.labeling", bar, host));
  setTopbar([{label: "Projects", href: "#/projects"}, {label: project.title || "Untitled", href: `${base}/data`},
             {label: fixedTask ? `Task ${fixedTask}` : "Label"}]);

  let editor = null;
  let task = null;
  let busy = false;

  let LabelStudio;
  try {
    LabelStudio = await loadEditor();
  } catch (e) {
    clear(host, emptyState({art: "tag", title: "The labeling editor is missing", text: e.message}));
    return;
  }
  if (stale()) return;

  async function fetchTask(id) {
    if (id) return api.get(`/api/tasks/${id}`);
    try {
      return await api.get(`/api/projects/${project.id}/next`);
    } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }

  async function show(id) {
    destroyEditor(editor);
    editor = null;
    clear(host, loading("Loading task…"));
    try {
      task = await fetchTask(id);
    } catch (e) {
      clear(host, emptyState({art: "tag", title: "This task can't be opened", text: e.message,
                              actions: [h("a.btn", {href: `${base}/data`}, "Back to data")]}));
      return;
    }
    if (stale()) return;
    if (!task) {
      const fresh = await api.get(`/api/projects/${project.id}`);
      info.textContent = "";
      const none = !fresh.task_number;
      clear(host, emptyState({
        art: none ? "upload" : "check",
        title: none ? "No tasks to label yet" : "All tasks are labeled",
        text: none ? "Import data into this project to start labeling."
                   : `Every task in “${project.title}” has an annotation. Export the results, or review tasks in the data manager.`,
        actions: none ? [h("a.btn.btn-primary", {href: `${base}/import`}, icon("upload"), "Import data")]
                      : [h("a.btn", {href: `${base}/data`}, "Open data manager"),
                         h("a.btn.btn-primary", {href: `${base}/export`}, icon("download"), "Export")],
      }));
      nextButton.hidden = true;
      return;
    }
    nextButton.hidden = false;
    info.textContent = `Task ${task.id}` + (task.queue ? ` · ${task.queue}` : "")
      + (task.annotations?.length ? ` · ${task.annotations.length} annotation(s)` : "");
    if (!fixedTask) history.replaceState(null, "", `${base}/label`);
    editor = mountEditor(LabelStudio, host, {
      config: project.label_config,
      interfaces: LABELING_INTERFACES.filter((x) => x !== "skip" || project.show_skip_button !== false),
      user: {pk: app.session.user.id, id: app.session.user.id, firstName: app.session.user.first_name,
             lastName: app.session.user.last_name, email: app.session.user.email},
      task: {id: task.id, data: task.data, annotations: task.annotations || [],
             predictions: task.predictions || []},
      onLabelStudioLoad: (ls) => selectAnnotation(ls, task, project),
      onSubmitAnnotation: (ls, annotation) => save("submit", annotation),
      onUpdateAnnotation: (ls, annotation) => save("update", annotation),
      onSkipTask: (ls) => save("skip", ls.annotationStore.selected),
      onDeleteAnnotation: (ls, annotation) => remove(annotation),
    });
  }

  async function save(kind, annotation) {
    if (busy) return;
    busy = true;
    try {
      const body = annotationBody(annotation);
      if (kind === "update" && annotation.pk) {
        await api.patch(`/api/annotations/${annotation.pk}`, body);
        toast("Annotation updated", {kind: "ok", timeout: 2000});
      } else {
        const saved = await api.post(`/api/tasks/${task.id}/annotations`,
                                     kind === "skip" ? {...body, was_cancelled: true} : body);
        annotation.updatePersonalKey?.(String(saved.id));
        toast(kind === "skip" ? "Task skipped" : "Annotation submitted", {kind: "ok", timeout: 2000});
      }
      busy = false;
      if (fixedTask) await show(fixedTask);
      else if (kind !== "update") await show(null);
    } catch (e) {
      busy = false;
      toastError(e);
    }
  }

  async function remove(annotation) {
    if (!annotation.pk) return;
    try {
      await api.del(`/api/annotations/${annotation.pk}`);
      toast("Annotation deleted", {kind: "ok", timeout: 2000});
    } catch (e) {
      toastError(e);
    }
  }

  await show(fixedTask);
  return () => destroyEditor(editor);
}

/** Which annotation the editor opens on, as Label Studio's own front end chooses it:
 * the latest annotation; else a new one, pre-filled from the first prediction if any. */
function selectAnnotation(ls, task, project) {
  const store = ls.annotationStore;
  let annotation;
  if (store.annotations.length) {
    annotation = store.annotations[0];
  } else if (store.predictions.length && project.show_collab_predictions !== false) {
    annotation = store.addAnnotationFromPrediction(store.predictions[0]);
  } else {
    annotation = store.addAnnotation({userGenerate: true});
  }
  store.selectAnnotation(annotation.id);
}
