// The data manager: the project's tasks a page at a time (filtered, sorted and paged by the
// server), selection and bulk actions.
import * as api from "../api.js";
import {setTopbar, go} from "../main.js";
import {h, clear, icon, menu, modal, confirmDialog, toast, toastError, emptyState,
        formatNumber, loading} from "../dom.js";

const PAGE_SIZE = 50;
const MEDIA = /\.(jpe?g|png|gif|bmp|webp|svg)(\?|$)/i;
const OPERATORS = {
  String: [["contains", "contains"], ["not_contains", "does not contain"], ["equal", "is"],
           ["not_equal", "is not"], ["starts_with", "starts with"], ["ends_with", "ends with"],
           ["empty", "is empty"]],
  Number: [["equal", "="], ["not_equal", "≠"], ["greater", ">"], ["greater_or_equal", "≥"],
           ["less", "<"], ["less_or_equal", "≤"]],
};
const ACTIONS = [
  {id: "retrieve_tasks_predictions", label: "Retrieve predictions", icon: "refresh"},
  {id: "predictions_to_annotations", label: "Create annotations from predictions", icon: "check"},
  {id: "delete_tasks_annotations", label: "Delete annotations", icon: "trash", danger: true},
  {id: "delete_tasks_predictions", label: "Delete predictions", icon: "trash", danger: true},
  {id: "delete_tasks", label: "Delete tasks", icon: "trash", danger: true},
];

function storedState(projectId) {
  try {
    return JSON.parse(sessionStorage.getItem(`labeldesk.dm.${projectId}`)) || null;
  } catch (e) {
    return null;
  }
}

