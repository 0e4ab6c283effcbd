// LabelDesk's place in Label Studio's web app: its own pages in the app's main menu (project
// files: open and save .zip, live export folders, imports of local files; the team server: push
// and pull; data folder and settings; backups; the trash; the built-in assistants of the project
// open), the API link pointing at this machine's API docs, and no links that leave the machine
// (Label Studio's docs, GitHub, Slack): LabelDesk works offline.
// The app renders its menu with React; this adjusts it whenever it is (re)drawn.

const OWN_ITEMS = [
  {href: "/desktop#/projects", label: "Project files", id: "labeldesk-projects"},
  {href: "/desktop#/team", label: "Team server", id: "labeldesk-team"},
  {href: "/desktop#/settings", label: "Data folder & settings", id: "labeldesk-settings"},
  {href: "/desktop#/backups", label: "Backups", id: "labeldesk-backups"},
  {href: "/desktop#/trash", label: "Trash", id: "labeldesk-trash"},
  // the project open in the web app, when there is one (/projects/<id>/...)
  {href: "/desktop#/assistants", label: "Assistants", id: "labeldesk-assistants", project: true},
];
const OFF_MACHINE = /^https?:\/\//i;

function adjustMenu(menu) {
  if (menu.dataset.labeldesk) return;
  menu.dataset.labeldesk = "1";
  const items = [...menu.querySelectorAll("a.lsf-main-menu__item")];
  for (const item of items) {
    const href = item.getAttribute("href") || "";
    if (item.textContent.trim() === "API") item.setAttribute("href", "/docs/api");
    else if (OFF_MACHINE.test(href)) item.style.display = "none";  // React still owns it
  }
  const anchor = items.find((item) => item.getAttribute("href") === "/organization");
  if (!anchor) return;
  let after = anchor;
  for (const own of OWN_ITEMS) {
    const link = anchor.cloneNode(true);
    link.id = own.id;
    link.classList.remove("lsf-main-menu__item_active");
    link.setAttribute("href", own.href);
    link.removeAttribute("aria-current");
    const icon = link.querySelector(".lsf-main-menu__item-icon");
    [...link.childNodes].forEach((node) => { if (node !== icon) node.remove(); });
    link.append(own.label);
    if (own.project) {
      link.addEventListener("click", () => {
        const open = location.pathname.match(/^\/projects\/(\d+)/);
        link.setAttribute("href", open ? `${own.href}?project=${open[1]}` : own.href);
      });
    }
    after.after(link);
    after = link;
  }
}

function adjustVersion(root) {
  for (const version of root.querySelectorAll("a.lsf-current-version:not([data-labeldesk])")) {
    version.dataset.labeldesk = "1";
    const desk = window.APP_SETTINGS?.labeldesk?.version;
    if (desk) version.textContent = `LabelDesk ${desk} · Label Studio ${version.textContent.trim()}`;
  }
}

export function installMenu() {
  const observer = new MutationObserver(() => {
    for (const menu of document.querySelectorAll(".lsf-main-menu")) adjustMenu(menu);
    adjustVersion(document);
  });
  observer.observe(document.documentElement, {childList: true, subtree: true});
}
