"""Example task data for a label config: LS's sample-task endpoint and 0.x /api/import-example.

Follows Label Studio 1.23's generate_sample_task_without_check (mode "editor_preview"): every
element with value="$key" or valueList="$key" gets an example picked by the key's name ($pdf,
$website, …), then by tag (Image, Audio, Text, Paragraphs, TimeSeries, …), else "Something";
Repeater keys (images[{{idx}}].url) become two-item lists. A JSON comment in the config,
<!-- {"data": {…}} -->, overrides the generated values, as in LS's get_sample_task.
"""

import copy
import json
import random
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode

from desktop.labelconfig import parse

__all__ = ["sample_task", "complete_sample_task", "task_from_config_comment", "EXAMPLES",
           "PROJECT_EXAMPLES", "UPLOAD_EXAMPLES"]

_ROWS = 100  # LS generates 100 time-series rows

# LS's data_examples.json "editor_preview" section; <HOSTNAME> is the server's public URL
EXAMPLES = {
    "TextRaw": "To have faith is to trust yourself to the water",
    "TextUrl": "https://htx-pub.s3.amazonaws.com/example.txt",
    "HyperText": (
        "<div style=\"max-width: 750px\"><div style=\"clear: both\"><div style=\"float: right; "
        "display: inline-block; border: 1px solid #F2F3F4; background-color: #F8F9F9; "
        "border-radius: 5px; padding: 7px; margin: 10px 0;\"><p><b>Jules</b>: No no, Mr. Wolfe, "
        "it's not like that. Your help is definitely appreciated.</p></div></div><div "
        "style=\"clear: both\"><div style=\"float: right; display: inline-block; border: 1px "
        "solid #F2F3F4; background-color: #F8F9F9; border-radius: 5px; padding: 7px; margin: "
        "10px 0;\"><p><b>Vincent</b>: Look, Mr. Wolfe, I respect you. I just don't like people "
        "barking orders at me, that's all.</p></div></div><div style=\"clear: both\"><div "
        "style=\"display: inline-block; border: 1px solid #D5F5E3; background-color: #EAFAF1; "
        "border-radius: 5px; padding: 7px; margin: 10px 0;\"><p><b>The Wolf</b>: If I'm curt "
        "with you, it's because time is a factor. I think fast, I talk fast, and I need you two "
        "guys to act fast if you want to get out of this. So pretty please, with sugar on top, "
        "clean the car.</p></div></div></div>"
    ),
    "HyperTextUrl": "<HOSTNAME>/static/samples/hypertext.html",
    "Image": "<HOSTNAME>/static/samples/sample.jpg",
    "Audio": "<HOSTNAME>/static/samples/game.wav",
    "AudioPlus": "<HOSTNAME>/static/samples/game.wav",
    "Header": "Task header",
    "Paragraphs": [
        {"author": "Alice", "text": "Hi, Bob."},
        {"author": "Bob", "text": "Hello, Alice!"},
        {"author": "Alice", "text": "What's up?"},
        {"author": "Bob", "text": "Good. Ciao!"},
        {"author": "Alice", "text": "Bye, Bob."},
    ],
    "ParagraphsUrl": "<HOSTNAME>/samples/paragraphs.json?",
    "Chat": [
        {"role": "user", "content": "Hi there!", "createdAt": 1710000000000},
        {
            "role": "assistant",
            "content": "Hello! How can I help you today?",
            "createdAt": 1710000005000,
        },
        {
            "role": "user",
            "content": "Can you summarize our onboarding checklist?",
            "createdAt": 1710000010000,
        },
        {
            "role": "assistant",
            "content": (
                "Sure. It includes account setup, roles, labeling instructions, GT tasks, "
                "overlap and review."
            ),
            "createdAt": 1710000015000,
        },
    ],
    "Table": {"Card number": 18799210, "First name": "Max", "Last name": "Nobel"},
    "$videoHack": "<video src='<HOSTNAME>/static/samples/opossum_snow.mp4' width=100% controls>",
    "Video": "<HOSTNAME>/static/samples/opossum_snow.mp4",
    "Labels": [
        {"value": "DynamicLabel1", "background": "#ff0000"},
        {"value": "DynamicLabel2", "background": "#0000ff"},
    ],
    "Choices": [
        {"value": "DynamicChoice1"},
        {"value": "DynamicChoice2"},
        {"value": "DynamicChoice3"},
    ],
    "NestedChoices": [
        {
            "value": "DynamicChoiceHeader1",
            "children": [{"value": "DynamicChoice1.1"}, {"value": "DynamicChoice1.2"}],
        },
        {
            "value": "DynamicChoiceHeader2",
            "children": [
                {"value": "DynamicChoice2.1"},
                {"value": "DynamicChoice2.2"},
                {"value": "DynamicChoice2.3"},
            ],
        },
    ],
    "List": [
        {
            "id": 1,
            "title": "The Amazing World of Opossums",
            "body": (
                "Opossums are fascinating marsupials native to North America. They have "
                "prehensile tails, which help them to climb trees and navigate their "
                "surroundings with ease. Additionally, they are known for their unique defense "
                "mechanism, called 'playing possum,' where they mimic the appearance and smell "
                "of a dead animal to deter predators."
            ),
        },
        {
            "id": 2,
            "title": "Opossums: Nature's Pest Control",
            "body": (
                "Opossums play a crucial role in controlling insect and rodent populations, as "
                "they consume a variety of pests like cockroaches, beetles, and mice. This "
                "makes them valuable allies for gardeners and homeowners, as they help to "
                "maintain a balanced ecosystem and reduce the need for chemical pest control "
                "methods."
            ),
        },
        {
            "id": 3,
            "title": "Fun Fact: Opossums Are Immune to Snake Venom",
            "body": (
                "One surprising characteristic of opossums is their natural immunity to snake "
                "venom. They have a unique protein in their blood called 'Lethal "
                "Toxin-Neutralizing Factor' (LTNF), which neutralizes venom from a variety of "
                "snake species, including rattlesnakes and cottonmouths. This allows opossums "
                "to prey on snakes without fear of harm, further highlighting their important "
                "role in the ecosystem."
            ),
        },
    ],
    "$longText": (
        "Opossums are frequently considered to be living fossils, and as a result are often "
        "used to approximate the ancestral therian condition in comparative studies. However, "
        "this is inaccurate, the oldest opossum fossils are early Miocene in age (roughly 20 "
        "million years old) and the last common ancestor of all living opossums approximately "
        "dates to the Oligocene-Miocene boundary (roughly 23 million years ago) and is at most "
        "no older than Oligocene in age. Many extinct metatherians once considered early "
        "opossums, such as Alphadon, Peradectes, Herpetotherium, and Pucadelphys, have since "
        "been recognized to have been previously grouped with opossums on the basis of "
        "plesiomorphies and are now considered to represent older branches of Metatheria only "
        "distantly related to modern opossums."
    ),
    "$corefText": "I voted for Obama because he was most aligned with my values, she said.",
    "$pdf": "<embed src='<HOSTNAME>/static/samples/sample.pdf' width='100%' height='600px'/>",
    "$website": "<iframe src='http://heartex.ai' width='100%' height='600px'/>",
    "$headlessCsv": "<HOSTNAME>/static/samples/sample-task-sin-headless.csv",
    "$humanMachineDialogue": [
        {"author": "Human", "text": "Hi, Robot!"},
        {"author": "Robot", "text": "Nice to meet you, man! Tell me what you want."},
        {"author": "Human", "text": "Order me a pizza from Golden Boy at Green Street "},
        {"author": "Robot", "text": "Done. When do you want to get the order?"},
        {"author": "Human", "text": "At 3am in the morning, please"},
    ],
    "$respone": "Sure, no problem!",
    "$resptwo": "Sorry, it's too early. May be we can change the time?",
    "$respthree": "Don't eat junk food man, it's bad for you...",
    "$ocr": "https://htx-pub.s3.amazonaws.com/demo/ocr/example.jpg",
    "$ner": (
        "A Florida restaurant paid 10,925 pounds ($16,935) for the draft of \\\"Ain't no "
        "telling\\\", which Hendrix penned on a piece of London hotel stationery in late 1966."
    ),
    "$captioning": "<HOSTNAME>/static/samples/trees_in_snow.jpg",
    "$pairText1": "Look at this! It's a brand new product",
    "$pairText2": "Look at this! It's an awesome piece of sh*t",
}


