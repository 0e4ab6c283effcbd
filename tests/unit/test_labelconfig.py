"""desktop.labelconfig: LS's verdicts and messages on label configs, and a parser that can't be
abused.

Oracles (test-only): label-studio-sdk's parse_config for parsed_label_config, and LS's own
validation recipe (defusedxml + xmljson BadgerFish + jsonschema, as core/label_config.py does it)
for validate(). The module itself imports none of them.
"""

import json
import re
import time
from collections import OrderedDict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop import labelconfig as lc
from desktop.labelconfig.samples import sample_task
from desktop.labelconfig.schema import SCHEMA
from paths import REFERENCE

# LS templates and edge cases
CONFIGS = {
    "image_classification": """<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image">
    <Choice value="Adult content"/>
    <Choice value="Weapons" />
    <Choice value="Violence" />
  </Choices>
</View>""",
    "object_detection": """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Airplane" background="green"/>
    <Label value="Car" background="blue"/>
  </RectangleLabels>
</View>""",
    "polygons": """<View>
  <Header value="Select label and click the image to start"/>
  <Image name="image" value="$image" zoom="true"/>
  <PolygonLabels name="label" toName="image" strokeWidth="3" pointSize="small" opacity="0.9">
    <Label value="Airplane" background="red"/>
    <Label value="Car" background="blue"/>
  </PolygonLabels>
</View>""",
    "keypoints": """<View>
  <KeyPointLabels name="kp-1" toName="img-1">
    <Label value="Face" background="red"/>
    <Label value="Nose" background="green"/>
  </KeyPointLabels>
  <Image name="img-1" value="$img"/>
</View>""",
    "brush": """<View>
  <Image name="image" value="$image" zoom="true"/>
  <BrushLabels name="tag" toName="image">
    <Label value="Airplane" background="rgba(255, 0, 0, 0.7)"/>
    <Label value="Car" background="rgba(0, 0, 255, 0.7)"/>
  </BrushLabels>
</View>""",
    "text_classification": """<View>
  <Text name="text" value="$text"/>
  <View style="box-shadow: 2px 2px 5px #999; padding: 20px; margin-top: 2em; border-radius: 5px;">
    <Header value="Choose text sentiment"/>
    <Choices name="sentiment" toName="text" choice="single" showInLine="true">
      <Choice value="Positive"/>
      <Choice value="Negative"/>
      <Choice value="Neutral"/>
    </Choices>
  </View>
</View>""",
    "ner": """<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="darkorange"/>
    <Label value="LOC" background="orange"/>
    <Label value="MISC" background="green"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>""",
    "relations": """<View>
  <Relations>
    <Relation value="org:founded_by"/>
    <Relation value="org:founded"/>
  </Relations>
  <Labels name="label" toName="text">
    <Label value="Organization" background="orange"/>
    <Label value="Person" background="green"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>""",
    "audio_transcription": """<View>
  <Header value="Listen to the audio"/>
  <Audio name="audio" value="$audio"/>
  <Header value="Write the transcription"/>
  <TextArea name="transcription" toName="audio" rows="4" editable="true" maxSubmissions="1"/>
</View>""",
    "time_series": """<View>
  <TimeSeriesLabels name="label" toName="ts">
    <Label value="Run"/>
    <Label value="Walk"/>
  </TimeSeriesLabels>
  <TimeSeries name="ts" valueType="url" value="$csv_url" timeColumn="time">
    <Channel column="sensorone"/>
    <Channel column="sensortwo"/>
  </TimeSeries>
</View>""",
    "rating_ranking": """<View>
  <Text name="text" value="$text"/>
  <Rating name="rating" toName="text" maxRating="10" icon="star" size="medium"/>
  <List name="results" value="$items" title="Search results"/>
  <Ranker name="rank" toName="results"/>
</View>""",
    "multi_image": """<View>
  <Image name="images" valueList="$images"/>
  <RectangleLabels name="box" toName="images">
    <Label value="Cat"/>
  </RectangleLabels>
</View>""",
    "repeater": """<View>
  <Repeater on="$images" indexFlag="{{idx}}" mode="pagination">
    <Image name="page_{{idx}}" value="$images[{{idx}}].url"/>
    <Header value="Utterance Review"/>
    <RectangleLabels name="labels_{{idx}}" toName="page_{{idx}}">
      <Label value="Document Title"/>
      <Label value="Document Date"/>
    </RectangleLabels>
  </Repeater>
</View>""",
    "nested_views": """<View>
  <View>
    <View style="display: flex">
      <Image name="image" value="$image"/>
      <View>
        <Choices name="choice" toName="image" perRegion="true" whenTagName="box">
          <View><Choice value="A"/></View>
          <View><View><Choice value="B"/></View></View>
        </Choices>
      </View>
    </View>
    <RectangleLabels name="box" toName="image"><Label value="Thing"/></RectangleLabels>
  </View>
</View>""",
    "choices_alias": """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive" alias="pos" hint="good"/>
    <Choice value="Negative" alias="neg"/>
    <Choice value="Neutral"/>
  </Choices>
</View>""",
    "labels_category": """<View>
  <Labels name="ner" toName="text">
    <Label value="Person" category="1" background="red" hotkey="p"/>
    <Label value="Place" category="2" selected="true"/>
  </Labels>
  <Text name="text" value="$text" granularity="word"/>
</View>""",
    "hypertext": """<View>
  <HyperTextLabels name="ner" toName="text">
    <Label value="Person" background="green"/>
  </HyperTextLabels>
  <HyperText name="text" value="$text" valueType="url"/>
</View>""",
    "paragraphs": """<View>
  <ParagraphLabels name="ner" toName="prg">
    <Label value="Important Stuff"/>
  </ParagraphLabels>
  <Paragraphs name="prg" value="$dialogue" layout="dialogue" nameKey="speaker" textKey="line"/>
  <Choices name="mood" toName="prg" perRegion="true" whenLabelValue="Important Stuff">
    <Choice value="Happy"/>
  </Choices>
</View>""",
    "dynamic_choices": """<View>
  <Text name="text" value="$text"/>
  <Choices name="options" toName="text" value="$options" selection="checkbox"/>
  <Taxonomy name="tax" toName="text" apiUrl="https://example.com/taxonomy"/>
</View>""",
    "video_tracking": """<View>
  <Labels name="videoLabels" toName="video" allowEmpty="true">
    <Label value="Man" background="blue"/>
  </Labels>
  <Video name="video" value="$video" framerate="25.0"/>
  <VideoRectangle name="box" toName="video"/>
</View>""",
    "multi_object": """<View>
  <Image name="img" value="$image"/>
  <Audio name="aud" value="$audio"/>
  <Text name="txt" value="$text"/>
  <Table name="tbl" value="$table"/>
  <Chat name="chat" value="$dialog"/>
  <Choices name="c" toName="img,txt"><Choice value="x"/></Choices>
  <TextArea name="notes" toName="aud"/>
  <Filter name="f" toName="c" minlength="0"/>
</View>""",
    "object_only": """<View><Image name="image" value="$image"/></View>""",
    "empty_view": """<View></View>""",
    "dotted_key": """<View>
  <Text name="t" value="$meta.body.text"/>
  <Header value="Title: $title" name="h"/>
  <Choices name="c" toName="t"><Choice value="1"/><Choice value="true"/></Choices>
</View>""",
}

