// How far an import has got, while the web app waits for it. Label Studio 1.23.2's Import dialog
// shows an indeterminate bar while a file uploads and then only its busy Import button while
// the server makes the tasks: with a million tasks, seconds of no news. While one of the page's
// import requests (POST /api/projects/{id}/import or /reimport) is under way, a bar at the top
// of the window says what the server is doing (GET /api/ui/imports/progress): reading the file,
// checking its tasks (n of N, a measured bar), saving them. Text only (textContent).

const IMPORT = /^\/api\/projects\/(\d+)\/(import|reimport)$/;
const SHOW_AFTER_MS = 300;  // a small import is done before anything shows
const POLL_MS = 250;

const waiting = new Map();  // project id -> import requests under way
let bar = null;
let timer = null;

function importOf(method, url) {
  if (!/^POST$/i.test(method || "")) return null;
  try {
    const parsed = new URL(url, location.href);
    return parsed.origin === location.origin ? parsed.pathname.match(IMPORT)?.[1] ?? null : null;
  } catch {
    return null;
  }
}

function say(state) {
  const [text, meter] = bar.children;
  const number = (n) => Number(n).toLocaleString("en-US");
  if (state.phase === "checking" && state.total) {
    text.textContent = `Importing: checking tasks, ${number(state.done)} of ${number(state.total)}`;
    meter.max = state.total;
    meter.value = state.done;
  } else if (state.phase === "saving") {
    text.textContent = `Importing: saving ${number(state.total)} tasks`;
    meter.max = 1;
    meter.value = 1;
  } else {
    text.textContent = "Importing: reading the file";
    meter.removeAttribute("value");  // indeterminate
  }
  bar.dataset.phase = state.phase || "reading";
}

async function poll(fetcher) {
  const project = [...waiting.keys()].at(-1);
  if (project === undefined) return;
  try {
    const response = await fetcher(`/api/ui/imports/progress?project=${project}`,
      {credentials: "same-origin", headers: {Accept: "application/json"}});
    const state = response.ok ? await response.json() : null;
    if (bar && state?.importing) say(state);
  } catch { /* the next poll tells */ }
}

function started(project, fetcher) {
  waiting.set(project, (waiting.get(project) || 0) + 1);
  if (timer) return;
  timer = setTimeout(function tick() {
    if (!bar) {
      bar = document.createElement("div");
      bar.className = "labeldesk-import-progress";
      bar.setAttribute("role", "status");
      bar.append(document.createElement("span"), document.createElement("progress"));
      say({phase: "reading"});
      document.body.append(bar);
    }
    poll(fetcher);
    timer = setTimeout(tick, POLL_MS);
  }, SHOW_AFTER_MS);
}

function finished(project) {
  const left = (waiting.get(project) || 1) - 1;
  if (left) waiting.set(project, left); else waiting.delete(project);
  if (waiting.size) return;
  clearTimeout(timer);
  timer = null;
  bar?.remove();
  bar = null;
}

/** Follows the page's import requests, by fetch or XMLHttpRequest. */
export function installImportProgress() {
  const fetcher = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const method = init.method || (input instanceof Request ? input.method : "GET");
    const project = importOf(method, input instanceof Request ? input.url : String(input));
    if (project === null) return fetcher(input, init);
    started(project, fetcher);
    const answer = fetcher(input, init);
    answer.then(() => finished(project), () => finished(project));
    return answer;
  };
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.labeldeskImport = importOf(method, url);
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    const project = this.labeldeskImport;
    if (project !== null && project !== undefined) {
      started(project, fetcher);
      this.addEventListener("loadend", () => finished(project), {once: true});
    }
    return send.call(this, body);
  };
}