# Label Studio 1.23.2's own data_examples.json (label_studio/core/utils/schema/), "editor_preview":
# what its POST /api/projects/{id}/sample-task answers. EXAMPLES above are the SDK's copy (older
# texts), which 0.x's /api/import-example keeps.
PROJECT_EXAMPLES = {
    **{k: v for k, v in EXAMPLES.items() if k != "Chat"},  # no Chat example: "Something"
    "TextRaw": "Sample: Your text will go here.",
    "Header": "Sample: Header text",
    "Paragraphs": [{"author": author, "text": f"Sample: Text #{n}"}
                   for n, author in enumerate(("Alice", "Bob", "Alice", "Bob", "Alice"), 1)],
    "Table": {"Card number": 18799210, "First name": "Sample", "Last name": "Text"},
    "List": [{**item, "title": "Sample: " + item["title"]} for item in EXAMPLES["List"]],
    "$longText": ("Sample: This is a sample text for long text task. It can be used for text "
                  "classification, named entity recognition, etc."),
    "$corefText": ("Sample: This is a sample text for coreference resolution and entity "
                   "linking task."),
    "$humanMachineDialogue": [
        {"author": "Human", "text": "Sample: Hi, Robot!"},
        {"author": "Robot", "text": "Sample: Nice to meet you, human! Tell me what you want."},
        {"author": "Human", "text": "Sample: Order me a pizza from Golden Boy at Green Street "},
        {"author": "Robot", "text": "Sample: Done. When do you want to get the order?"},
        {"author": "Human", "text": "Sample: At 3am in the morning, please"},
    ],
    "$respone": "Sample: Response #1",
    "$resptwo": "Sample: Response #2",
    "$respthree": "Sample: Response #3",
    "$ner": "Sample: This is a sample text for named entity recognition task.",
    "$pairText1": "Sample: Text #1",
    "$pairText2": "Sample: Text #2",
}
# The SDK's "upload" examples: the data of a sample task with annotation and prediction (the SDK's
# LabelInterface.generate_sample_task, which reads no <!-- {"data": …} --> comment).
UPLOAD_EXAMPLES = {
    **{k: v for k, v in EXAMPLES.items() if k not in (
        "$captioning", "$corefText", "$humanMachineDialogue", "$ner", "$ocr", "$pairText1",
        "$pairText2", "$respone", "$respthree", "$resptwo", "Choices", "HyperTextUrl",
        "Labels", "List", "NestedChoices", "ParagraphsUrl")},
    "$videoHack": "<video src='static/samples/opossum_snow.mp4' width=100% controls>",
    "$website": "<iframe src='https://heartex.ai' width='100%' height='600px'/>",
    "Chat": [{"role": "user", "content": "Hello!", "createdAt": 1710000000000},
             {"role": "assistant", "content": "Hi! What can I do for you?",
              "createdAt": 1710000004000}],
    "HyperText": "<a href='heartex.net'>Heartex</a>",
}


