// The app shell: session, sidebar, top bar and a hash router over the views in views/.
import * as api from "./api.js";
import {clear, h, icon, loading, toastError, closeMenu} from "./dom.js";

const ROUTES = [
  [/^\/projects\/?$/, "projects"],
  [/^\/projects\/new$/, "create"],
  [/^\/projects\/(\d+)(?:\/data)?$/, "data"],
  [/^\/projects\/(\d+)\/label$/, "label"],
  [/^\/projects\/(\d+)\/import$/, "import"],
  [/^\/projects\/(\d+)\/export$/, "export"],
  [/^\/projects\/(\d+)\/settings$/, "project-settings"],
  [/^\/settings$/, "settings"],
  [/^\/backups$/, "settings"],  // the web app's menu: Settings, scrolled to its Backups panel
];

const content = document.getElementById("content");
const topbar = document.getElementById("topbar");
export const app = {session: null, project: null, version: ""};
let cleanup = null;
let generation = 0;

function parseHash() {
  const [path, search] = (location.hash.slice(1) || "/projects").split("?");
  return {path, query: new URLSearchParams(search || "")};
}

export function go(path) {
  if (location.hash.slice(1) === path) route();
  else location.hash = path;
}

/** The top bar: breadcrumbs (the last one is "here") and action buttons. */
export function setTopbar(crumbs, actions = []) {
  const trail = h("div.crumbs");
  crumbs.forEach((crumb, i) => {
    if (i) trail.append(h("span.sep", "/"));
    trail.append(i === crumbs.length - 1 || !crumb.href
      ? h("span.here", {title: crumb.label}, crumb.label)
      : h("a", {href: crumb.href}, crumb.label));
  });
  clear(topbar, trail, h("div.actions", actions));
  document.title = crumbs.length ? `${crumbs[crumbs.length - 1].label} · LabelDesk` : "LabelDesk";
}

function navLink(href, iconName, label, active) {
  return h("a", {href, class: active ? "active" : "", "aria-current": active ? "page" : null},
           icon(iconName), label);
}

function renderNav(view, project) {
  const nav = document.getElementById("nav");
  clear(nav, navLink("#/projects", "grid", "Projects", view === "projects" || view === "create"));
  if (project) {
    const base = `#/projects/${project.id}`;
    nav.append(h("div.nav-section", {title: project.title}, project.title || "Untitled"),
      navLink(`${base}/data`, "table", "Data", view === "data"),
      navLink(`${base}/label`, "tag", "Label", view === "label"),
      navLink(`${base}/import`, "upload", "Import", view === "import"),
      navLink(`${base}/export`, "download", "Export", view === "export"),
      navLink(`${base}/settings`, "edit", "Project settings", view === "project-settings"));
  }
  clear(document.getElementById("nav-bottom"),
        navLink("#/settings", "settings", "Settings", view === "settings"),
        h("div.version", `LabelDesk ${app.version}`));
}

export async function loadProject(id, fresh = false) {
  if (!fresh && app.project && app.project.id === id) return app.project;
  app.project = await api.get(`/api/projects/${id}`);
  return app.project;
}

export function projectChanged(project) {
  app.project = project;
  renderNav(currentView, project);
}

let currentView = null;

async function route() {
  const mine = ++generation;
  closeMenu();
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const {path, query} = parseHash();
  let view = null, params = [];
  for (const [pattern, name] of ROUTES) {
    const match = path.match(pattern);
    if (match) { view = name; params = match.slice(1).map(Number); break; }
  }
  if (!view) { location.replace("#/projects"); return; }
  currentView = view;
  content.className = "content";
  clear(content, loading());
  let project = null;
  try {
    if (params.length) project = await loadProject(params[0], view === "data" || view === "label");
    else app.project = null;
  } catch (e) {
    if (mine !== generation) return;
    renderNav(view, null);
    setTopbar([{label: "Projects", href: "#/projects"}, {label: "Not found"}]);
    clear(content, h("div.empty", h("h2", "This project doesn't exist"),
                     h("p", e.message), h("a.btn", {href: "#/projects"}, "Back to projects")));
    return;
  }
  if (mine !== generation) return;
  renderNav(view, project);
  const module = await import(`./views/${view}.js`);
  if (mine !== generation) return;
  try {
    cleanup = await module.render({content, query, project, params,
                                   stale: () => mine !== generation}) || null;
  } catch (e) {
    console.error(e);
    if (mine === generation) clear(content, h("div.empty", h("h2", "Something went wrong"), h("p", e.message)));
    toastError(e);
  }
  if (mine === generation && !content.contains(document.activeElement)) content.focus({preventScroll: true});
}

/** What the user must know while LabelDesk runs (a read-only data folder, data files that were
 * deleted under the running app and written again): a bar above the page that stays. */
function showWarnings(warnings) {
  if (!warnings.length) return;
  const bar = h("div.warnings", {role: "alert"}, ...warnings.map((text) => h("p", text)));
  content.parentElement.insertBefore(bar, content);
}

async function start() {
  try {
    app.session = await api.get("/api/ui/session");
  } catch (e) {
    clear(content, h("div.empty", h("h2", "LabelDesk is not answering"), h("p", e.message)));
    return;
  }
  api.setCsrf(app.session.csrf_token);
  app.version = app.session.version;
  showWarnings(app.session.warnings || []);
  window.addEventListener("hashchange", route);
  route();
}

start();
