"""Label Studio's own web app (the React app of label-studio 1.23.2): one pinned build, taken
from the wheel on PyPI at set-up, served from disk as LabelDesk's UI (docs/adr/0009-web-app.md).

`python -m desktop.ui.webapp fetch` (scripts/setup.d/20-editor.sh) downloads the wheel once into
the user cache, checks its SHA-256 and unpacks into desktop/ui/vendor/webapp/ (git-ignored):
- app/: web/dist/apps/labelstudio without source maps (the app, its chunks, icons, the 1.23
  editor, the audio decoder's wasm) and its licence files;
- annotation_templates/: the template gallery of the create-project wizard;
- static/images/, static/templates/, static/samples/: the pictures the app asks for under
  /static/ (the templates' thumbnails among them) and the small media its sample tasks name;
- static/fonts/: Figtree, Label Studio's font, which LabelDesk's own pages use too (/static/fonts/);
- feature_flags.json: the flags a fresh Label Studio 1.23.2 Community puts in the page (its
  feature_flags.json evaluated as its offline LaunchDarkly client does, then its stale flags).

Patches applied at unpack (PATCHES, each must match exactly once in the app's scripts, or
set-up stops): the editor's sanitizer hands every HTML string to the page's DOMPurify
(desktop/ui/js/sanitize.js), a label's text is measured as text, the editor's History panel
is switched on (its data comes from desktop/ui/js/webapp-history.js), the label stream waits
less (its first task list fetched at once, no frames waited before a task, the editor mounted
once per task, two requests together; docs/bench.md) and the home page's greeting has no
emoji. Nothing is fetched at run time. DOMPurify and the download cache are
desktop/ui/vendored.py's.
"""

import ast
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import orjson

from desktop.ui import vendored
from desktop.ui.vendored import SetupFailed

VERSION = "1.23.2"
WHEEL = f"label_studio-{VERSION}-py3-none-any.whl"
SHA256 = "c575b2552d0b271554224c5e56ab2ce9449c6e62a0b4851bc8c706d8fe651137"
SIZE_MB = 74

WEBAPP_DIR = vendored.VENDOR_DIR / "webapp"
APP_DIR = WEBAPP_DIR / "app"
TEMPLATES_DIR = WEBAPP_DIR / "annotation_templates"
STATIC_DIR = WEBAPP_DIR / "static"  # images/, templates/, samples/, fonts/
FONTS_DIR = STATIC_DIR / "fonts"
FLAGS_FILE = WEBAPP_DIR / "feature_flags.json"
STAMP = WEBAPP_DIR / "webapp.version"

# The addresses that are pages of the app (Label Studio's urls.py): each serves the one page and
# the app routes inside it; the window's main frame may load them (desktop/shell/window.py).
APP_ROOTS = ("/projects", "/organization", "/models", "/user/account")
OUR_PAGES = frozenset({"/", "/desktop", "/user/login", "/user/logout", "/docs/api"})


def is_app_page(path):
    """Whether a URL path is one of our pages: the app's, sign-in and out, the API docs."""
    path = path or "/"
    if path in OUR_PAGES or path.rstrip("/") in OUR_PAGES:
        return True
    return any(path == root or path.startswith(root + "/") for root in APP_ROOTS)


# The chunks a project's pages load (the data manager, the editor, their styles), as the 1.23.2
# build names them: fetched with the page instead of one after another once main.js has run
# (the label stream opens ~15% sooner). Set-up checks a new build still has them.
PROJECT_CHUNKS = ("594.js", "855.css", "855.js", "167.css", "167.js", "288.js", "358.css",
                  "358.js", "99.js")


def preloads(path):
    """The <link rel=preload> lines for the page at `path`: a project's chunks on its pages."""
    parts = (path or "/").strip("/").split("/")
    if len(parts) < 2 or parts[0] != "projects" or not parts[1].isdigit():
        return ""
    return "".join(f'  <link rel="preload" href="/react-app/{name}" '
                   f'as="{"style" if name.endswith(".css") else "script"}">\n'
                   for name in PROJECT_CHUNKS)


APP_PREFIX = "web/dist/apps/labelstudio/"
TEMPLATES_PREFIX = "label_studio/annotation_templates/"
IMAGES_PREFIX = "label_studio/core/static/images/"
THUMBNAILS_PREFIX = "label_studio/core/static/templates/"
SAMPLES_PREFIX = "label_studio/core/static/samples/"
FONTS_PREFIX = "label_studio/core/static/fonts/"
FONTS = ("Figtree-Regular.ttf", "Figtree-SemiBold.ttf")
# Label Studio's sample tasks (the create-project wizard's preview) name media under
# /static/samples/; the ones they name and that are small are kept (the 3 MB video is not).
EXAMPLES_MEMBER = "label_studio/core/utils/schema/data_examples.json"
MAX_SAMPLE_BYTES = 1_000_000
FLAGS_MEMBER = "label_studio/feature_flags.json"
STALE_FLAGS_MEMBER = "label_studio/core/feature_flags/stale_feature_flags.py"
LICENSE_MEMBERS = {f"label_studio-{VERSION}.dist-info/licenses/LICENSE": "LICENSE",
                   f"label_studio-{VERSION}.dist-info/licenses/NOTICE": "NOTICE"}