REFERENCE_SCHEMA = REFERENCE / "ls-label-config-schema.json"
TEXT_CONFIG = CONFIGS["text_classification"]


# -- oracles ------------------------------------------------------------------------------------

def sdk_parse_config(xml):
    tools = pytest.importorskip("label_studio_sdk._extensions.label_studio_tools.core.label_config")
    return tools.parse_config(xml)


def _fix_choices(config):
    if "Choices" in config:
        if "Choice" in config["Choices"] and not isinstance(config["Choices"]["Choice"], list):
            config["Choices"]["Choice"] = [config["Choices"]["Choice"]]
        elif isinstance(config["Choices"], list) and all("Choice" in c for c in config["Choices"]):
            for each in config["Choices"]:
                if not isinstance(each["Choice"], list):
                    each["Choice"] = [each["Choice"]]
    if "View" in config:
        if isinstance(config["View"], OrderedDict):
            config["View"] = _fix_choices(config["View"])
        else:
            config["View"] = [_fix_choices(view) for view in config["View"]]
    return config


def ls_validate(xml):
    """LS 1.23 validate_label_config steps 1-4, with the libraries LS uses; None when valid."""
    defused = pytest.importorskip("defusedxml.ElementTree")
    jsonschema = pytest.importorskip("jsonschema")
    xmljson = pytest.importorskip("xmljson")
    try:
        root = defused.fromstring(xml, forbid_dtd=True)
        config = _fix_choices(xmljson.badgerfish.data(root))
        cleaned = defused.tostring(root, encoding="unicode")
        jsonschema.validate(config, SCHEMA)
    except (defused.ParseError, ValueError) as exc:
        return str(exc)
    except jsonschema.exceptions.ValidationError as exc:
        message = exc.context[0].message if exc.context else exc.message
        return f"Validation failed on {'/'.join(map(str, exc.path))}: {message.replace('@', '')}"
    names = re.findall(r'name="([^"]*)"', cleaned)
    if len(set(names)) != len(names):
        return "Label config contains non-unique names"
    for to_names in re.findall(r'toName="([^"]*)"', cleaned):
        for to_name in to_names.split(","):
            if to_name not in set(names):
                return f'toName="{to_name}" not found in names: {sorted(set(names))}'
    return None