export async function render({content, project, stale}) {
  content.className = "content flush";
  const base = `#/projects/${project.id}`;
  setTopbar([{label: "Projects", href: "#/projects"}, {label: project.title || "Untitled"}],
            [h("a.btn", {href: `${base}/import`}, icon("upload"), "Import"),
             h("a.btn", {href: `${base}/export`}, icon("download"), "Export"),
             h("a.btn.btn-primary#label-all", {href: `${base}/label`}, icon("tag"), "Label all tasks")]);

  const summary = await api.get(`/api/projects/${project.id}/summary`).catch(() => ({}));
  if (stale()) return;
  const columns = dataColumns(project, summary);
  // searchColumn "" searches every data column at once (the `filter:tasks:data` column)
  const state = Object.assign({page: 1, status: "all", search: "", searchColumn: "",
                               filters: [], score: null, ordering: null},
                              storedState(project.id) || {});
  if (state.searchColumn && !columns.includes(state.searchColumn)) state.searchColumn = "";
  let selection = {all: false, ids: new Set()};
  let result = {tasks: [], total: 0};
  let loadCount = 0;

  // -- toolbar ---------------------------------------------------------------------------------
  const searchLabel = (column) => column ? `Search ${column}` : "Search all columns";
  const search = h("input#dm-search", {type: "search", placeholder: searchLabel(state.searchColumn),
                                       value: state.search, "aria-label": "Search tasks"});
  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.search = search.value.trim(); state.page = 1; load(); }, 250);
  });
  const searchColumn = columns.length
    ? h("select#dm-search-column", {"aria-label": "Search in", style: {width: "auto"},
                                    onchange: (e) => { state.searchColumn = e.target.value; search.placeholder = searchLabel(e.target.value); if (state.search) { state.page = 1; load(); } }},
        h("option", {value: "", selected: !state.searchColumn}, "All columns"),
        columns.map((c) => h("option", {value: c, selected: c === state.searchColumn}, c)))
    : null;
  const status = h("div.segmented", {role: "group", "aria-label": "Show"},
    [["all", "All"], ["unlabeled", "Unlabeled"], ["labeled", "Labeled"]].map(([key, label]) =>
      h("button", {"data-status": key, class: state.status === key ? "on" : "", "aria-pressed": state.status === key,
                   onclick: () => { state.status = key; state.page = 1; load(); }}, label)));
  const toolbar = h("div.dm-toolbar",
    h("div.search", icon("search"), search), searchColumn, status,
    h("button.btn#add-filter", {onclick: addFilter}, icon("filter"), "Filter"),
    h("span.grow"),
    h("button.btn.btn-ghost.btn-icon", {title: "Reload", "aria-label": "Reload", onclick: () => load()}, icon("refresh")));
  const chips = h("div.dm-filters", {hidden: true});
  const selectionBar = h("div.dm-selection", {hidden: true});
  const headRow = h("tr");
  const body = h("tbody");
  const table = h("table.grid", h("thead", headRow), body);
  const wrap = h("div.table-wrap", table);
  const totals = h("span");
  const pageInfo = h("span");
  const prev = h("button.btn.btn-sm", {onclick: () => { state.page--; load(); }, "aria-label": "Previous page"}, icon("prev"));
  const next = h("button.btn.btn-sm", {onclick: () => { state.page++; load(); }, "aria-label": "Next page"}, icon("next"));
  const foot = h("div.dm-foot", totals, h("div.pager", pageInfo, prev, next));
  clear(content, h("div.dm", toolbar, chips, selectionBar, wrap, foot));

  // -- query -----------------------------------------------------------------------------------
  function filterItems() {
    const items = [];
    if (state.status === "labeled") items.push({filter: "filter:tasks:total_annotations", operator: "greater", type: "Number", value: 0});
    if (state.status === "unlabeled") items.push({filter: "filter:tasks:total_annotations", operator: "equal", type: "Number", value: 0});
    if (state.search) {
      const column = state.searchColumn ? `data.${state.searchColumn}` : "data";
      items.push({filter: `filter:tasks:${column}`, operator: "contains", type: "String", value: state.search});
    }
    if (state.score) {
      items.push({filter: "filter:tasks:predictions_score", operator: "in", type: "Number",
                  value: {min: state.score.min, max: state.score.max}});
    }
    for (const f of state.filters) items.push(f);
    return items;
  }

  function queryBody() {
    const items = filterItems();
    return {filters: items.length ? {conjunction: "and", items} : null,
            ordering: state.ordering ? [state.ordering] : []};
  }

  function selectedItems() {
    return selection.all ? {all: true, excluded: [...selection.ids]} : {all: false, included: [...selection.ids]};
  }

  function selectedCount() {
    return selection.all ? result.total - selection.ids.size : selection.ids.size;
  }

  async function load() {
    const mine = ++loadCount;
    sessionStorage.setItem(`labeldesk.dm.${project.id}`, JSON.stringify(state));
    renderChips();
    status.querySelectorAll("button").forEach((b) => {
      b.classList.toggle("on", b.dataset.status === state.status);
      b.setAttribute("aria-pressed", b.dataset.status === state.status);
    });
    wrap.setAttribute("aria-busy", "true");
    try {
      result = await api.get("/api/tasks", {project: project.id, page: state.page, page_size: PAGE_SIZE,
                                            fields: "task_only", query: JSON.stringify(queryBody())});
    } catch (e) {
      if (mine !== loadCount) return;
      if (e.status === 404 && state.page > 1) { state.page = 1; return load(); }
      wrap.removeAttribute("aria-busy");
      toastError(e);
      return;
    }
    if (mine !== loadCount || stale()) return;
    wrap.removeAttribute("aria-busy");
    renderTable();
  }

  // -- rendering ---------------------------------------------------------------------------------
  function sortHeader(label, column, className = "") {
    const current = state.ordering?.replace(/^-/, "") === `tasks:${column}`;
    const descending = current && state.ordering.startsWith("-");
    return h("th.sortable", {class: className, "aria-sort": current ? (descending ? "descending" : "ascending") : "none",
                             tabindex: 0, onclick: () => sortBy(column), onkeydown: (e) => e.key === "Enter" && sortBy(column)},
      label, current ? h("span.arrow", descending ? "▼" : "▲") : null);
  }

  function sortBy(column) {
    const key = `tasks:${column}`;
    state.ordering = state.ordering === key ? `-${key}` : state.ordering === `-${key}` ? null : key;
    state.page = 1;
    load();
  }

  function renderTable() {
    const all = h("input", {type: "checkbox", "aria-label": "Select all matching tasks",
                            checked: selection.all && !selection.ids.size,
                            onchange: (e) => { selection = {all: e.target.checked, ids: new Set()}; renderTable(); }});
    all.indeterminate = (selection.all && selection.ids.size > 0) || (!selection.all && selection.ids.size > 0);
    clear(headRow, h("th.check", all), sortHeader("ID", "id", "num"),
          columns.map((c) => sortHeader(c, `data.${c}`)),
          sortHeader("Annotations", "total_annotations", "num"),
          sortHeader("Skipped", "cancelled_annotations", "num"),
          sortHeader("Predictions", "total_predictions", "num"));
    if (!result.tasks.length) {
      const filtered = filterItems().length > 0;
      clear(body, h("tr", h("td", {colspan: columns.length + 5, style: {height: "auto", cursor: "default"}},
        filtered ? emptyState({art: "search", title: "No tasks match", text: "Change the search or the filters.",
                               actions: [h("button.btn", {onclick: resetFilters}, "Clear filters")]})
                 : emptyState({art: "upload", title: "No tasks yet", text: "Import data to create tasks: JSON, CSV, TSV, text, or media files.",
                               actions: [h("a.btn.btn-primary", {href: `${base}/import`}, icon("upload"), "Import data")]}))));
    } else {
      clear(body, result.tasks.map(row));
    }
    const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
    totals.textContent = `${formatNumber(result.total)} task${result.total === 1 ? "" : "s"} · ` +
      `${formatNumber(result.total_annotations)} annotations · ${formatNumber(result.total_predictions)} predictions`;
    pageInfo.textContent = `Page ${formatNumber(state.page)} of ${formatNumber(pages)}`;
    prev.disabled = state.page <= 1;
    next.disabled = state.page >= pages;
    renderSelection();
  }

  function isSelected(id) {
    return selection.all ? !selection.ids.has(id) : selection.ids.has(id);
  }

  function toggle(id) {
    if (selection.ids.has(id)) selection.ids.delete(id); else selection.ids.add(id);
    renderTable();
  }

  function row(task) {
    const check = h("input", {type: "checkbox", checked: isSelected(task.id), "aria-label": `Select task ${task.id}`,
                              onclick: (e) => e.stopPropagation(), onchange: () => toggle(task.id)});
    const open = () => go(`/projects/${project.id}/label?task=${task.id}`);
    return h("tr", {tabindex: 0, "data-task": task.id, class: isSelected(task.id) ? "selected" : "",
                    onclick: open,
                    onkeydown: (e) => {
                      if (e.key === "Enter") open();
                      if (e.key === " ") { e.preventDefault(); toggle(task.id); }
                      if (e.key === "ArrowDown") e.currentTarget.nextElementSibling?.focus();
                      if (e.key === "ArrowUp") e.currentTarget.previousElementSibling?.focus();
                    }},
      h("td.check", check), h("td.num", task.id),
      columns.map((c) => h("td", cell(task.data?.[c]))),
      h("td.num", task.total_annotations ? h("span.badge.ok", task.total_annotations) : h("span.faint", "0")),
      h("td.num", task.cancelled_annotations || h("span.faint", "0")),
      h("td.num", task.total_predictions ? h("span.badge.accent", task.total_predictions) : h("span.faint", "0")));
  }

  function renderSelection() {
    const count = selectedCount();
    selectionBar.hidden = count === 0;
    if (!count) return;
    clear(selectionBar, h("b", `${formatNumber(count)} selected`),
      h("button.btn.btn-sm#bulk-actions", {onclick: (e) => actionsMenu(e.currentTarget)}, "Actions ▾"),
      h("button.btn.btn-sm", {onclick: exportSelected}, icon("download"), "Export selected"),
      h("span.grow"),
      h("button.btn.btn-sm.btn-ghost", {onclick: () => { selection = {all: false, ids: new Set()}; renderTable(); }}, "Clear selection"));
  }

  function renderChips() {
    const list = [];
    state.filters.forEach((f, i) => list.push([describeFilter(f), () => state.filters.splice(i, 1)]));
    if (state.score) list.push([`prediction score ${state.score.min ?? "…"}–${state.score.max ?? "…"}`, () => { state.score = null; }]);
    chips.hidden = !list.length;
    clear(chips, list.map(([label, remove]) => h("span.chip", label,
      h("button", {"aria-label": `Remove filter ${label}`, onclick: () => { remove(); state.page = 1; load(); }}, "×"))));
  }

  function resetFilters() {
    Object.assign(state, {status: "all", search: "", filters: [], score: null, page: 1});
    search.value = "";
    load();
  }

  // -- filters ---------------------------------------------------------------------------------
  async function addFilter() {
    const fields = [...columns.map((c) => ({id: `data.${c}`, label: c, type: "String"})),
                    {id: "id", label: "ID", type: "Number"},
                    {id: "total_annotations", label: "Annotations", type: "Number"},
                    {id: "total_predictions", label: "Predictions", type: "Number"},
                    {id: "predictions_score", label: "Prediction score", type: "Range"}];
    const answer = await modal((close) => {
      const field = h("select#filter-field", fields.map((f) => h("option", {value: f.id}, f.label)));
      const operator = h("select#filter-operator");
      const value = h("input#filter-value", {type: "text"});
      const min = h("input#filter-min", {type: "number", step: "any", placeholder: "min"});
      const max = h("input#filter-max", {type: "number", step: "any", placeholder: "max"});
      const single = h("label.field", h("span", "Value"), value);
      const range = h("div.row", h("label.field.grow", h("span", "From"), min), h("label.field.grow", h("span", "To"), max));
      const refresh = () => {
        const f = fields.find((x) => x.id === field.value);
        const isRange = f.type === "Range";
        range.hidden = !isRange;
        single.hidden = isRange;
        operator.parentElement.hidden = isRange;
        clear(operator, (OPERATORS[f.type] || []).map(([v, l]) => h("option", {value: v}, l)));
        value.type = f.type === "Number" ? "number" : "text";
      };
      field.addEventListener("change", refresh);
      const submit = (e) => {
        e?.preventDefault();
        const f = fields.find((x) => x.id === field.value);
        if (f.type === "Range") {
          const lo = min.value === "" ? null : Number(min.value), hi = max.value === "" ? null : Number(max.value);
          close({score: {min: lo, max: hi}});
        } else {
          const v = operator.value === "empty" ? true : f.type === "Number" ? Number(value.value) : value.value;
          close({filter: {filter: `filter:tasks:${f.id}`, operator: operator.value, type: f.type, value: v, label: f.label}});
        }
      };
      const form = h("form", {onsubmit: submit}, h("label.field", h("span", "Field"), field),
                     h("label.field", h("span", "Condition"), operator), single, range);
      setTimeout(refresh);
      return {title: "Add a filter", body: form,
              buttons: [h("button.btn", {onclick: () => close()}, "Cancel"),
                        h("button.btn.btn-primary#filter-apply", {onclick: submit}, "Apply")]};
    });
    if (!answer) return;
    if (answer.score) state.score = answer.score; else state.filters.push(answer.filter);
    state.page = 1;
    load();
  }

  // -- actions ---------------------------------------------------------------------------------
  function actionsMenu(anchor) {
    menu(anchor, ACTIONS.map((a) => ({label: a.label, icon: a.icon, danger: a.danger, run: () => runAction(a)})));
  }

  async function runAction(action) {
    const count = selectedCount();
    if (action.danger) {
      const ok = await confirmDialog({title: `${action.label}?`, danger: true, confirm: action.label,
                                      text: `This applies to ${formatNumber(count)} task${count === 1 ? "" : "s"} and can't be undone.`});
      if (!ok) return;
    }
    try {
      const answer = await api.post("/api/dm/actions", {selectedItems: selectedItems(), ...queryBody()},
                                    {id: action.id, project: project.id});
      toast(answer?.detail || `${action.label}: done`, {kind: "ok"});
      selection = {all: false, ids: new Set()};
      load();
    } catch (e) {
      toastError(e);
    }
  }

  async function exportSelected() {
    let ids;
    if (selection.all) {
      const all = await api.get("/api/tasks", {project: project.id, page_size: 1000000, include: "id",
                                               query: JSON.stringify(queryBody())});
      ids = all.tasks.map((t) => t.id).filter((id) => !selection.ids.has(id));
    } else {
      ids = [...selection.ids];
    }
    sessionStorage.setItem(`labeldesk.export.${project.id}`, JSON.stringify(ids));
    go(`/projects/${project.id}/export`);
  }

  clear(body, h("tr", h("td", {colspan: 99}, loading())));
  await load();
  return () => clearTimeout(searchTimer);
}

function describeFilter(f) {
  const [, label] = (OPERATORS[f.type] || []).find(([v]) => v === f.operator) || [null, f.operator];
  return f.operator === "empty" ? `${f.label} is empty` : `${f.label} ${label} ${f.value}`;
}

function dataColumns(project, summary) {
  const fromConfig = Object.values(project.parsed_label_config || {})
    .flatMap((control) => (control.inputs || []).map((i) => i.value || i.valueList)).filter(Boolean);
  const fromData = Object.keys(summary.all_data_columns || {});
  return [...new Set([...fromConfig, ...fromData])].filter((c) => c !== "$undefined$").slice(0, 6);
}

function cell(value) {
  if (value === undefined || value === null) return h("span.faint", "—");
  if (typeof value === "string") {
    if (MEDIA.test(value) && (value.startsWith("/") || value.startsWith("data:"))) {
      return h("img.thumb", {src: value, alt: "", loading: "lazy"});
    }
    return value.length > 200 ? `${value.slice(0, 200)}…` : value;
  }
  return JSON.stringify(value).slice(0, 200);
}
