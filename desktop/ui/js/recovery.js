// The recovery window (desktop/shell/recovery.py): what is wrong with the data, and repair or a
// backup. Everything shown comes from Python and is set as text (textContent), never as HTML.
const $ = (id) => document.getElementById(id);
const api = () => window.pywebview.api;
const BUTTONS = ["repair", "show-backups", "quit", "open", "quit-after"];

function busy(on) {
  $("working").hidden = !on;
  for (const id of BUTTONS) $(id).disabled = on;
  for (const button of document.querySelectorAll("#backup-rows button")) {
    button.disabled = on || button.dataset.damaged === "1";
  }
}

function fail(message) {
  $("failure").textContent = message;
  $("failure").hidden = false;
}

function done(title, lines) {
  $("title").textContent = title;
  $("problem").hidden = true;
  $("unchanged").hidden = true;
  $("actions").hidden = true;
  $("backups").hidden = true;
  $("failure").hidden = true;
  $("report").textContent = lines.join("\n");
  $("done").hidden = false;
  $("open").focus();
}

async function load() {
  const problem = await api().problem();
  $("folder").textContent = problem.data_dir;
  if (problem.newer) {  // not damage: repairing or restoring would only lose the newer data
    $("title").textContent = "This data needs a newer LabelDesk";
    $("problem").textContent = `The file ${problem.path} was ${problem.reason}`;
    $("repair").hidden = true;
    $("show-backups").hidden = true;
    return;
  }
  $("problem").textContent = `The file ${problem.path} is damaged: ${problem.reason}`;
}

async function repair() {
  busy(true);
  let answer;
  try {
    answer = await api().repair();
  } finally {
    busy(false);
  }
  if (answer.ok) return done("The data was repaired", answer.lines);
  fail(answer.message);
  if (answer.cannot_repair) {
    $("repair").disabled = true;
    $("repair").classList.remove("btn-primary");
    $("failure").textContent += "\nThe repair can't help here: restore a backup instead.";
    await showBackups();
  }
}

function cell(row, value, className) {
  const td = row.insertCell();
  td.textContent = value === null || value === undefined ? "?" : String(value);
  if (className) td.className = className;
  return td;
}

async function showBackups() {
  const found = await api().backups();
  const rows = $("backup-rows");
  rows.replaceChildren();
  $("backup-table").hidden = !found.length;
  $("no-backups").hidden = !!found.length;
  $("no-backups").textContent = `There are no backups in ${$("folder").textContent}/backups.`;
  for (const backup of found) {
    const row = rows.insertRow();
    cell(row, backup.when);
    cell(row, backup.kind);
    if (backup.damaged) {
      const td = cell(row, `damaged: ${backup.damaged}`);
      td.colSpan = 3;
    } else {
      cell(row, backup.projects, "num");
      cell(row, backup.tasks, "num");
      cell(row, backup.annotations, "num");
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm";
    button.textContent = "Restore";
    button.dataset.damaged = backup.damaged ? "1" : "0";
    button.disabled = !!backup.damaged;
    button.addEventListener("click", () => restore(backup.name));
    row.insertCell().append(button);
  }
  $("backups").hidden = false;
}

async function restore(name) {
  busy(true);
  let answer;
  try {
    answer = await api().restore(name);
  } finally {
    busy(false);
  }
  if (answer.ok) done("The backup was restored", answer.lines);
  else fail(answer.message);
}

$("repair").addEventListener("click", repair);
$("show-backups").addEventListener("click", showBackups);
async function openLabelDesk() {
  busy(true);
  $("working").textContent = "Opening LabelDesk…";
  const answer = await api().open_labeldesk().catch((e) => ({ok: false, message: String(e)}));
  if (answer.ok) return;  // the main window opens; this one closes
  busy(false);
  fail(answer.message);
}

$("open").addEventListener("click", openLabelDesk);
for (const id of ["quit", "quit-after"]) $(id).addEventListener("click", () => api().quit());

if (window.pywebview && window.pywebview.api && window.pywebview.api.problem) load();
else window.addEventListener("pywebviewready", load);
