// Starts Label Studio's web app on LabelDesk (desktop/ui/app.html): runs before the app's own
// scripts (deferred after this module; deferred and module scripts run in document order), in
// place of the inline scripts of Label Studio's base.html, which LabelDesk's CSP doesn't allow.
//
// - window.APP_SETTINGS from the page's JSON data block (the user, flags, version);
// - no upsell tips (below);
// - the HTML sanitizer (DOMPurify, js/sanitize.js) as window.LabelDeskSanitize, which the
//   app's patched editor calls for every HTML it renders from task data or a config;
// - the session's CSRF token on every unsafe same-origin request the app makes (the app sends
//   none: Label Studio's API takes a Django session without one; LabelDesk's doesn't);
// - LabelDesk's pages in the app's menu (js/webapp-menu.js), and the count of what a bulk
//   delete takes, in its confirm dialog (js/webapp-actions.js);
// - links to Label Studio's sites ("Learn more") explained, not followed (js/webapp-links.js);
// - how far an import has got, while the app waits for it (js/webapp-import.js).
import DOMPurify from "/static/dompurify/purify.es.mjs";
import {installWith} from "./sanitize.js";
import {installActionCounts} from "./webapp-actions.js";
import {installHistory} from "./webapp-history.js";
import {installImportProgress} from "./webapp-import.js";
import {installLinks} from "./webapp-links.js";
import {installMenu} from "./webapp-menu.js";

const settings = JSON.parse(document.getElementById("app-settings").textContent);
const csrf = settings.labeldesk?.csrf_token || "";

function lookupHotkey(name) {
  const custom = settings.user?.customHotkeys || {};
  if (name in custom) {
    const value = custom[name];
    return value && value.active === false ? {...value, key: null} : value;
  }
  return window.DEFAULT_HOTKEYS && name in window.DEFAULT_HOTKEYS
    ? window.DEFAULT_HOTKEYS[name] : null;
}

window.APP_SETTINGS = {...settings, lookupHotkey};
window.exports = () => {};

// The app's "Heidi" tips sell Label Studio's paid editions and link off the machine. It shows
// the collection it last fetched (for an hour), else the one built in: an empty collection,
// fetched just now, is no tips.
try {
  localStorage.setItem("heidi_live_tips_collection", "{}");
  localStorage.setItem("heidi_live_tips_collection_fetched_at", String(Date.now()));
} catch { /* storage off: the built-in tips show, harmless */ }
installWith(DOMPurify);

// -- CSRF on the app's own requests -------------------------------------------------------
const UNSAFE = /^(POST|PUT|PATCH|DELETE)$/i;

function sameOrigin(url) {
  try { return new URL(url, location.href).origin === location.origin; } catch { return false; }
}

const nativeFetch = window.fetch.bind(window);
window.fetch = (input, init = {}) => {
  const method = init.method || (input instanceof Request ? input.method : "GET");
  const url = input instanceof Request ? input.url : String(input);
  if (csrf && UNSAFE.test(method) && sameOrigin(url)) {
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : {}));
    headers.set("X-CSRFToken", csrf);
    init = {...init, headers};
  }
  return nativeFetch(input, init);
};

const open = XMLHttpRequest.prototype.open;
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  this.labeldeskCsrf = UNSAFE.test(method) && sameOrigin(url);
  return open.call(this, method, url, ...rest);
};
XMLHttpRequest.prototype.send = function (body) {
  if (csrf && this.labeldeskCsrf) this.setRequestHeader("X-CSRFToken", csrf);
  return send.call(this, body);
};

installMenu();
installHistory();
installActionCounts();
installLinks();
installImportProgress();