def first(messages):
    return messages[0] if messages else None


# -- parsed_label_config, control_weights, data types -----------------------------------------

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_parsed_matches_sdk_parse_config(name):
    xml = CONFIGS[name]
    # json.dumps compares key order too: the API serializes parsed_label_config as is
    assert json.dumps(lc.parse(xml).parsed) == json.dumps(sdk_parse_config(xml))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_templates_are_valid_as_in_ls(name):
    assert lc.validate(CONFIGS[name]) == []
    assert ls_validate(CONFIGS[name]) is None


def test_parsed_shape_of_object_detection():
    config = lc.parse(CONFIGS["object_detection"])
    assert config.parsed == {"label": {
        "type": "RectangleLabels", "to_name": ["image"],
        "inputs": [{"type": "Image", "valueType": None, "value": "image"}],
        "labels": ["Airplane", "Car"],
        "labels_attrs": {"Airplane": {"value": "Airplane", "background": "green"},
                         "Car": {"value": "Car", "background": "blue"}}}}
    assert config.control_weights == {
        "label": {"overall": 1.0, "type": "RectangleLabels",
                  "labels": {"Airplane": 1.0, "Car": 1.0}}}


def test_parsed_extras_regex_conditionals_dynamic_and_alias():
    assert lc.parse(CONFIGS["repeater"]).parsed["labels_{{idx}}"]["regex"] == {"{{idx}}": ".*"}
    assert lc.parse(CONFIGS["nested_views"]).parsed["choice"]["conditionals"] == {
        "type": "tag", "name": "box"}
    assert lc.parse(CONFIGS["nested_views"]).parsed["choice"]["labels"] == ["A", "B"]
    dynamic = lc.parse(CONFIGS["dynamic_choices"]).parsed
    assert dynamic["options"]["dynamic_labels"] and dynamic["tax"]["dynamic_labels"]
    assert lc.parse(CONFIGS["choices_alias"]).parsed["sentiment"]["labels"] == [
        "pos", "neg", "Neutral"]
    assert lc.parse(CONFIGS["multi_image"]).parsed["box"]["inputs"] == [
        {"type": "Image", "valueType": None, "valueList": "images"}]


def test_object_only_and_empty_configs_have_no_controls():
    for name in ("object_only", "empty_view"):
        config = lc.parse(CONFIGS[name])
        assert config.parsed == {} and config.control_weights == {}


def test_controls_and_objects():
    config = lc.parse(CONFIGS["multi_object"])
    assert list(config.controls) == ["c", "notes"]  # Filter is never a control
    assert config.controls["c"].to_names == ["img", "txt"]
    assert config.controls["c"].labels == ["x"]
    assert {name: obj.tag for name, obj in config.objects.items()} == {
        "img": "Image", "aud": "Audio", "txt": "Text", "tbl": "Table", "chat": "Chat"}


