"""GET /api/templates and /static/templates/<image>: Label Studio 1.23.2's label-config
templates for the create-project wizard, read from the folder set-up unpacks (or, where it has
not run, from the Label Studio the tests install in .venv-ls)."""

import sys
from pathlib import Path

import pytest
import yaml

from desktop.labelconfig import templates
from paths import ROOT


def ls_package():
    """label_studio in the tests' .venv-ls: in this tree, or beside the venv running them."""
    for venv in (ROOT / ".venv-ls", Path(sys.prefix).parent / ".venv-ls"):
        for package in sorted(venv.glob("lib/python3*/site-packages/label_studio")):
            return package
    return ROOT / ".venv-ls" / "label_studio-not-installed"


# Observed on Label Studio 1.23.2 (GET /api/templates)
GROUPS = ["Computer Vision", "Natural Language Processing", "Audio/Speech Processing",
          "Conversational AI", "Chat", "Ranking & Scoring", "Structured Data Parsing",
          "Time Series Analysis", "Videos", "Generative AI", "Community Contributions"]
TEMPLATE_COUNT = 69
ALWAYS = {"title", "type", "group", "image", "details", "config"}
SOMETIMES = {"order", "source_repo"}


@pytest.fixture
def folders(monkeypatch):
    """The unpacked folders, or Label Studio's own where set-up has not unpacked them."""
    if not (templates.TEMPLATES_DIR / "groups.txt").is_file():
        monkeypatch.setattr(templates, "TEMPLATES_DIR", ls_package() / "annotation_templates")
    if not templates.TEMPLATE_IMAGES_DIR.is_dir():
        monkeypatch.setattr(templates, "TEMPLATE_IMAGES_DIR",
                            ls_package() / "core" / "static" / "templates")
    if not (templates.TEMPLATES_DIR / "groups.txt").is_file():
        pytest.fail(f"no label-config templates in {templates.TEMPLATES_DIR}: run `make "
                    "test-setup`")
    return templates.TEMPLATES_DIR, templates.TEMPLATE_IMAGES_DIR


def test_template_list_is_label_studios(api, folders):
    response = api.get("/api/templates")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["templates", "groups"]
    assert body["groups"] == GROUPS
    assert len(body["templates"]) == TEMPLATE_COUNT
    for template in body["templates"]:
        assert ALWAYS <= set(template) <= ALWAYS | SOMETIMES, template["title"]
        assert template["group"] in GROUPS
        assert template["config"].lstrip().startswith("<View")
        assert template["image"].startswith("/static/templates/")
        if "order" in template:
            assert isinstance(template["order"], int)


def test_each_template_is_its_config_yml(api, folders):
    """Every field as yaml reads the file (block scalars, numbers), nothing added."""
    by_title = {t["title"]: t for t in api.get("/api/templates").json()["templates"]}
    for path in folders[0].glob("**/*.yml"):
        expected = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert by_title[expected["title"]] == expected


def test_every_thumbnail_is_served(api, live, folders):
    for template in api.get("/api/templates").json()["templates"]:
        response = live.anonymous.get(template["image"])  # an <img>: no token
        assert response.status_code == 200, template["image"]
        assert response.headers["Content-Type"].startswith("image/")
        assert response.content[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1",
                                        b"\xff\xd8\xff\xdb", b"\xff\xd8\xff\xee")


@pytest.mark.parametrize("path", [
    "/static/templates/nope.png", "/static/templates/%2e%2e/templates/signal-quality.png",
    "/static/templates/%2e%2e/%2e%2e/index.html", "/static/templates/..%2f..%2fsettings.json",
    "/static/templates/community-contributions", "/static/templates/%00.png",
    "/static/templates//etc/passwd",
])
def test_thumbnails_come_only_from_the_images_folder(live, folders, path):
    response = live.anonymous.get(path)
    assert response.status_code == 404, path
    assert response.json()["status_code"] == 404


def test_image_path_refuses_what_is_outside(folders, tmp_path):
    assert templates.image_path("signal-quality.png") is not None
    for name in ("", "/etc/passwd", "../x", "a/../../x", "a\\b", "x\x00", ".", "a//b"):
        assert templates.image_path(name) is None, name


def test_template_list_needs_a_token(live, folders):
    response = live.anonymous.get("/api/templates")
    assert response.status_code == 401


def test_missing_folder_is_an_empty_list(api, monkeypatch, tmp_path):
    monkeypatch.setattr(templates, "TEMPLATES_DIR", tmp_path / "absent")
    assert api.get("/api/templates").json() == {"templates": [], "groups": []}


def test_unreadable_template_is_skipped(api, monkeypatch, tmp_path):
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "config.yml").write_text(
        "title: Good\ntype: t\ngroup: G\nimage: /static/templates/g.png\ndetails: d\n"
        "config: |\n  <View>\n  </View>\norder: 3\n")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.yml").write_text("title: [unclosed\n")
    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "config.yml").write_text("title: !!python/object/apply:os.system "
                                                  "['true']\n")
    (tmp_path / "groups.txt").write_text("G\nH\n")
    monkeypatch.setattr(templates, "TEMPLATES_DIR", tmp_path)
    assert api.get("/api/templates").json() == {
        "templates": [{"title": "Good", "type": "t", "group": "G",
                       "image": "/static/templates/g.png", "details": "d",
                       "config": "<View>\n</View>\n", "order": 3}],
        "groups": ["G", "H"]}


def test_sample_task_examples_are_label_studios_and_the_sdks():
    """The examples behind POST /api/projects/{id}/sample-task: LS's own data_examples.json
    ("editor_preview") without annotations, the SDK's ("upload") with them."""
    import json

    from desktop.labelconfig.samples import EXAMPLES, PROJECT_EXAMPLES, UPLOAD_EXAMPLES
    package = ls_package()
    core = json.loads((package / "core" / "utils" / "schema" / "data_examples.json")
                      .read_text(encoding="utf-8"))
    sdk = json.loads((package.parent / "label_studio_sdk" / "label_interface" /
                      "data_examples.json").read_text(encoding="utf-8"))
    assert PROJECT_EXAMPLES == core["editor_preview"]
    assert UPLOAD_EXAMPLES == sdk["upload"]
    assert EXAMPLES == sdk["editor_preview"]
