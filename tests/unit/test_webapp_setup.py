"""Taking Label Studio's web app from its wheel (desktop/ui/webapp.py): which files, which
feature flags, and a build the patches don't fit stops the set-up."""

import zipfile
from pathlib import Path

import orjson
import pytest

from desktop.ui import webapp
from desktop.ui.vendored import SetupFailed


def flag(on, fallthrough=0, off=1, variations=(True, False)):
    return {"on": on, "fallthrough": {"variation": fallthrough}, "offVariation": off,
            "variations": list(variations)}


def test_flags_are_evaluated_as_label_studio_offline_then_stale_flags_win():
    flags_json = orjson.dumps({"flags": {
        "fflag_on": flag(True), "fflag_off": flag(False), "fflag_on_false": flag(True, 1),
        "fflag_stale": flag(False)}})
    stale = "STALE_FEATURE_FLAGS = {\n    'fflag_stale': True,\n    'fflag_gone': False,\n}\n"
    assert webapp.feature_flags(flags_json, stale) == {
        "fflag_on": True, "fflag_off": False, "fflag_on_false": False, "fflag_stale": True,
        "fflag_gone": False}


def test_only_the_app_without_maps_templates_images_and_licences_are_taken(tmp_path):
    def where(name):
        target = webapp.target_of(name, tmp_path)
        return target and target.relative_to(tmp_path).as_posix()
    assert where("web/dist/apps/labelstudio/main.js") == "app/main.js"
    assert where("web/dist/apps/labelstudio/main.js.map") is None
    assert where("web/dist/apps/labelstudio/index.html") is None
    assert where("web/dist/libs/editor/main.js") is None
    assert where("label_studio/annotation_templates/groups.txt") == \
        "annotation_templates/groups.txt"
    assert where("label_studio/core/static/images/opossum_looking.png") == \
        "static/images/opossum_looking.png"
    assert where("label_studio/core/static/templates/x/y.jpg") == "static/templates/x/y.jpg"
    assert where("label_studio-1.23.2.dist-info/licenses/NOTICE") == "app/NOTICE"
    assert where("label_studio/core/settings/base.py") is None
    assert where("label_studio/core/static/fonts/Figtree-SemiBold.ttf") == \
        "static/fonts/Figtree-SemiBold.ttf"
    assert where("label_studio/core/static/fonts/Hellix-Regular.woff") is None


def test_a_build_the_patches_do_not_fit_stops_the_set_up(tmp_path):
    (tmp_path / "main.js").write_text("nothing to patch here")
    with pytest.raises(SetupFailed, match="sanitizer patch does not fit"):
        webapp.patch_scripts(tmp_path)


def test_each_patch_fits_exactly_once_and_routes_html_through_labeldesk_sanitize(tmp_path):
    chunk = "".join(old for _, old, _ in webapp.PATCHES)
    (tmp_path / "358.js").write_text(chunk)
    webapp.patch_scripts(tmp_path)
    text = (tmp_path / "358.js").read_text()
    assert "window.LabelDeskSanitize" in text and "n.textContent=e" in text
    (tmp_path / "other.js").write_text(webapp.PATCHES[0][1])  # a second match: refused
    (tmp_path / "358.js").write_text(chunk)
    with pytest.raises(SetupFailed):
        webapp.patch_scripts(tmp_path)


def test_the_installed_app_is_patched_and_licensed():
    assert webapp.installed(), "make setup installs it"
    folder = Path(webapp.APP_DIR)
    assert (folder / "LICENSE").is_file() and (folder / "NOTICE").is_file()
    assert not list(folder.glob("*.map"))
    assert all((webapp.FONTS_DIR / name).is_file() for name in webapp.FONTS)
    scripts = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.js"))
    for what, old, new in webapp.PATCHES:
        assert scripts.count(new) == 1 and old not in scripts, what
    flags = orjson.loads(webapp.FLAGS_FILE.read_bytes())
    assert len(flags) > 100 and all(isinstance(k, str) for k in flags)


def test_only_the_small_samples_the_sample_tasks_name_are_kept(tmp_path):
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(webapp.EXAMPLES_MEMBER,
                         '{"Image": "/static/samples/sample.jpg", "Video": '
                         '"/static/samples/big.mp4"}')
        archive.writestr(webapp.SAMPLES_PREFIX + "sample.jpg", b"x" * 10)
        archive.writestr(webapp.SAMPLES_PREFIX + "big.mp4", b"x" * (webapp.MAX_SAMPLE_BYTES + 1))
        archive.writestr(webapp.SAMPLES_PREFIX + "unnamed.jpg", b"x")
    with zipfile.ZipFile(wheel) as archive:
        assert webapp.used_samples(archive) == {"sample.jpg"}


def test_a_projects_pages_preload_its_chunks_and_other_pages_nothing():
    lines = webapp.preloads("/projects/3/data").splitlines()
    assert len(lines) == len(webapp.PROJECT_CHUNKS)
    assert '<link rel="preload" href="/react-app/358.js" as="script">' in "".join(lines)
    assert '<link rel="preload" href="/react-app/358.css" as="style">' in "".join(lines)
    for path in ("/", "/projects", "/projects/", "/projects/x/data", "/organization"):
        assert webapp.preloads(path) == ""
    assert all((webapp.APP_DIR / name).is_file() for name in webapp.PROJECT_CHUNKS)