def test_data_types_and_keys():
    config = lc.parse(CONFIGS["multi_object"])
    assert config.data_types == {"image": "Image", "audio": "Audio", "text": "Text",
                                 "table": "Table", "dialog": "Chat"}
    assert config.data_keys == ["image", "audio", "text", "table", "dialog"]
    # Video wins on a shared key, but the key keeps its first position
    video = lc.parse('<View><Audio name="a" value="$url"/><Video name="v" value="$url"/>'
                     '<Text name="t" value="$t"/></View>')
    assert video.data_types == {"url": "Video", "t": "Text"}
    # a literal value with a variable inside names that variable; nameless tags don't count
    dotted = lc.parse(CONFIGS["dotted_key"])
    assert dotted.data_types == {"meta.body.text": "Text", "title": "Header"}
    assert lc.parse('<View><Header value="$title"/></View>').data_types == {}
    assert lc.parse(CONFIGS["repeater"]).data_types == {"images[{{idx}}].url": "Image"}


# -- validate(): LS's messages ------------------------------------------------------------------

INVALID = [
    ('<View><Text name="t" value="$t"></View>', "mismatched tag: line 1, column 34"),
    ('<View><Choices name="c"><Choice value="a"/></Choices><Text name="t" value="$t"/></View>',
     "Validation failed on : 'toName' is a required property"),
    ('<View><Image name="img"/></View>', "Validation failed on : 'value' is a required property"),
    ('<View><Choices name="c" toName="t"><Choice value="x"/><Choice/></Choices>'
     '<Text name="t" value="$t"/></View>',
     "Validation failed on Choice/1: 'value' is a required property"),
    ('<View><Text name="t" value="$t"/><Text name="t2"/></View>',
     "Validation failed on 1: 'value' is a required property"),
    ('<View><Labels name="c" toName="t"/><Text name="t" value="$t"/></View>',
     "Validation failed on : 'Label' is a required property"),
    ('<View><Choices name="1" toName="t"><Choice value="a"/></Choices>'
     '<Text name="t" value="$t"/></View>',
     "Validation failed on @name: 1 is not of type 'string'"),
    ('<View><Text name="t" value="$t"/><Text name="t" value="$t"/></View>',
     "Label config contains non-unique names"),
    ('<View><Choices name="c" toName="x,t"><Choice value="a"/></Choices>'
     '<Text name="t" value="$t"/></View>',
     "toName=\"x\" not found in names: ['c', 't']"),
    ('<View><Text name="t" value="$t" filename="t"/></View>',
     "Label config contains non-unique names"),
    ('<a:View/>', "unbound prefix: line 1, column 0"),
    ('<View>&e;</View>', "undefined entity: line 1, column 6"),
    ("hello", "syntax error: line 1, column 0"),
    ("   ", "no element found: line 1, column 3"),
    ("<View", "unclosed token: line 1, column 0"),
]


@pytest.mark.parametrize("xml,message", INVALID)
def test_invalid_configs_give_ls_messages(xml, message):
    assert lc.validate(xml) == [message]
    assert ls_validate(xml) == message


def test_reference_examples():
    """The exact bodies observed on LS 1.23.2 (reference §2.3)."""
    mismatched = '<View><Text name="text" value="$text"></View>'
    assert lc.validate(mismatched) == ["mismatched tag: line 1, column 40"]
    with pytest.raises(lc.LabelConfigError) as caught:
        lc.parse(mismatched)
    # the per-project endpoint words it the lxml way (column counting differs from expat's)
    assert caught.value.lxml_message.startswith(
        "Opening and ending tag mismatch: Text line 1 and View, line 1, column ")
    assert lc.validate('<View><Text name="s" value="$s"/><Text name="text" value="$t"/>'
                       '<Choices name="c" toName="txt"><Choice value="a"/></Choices></View>') == [
        "toName=\"txt\" not found in names: ['c', 's', 'text']"]


def test_what_ls_accepts():
    assert lc.validate('<Foo><Text name="t" value="$t"/></Foo>') == []  # root need not be View
    assert lc.validate('<View><Image name="i" value="$i"/></View>') == []  # no control tags
    assert lc.validate('<View><Whatever name="w" toName="i"/>'
                       '<Image name="i" value="$i"/></View>') == []
    assert lc.validate('<?xml version="1.0" encoding="UTF-8"?><View/>') == []
    assert lc.validate('<View><!-- <Choices name="c"/> --></View>') == []