def sample_task(config, host="", examples=None, from_comment=True, sdk=False):
    """{data key: example value} for a LabelConfig (or config XML), with <HOSTNAME> = host:
    from `examples` (EXAMPLES by default; a missing one is None), then, `from_comment`, the
    config's data comment. `sdk`: as the SDK's generate_sample_task, object tags only (no
    control's value="$key"), a valueList's example not wrapped in a list."""
    if isinstance(config, (str, bytes)):
        config = parse(config)
    examples = {
        key: value.replace("<HOSTNAME>", host) if isinstance(value, str) else value
        for key, value in (EXAMPLES if examples is None else examples).items()
    }
    task = {}
    root = config.tree
    # LS lists value= elements first, then valueList= ones, not in document order
    for element in root.findall(".//*[@value]") + root.findall(".//*[@valueList]"):
        value = element.get("value") or element.get("valueList")
        if not value or not value.startswith("$"):
            continue
        if sdk and element.get("name") in config.parsed and element.tag != "Chat":
            continue  # a control tag (a Chat is an object tag that also takes regions)
        key = value[1:]
        task[key] = _example(element, key, examples, wrap_lists=not sdk)
        if "[" in key:
            base, child = key.split("[")[0], key.split("]")[1]
            item = task.pop(key)
            task[base] = ([{child[1:]: item}, {child[1:]: item}] if child.startswith(".")
                          else [item, item])
    override = task_from_config_comment(config.xml) if from_comment else None
    if override is not None:
        task.update(override)
    return copy.deepcopy(task)  # callers may edit it; EXAMPLES must stay as they are


