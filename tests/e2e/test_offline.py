"""The whole flow with no network: start, import, turn on every built-in assistant that fits
(their worker process scans, learns from the submit, predicts; OCR, named entities and
click-to-mask on projects of their own), label in the UI (Label Studio's web app), export,
in a network namespace whose only interface is loopback. `labeldesk serve` runs under
`strace -f -e trace=connect,bind` (the worker too: -f), and every connection they attempted
must be to loopback (or a local socket).

Needs root (ip netns), strace and the UI tools (scripts/setup.d/10-desktop-deps.sh); in CI a
missing piece fails the test, elsewhere it skips.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from paths import ROOT
from uihelp import IN_CI, require_tools

pytestmark = pytest.mark.timeout(260)

DRIVER = r"""
import json, re, subprocess, sys, time, urllib.request
sys.path[:0] = sys.argv[3].split(":")  # tests/helpers, and tests/ for the conftest it uses
from uihelp import CHROMIUM, CHROMIUM_ARGS

data, trace = sys.argv[1], sys.argv[2]
server = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=connect,bind", "-o", trace,
                           sys.executable, "-m", "desktop", "serve", "--data-dir", data,
                           "--port", "0", "--print-token"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
url = token = ui = None
deadline = time.time() + 60
while time.time() < deadline and not (url and token and ui):
    line = server.stdout.readline()
    if not line:
        break
    url = url or (re.search(r"serving (http://\S+)", line) or [None, None])[1]
    ui = ui or (re.search(r"in a browser: (http://\S+)/", line) or [None, None])[1]
    token = token or (re.search(r"API token: (\S+)", line) or [None, None])[1]
assert url and token and ui, "labeldesk serve did not start"