def test_video_playback_speed_checks_of_the_sdk():
    xml = '<View><Video name="v" value="$v" defaultPlaybackSpeed="20" minPlaybackSpeed="x"/></View>'
    assert lc.validate(xml) == ['Video tag "v": minPlaybackSpeed must be a number, got "x"\n'
                                'Video tag "v": defaultPlaybackSpeed must be between 0.05 and 10, '
                                'got 20.0']
    assert lc.validate('<View><Video name="v" value="$v" defaultPlaybackSpeed="2" '
                       'minplaybackspeed="3"/></View>') == [
        'Video tag "v": minPlaybackSpeed (3.0) must not exceed defaultPlaybackSpeed (2.0)']


def test_embedded_schema_is_ls_schema():
    assert SCHEMA == json.loads(REFERENCE_SCHEMA.read_text())


TAGS = ["View", "Choices", "Choice", "Labels", "Label", "Text", "Image", "HyperText", "TextArea",
        "Number", "Header", "Filter", "Relations", "Relation", "Repeater", "Foo"]
ATTRS = ["name", "toName", "value", "valueList", "alias", "perRegion", "whenTagName",
         "whenChoiceValue", "indexFlag", "apiUrl", "valueType"]
VALUES = ["a", "b", "$a", "1", "true", "a,b", "", "{{i}}", "a{{i}}"]


@st.composite
def configs(draw, depth=0):
    tag = draw(st.sampled_from(TAGS if depth else ["View", "View", "Foo"]))
    attrs = draw(st.dictionaries(st.sampled_from(ATTRS), st.sampled_from(VALUES), max_size=3))
    text = draw(st.sampled_from(["", "", " x ", "2"]))
    children = draw(st.lists(configs(depth + 1), max_size=3)) if depth < 3 else []
    attr_text = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{attr_text}>{text}{''.join(children)}</{tag}>"


@settings(max_examples=400, deadline=None)
@given(configs())
def test_validate_agrees_with_ls_on_random_configs(xml):
    assert first(lc.validate(xml)) == ls_validate(xml)


@settings(max_examples=200, deadline=None)
@given(configs())
def test_parsed_agrees_with_sdk_on_random_configs(xml):
    assert json.dumps(lc.parse(xml).parsed) == json.dumps(sdk_parse_config(xml))


# -- safety -------------------------------------------------------------------------------------

XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><View>&e;</View>'
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} '
                    f'"{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + ']><View><Text name="t" value="&lol9;"/></View>')
EXTERNAL_DTD = '<!DOCTYPE View SYSTEM "http://127.0.0.1:9/evil.dtd"><View/>'


@pytest.mark.parametrize("xml", [XXE, LAUGHS, EXTERNAL_DTD, "<!DOCTYPE View><View/>"])
def test_dtds_are_refused(xml):
    assert lc.validate(xml) == [
        "DTD is not allowed in a label config (DOCTYPE and entity declarations are refused)"]
    with pytest.raises(lc.LabelConfigError, match="DTD is not allowed"):
        lc.parse(xml)


def test_entities_are_never_expanded():
    with pytest.raises(lc.LabelConfigError):
        lc.parse('<View><Text name="t" value="&e;"/></View>')
    assert "root:" not in json.dumps(lc.validate(XXE))


def test_huge_config_is_refused_fast():
    huge = "<View>" + '<Text name="t" value="$t"/>' * 2_000_000 + "</View>"  # ~54 MB
    started = time.perf_counter()
    messages = lc.validate(huge)
    assert time.perf_counter() - started < 1.0
    assert messages[0].startswith("Label config is too large")
    with pytest.raises(lc.LabelConfigError, match="too large"):
        lc.parse(huge.encode())
    just_over = "<View>" + " " * (lc.MAX_CONFIG_BYTES - 13) + "é</View>"  # chars fit, bytes don't
    assert lc.validate(just_over)[0].startswith("Label config is too large")


@pytest.mark.parametrize("value,expected", [
    (None, "Label config must be a string, not NoneType"),
    (42, "Label config must be a string, not int"),
    (["<View/>"], "Label config must be a string, not list"),
    ("", "Label config is not set or is empty"),
    (b"\xff\xfe<View/>", "Label config is not valid UTF-8 text: byte 0xff at position 0"),
    ("<View>\ud800</View>", "Label config contains a character that is not valid in UTF-8 text "
                            "at position 6"),
    ("<View>\x00</View>", "not well-formed (invalid token): line 1, column 6"),
    (bytes(range(256)), "Label config is not valid UTF-8 text: byte 0x80 at position 128"),
])
def test_bad_input_gives_a_clear_message(value, expected):
    assert lc.validate(value) == [expected]
    with pytest.raises(lc.LabelConfigError) as caught:
        lc.parse(value)
    assert caught.value.messages == [expected]


