"""formats_for() must be LS's GET /api/projects/{id}/export/formats answer, byte for byte,
less the two formats LS lists that LabelDesk does not write (NOT_WRITTEN, docs/export.md)."""

import copy
import datetime
import json
import subprocess
import sys
import textwrap

import pytest

from desktop.core.errors import ValidationError
from desktop.data_export.formats import REGISTRY, Registry, export_filename, formats_for, get_format
from paths import REFERENCE, ROOT

REFERENCE_FILE = str(REFERENCE / "ls-export-formats-image-project.json")
# Listed by LS 1.23, listed nowhere by LabelDesk (it writes neither): removed from LS's answers.
NOT_WRITTEN = ("BRUSH_TO_COCO", "DOCLANG")

CONFIGS = [
    '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">'
    '<Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>',
    '<View><Text name="text" value="$text"/><Choices name="s" toName="text"><Choice value="Pos"/>'
    '</Choices></View>',
    '<View><Text name="text" value="$text"/><Labels name="l" toName="text"><Label value="PER"/>'
    '</Labels></View>',
    '<View><Text name="text" value="$url" valueType="url"/><Labels name="l" toName="text">'
    '<Label value="PER"/></Labels></View>',
    '<View><Audio name="audio" value="$audio"/><TextArea name="t" toName="audio"/></View>',
    '<View><Image name="image" value="$image"/><BrushLabels name="b" toName="image">'
    '<Label value="A"/></BrushLabels></View>',
    '<View><Image name="image" value="$image"/><Brush name="b" toName="image"/>'
    '<Labels name="l" toName="image"><Label value="A"/></Labels></View>',
    '<View><Image name="image" value="$image"/><KeyPointLabels name="k" toName="image">'
    '<Label value="A"/></KeyPointLabels></View>',
    '<View><Image name="image" value="$image"/><RectangleLabels name="r" toName="image">'
    '<Label value="A"/></RectangleLabels>'
    '<KeyPointLabels name="k" toName="image"><Label value="B"/></KeyPointLabels></View>',
    '<View><Image name="image" value="$image"/><PolygonLabels name="r" toName="image">'
    '<Label value="A"/></PolygonLabels></View>',
    '<View><Image name="image" valueList="$images"/><RectangleLabels name="r" toName="image">'
    '<Label value="A"/></RectangleLabels></View>',
    '<View><Image name="image" value="$image"/><Text name="text" value="$text"/>'
    '<RectangleLabels name="r" toName="image">'
    '<Label value="A"/></RectangleLabels><TextArea name="ta" toName="text"/></View>',
    '<View><Image name="image" value="$image"/><Rectangle name="r" toName="image"/>'
    '<Labels name="l" toName="image"><Label value="A"/></Labels></View>',
    '<View><Video name="v" value="$video"/><TimelineLabels name="t" toName="v"><Label value="A"/>'
    '</TimelineLabels></View>',
    "<View></View>",
]


def ls_formats(parsed):
    from label_studio_sdk.converter import Converter

    converter = Converter(config=parsed, project_dir=None)
    supported = set(converter.supported_formats)
    formats = []
    for fmt, info in converter.all_formats().items():
        info = copy.deepcopy(info)
        info["name"] = fmt.name
        if fmt.name in NOT_WRITTEN:
            continue
        if fmt.name not in supported:
            info["disabled"] = True
        formats.append(info)
    return sorted(formats, key=lambda f: f.get("disabled", False))


def test_image_project_answer_is_byte_identical_to_recorded_ls(h):
    with open(REFERENCE_FILE, encoding="utf8") as f:
        reference = [e for e in json.load(f) if e["name"] not in NOT_WRITTEN]
    ours = formats_for(h.parse(CONFIGS[0]))
    assert json.dumps(ours, indent=4) == json.dumps(reference, indent=4)


@pytest.mark.parametrize("config", CONFIGS)
def test_same_answer_as_ls_converter(h, config):
    parsed = h.parse(config)
    assert json.dumps(formats_for(parsed)) == json.dumps(ls_formats(parsed))


def test_every_catalogue_format_is_registered():
    names = [f["name"] for f in formats_for({})]
    assert names == list(REGISTRY)
    assert len(names) == 15


def test_unknown_format_is_a_validation_error():
    with pytest.raises(ValidationError):
        get_format("SPACY")


def test_formats_ls_lists_but_labeldesk_does_not_write_are_listed_nowhere(h):
    parsed = h.parse('<View><Image name="image" value="$image"/>'
                     '<BrushLabels name="b" toName="image"><Label value="A"/></BrushLabels>'
                     '<TextArea name="t" toName="image"/></View>')
    assert not {f["name"] for f in formats_for(parsed)} & set(NOT_WRITTEN)
    for name in NOT_WRITTEN:
        with pytest.raises(ValidationError):
            get_format(name)


def test_a_format_module_in_another_package_is_listed(tmp_path, monkeypatch):
    package = tmp_path / "more_formats"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "spacy.py").write_text(textwrap.dedent('''
        from desktop.data_export.formats import ExportFormat

        class SpacyFormat(ExportFormat):
            name = "SPACY"
            title = "spaCy"
            multi_key = True

            def fits(self, summary):
                return True

        FORMATS = [SpacyFormat()]
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry("desktop.data_export.formats", "more_formats")
    assert "more_formats.spacy" not in sys.modules  # found on the first lookup, not before
    assert list(registry) == [*REGISTRY, "SPACY"]  # after LS's, by ExportFormat.order
    enabled = [f["name"] for f in formats_for({}, registry=registry) if not f.get("disabled")]
    assert enabled == ["JSON", "JSON_MIN", "CSV", "TSV", "SPACY"]
    assert get_format("SPACY", registry=registry).title == "spaCy"
    with pytest.raises(ValidationError):
        get_format("SPACY")  # the default registry scans LabelDesk's package only
    monkeypatch.delitem(sys.modules, "more_formats.spacy")
    monkeypatch.delitem(sys.modules, "more_formats")


def test_importing_the_package_registers_nothing():
    code = ("import sys, desktop.data_export.formats as f; "
            "print(sorted(m for m in sys.modules if m.startswith('desktop.data_export.formats.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert out.stdout.strip() == "['desktop.data_export.formats.base']", out.stdout + out.stderr


def test_export_filename():
    now = datetime.datetime(2026, 11, 23, 13, 36, 49)
    assert (export_filename(1, now, ".json", "d7161aef0123")
            == "project-1-at-2026-11-23-13-36-d7161aef.json")
    assert (export_filename(12, now, "zip", "abcdef12")
            == "project-12-at-2026-11-23-13-36-abcdef12.zip")