def _example(element, key, examples, wrap_lists=True):
    tag = element.tag
    is_list = "valueList" in element.attrib and wrap_lists
    value_type = element.get("valueType") or element.get("valuetype")
    # TimeSeries data is a CSV URL unless valueType says otherwise
    only_urls = value_type == "url" or (tag == "TimeSeries" and value_type is None)
    by_name = examples.get("$" + key)
    if by_name:
        return [by_name] if is_list else by_name
    if key == "video" and tag == "HyperText":
        return examples.get("$videoHack")
    if tag == "List":
        return examples.get("List")
    if tag == "Paragraphs":
        name_key = element.get("nameKey") or element.get("namekey") or "author"
        text_key = element.get("textKey") or element.get("textkey") or "text"
        if only_urls:
            return (examples.get("ParagraphsUrl") or "") + urlencode(
                {"nameKey": name_key, "textKey": text_key})
        return [{name_key: item["author"], text_key: item["text"]} for item in examples[tag]]
    if tag == "TimeSeries":
        return _time_series(element, only_urls)
    if tag == "HyperText":
        return examples.get("HyperTextUrl" if only_urls else "HyperText")
    if tag.lower().endswith("labels"):
        return examples.get("Labels")
    if tag.lower() == "choices":
        nested = (element.get("allowNested") or element.get("allownested") or "false") == "true"
        return examples.get("NestedChoices" if nested else "Choices")
    if tag == "Text":
        example = examples.get("TextUrl" if only_urls else "TextRaw")
    else:
        example = examples.get(tag, "Something")
    return [example] if is_list else example


def _time_series(element, only_urls):
    time_column = element.get("timeColumn")
    columns = [channel.get("column") for channel in element.findall(".//Channel[@column]")]
    sep, time_format = element.get("sep"), element.get("timeFormat")
    if only_urls:
        params = {"time": time_column, "values": ",".join(columns)}
        if sep:
            params["sep"] = sep
        if time_format:
            params["tf"] = time_format
        return "/samples/time-series.csv?" + urlencode(params)
    times = _times(time_format)
    series = {time_column: times}
    for column in columns:
        series[column] = [random.gauss(0.0, 1.0) for _ in times]
    return series


def _times(time_format):
    """0…99, or dates from 2020-01-01 stepping by the smallest unit the format shows."""
    if time_format is not None and "%" not in time_format:
        time_format = {"yyyy-MM-dd": "%Y-%m-%d"}.get(time_format)
    if time_format is None:
        return list(range(_ROWS))
    step = next(
        (
            unit
            for code, unit in (
                ("%S", "second"),
                ("%M", "minute"),
                ("%H", "hour"),
                ("%d", "day"),
                ("%m", "month"),
                ("%Y", "year"),
            )
            if code in time_format
        ),
        "day",
    )
    times, previous = [], None
    for index in range(_ROWS):
        text = _nth_time(step, index).strftime(time_format)
        if previous is not None and text <= previous:  # the format wrapped around: stop
            break
        times.append(text)
        previous = text
    return times