def test_deep_nesting_does_not_crash():
    deep = "<View>" * 5000 + "</View>" * 5000
    messages = lc.validate(deep)
    assert messages and isinstance(messages[0], str)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200),
                 st.text(alphabet="<>/=\"'&;!?[] ViewTextname$", max_size=80)))
def test_validate_never_raises(junk):
    messages = lc.validate(junk)
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    try:
        lc.parse(junk)
    except lc.LabelConfigError as exc:
        assert exc.messages


def test_bytes_input_is_utf8():
    config = lc.parse('<View><Choices name="c" toName="t"><Choice value="Café"/></Choices>'
                      '<Text name="t" value="$t"/></View>'.encode())
    assert config.parsed["c"]["labels"] == ["Café"]


def test_module_does_not_import_the_oracles():
    imports = re.compile(r"^\s*(import|from)\s+(label_studio_sdk|jsonschema|xmljson|defusedxml)\b",
                         re.MULTILINE)
    for module in ("__init__", "schema", "samples"):
        assert not imports.search((Path(lc.__file__).parent / f"{module}.py").read_text())


# -- task data (import) -------------------------------------------------------------------------

def test_missing_key_message():
    config = lc.parse(TEXT_CONFIG)
    assert config.validate_task_data({"foo": "bar"}) == '"text" key is expected in task data'
    assert config.validate_task_data({"foo": "bar"}, "root") == (
        '"text" key is expected in task data [assume: item as is = task root with values] ')
    assert config.validate_task_data({"foo": "bar"}, "data") == (
        '"text" key is expected in task data [assume: item["data"] = task root with values]')
    assert config.validate_task_data({"text": "hi", "extra": 1}) is None
    assert config.validate_task_data(None) == "Task is empty (None)"


def test_type_messages():
    image = lc.parse(CONFIGS["object_detection"])
    assert image.validate_task_data({"image": 5}) == (
        "data['image']=5 is of type 'int', but the object tag Image expects the following "
        "types: ['str', 'list']")
    assert image.validate_task_data({"image": ["a.jpg", "b.jpg"]}) is None
    text = lc.parse(TEXT_CONFIG)
    assert text.validate_task_data({"text": 3.5}) is None
    assert text.validate_task_data({"text": {"a": 1}}) == (
        "data['text']={'a': 1} is of type 'dict', but the object tag Text expects the following "
        "types: ['str', 'int', 'float', 'list']")
    audio = lc.parse(CONFIGS["audio_transcription"])
    assert audio.validate_task_data({"audio": ["x"]}) == (
        "data['audio']=['x'] is of type 'list', but the object tag Audio expects the following "
        "types: ['str']")
    tables = lc.parse(CONFIGS["multi_object"])
    good = {"image": "i", "audio": "a", "text": "t", "table": {"a": 1}, "dialog": []}
    assert tables.validate_task_data(good) is None
    assert "object tag Chat" in tables.validate_task_data({**good, "dialog": 1})


def test_dotted_and_repeater_keys():
    dotted = lc.parse(CONFIGS["dotted_key"])
    assert dotted.validate_task_data({"meta": {"body": {"text": "x"}}, "title": "T"}) is None
    assert dotted.validate_task_data({"meta": {"body": {}}, "title": "T"}) == (
        '"meta.body.text" key is expected in task data')
    assert dotted.validate_task_data({"meta": "flat", "title": "T"}) == (
        '"meta.body.text" key is expected in task data')
    repeater = lc.parse(CONFIGS["repeater"])
    assert repeater.validate_task_data({"images": [{"url": "a"}]}) is None
    assert repeater.validate_task_data({"images": "a"}) == (
        "data['images']=a is of type 'str', but the object tag Image expects the following "
        "types: ['list']")
    assert repeater.validate_task_data({}) == '"images" key is expected in task data'


