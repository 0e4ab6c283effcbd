"""Runs `labeldesk start` in this process and, once its window shows the labeling page of a
hostile task, attacks it from inside the page (window.evaluate_js, as any script in the page
could) and with a real click; writes what happened to a JSON file. Used by
tests/e2e/test_window_hostile.py (argv: data dir, results file, marker file, secret file, project
id, other port, display)."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import webview

sys.path.insert(0, str(Path(__file__).parent))
import x11  # noqa: E402
from x11 import GRAB  # noqa: E402

data, results_path, marker, secret, project_id, other, display = sys.argv[1:8]
OTHER = f"http://localhost:{other}"
results = {"steps": []}

# dotted names that reached os.system, module globals or builtins through the old js_api
DOTTED = ["_window.gui.os.system", "_client.token", "__class__.__init__.__globals__",
          "choose_folder.__func__.__globals__.__setitem__", "job.__func__.__builtins__.exec",
          "_window.evaluate_js", "_dialog", "__class__.__subclasses__", "os.system"]


def js(window, script):
    return window.evaluate_js(script)


def until(window, script, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = js(window, script)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out: {script}")


def shows(window):
    return {"url": window.get_current_url(),
            "path": js(window, "location.pathname"),
            "hostile_text": js(window, "document.body.innerText.includes('Hostile task')")}


def drive():
    try:
        window = webview.windows[0]
        until(window, "!!(window.pywebview && pywebview.api && pywebview.api.import_paths)")
        # the task in the web app's labeling view (its first and only task)
        js(window, f"location = '/projects/{project_id}/data?task=1'; 1")
        until(window, "document.body.innerText.includes('Hostile task')", 40)
        time.sleep(2)  # the task's own payloads (meta refresh, onerror...) have had their go
        results["after_payloads"] = shows(window)

        # 1. dotted names, through pywebview's helper and straight through Qt's web channel
        for name in DOTTED:
            args = json.dumps([f"touch {marker}"])
            js(window, f"pywebview._jsApiCallback({json.dumps(name)}, {args}, 'a'); 1")
            js(window, "pywebview._QWebChannel.objects.external.call("
                       f"{json.dumps(name)}, JSON.stringify({args}), 'b'); 1")
        # 2. the public functions with paths the user never picked
        js(window, """window.__r = {};
            const rec = (k, p) => p.then((v) => { __r[k] = {ok: v}; },
                                         (e) => { __r[k] = {error: String(e && e.message)}; });
            rec('desktop', pywebview.api.desktop());
            rec('import', pywebview.api.import_paths(%s, [%s]));
            rec('open', pywebview.api.open_project_file(%s));
            rec('reveal', pywebview.api.reveal(%s)); 1""" % (
            project_id, json.dumps(secret), json.dumps(secret),
            json.dumps(str(Path(secret).parent))))
        until(window, "Object.keys(window.__r).length === 4", 15)
        results["api"] = js(window, "window.__r")

        # 3. the main frame may go nowhere else, whatever script tries
        navigations = [f"location = '{OTHER}/script-location'",
                       f"location.replace('{OTHER}/script-replace')",
                       f"window.open('{OTHER}/script-popup')",
                       "location = 'file:///etc/hostname'",
                       "location = 'data:text/html,<b>data</b>'",
                       "location = '/static/js/desktop.js'",
                       "const m = document.createElement('meta'); m.httpEquiv = 'refresh';"
                       f"m.content = '0;url={OTHER}/meta-injected'; document.head.append(m)",
                       "const f = document.createElement('form'); f.method = 'post';"
                       f"f.action = '{OTHER}/form'; document.body.append(f); f.submit()"]
        for script in navigations:
            js(window, script + "; 1")
            time.sleep(0.7)
            results["steps"].append({"script": script, "url": window.get_current_url()})
        time.sleep(1.5)
        results["after_navigations"] = shows(window)

        shot = subprocess.run([sys.executable, "-c", GRAB, str(Path(results_path).with_suffix(
            ".png"))], capture_output=True, text=True, timeout=60)
        results["shot"] = json.loads(shot.stdout)

        # 4. a link the user really clicks opens in the system browser, not in the window
        box = (window.x, window.y, window.width, window.height)
        results["box"] = box
        for target in ("", "_blank"):
            js(window, f"""const a = document.createElement('a'); a.id = 'ext';
                a.href = '{OTHER}/clicked{target}'; a.target = '{target}'; a.textContent = 'x';
                a.style.cssText = 'position:fixed;inset:0;z-index:2147483647;display:block;'
                                  + 'background:rgba(0,0,0,0.02)';
                document.body.append(a); 1""")
            time.sleep(0.5)
            x11.click(display, box[0] + box[2] // 2, box[1] + box[3] // 2)
            time.sleep(2)
            js(window, "document.getElementById('ext').remove(); 1")
        results["after_clicks"] = shows(window)

        # 5. the Settings page shows the API token, which it gets from the native side (the
        #    server gives it to no cookie session: docs/adr/0007-ui-host.md)
        js(window, "location = '/desktop#/settings'; 1")
        results["settings_token"] = until(
            window, "(document.querySelector('#api-token') || {}).value || ''", 20)
    except BaseException as e:  # noqa: BLE001 - reported to the test
        results["failure"] = repr(e)
    finally:
        Path(results_path).write_text(json.dumps(results))
        webview.windows[0].destroy()


real_start = webview.start


def start(*args, **kwargs):
    threading.Thread(target=drive, daemon=True).start()
    return real_start(*args, **kwargs)


webview.start = start
from desktop.shell.cli import main  # noqa: E402

sys.exit(main(["start", "--data-dir", data, "--port", "0"]))