def _nth_time(step, index):
    start = datetime(2020, 1, 1)
    if step == "month":
        return start.replace(year=2020 + index // 12, month=index % 12 + 1)
    if step == "year":
        return start.replace(year=2020 + index)
    return start + timedelta(**{step + "s": index})


def task_from_config_comment(xml):
    """The data of a <!-- {"data": …} --> comment in the config (LS's override), or None."""
    start = xml.find("<!-- {")
    start = (start if start >= 0 else xml.find("<!--{")) + 4
    end = xml[start:].find("-->") if start >= 4 else -1
    if not 3 < start < start + end:
        return None
    try:
        body = json.loads(xml[start : start + end])
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if "data" in body:
        return body["data"] if isinstance(body["data"], dict) else None
    return None if "predictions" in body or "annotations" in body else body


# One example region value per control type, for complete_sample_task. LS (the SDK's
# generate_complete_sample_task) draws random values from each control's JSON schema and
# skips the controls it can't; these are fixed values of the same shapes.
_BOX = {"x": 10.0, "y": 10.0, "width": 20.0, "height": 20.0, "rotation": 0.0}
_REGIONS = {
    "choices": lambda labels: {"choices": labels[:1]},
    "labels": lambda labels: {"start": 0, "end": 4, "labels": labels[:1]},
    "hypertextlabels": lambda labels: {"start": "/div[1]", "end": "/div[1]", "startOffset": 0,
                                       "endOffset": 4, "hypertextlabels": labels[:1]},
    "rectangle": lambda labels: dict(_BOX),
    "rectanglelabels": lambda labels: {**_BOX, "rectanglelabels": labels[:1]},
    "ellipselabels": lambda labels: {"x": 30.0, "y": 30.0, "radiusX": 10.0, "radiusY": 10.0,
                                     "rotation": 0.0, "ellipselabels": labels[:1]},
    "polygonlabels": lambda labels: {"points": [[10.0, 10.0], [30.0, 10.0], [20.0, 30.0]],
                                     "polygonlabels": labels[:1]},
    "keypointlabels": lambda labels: {"x": 20.0, "y": 20.0, "width": 1.0,
                                      "keypointlabels": labels[:1]},
    "textarea": lambda labels: {"text": ["Sample text"]},
    "rating": lambda labels: {"rating": 1},
    "number": lambda labels: {"number": 1},
    "taxonomy": lambda labels: {"taxonomy": [labels[:1]]} if labels else None,
}


def sample_regions(config):
    """Result regions for a LabelConfig: one per control whose type has an example value."""
    regions = []
    for name, control in config.parsed.items():
        kind = str(control.get("type", "")).lower()
        make = _REGIONS.get(kind)
        to_names = control.get("to_name") or []
        if make is None or not to_names:
            continue
        value = make(list(control.get("labels") or []))
        if value is None or (kind.endswith("labels") or kind == "choices") and not any(
                isinstance(v, list) and v for v in value.values()):
            continue  # a labeling control without labels has no valid region
        regions.append({"id": str(uuid.uuid4()), "from_name": name, "to_name": to_names[0],
                        "type": kind, "value": value})
    return regions


def complete_sample_task(config, user_id, host=""):
    """LS's sample task "with annotation and prediction": {"data", "annotations",
    "predictions"}, the annotation by `user_id`, as POST /api/projects/{id}/sample-task with
    include_annotation_and_prediction answers."""
    if isinstance(config, (str, bytes)):
        config = parse(config)
    return {
        "data": sample_task(config, host, UPLOAD_EXAMPLES, from_comment=False, sdk=True),
        "annotations": [{"was_cancelled": False, "ground_truth": False, "lead_time": 0.0,
                         "result_count": 0, "completed_by": user_id,
                         "result": sample_regions(config)}],
        "predictions": [{"model_version": "sample model version", "score": 0.0,
                         "result": sample_regions(config)}],
    }