def test_undefined_key_becomes_first_data_key():
    config = lc.parse(TEXT_CONFIG)
    data = {"$undefined$": "line one"}
    assert config.validate_task_data(data) is None
    assert data == {"text": "line one"}
    kept = {"$undefined$": "x"}
    assert lc.parse("<View/>").validate_task_data(kept) is None and kept == {"$undefined$": "x"}


# -- config changes on a project with annotations -----------------------------------------------

def summary(annotations=None, labels=None, drafts=None):
    return {"created_annotations": annotations or {}, "created_labels": labels or {},
            "created_labels_drafts": drafts or {}}


def test_unchanged_config_is_compatible():
    config = lc.parse(TEXT_CONFIG)
    used = summary({"sentiment|text|choices": 2}, {"sentiment": {"Positive": 1, "Negative": 1}})
    assert config.incompatibilities(used, strict=True) == []


def test_removed_control_is_incompatible():
    config = lc.parse('<View><Text name="text" value="$text"/>'
                      '<Choices name="other" toName="text"><Choice value="Neg"/></Choices></View>')
    used = summary({"sentiment|text|choices": 2}, {"sentiment": {"Pos": 1, "Neg": 1}})
    assert config.incompatibilities(used, strict=False) == [
        "Created annotations are incompatible with provided labeling schema, we found:\n"
        "2 with from_name=sentiment, to_name=text, type=choices"]
    labels_only = summary({}, {"sentiment": {"Pos": 1, "Neg": 2}})
    assert config.incompatibilities(labels_only, strict=False) == [
        'There are 3 annotation(s) created with tag "sentiment", you can\'t remove it']


def test_removed_label_only_refused_when_strict():
    config = lc.parse('<View><Text name="text" value="$text"/>'
                      '<Choices name="sentiment" toName="text"><Choice value="Pos"/></Choices>'
                      '</View>')
    used = summary({"sentiment|text|choices": 2}, {"sentiment": {"Pos": 1, "Neg": 1}})
    assert config.incompatibilities(used, strict=True) == [
        "These labels still exist in annotations or drafts:\nNeg (1 annotation)\n"
        'Please add labels to tag with name="sentiment".']
    assert config.incompatibilities(used, strict=False) == []
    with_drafts = summary({"sentiment|text|choices": 2}, {"sentiment": {"Neg": 2}},
                          {"sentiment": {"Neg": 1}})
    assert config.incompatibilities(with_drafts, strict=True)[0].split("\n")[1] == (
        "Neg (2 annotations, 1 draft)")


def test_exemptions():
    textarea = lc.parse('<View><Audio name="audio" value="$audio"/>'
                        '<TextArea name="transcription" toName="audio"/></View>')
    assert textarea.incompatibilities(summary({"transcription|gone|textarea": 3}), True) == []
    dynamic = lc.parse(CONFIGS["dynamic_choices"])
    assert dynamic.incompatibilities(
        summary({"options|text|choices": 1}, {"options": {"Anything": 1}}), True) == []
    video = lc.parse(CONFIGS["video_tracking"])
    assert video.incompatibilities(
        summary({"box|video|videorectangle": 1}, {"box": {"Man": 1}}), True) == []
    repeater = lc.parse(CONFIGS["repeater"])
    assert repeater.incompatibilities(
        summary({"labels_3|page_3|rectanglelabels": 1}, {"labels_3": {"Document Date": 1}}),
        True) == []
    taxonomy = lc.parse('<View><Text name="t" value="$t"/><Taxonomy name="tax" toName="t">'
                        '<Choice value="A"/></Taxonomy></View>')
    custom = summary({"tax|t|taxonomy": 1}, {"tax": {"Mine": 1}})
    assert taxonomy.incompatibilities(custom, True, custom_labels={"Mine"}) == []
    assert taxonomy.incompatibilities(custom, True) != []
    assert lc.parse("<View/>").incompatibilities(summary({"a|b|choices": 1}), True) == []


# -- sample tasks -------------------------------------------------------------------------------

