"""formats_for() must be LS's GET /api/projects/{id}/export/formats answer, byte for byte."""

from paths import REFERENCE
import copy
import datetime
import json

import pytest

from desktop.data_export.formats import FORMATS, export_filename, formats_for, get_format
from desktop.core.errors import ValidationError

REFERENCE_FILE = str(REFERENCE / "ls-export-formats-image-project.json")

CONFIGS = [
    '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">'
    '<Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>',
    '<View><Text name="text" value="$text"/><Choices name="s" toName="text"><Choice value="Pos"/></Choices></View>',
    '<View><Text name="text" value="$text"/><Labels name="l" toName="text"><Label value="PER"/></Labels></View>',
    '<View><Text name="text" value="$url" valueType="url"/><Labels name="l" toName="text"><Label value="PER"/></Labels></View>',
    '<View><Audio name="audio" value="$audio"/><TextArea name="t" toName="audio"/></View>',
    '<View><Image name="image" value="$image"/><BrushLabels name="b" toName="image"><Label value="A"/></BrushLabels></View>',
    '<View><Image name="image" value="$image"/><Brush name="b" toName="image"/><Labels name="l" toName="image"><Label value="A"/></Labels></View>',
    '<View><Image name="image" value="$image"/><KeyPointLabels name="k" toName="image"><Label value="A"/></KeyPointLabels></View>',
    '<View><Image name="image" value="$image"/><RectangleLabels name="r" toName="image"><Label value="A"/></RectangleLabels>'
    '<KeyPointLabels name="k" toName="image"><Label value="B"/></KeyPointLabels></View>',
    '<View><Image name="image" value="$image"/><PolygonLabels name="r" toName="image"><Label value="A"/></PolygonLabels></View>',
    '<View><Image name="image" valueList="$images"/><RectangleLabels name="r" toName="image"><Label value="A"/></RectangleLabels></View>',
    '<View><Image name="image" value="$image"/><Text name="text" value="$text"/><RectangleLabels name="r" toName="image">'
    '<Label value="A"/></RectangleLabels><TextArea name="ta" toName="text"/></View>',
    '<View><Image name="image" value="$image"/><Rectangle name="r" toName="image"/><Labels name="l" toName="image"><Label value="A"/></Labels></View>',
    '<View><Video name="v" value="$video"/><TimelineLabels name="t" toName="v"><Label value="A"/></TimelineLabels></View>',
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
        if fmt.name not in supported:
            info["disabled"] = True
        formats.append(info)
    return sorted(formats, key=lambda f: f.get("disabled", False))


def test_image_project_answer_is_byte_identical_to_recorded_ls(h):
    with open(REFERENCE_FILE, encoding="utf8") as f:
        reference = f.read()
    ours = formats_for(h.parse(CONFIGS[0]))
    assert json.dumps(ours, indent=4) == reference.strip()


@pytest.mark.parametrize("config", CONFIGS)
def test_same_answer_as_ls_converter(h, config):
    parsed = h.parse(config)
    assert json.dumps(formats_for(parsed)) == json.dumps(ls_formats(parsed))


def test_every_catalogue_format_is_registered():
    names = [f["name"] for f in formats_for({})]
    assert sorted(names) == sorted(FORMATS)
    assert len(names) == 17


def test_unknown_format_is_a_validation_error():
    with pytest.raises(ValidationError):
        get_format("SPACY")


def test_not_implemented_formats_say_so():
    for name in ("BRUSH_TO_COCO", "DOCLANG"):
        with pytest.raises(ValidationError):
            get_format(name).write([], None, None)


def test_export_filename():
    now = datetime.datetime(2026, 11, 23, 13, 36, 49)
    assert export_filename(1, now, ".json", "d7161aef0123") == "project-1-at-2026-11-23-13-36-d7161aef.json"
    assert export_filename(12, now, "zip", "abcdef12") == "project-12-at-2026-11-23-13-36-abcdef12.zip"
