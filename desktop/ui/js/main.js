// LabelDesk's own pages at /desktop (Label Studio's web app is the rest of the UI, at /): the
// session, sidebar, top bar and a hash router over the views in views/: Project files, Team
// server (push and pull), Settings (data folder, token, sign-in), Backups, Trash, Assistants.
import * as api from "./api.js";
import {clear, h, icon, loading, toastError, closeMenu} from "./dom.js";

const ROUTES = [
  [/^\/projects\/?$/, "projects"],
  [/^\/team$/, "team"],
  [/^\/settings$/, "settings"],
  [/^\/backups$/, "settings"],  // the web app's menu: Settings, scrolled to its Backups panel
  [/^\/trash$/, "trash"],
  [/^\/assistants$/, "assistants"],
];

const content = document.getElementById("content");
const topbar = document.getElementById("topbar");
export const app = {session: null, version: ""};
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
           icon(iconName), h("span", label));
}

function renderNav(view) {
  const backups = location.hash.startsWith("#/backups");
  clear(document.getElementById("nav"),
        navLink("/projects", "table", "Projects", false),
        navLink("#/projects", "folder", "Project files", view === "projects"),
        navLink("#/team", "upload", "Team server", view === "team"),
        navLink("#/assistants", "star", "Assistants", view === "assistants"),
        navLink("#/settings", "settings", "Settings", view === "settings" && !backups),
        navLink("#/backups", "refresh", "Backups", backups),
        navLink("#/trash", "trash", "Trash", view === "trash"));
  clear(document.getElementById("nav-bottom"), h("div.version", `LabelDesk ${app.version}`));
}

async function route() {
  const mine = ++generation;
  closeMenu();
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const {path, query} = parseHash();
  const view = ROUTES.find(([pattern]) => pattern.test(path))?.[1];
  if (!view) {
    // an old address of a screen the web app now has (#/projects/3/label, …): the web app's
    const project = path.match(/^\/projects\/(\d+)/);
    location.replace(project ? `/projects/${project[1]}/data` : "#/projects");
    return;
  }
  content.className = "content";
  clear(content, loading());
  renderNav(view);
  const module = await import(`./views/${view}.js`);
  if (mine !== generation) return;
  try {
    cleanup = await module.render({content, query, stale: () => mine !== generation}) || null;
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
