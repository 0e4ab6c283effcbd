// Small DOM helpers: an element builder, icons, toasts, menus and modal dialogs.

/** h("div.card#main", {onclick}, child, ...): an element; strings become text nodes. */
export function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || "div");
  for (const part of rest) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "class") el.className = [el.className, value].filter(Boolean).join(" ");
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key === "html") el.innerHTML = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const ICONS = {
  folder: "M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z",
  table: "M4 5h16v14H4zM4 10h16M4 15h16M10 5v14",
  tag: "M3 12V4h8l10 10-8 8zM7.5 7.5h.01",
  upload: "M12 16V4M7 9l5-5 5 5M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3",
  download: "M12 4v12M7 11l5 5 5-5M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3",
  settings: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z",
  plus: "M12 5v14M5 12h14",
  trash: "M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3",
  copy: "M9 9h10v10H9zM5 15V5h10",
  edit: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4",
  more: "M5 12h.01M12 12h.01M19 12h.01",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4",
  filter: "M4 5h16l-6 8v6l-4-2v-4z",
  next: "M5 12h14M13 6l6 6-6 6",
  prev: "M19 12H5M11 6l-6 6 6 6",
  grid: "M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z",
  image: "M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15 9h.01",
  text: "M5 6h14M5 10h14M5 14h9M5 18h11",
  audio: "M4 10v4M8 7v10M12 4v16M16 8v8M20 11v2",
  chart: "M4 19h16M5 15l4-5 4 3 6-8",
  star: "M12 4l2.4 5 5.6.8-4 3.9 1 5.5-5-2.7-5 2.7 1-5.5-4-3.9 5.6-.8z",
  box: "M5 5h14v14H5z",
  polygon: "M12 3l8 6-3 10H7L4 9z",
  point: "M12 12h.01M6 6h.01M18 8h.01M8 18h.01M17 17h.01",
  brush: "M18 3l3 3-9 9-3-3zM9 12c-3 0-4 2-4 4s-1 3-2 3c2 1 6 1 8-1 1-1 1-3 1-3",
  link: "M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1",
  file: "M6 3h8l4 4v14H6zM14 3v4h4",
  key: "M15 7a4 4 0 1 1-3.9 5H8v3H5v-3H3v-3h8.1A4 4 0 0 1 15 7z",
  check: "M5 12l5 5 9-10",
  x: "M6 6l12 12M18 6L6 18",
  open: "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5",
  refresh: "M20 11a8 8 0 0 0-14-5l-2 2M4 4v4h4M4 13a8 8 0 0 0 14 5l2-2M20 20v-4h-4",
  skip: "M5 5l8 7-8 7zM17 5v14",
};

export function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.8");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name] || ICONS.file);
  svg.append(path);
  return svg;
}

// -- toasts -------------------------------------------------------------------------------

export function toast(message, {kind = "", action, timeout = 4500} = {}) {
  const box = document.getElementById("toasts");
  const el = h("div.toast", {class: kind, role: kind === "error" ? "alert" : "status"}, message);
  if (action) {
    el.append(h("button", {onclick: () => { action.run(); el.remove(); }}, action.label));
  }
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? Math.max(timeout, 8000) : timeout);
  return el;
}

export const toastError = (error) => toast(error.message || String(error), {kind: "error"});

// -- menus --------------------------------------------------------------------------------

let openMenu = null;

export function closeMenu() {
  if (openMenu) { openMenu.remove(); openMenu = null; }
}

/** A popup menu next to `anchor`; items are {label, icon, danger, run} or "-". */
export function menu(anchor, items) {
  closeMenu();
  const el = h("div.menu", {role: "menu"});
  for (const item of items) {
    if (item === "-") { el.append(h("hr")); continue; }
    el.append(h("button", {role: "menuitem", class: item.danger ? "danger" : "",
                           onclick: (e) => { e.stopPropagation(); closeMenu(); item.run(); }},
                item.icon ? icon(item.icon) : null, item.label));
  }
  document.body.append(el);
  const r = anchor.getBoundingClientRect();
  const left = Math.min(r.right - el.offsetWidth, innerWidth - el.offsetWidth - 8);
  el.style.left = `${Math.max(8, left)}px`;
  el.style.top = `${Math.min(r.bottom + 4, innerHeight - el.offsetHeight - 8)}px`;
  openMenu = el;
  el.querySelector("button")?.focus();
  el.addEventListener("keydown", (e) => {
    const buttons = [...el.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === "ArrowDown") { buttons[(i + 1) % buttons.length].focus(); e.preventDefault(); }
    if (e.key === "ArrowUp") { buttons[(i - 1 + buttons.length) % buttons.length].focus(); e.preventDefault(); }
    if (e.key === "Escape") { closeMenu(); anchor.focus(); }
  });
}