def test_sample_task_by_tag():
    assert sample_task(lc.parse(CONFIGS["object_detection"])) == {
        "image": "/static/samples/sample.jpg"}
    assert sample_task(lc.parse(CONFIGS["object_detection"]), "http://localhost:8080") == {
        "image": "http://localhost:8080/static/samples/sample.jpg"}
    many = sample_task(lc.parse(CONFIGS["multi_object"]))
    assert many["audio"] == "/static/samples/game.wav"
    assert many["text"] == "To have faith is to trust yourself to the water"
    assert many["table"] == {"Card number": 18799210, "First name": "Max", "Last name": "Nobel"}
    assert many["dialog"][0] == {"role": "user", "content": "Hi there!", "createdAt": 1710000000000}
    assert list(many) == ["image", "audio", "text", "table", "dialog"]


def test_sample_task_special_cases():
    sample = sample_task
    assert sample(lc.parse(CONFIGS["hypertext"])) == {"text": "/static/samples/hypertext.html"}
    assert sample(lc.parse(CONFIGS["paragraphs"]))["dialogue"][0] == {"speaker": "Alice",
                                                                     "line": "Hi, Bob."}
    assert sample(lc.parse(CONFIGS["time_series"])) == {
        "csv_url": "/samples/time-series.csv?time=time&values=sensorone%2Csensortwo"}
    assert sample(lc.parse('<View><Video name="v" value="$video"/></View>')) == {
        "video": "/static/samples/opossum_snow.mp4"}
    assert sample(lc.parse('<View><HyperText name="p" value="$pdf"/></View>'), "http://h") == {
        "pdf": "<embed src='http://h/static/samples/sample.pdf' width='100%' height='600px'/>"}
    assert sample(lc.parse('<View><Text name="t" value="$t" valueType="url"/></View>')) == {
        "t": "https://htx-pub.s3.amazonaws.com/example.txt"}
    assert sample(lc.parse('<View><Unknown name="u" value="$u"/></View>')) == {"u": "Something"}
    assert sample(lc.parse(CONFIGS["multi_image"])) == {"images": ["/static/samples/sample.jpg"]}
    assert sample(lc.parse(CONFIGS["repeater"])) == {
        "images": [{"url": "/static/samples/sample.jpg"}, {"url": "/static/samples/sample.jpg"}]}
    assert sample(lc.parse(CONFIGS["dynamic_choices"]))["options"][0] == {"value": "DynamicChoice1"}
    assert sample(lc.parse(CONFIGS["rating_ranking"]))["items"][0]["title"] == (
        "The Amazing World of Opossums")


def test_sample_time_series_json():
    xml = ('<View><TimeSeries name="ts" value="$ts" valueType="json" timeColumn="t">'
           '<Channel column="a"/><Channel column="b"/></TimeSeries></View>')
    data = sample_task(lc.parse(xml))["ts"]
    assert list(data) == ["t", "a", "b"]
    assert data["t"] == list(range(100)) and len(data["a"]) == 100
    dated = sample_task(lc.parse(xml.replace('timeColumn="t"',
                                             'timeColumn="t" timeFormat="%Y-%m"')))
    assert dated["ts"]["t"][:3] == ["2020-01", "2020-02", "2020-03"]
    assert len(dated["ts"]["t"]) == 100
    wrapping = sample_task(lc.parse(xml.replace('timeColumn="t"',
                                                'timeColumn="t" timeFormat="%m"')))
    assert wrapping["ts"]["t"] == [f"{m:02d}" for m in range(1, 13)]


def test_sample_task_comment_overrides():
    xml = ('<!-- {"data": {"text": "Custom", "extra": 1}} -->\n'
           '<View><Text name="text" value="$text"/><Image name="i" value="$image"/></View>')
    assert sample_task(lc.parse(xml)) == {"text": "Custom", "image": "/static/samples/sample.jpg",
                                             "extra": 1}
    root_body = '<!--{"text": "Root"}--><View><Text name="text" value="$text"/></View>'
    assert sample_task(lc.parse(root_body)) == {"text": "Root"}
    broken = '<!-- {not json} --><View><Text name="text" value="$text"/></View>'
    assert sample_task(broken)["text"] == "To have faith is to trust yourself to the water"


def test_examples_are_ls_data_examples():
    interface = pytest.importorskip("label_studio_sdk.label_interface")
    path = Path(interface.__file__).parent / "data_examples.json"
    from desktop.labelconfig.samples import EXAMPLES

    assert EXAMPLES == json.loads(path.read_text())["editor_preview"]