def sanitized(value):
    """JavaScript for `value` (an expression) passed through the page's DOMPurify, or escaped
    as text when the sanitizer isn't there (fails closed)."""
    return (f'(window.LabelDeskSanitize?window.LabelDeskSanitize(String({value})):String({value})'
            '.replace(/[&<>"\']/g,(c)=>"&#"+c.charCodeAt(0)+";"))')


# (what, exact text in one of the app's scripts, its replacement). The editor's sanitizer
# (`sanitizeHtml` of the editor's utils/html, sanitize-html with every tag and attribute allowed
# but <script>, foreign <iframe> and on* attributes) is `E` in the editor's chunk; every
# dangerouslySetInnerHTML of task or config data in the editor goes through it. The app itself
# renders a project's instructions (from its settings, or a project file) as raw HTML in two
# places, and a task's HTML in the data manager's reader view: those go through it too.
PATCHES = (
    ("sanitizer", 'function E(e=[]){if(!e)return"";const t=["www.youtube.com"',
     f'function E(e=[]){{if(!e)return"";return {vendored.SANITIZER};const t=["www.youtube.com"'),
    ("label width", "n.innerHTML=e,t.appendChild(n),document.body.appendChild(t)",
     "n.textContent=e,t.appendChild(n),document.body.appendChild(t)"),
    ("instructions in the label stream", 'dangerouslySetInnerHTML:{__html:r}}),style:{width:680}',
     f'dangerouslySetInnerHTML:{{__html:{sanitized("r")}}}}}),style:{{width:680}}'),
    ("instructions button", "dangerouslySetInnerHTML:{__html:n.expert_instruction}",
     f"dangerouslySetInnerHTML:{{__html:{sanitized('n.expert_instruction')}}}"),
    ("reader view", '"aria-label":"HTML content",dangerouslySetInnerHTML:{__html:o}',
     f'"aria-label":"HTML content",dangerouslySetInnerHTML:{{__html:{sanitized("o")}}}'),
    # The editor's History panel lists an annotation's versions only with the interface
    # "annotations:history", which Label Studio's data manager never turns on (Enterprise's
    # does): it is added to the interfaces the data manager starts the editor with.
    ("history panel", '"side-column","edit-history"]',
     '"side-column","edit-history","annotations:history"]'),
    # Speed (docs/bench.md, "Where the time goes"). The data manager's list fetches wait 150 ms
    # so that a burst of changes (typing in a filter) sends one request; the first fetch of a
    # list has nothing to wait for, and the label stream waits for it before asking for its
    # first task: it goes at once, the ones after it are debounced as before.
    ("first list fetch at once", "let t=null,n=null;e.debouncedFetch=a=>new Promise((s,i)=>{"
     "t&&clearTimeout(t),n&&(null==n.cancel||n.cancel()),t=setTimeout(async()=>{try{"
     "n=e._performFetch(a);const t=await n;s(t)}catch(e){i(e)}finally{n=null}},150)",
     "let t=null,n=null,f=!0;e.debouncedFetch=a=>new Promise((s,i)=>{"
     "t&&clearTimeout(t),n&&(null==n.cancel||n.cancel()),t=setTimeout(async()=>{try{"
     "n=e._performFetch(a);const t=await n;s(t)}catch(e){i(e)}finally{n=null}},f?(f=!1,0):150)"),
    # Before it puts a task in the editor, the label stream waited two animation frames after
    # showing its loading state (one to two frames, 17-33 ms, of every task shown); the task's
    # own render follows at once now, in the same frame.
    ("no frames before a task", "if(this.setLoading(!0,i),await new Promise(e=>{"
     "requestAnimationFrame(()=>requestAnimationFrame(e))}),!this.lsf)return;",
     "if(this.setLoading(!0,i),await null,!this.lsf)return;"),
    # The editor shows only a spinner while its isLoading flag is on (its App unmounts the
    # whole editor), and a submit turned the flag on and off three times: around the POST,
    # around GET next task, around putting the task in. Each "off" mounted the whole editor
    # again, twice for the task just submitted, only to unmount it at the next "on" (most of
    # a submit's 0.1-0.2 s). "Off" now waits for the end of the current task (a timer): an
    # "on" before it cancels it, so the editor mounts once, with the next task (not on an
    # editor closed meanwhile: `u._n` is mobx-state-tree's isAlive, as the class uses it).
    ("loading off once", "setLoading(e,t=!1){Lt(Qt)&&t&&this.lsf.clearApp(),"
     "this.lsf.setFlags({isLoading:e}),Lt(Qt)&&t&&this.lsf.renderApp()}",
     "setLoading(e,t=!1){if(clearTimeout(this.ldOff),!e){const n=this.lsf;"
     "this.ldOff=setTimeout(()=>{n&&n===this.lsf&&(0,u._n)(n)&&n.setFlags({isLoading:!1})},0);"
     "return}"
     "Lt(Qt)&&t&&this.lsf.clearApp(),"
     "this.lsf.setFlags({isLoading:e}),Lt(Qt)&&t&&this.lsf.renderApp()}"),
    # A submit showed its loading state (unmounting the editor: 10-25 ms) before it sent the
    # annotation; the POST goes first now, and the editor unmounts while it is on its way.
    ("post before unmounting", "o&&(r.unique_id=o),this.setLoading(!0),await this."
     "saveUserLabels();const c=await this.withinLoadingState(async function(){return await "
     "t(i,r)});",
     "o&&(r.unique_id=o),await this.saveUserLabels();const P=t(i,r);this.setLoading(!0);"
     "const c=await this.withinLoadingState(async function(){return await P});"),
    # Opening the label stream asked for the stream's history, then for the project's labels,
    # then for the first task, each after the one before: the first two go together now.
    ("history and labels together", "const t=await s.datamanager.store.taskStore."
     "loadTaskHistory({projectId:s.datamanager.store.project.id});s.lsf.setTaskHistory(t),"
     "await s.loadUserLabels(),",
     "const[t]=await Promise.all([s.datamanager.store.taskStore.loadTaskHistory({projectId:"
     "s.datamanager.store.project.id}),s.loadUserLabels()]);s.lsf.setTaskHistory(t),"),
    # The home page's greeting ends in an emoji, a box in a window on a system without an
    # emoji font (Qt WebEngine draws with the system's fonts; a bare Debian has none).
    ("home page greeting", 'children:"Welcome \U0001F44B"}', 'children:"Welcome"}'),
)
PATCH_LEVEL = "patched-7"  # 7: the label stream's waits (docs/bench.md), no emoji
# What the browser's cached copies of the app's files belong to: they keep their names from one
# build or patch level to the next (main.js, 167.js), so a change of BUILD clears the cache.
BUILD = f"{VERSION}-{SHA256[:12]}-{PATCH_LEVEL}"