document.addEventListener("click", (e) => { if (openMenu && !openMenu.contains(e.target)) closeMenu(); });

// -- modals -------------------------------------------------------------------------------

/** Show a modal; `build(close)` returns {title, text, body, buttons}. Resolves with close(value). */
export function modal(build, {wide = false} = {}) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const backdrop = h("div.modal-backdrop");
    const close = (value) => {
      backdrop.remove();
      document.removeEventListener("keydown", onKey, true);
      previous?.focus?.();
      resolve(value);
    };
    const spec = build(close);
    const box = h("div.modal", {role: "dialog", "aria-modal": "true", class: wide ? "modal-wide" : ""},
      h("header", h("h2", spec.title), spec.text ? h("p", spec.text) : null),
      spec.body ? h("div.modal-body", spec.body) : null,
      h("footer", spec.buttons));
    backdrop.append(box);
    backdrop.addEventListener("mousedown", (e) => { if (e.target === backdrop) close(undefined); });
    function onKey(e) {
      if (e.key === "Escape") { e.stopPropagation(); close(undefined); }
      if (e.key === "Tab") {  // keep focus inside the dialog
        const items = [...box.querySelectorAll("button, input, select, textarea, a[href]")]
          .filter((x) => !x.disabled);
        if (!items.length) return;
        const first = items[0], last = items[items.length - 1];
        if (e.shiftKey && document.activeElement === first) { last.focus(); e.preventDefault(); }
        else if (!e.shiftKey && document.activeElement === last) { first.focus(); e.preventDefault(); }
      }
    }
    document.addEventListener("keydown", onKey, true);
    document.body.append(backdrop);
    (box.querySelector("[autofocus]") || box.querySelector("input, textarea, select")
      || box.querySelector("footer .btn-primary, footer .btn-danger"))?.focus();
  });
}

export function confirmDialog({title, text, confirm = "OK", danger = false}) {
  return modal((close) => ({
    title, text,
    buttons: [h("button.btn", {onclick: () => close(false)}, "Cancel"),
              h("button.btn", {class: danger ? "btn-danger" : "btn-primary",
                                onclick: () => close(true)}, confirm)],
  })).then(Boolean);
}

/** Ask for one line of text; `validate(value)` returns an error message or "". */
export function promptDialog({title, text, label, value = "", confirm = "Save", validate, type = "text"}) {
  return modal((close) => {
    const input = h("input", {type, value, autofocus: true, spellcheck: false});
    const error = h("p.form-error", {hidden: true});
    const submit = async (e) => {
      e?.preventDefault();
      const v = input.value.trim();
      const problem = validate ? await validate(v) : "";
      if (problem) { error.textContent = problem; error.hidden = false; input.focus(); return; }
      close(v);
    };
    const form = h("form", {onsubmit: submit}, h("label.field", h("span", label), input), error);
    setTimeout(() => input.select());
    return {title, text, body: form,
            buttons: [h("button.btn", {onclick: () => close(undefined)}, "Cancel"),
                      h("button.btn.btn-primary", {onclick: submit}, confirm)]};
  });
}

export function loading(text = "Loading…") {
  return h("div.loading", h("span.spinner"), text);
}

export function emptyState({art = "folder", title, text, actions = []}) {
  return h("div.empty", h("div.art", icon(art)), h("h2", title), text ? h("p", text) : null,
           h("div.row", {style: {justifyContent: "center"}}, actions));
}

export function formatNumber(n) {
  return (n ?? 0).toLocaleString("en-US");
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function copyText(text) {
  const done = () => toast("Copied to the clipboard", {kind: "ok", timeout: 2000});
  if (navigator.clipboard?.writeText) {
    return navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
  }
  fallbackCopy(text, done);
}

function fallbackCopy(text, done) {
  const area = h("textarea", {style: {position: "fixed", opacity: "0"}});
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
  done();
}


/** A file the user picks in the browser's own file dialog (the window uses its native one):
 * resolves to the File, or null when the dialog is cancelled. `id`: the hidden input's id. */
export function pickFile(accept, id) {
  return new Promise((resolve) => {
    const input = h(`input#${id}`, {type: "file", accept, style: {display: "none"}});
    input.addEventListener("change", () => {
      const f = input.files[0];
      input.remove();
      resolve(f || null);
    });
    input.addEventListener("cancel", () => { input.remove(); resolve(null); });
    document.body.append(input);
    input.click();
  });
}