def api(method, path, body=None, raw=False):
    request = urllib.request.Request(url + path, method=method, headers={
        "Authorization": "Token " + token, "Content-Type": "application/json"},
        data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
    return data if raw else json.loads(data or b"null")

config = '''<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
</View>'''
project = api("POST", "/api/projects", {"title": "Offline", "label_config": config})["id"]
api("POST", f"/api/projects/{project}/import", [{"text": "offline one"}, {"text": "two"}])
# the built-in assistants: their worker starts, indexes and scans, on loopback only
enabled = [item["name"] for item in api("GET", f"/api/assistants?project={project}")
           if item["installed"] and item["fits"] and item["name"] != "duplicates"]
for name in enabled:
    api("POST", f"/api/assistants/{name}/enable", {"project": project})
scan = api("POST", "/api/assistants/duplicates/enable", {"project": project})["job"]
while api("GET", scan["url"])["status"] in ("queued", "running"):
    time.sleep(0.1)

from playwright.sync_api import sync_playwright
foreign = []
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page()
    page.set_default_timeout(20000)
    def route(r):
        if not r.request.url.startswith((url, ui, "data:", "blob:")):
            foreign.append(r.request.url)
        r.continue_()
    page.route("**/*", route)
    page.goto(url + "/")
    page.wait_for_selector("#token", state="visible")
    page.fill("#token", token)
    page.press("#token", "Enter")
    page.wait_for_selector(".lsf-menu-header")
    # signed in on the UI's own host: the first task in the web app's labeling view
    first = api("GET", f"/api/tasks?project={project}")["tasks"][0]["id"]
    page.goto(f"{ui}/projects/{project}/data?task={first}")
    page.locator(".lsf-choice", has_text="Pos").first.click()
    page.get_by_role("button", name="Submit").click()
    deadline = time.time() + 20
    while time.time() < deadline and not api("GET", f"/api/projects/{project}")[
            "total_annotations_number"]:
        time.sleep(0.2)
    browser.close()

exported = json.loads(api("GET", f"/api/projects/{project}/export?exportType=JSON", raw=True))
for name in enabled:  # and predict every task
    job = api("POST", f"/api/assistants/{name}/predict", {"project": project})
    while api("GET", job["url"])["status"] in ("queued", "running"):
        time.sleep(0.1)
predictions = api("GET", f"/api/projects/{project}")["total_predictions_number"]
deadline = time.time() + 20
while time.time() < deadline:  # the submit reaches teach mode's model through its webhook
    assistants = api("GET", f"/api/assistants?project={project}")
    if next(a for a in assistants if a["name"] == "teach").get("stats", {}).get("labels_seen"):
        break
    time.sleep(0.2)
# the model assistants too (OCR, named entities, click-to-mask), through the worker on inputs
# the tests render (as data: URIs, which the worker decodes): predict all, and for
# click-to-mask a smart box through the editor's interactive route
import base64, tempfile
import assistanthelp as h
def data_uri(path):
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode()
inputs = tempfile.mkdtemp()
h.render_page(inputs + "/page.png")
truths = h.render_scene(inputs + "/scene.png")
models = {}
for name, config, data in (
        ("ocr", h.OCR_CONFIG, {"ocr": data_uri(inputs + "/page.png")}),
        ("entities", h.NER_CONFIG, {"text": h.entity_text()[0]}),
        ("mask", h.BRUSH_CONFIG, {"image": data_uri(inputs + "/scene.png")})):
    pid = api("POST", "/api/projects", {"title": name, "label_config": config})["id"]
    api("POST", f"/api/projects/{pid}/import", [data])
    backend = api("POST", f"/api/assistants/{name}/enable", {"project": pid})["ml_backend"]
    job = api("POST", f"/api/assistants/{name}/predict", {"project": pid})
    while api("GET", job["url"])["status"] in ("queued", "running"):
        time.sleep(0.1)
    task = api("GET", f"/api/tasks?project={pid}")["tasks"][0]["id"]
    found = api("GET", f"/api/tasks/{task}")["predictions"]
    models[name] = len(found[0]["result"]) if found else 0
    if name == "mask":  # predict all has nothing to start from: a smart box does
        api("PATCH", f"/api/ml/{backend}", {"is_interactive": True})
        context = h.smart_box(h.box_around(truths["Star"]), 640, 480, "Star")
        answer = api("POST", f"/api/ml/{backend}/interactive-annotating",
                     {"task": task, "context": context})
        models[name] = len(answer["data"]["result"])
# stop the app itself (SIGTERM to strace would only detach it): strace's child is the app
import os, signal
with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
    app_pid = int(f.read().split()[0])
os.kill(app_pid, signal.SIGTERM)
rest = server.communicate(timeout=30)[0]
print(json.dumps({"exported": exported, "foreign": foreign, "returncode": server.returncode,
                  "assistants": assistants, "predictions": predictions, "models": models,
                  "log": rest[-2000:]}))
"""


def need(condition, message):
    if condition:
        return
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def namespace():
    need(os.geteuid() == 0, "needs root for `ip netns`")
    need(shutil.which("ip") and shutil.which("strace"),
         "needs ip (iproute2) and strace (scripts/setup.d/10-desktop-deps.sh)")
    name = f"labeldesk-offline-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.fail(f"ip netns add failed: {made.stderr}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
                       check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_end_to_end_flow_offline_makes_no_outbound_connection(namespace, tmp_path):
    require_tools()
    routes = subprocess.run(["ip", "netns", "exec", namespace, "ip", "-o", "route", "show"],
                            capture_output=True, text=True).stdout
    assert "default" not in routes, routes  # no route out of this namespace
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    trace = tmp_path / "connect.trace"
    result = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, str(driver), str(tmp_path / "data"),
         str(trace), f"{ROOT}/tests/helpers:{ROOT}/tests"],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    import json
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["returncode"] == 0, outcome["log"]
    [task] = outcome["exported"]  # only the labeled task (LS's default)
    assert task["data"]["text"] == "offline one"
    assert task["annotations"][0]["result"][0]["value"]["choices"] == ["Pos"]
    assert not outcome["foreign"], outcome["foreign"]
    # every installed assistant that fits ran in the worker (traced too: strace -f)
    assistants = {a["name"]: a for a in outcome["assistants"]}
    assert assistants["teach"]["enabled"] and assistants["teach"]["stats"]["labels_seen"] == 1
    assert assistants["duplicates"]["enabled"] and assistants["duplicates"]["scan"]
    assert outcome["predictions"] == 2  # one per task
    # and the three with models, each on its own project: OCR's lines, spaCy's entities, the
    # object GrabCut cut out of a smart box
    assert outcome["models"]["ocr"] > 30, outcome["models"]
    assert outcome["models"]["entities"] >= 10, outcome["models"]
    assert outcome["models"]["mask"] == 1, outcome["models"]

    traced = trace.read_text().splitlines()
    # the trace works: it saw the server bind its socket, on loopback
    assert any("bind(" in line and '"127.0.0.1"' in line for line in traced), traced[:20]
    attempts = [line for line in traced if "connect(" in line]
    outbound = []
    for line in attempts:
        if "AF_UNIX" in line or "AF_NETLINK" in line:
            continue
        address = re.search(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', line)
        host = address and (address.group(1) or address.group(2))
        if host not in ("127.0.0.1", "::1"):
            outbound.append(line)
    print(f"\noffline: {len(attempts)} connect() calls by the server, "
          f"{len(outbound)} not to loopback")
    assert not outbound, outbound