def installed():
    """True when the pinned app is unpacked, patched and complete."""
    try:
        stamp = STAMP.read_text().split()
    except OSError:
        return False
    return stamp == [VERSION, SHA256, PATCH_LEVEL] and (APP_DIR / "main.js").is_file() \
        and FLAGS_FILE.is_file() and TEMPLATES_DIR.is_dir() \
        and all((FONTS_DIR / name).is_file() for name in FONTS)


def cached_wheel():
    """The pinned wheel from the cache, downloading it (pip, PyPI) if absent or damaged."""
    return vendored.cached_wheel(WHEEL, SHA256, f"label-studio=={VERSION}",
                               f"Label Studio's web app (label-studio=={VERSION}, "
                               f"{SIZE_MB} MB, once)")


def feature_flags(flags_json, stale_source):
    """The flags Label Studio Community puts in APP_SETTINGS: each flag of its
    feature_flags.json as an offline LaunchDarkly client evaluates it with no targeting (the
    fallthrough variation when on, the off variation when off), then STALE_FEATURE_FLAGS."""
    flags = {}
    for name, flag in orjson.loads(flags_json)["flags"].items():
        index = flag["fallthrough"].get("variation") if flag.get("on") else \
            flag.get("offVariation")
        variations = flag.get("variations") or []
        flags[name] = variations[index] if isinstance(index, int) and \
            0 <= index < len(variations) else None
    for node in ast.walk(ast.parse(stale_source)):
        if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "STALE_FEATURE_FLAGS" for t in node.targets):
            flags.update(ast.literal_eval(node.value))
    return flags


def patch_scripts(folder):
    """Apply PATCHES to the app's scripts; a build they don't fit stops the set-up."""
    scripts = {path: path.read_text(encoding="utf-8") for path in folder.glob("*.js")}
    for what, old, new in PATCHES:
        hits = [path for path, text in scripts.items() if old in text]
        if len(hits) != 1 or scripts[hits[0]].count(old) != 1:
            raise SetupFailed(f"{folder}: the {what} patch does not fit this build of the web "
                              f"app ({sum(t.count(old) for t in scripts.values())} matches); "
                              "not installing it.")
        scripts[hits[0]] = scripts[hits[0]].replace(old, new)
        hits[0].write_text(scripts[hits[0]], encoding="utf-8")


