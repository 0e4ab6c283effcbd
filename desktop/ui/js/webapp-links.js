// Label Studio's web app links to Label Studio's sites in many places ("Learn more" beside the
// regions list, a storage form, the export dialog, an error message's Slack link, upgrade
// prompts). LabelDesk works offline and sends nobody off the machine by itself: a click on such
// a link shows what it is instead, with the address to copy and a button that opens it in the
// system's browser for someone who is online (in the window, a clicked link opens there; see
// desktop/shell/window.py's navigation lock). The API reference opens this machine's API docs.

const ONLINE_HOSTS = /(^|\.)(labelstud\.io|humansignal\.com|heartex\.com|heartex\.ai)$/i;
const API_REFERENCE = /^api\.labelstud\.io$/i;
const OURS = "data-labeldesk-online";  // the notice's own link, let through

function onlineUrl(href) {
  let url;
  try { url = new URL(href, location.href); } catch { return null; }
  if (!/^https?:$/.test(url.protocol) || url.origin === location.origin) return null;
  return ONLINE_HOSTS.test(url.hostname) ? url : null;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function notice(url) {
  document.getElementById("labeldesk-online")?.remove();
  const dialog = element("dialog", "labeldesk-online");
  dialog.id = "labeldesk-online";
  dialog.setAttribute("aria-labelledby", "labeldesk-online-title");
  const title = element("h2", "labeldesk-online__title", "This page is on the internet");
  title.id = "labeldesk-online-title";
  const text = element("p", "labeldesk-online__text",
                       `The link leads to Label Studio's own site (${url.hostname}). LabelDesk ` +
                       "works offline and opens nothing on the internet by itself.");
  const address = element("code", "labeldesk-online__address", url.href);
  const buttons = element("div", "labeldesk-online__buttons");
  const openIt = element("a", "labeldesk-online__button", "Open in browser");
  openIt.href = url.href;
  openIt.target = "_blank";
  openIt.rel = "noopener noreferrer";
  openIt.setAttribute(OURS, "");
  openIt.addEventListener("click", () => dialog.close());
  const copy = element("button", "labeldesk-online__button", "Copy address");
  copy.type = "button";
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url.href);
      copy.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(address);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      copy.textContent = "Selected: press Ctrl+C";
    }
  });
  const close = element("button", "labeldesk-online__button labeldesk-online__button_primary",
                        "Close");
  close.type = "button";
  close.addEventListener("click", () => dialog.close());
  buttons.append(openIt, copy, close);
  dialog.append(title, text, address, buttons);
  dialog.addEventListener("close", () => dialog.remove());
  // Escape closes it even when it opened without a click (Chromium then skips "cancel")
  dialog.addEventListener("keydown", (event) => { if (event.key === "Escape") dialog.close(); });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

function follow(url) {
  if (API_REFERENCE.test(url.hostname)) location.assign("/docs/api");  // as the menu's "API"
  else notice(url);
}

function onClick(event) {
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!link || link.hasAttribute(OURS)) return;
  const url = onlineUrl(link.getAttribute("href"));
  if (!url) return;
  event.preventDefault();
  event.stopPropagation();
  if (event.type === "click") follow(url);
}

export function installLinks() {
  // capture: before the app's own handlers (React listens on its root), middle clicks too
  document.addEventListener("click", onClick, true);
  document.addEventListener("auxclick", onClick, true);
  const nativeOpen = window.open.bind(window);
  window.open = (href, ...rest) => {
    const url = href == null ? null : onlineUrl(String(href));
    if (!url) return nativeOpen(href, ...rest);
    follow(url);
    return null;
  };
}
