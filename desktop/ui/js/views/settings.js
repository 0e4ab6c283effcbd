// App settings: the API address and tokens for scripts, authentication, the data folder.
import * as api from "../api.js";
import {setTopbar, app} from "../main.js";
import {h, clear, icon, modal, confirmDialog, promptDialog, toast, toastError, copyText} from "../dom.js";
import {whenReady} from "../desktop.js";
import {backupsPanel} from "./backups.js";

const SOURCES = {
  "--data-dir": "Chosen with --data-dir for this run.",
  LABELDESK_DATA_DIR: "Chosen by the LABELDESK_DATA_DIR environment variable.",
};

export async function render({content, stale}) {
  setTopbar([{label: "Settings"}]);
  const desktop = await whenReady();  // the window's token comes from its native side
  const settings = await api.get("/api/ui/settings");
  let auth = settings.auth;
  // A browser session is never given the API token (a cookie that leaked must not outlive its
  // session): the window's native side hands it over; a browser shows it only with the token
  // check off, and asks for it (the user signed in with it) before what needs it.
  const shown = desktop ? await desktop.api_token()
    : auth ? null : await api.get("/api/current-user/token");
  if (stale()) return;

  const tokenField = h("input#api-token", {type: "password", value: shown?.token || "", readonly: true, "aria-label": "API token"});
  const reveal = h("button.btn.btn-sm", {onclick: () => {
    const hidden = tokenField.type === "password";
    tokenField.type = hidden ? "text" : "password";
    reveal.textContent = hidden ? "Hide" : "Show";
  }}, "Show");
  const authToggle = h("input#auth-toggle", {type: "checkbox", checked: settings.auth, onchange: toggleAuth});

  const backups = backupsPanel({canRestore: settings.can_reopen});
  const trashDays = h("input#trash-days", {type: "number", min: "0", max: "3650", step: "1",
    value: String(settings.trash_days), "aria-label": "Days deleted items stay in the trash",
    style: {width: "90px"}, onchange: saveTrashDays});
  clear(content, h("div.page-narrow",
    h("div.page-head", h("div.grow", h("h1", "Settings"))),
    h("section.panel", {"aria-labelledby": "api-heading"},
      h("div.panel-head", h("div.grow", h("h2#api-heading", "API for scripts"),
        h("p.muted", "The Label Studio API: label-studio-sdk and curl work against this address."))),
      h("div.setting", h("div.text", h("h3", "API address"), h("p", h("code#api-url", settings.api_url))),
        h("button.btn.btn-sm", {onclick: () => copyText(settings.api_url)}, icon("copy"), "Copy")),
      h("div.setting", h("div.text", h("h3", "Access token"),
          h("p", "Send it as ", h("code", "Authorization: Token …"), ". Resetting it signs out other browsers and scripts.")),
        shown ? h("div.secret", {style: {width: "380px"}}, tokenField, reveal,
          h("button.btn.btn-sm", {onclick: () => copyText(tokenField.value)}, icon("copy"), "Copy"),
          h("button.btn.btn-sm", {onclick: resetToken}, "Reset"))
          : h("div.row", {style: {flexShrink: 0}},
            h("p.muted#api-token-hidden", "Not shown in a browser: ", h("code", "labeldesk user"), " prints it."),
            h("button.btn.btn-sm", {onclick: resetToken}, "Reset"))),
      h("div.setting", h("div.text", h("h3", "Personal access token"),
          h("p", "A long-lived token (JWT) for scripts, exchanged at /api/token/refresh, as in Label Studio.")),
        h("button.btn.btn-sm#create-pat", {onclick: createPat}, icon("key"), "Create token")),
      h("div.setting", h("div.text", h("h3", "Require a token"),
          h("p", "When off, any program on this computer can use the API without a token. The window is never affected.")),
        h("label.switch", authToggle, h("span.track"), h("span.sr", {hidden: true}, "Require a token")))),
    h("section.panel", {"aria-labelledby": "data-heading"},
      h("div.panel-head", h("div.grow", h("h2#data-heading", "Data"))),
      h("div.setting", h("div.text", h("h3", "Data folder"),
          h("p", h("code#data-dir", settings.data_dir)),
          h("p", SOURCES[settings.data_dir_source] || "Projects, tasks, annotations and uploaded files live here.")),
        h("div.row", {style: {flexShrink: 0}},
          desktop ? h("button.btn.btn-sm", {onclick: () => desktop.reveal()}, icon("open"), "Open folder") : null,
          h("button.btn.btn-sm#change-data-dir", {onclick: changeDataDir}, icon("folder"), "Change…"))),
      h("div.setting", h("div.text", h("h3", "Keep deleted items"),
          h("p", "Deleted projects, tasks and annotations stay in the ", h("a", {href: "#/trash"}, "Trash"),
            " this many days, with their files (0: deletes are final).")),
        h("div.row", {style: {flexShrink: 0}}, trashDays, h("span.muted", "days")))),
    backups,
    h("section.panel", h("div.panel-head", h("div.grow", h("h2", "About"))),
      h("div.setting", h("div.text", h("h3", `LabelDesk ${app.version}`),
        h("p", `Label Studio ${app.session.webapp_version} web app and API (Apache-2.0) · works offline`))))));
  // /desktop#/backups (the web app's menu item "Backups") is this page at its Backups panel
  if (location.hash.startsWith("#/backups")) backups.scrollIntoView({block: "start"});

  async function changeDataDir() {
    const path = desktop ? await desktop.choose_folder()
      : await promptDialog({title: "Use another data folder", confirm: "Continue",
          text: "The folder's full path. A folder without LabelDesk data in it starts empty.",
          label: "Folder", value: settings.data_dir,
          validate: (v) => (v && v !== settings.data_dir ? "" : "Enter another folder.")});
    if (!path || path === settings.data_dir) return;
    const reopen = settings.can_reopen;
    if (!(await confirmDialog({title: reopen ? "Reopen LabelDesk on this folder?" : "Use this folder from the next start?",
        confirm: reopen ? "Reopen" : "Use folder",
        text: `${path}\n\nThe projects in ${settings.data_dir} stay there; ` +
              (reopen ? "LabelDesk reopens on the new folder now, with the projects it holds." :
                        "LabelDesk opens the new folder the next time it starts.")}))) return;
    let answer;
    try {
      answer = await api.post("/api/ui/data-dir", {path});
    } catch (e) { toastError(e); return; }
    const note = answer.overridden_by ? ` (${answer.overridden_by} still chooses the folder when LabelDesk starts again.)` : "";
    if (answer.reopened) {
      toast(`Reopening LabelDesk on ${answer.data_dir}…${note}`, {kind: "ok"});
      // the new folder has its own user and sessions: sign in to it (a fresh page load)
      setTimeout(() => location.replace(answer.url ? answer.url.replace("#", `?reopened=${Date.now()}#`) : "/desktop"), 300);
    } else {
      toast(`LabelDesk will open ${answer.data_dir} the next time it starts.${note}`, {kind: "ok", timeout: 9000});
    }
  }

  /** The API token for a request that needs it; undefined when the user cancelled, null when
   *  none is needed (the token check is off). */
  async function apiToken() {
    if (desktop) return (await desktop.api_token()).token;
    if (!auth) return null;
    return promptDialog({title: "Confirm with your API token", confirm: "Continue", type: "password",
      text: "The token you signed in with (labeldesk user prints it). A browser session alone can't do this.",
      label: "API token", validate: (v) => (v ? "" : "Enter the token.")});
  }

  let savingDays = false;
  async function saveTrashDays() {
    if (savingDays) return;
    savingDays = true;
    try { await saveDays(); } finally { savingDays = false; }
  }

  async function saveDays() {
    const days = Number(trashDays.value);
    if (!/^\d+$/.test(trashDays.value.trim()) || days > 3650) {
      trashDays.value = String(settings.trash_days);
      toastError(new Error("A whole number of days from 0 to 3650."));
      return;
    }
    if (days < settings.trash_days && !(await confirmDialog({
        title: days ? `Keep deleted items ${days} days?` : "Turn the trash off?", danger: true,
        confirm: days ? "Keep them less" : "Turn off",
        text: (days ? `What has been in the trash longer than ${days} days` : "Everything in the trash") +
              " is removed for good now, with its files." + (days ? "" : " From now on, deletes are final.")}))) {
      trashDays.value = String(settings.trash_days);
      return;
    }
    try {
      const answer = await api.patch("/api/ui/settings", {trash_days: days});
      settings.trash_days = answer.trash_days;
      trashDays.value = String(answer.trash_days);
      toast(answer.trash_days ? `Deleted items stay in the trash ${answer.trash_days} days` : "The trash is off: deletes are final", {kind: "ok"});
    } catch (e) {
      trashDays.value = String(settings.trash_days);
      toastError(e);
    }
  }

  async function toggleAuth() {
    const wanted = authToggle.checked;
    if (!wanted && !(await confirmDialog({title: "Turn off the token check?", confirm: "Turn off",
        text: "Any program running on this computer will be able to read and change your projects through the API."}))) {
      authToggle.checked = true;
      return;
    }
    const token = wanted ? null : await apiToken();
    if (token === undefined) { authToggle.checked = true; return; }
    try {
      await api.request("PATCH", "/api/ui/settings", {json: {auth: wanted}, token});
      auth = wanted;
      toast(wanted ? "Scripts now need the token" : "Scripts can use the API without a token", {kind: "ok"});
    } catch (e) {
      authToggle.checked = !wanted;
      toastError(e);
    }
  }

  async function resetToken() {
    if (!(await confirmDialog({title: "Reset the access token?", confirm: "Reset token", danger: true,
        text: "Scripts using the current token stop working, and browsers signed in with it are signed out."}))) return;
    const current = await apiToken();
    if (current === undefined) return;
    let answer;
    try {
      answer = await api.request("POST", "/api/ui/reset-token", {token: current});
    } catch (e) { toastError(e); return; }
    if (answer.csrf_token) api.setCsrf(answer.csrf_token);
    if (shown) {
      tokenField.value = answer.token;
      toast("A new token was created", {kind: "ok"});
    } else {
      await showOnce("Your new API token", answer.token, "api-token-new");
    }
  }

  async function createPat() {
    const current = await apiToken();
    if (current === undefined) return;
    let token;
    try {
      token = (await api.request("POST", "/api/token", {token: current})).token;
    } catch (e) {
      toastError(e);
      return;
    }
    await showOnce("Your personal access token", token, "pat-value");
  }

  function showOnce(title, token, id) {
    return modal((close) => {
      const field = h(`textarea.code#${id}`, {rows: 5, readonly: true, style: {whiteSpace: "pre-wrap", wordBreak: "break-all"}});
      field.value = token;
      return {title, text: "Copy it now: it is shown only once.", body: field,
              buttons: [h("button.btn", {onclick: () => copyText(token)}, icon("copy"), "Copy"),
                        h("button.btn.btn-primary", {onclick: () => close()}, "Done")]};
    });
  }
}