def keep_used_images(app, images):
    """Only the pictures the app's scripts and styles name under /static/images/."""
    used = set()
    for path in [*app.glob("*.js"), *app.glob("*.css")]:
        used.update(re.findall(r"/static/images/([\w.-]+)", path.read_text(encoding="utf-8")))
    for path in images.iterdir():
        if path.name not in used:
            path.unlink()


def used_samples(archive):
    """The sample media Label Studio's sample tasks name, at most MAX_SAMPLE_BYTES each."""
    examples = archive.read(EXAMPLES_MEMBER).decode("utf-8")
    named = set(re.findall(r"/static/samples/([\w.-]+)", examples))
    return {info.filename[len(SAMPLES_PREFIX):] for info in archive.infolist()
            if info.filename.startswith(SAMPLES_PREFIX)
            and info.filename[len(SAMPLES_PREFIX):] in named
            and info.file_size <= MAX_SAMPLE_BYTES}


def target_of(name, staging):
    """Where a wheel member goes under the staging folder, or None when it isn't wanted."""
    if name.endswith("/"):
        return None
    if name.startswith(APP_PREFIX):
        rest = name[len(APP_PREFIX):]
        if rest.endswith(".map") or rest == "index.html" or "/" in rest:
            return None
        return staging / "app" / rest
    for prefix, folder in ((TEMPLATES_PREFIX, "annotation_templates"),
                           (IMAGES_PREFIX, "static/images"),
                           (THUMBNAILS_PREFIX, "static/templates")):
        if name.startswith(prefix):
            return staging / folder / name[len(prefix):]
    if name.startswith(FONTS_PREFIX) and name[len(FONTS_PREFIX):] in FONTS:
        return staging / "static" / "fonts" / name[len(FONTS_PREFIX):]
    if name in LICENSE_MEMBERS:
        return staging / "app" / LICENSE_MEMBERS[name]
    return None


def unpack(wheel):
    """Extract into a fresh folder beside vendor/webapp, then swap it in: never half a build."""
    vendored.VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=vendored.VENDOR_DIR, prefix=".unpack-webapp-"))
    try:
        with zipfile.ZipFile(wheel) as archive:
            samples = used_samples(archive)
            for name in archive.namelist():
                target = target_of(name, staging)
                if name.startswith(SAMPLES_PREFIX) and name[len(SAMPLES_PREFIX):] in samples:
                    target = staging / "static" / "samples" / name[len(SAMPLES_PREFIX):]
                if target is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            flags = feature_flags(archive.read(FLAGS_MEMBER),
                                  archive.read(STALE_FLAGS_MEMBER).decode("utf-8"))
        (staging / "feature_flags.json").write_bytes(
            orjson.dumps(flags, option=orjson.OPT_SORT_KEYS))
        if not all((staging / "app" / name).is_file() for name in ("LICENSE", "NOTICE")):
            raise SetupFailed(f"{wheel}: no LICENSE or NOTICE in the wheel; not installing it.")
        missing = [name for name in PROJECT_CHUNKS if not (staging / "app" / name).is_file()]
        if missing:
            raise SetupFailed(f"{wheel}: this build has no {', '.join(missing)}: update "
                              "PROJECT_CHUNKS (desktop/ui/webapp.py); not installing it.")
        patch_scripts(staging / "app")
        keep_used_images(staging / "app", staging / "static" / "images")
        (staging / STAMP.name).write_text(f"{VERSION} {SHA256} {PATCH_LEVEL}\n")
        old = WEBAPP_DIR.with_name(".old-webapp")
        shutil.rmtree(old, ignore_errors=True)
        if WEBAPP_DIR.exists():
            os.replace(WEBAPP_DIR, old)
        os.replace(staging, WEBAPP_DIR)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# What set-up put in vendor/ for the old UI (Label Studio's editor 1.13.1 and its fonts), which
# nothing serves any more: removed at the next set-up.
LEFTOVERS = ("editor", "editor.version", "fonts")


def remove_leftovers():
    for name in LEFTOVERS:
        path = vendored.VENDOR_DIR / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def fetch():
    remove_leftovers()
    vendored.fetch_purify()
    if installed():
        return
    unpack(cached_wheel())
    print(f"Label Studio's web app {VERSION} installed in {WEBAPP_DIR}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: python -m desktop.ui.webapp fetch")
    try:
        fetch()
    except SetupFailed as e:
        sys.exit(str(e))
