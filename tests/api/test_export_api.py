"""Export through the HTTP API, checked against an outside oracle.

Projects are created, filled (uploaded PNG/WAV files) and annotated over HTTP; every format is
downloaded from GET /api/projects/{id}/export and compared with what label_studio_sdk's
Converter (a test dependency only) makes from LabelDesk's own JSON export of the same tasks.
"""

import csv
import io
import json
import math
import os
import wave
import zipfile

import numpy as np
import pytest
from PIL import Image

from exporthelp import TEXT_CONFIG, Project  # noqa: F401

IMAGE_CONFIG = """<View><Image name="image" value="$image"/>
<RectangleLabels name="label" toName="image">
  <Label value="Cat"/><Label value="Dog"/><Label value="Bird" category="7"/>
</RectangleLabels>
<PolygonLabels name="poly" toName="image"><Label value="Fence"/></PolygonLabels></View>"""
KEYPOINT_CONFIG = """<View><Image name="image" value="$image"/>
<RectangleLabels name="box" toName="image"><Label value="Person"/></RectangleLabels>
<KeyPointLabels name="kp" toName="image">
  <Label value="Head" model_index="0"/><Label value="Foot" model_index="1"/>
</KeyPointLabels></View>"""
NER_CONFIG = """<View><Text name="text" value="$text"/>
<Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels></View>"""
ASR_CONFIG = """<View><Audio name="audio" value="$audio"/>
<TextArea name="transcription" toName="audio"/></View>"""
BRUSH_CONFIG = """<View><Image name="image" value="$image"/>
<BrushLabels name="tag" toName="image">
<Label value="Car"/><Label value="Road"/></BrushLabels></View>"""


def png(size, color=(200, 10, 10)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def wav(seconds, rate=8000):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


def rect(x, y, w, h, label, size, rotation=0, region_id=None, from_name="label"):
    region = {"type": "rectanglelabels", "from_name": from_name, "to_name": "image",
              "original_width": size[0], "original_height": size[1], "image_rotation": 0,
              "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation,
                        "rectanglelabels": [label]}}
    if region_id:
        region["id"] = region_id
    return region


def polygon(points, label, size):
    return {"type": "polygonlabels", "from_name": "poly", "to_name": "image",
            "original_width": size[0], "original_height": size[1], "image_rotation": 0,
            "value": {"points": points, "polygonlabels": [label]}}




def files_in(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def close(a, b, tol=1e-6):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    return a == b


def numbers(text):
    return [[float(v) for v in line.split()] for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def image_project(live, tmp_path_factory):
    p = Project(live, tmp_path_factory.mktemp("image"), IMAGE_CONFIG, "boxes")
    sizes = [(40, 30), (64, 48), (33, 77)]
    ids = p.upload([(f"pic{i}.png", png(size)) for i, size in enumerate(sizes)])
    p.sizes = dict(zip(ids, sizes))
    s0, s1, s2 = sizes
    p.annotate(ids[0], [rect(10, 20, 50, 40, "Cat", s0), rect(5, 5, 20, 10, "Bird", s0),
                        polygon([[10, 10], [60, 15], [40, 70]], "Fence", s0)])
    p.annotate(ids[1], [rect(30, 30, 25, 35, "Dog", s1, rotation=30)])
    p.annotate(ids[1], [rect(1, 2, 3, 4, "Cat", s1)])  # two annotations on one task
    return p


@pytest.mark.parametrize("fmt", ["COCO", "COCO_WITH_IMAGES"])
def test_coco_matches_the_converter(image_project, fmt):
    p = image_project
    ours = json.loads((p.ours(fmt) / "result.json").read_text())
    ls = json.loads((p.oracle(fmt) / "result.json").read_text())
    assert ours["categories"] == ls["categories"]
    assert {c["name"]: c["id"] for c in ours["categories"]}["Bird"] == 7
    assert [(i["id"], i["width"], i["height"], os.path.basename(i["file_name"]))
            for i in ours["images"]] == [
        (i["id"], i["width"], i["height"], os.path.basename(i["file_name"])) for i in ls["images"]]
    assert len(ours["annotations"]) == len(ls["annotations"]) == 5
    for mine, theirs in zip(ours["annotations"], ls["annotations"]):
        assert close(mine, theirs), (mine, theirs)
    # boxes are in pixels: the 40x30 image's Cat at 10%,20% 50%x40%
    cat = next(a for a in ours["annotations"] if a["bbox"][2] == 20.0)
    assert close(cat["bbox"], [4.0, 6.0, 20.0, 12.0])


@pytest.mark.parametrize("fmt", ["YOLO", "YOLO_WITH_IMAGES", "YOLO_OBB", "YOLO_OBB_WITH_IMAGES"])
def test_yolo_matches_the_converter(image_project, fmt):
    p = image_project
    ours, ls = p.ours(fmt), p.oracle(fmt)
    assert files_in(ours) == files_in(ls)
    assert (ours / "classes.txt").read_text() == (ls / "classes.txt").read_text()
    assert json.loads((ours / "notes.json").read_text())["categories"] == json.loads(
        (ls / "notes.json").read_text())["categories"]
    labels = [n for n in files_in(ls) if n.startswith("labels/")]
    assert len(labels) == 2  # the third image has no annotation (exported: annotated tasks)
    for name in labels:
        assert close(numbers((ours / name).read_text()), numbers((ls / name).read_text())), name
    images = [n for n in files_in(ls) if n.startswith("images/")]
    assert len(images) == (2 if fmt.endswith("WITH_IMAGES") else 0)
    for name in images:
        assert (ours / name).read_bytes() == (ls / name).read_bytes()


def test_voc_matches_the_converter(image_project):
    p = image_project
    ours, ls = p.ours("VOC"), p.oracle("VOC")
    assert files_in(ours) == files_in(ls)
    assert any(n.startswith("Annotations/") for n in files_in(ours))
    for name in files_in(ls):
        assert (ours / name).read_bytes() == (ls / name).read_bytes(), name


@pytest.mark.parametrize("fmt", ["JSON_MIN", "CSV", "TSV"])
def test_tabular_match_the_converter_on_images(image_project, fmt):
    p = image_project
    ours, ls = p.ours(fmt), p.oracle(fmt)
    if fmt == "JSON_MIN":  # LS writes it with ujson, which escapes "/" as "\/"
        assert json.loads((ours / "result.json").read_text()) == json.loads(
            (ls / "result.json").read_text())
    else:
        assert (ours / "result.csv").read_bytes() == (ls / "result.csv").read_bytes()


@pytest.mark.parametrize("fmt,download,copied", [
    ("COCO_WITH_IMAGES", "true", True), ("YOLO_WITH_IMAGES", "true", True),
    ("YOLO_OBB_WITH_IMAGES", "false", True), ("VOC", "true", True), ("VOC", "false", False),
    # as in Label Studio: plain COCO/YOLO never copy media (use the *_WITH_IMAGES formats)
    ("COCO", "true", False), ("YOLO", "true", False)])
def test_download_resources_puts_the_uploaded_images_in(image_project, live, fmt, download,
                                                        copied):
    p = image_project
    r = p.export(fmt, download_resources=download, download_all_tasks="true")
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    images = [n for n in zf.namelist() if n.startswith("images/") and not n.endswith("/")]
    assert len(images) == (3 if copied else 0), (fmt, zf.namelist())
    uploads = live.settings.media_dir / "upload" / str(p.id)
    for name in images:
        assert zf.read(name) == (uploads / os.path.basename(name)).read_bytes()


def test_headers_names_and_ids(image_project):
    p = image_project
    r = p.export("JSON")
    assert r.headers["Content-Type"] == "application/.json"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{r.headers["filename"]}"'
    assert r.headers["filename"].startswith(f"project-{p.id}-at-")
    assert r.headers["filename"].endswith(".json")
    assert p.export("CSV").headers["Content-Type"] == "application/.csv"
    assert p.export("TSV").headers["filename"].endswith(".csv")
    assert p.export("YOLO").headers["Content-Type"] == "application/zip"
    # export_type (SDK 2.x) works too; exportType wins
    r = p.api.get(f"/api/projects/{p.id}/export", params={"export_type": "CSV"})
    assert r.headers["filename"].endswith(".csv")
    r = p.api.get(f"/api/projects/{p.id}/export",
                  params={"export_type": "CSV", "exportType": "JSON"})
    assert r.headers["filename"].endswith(".json")
    ids = list(p.sizes)
    r = p.api.get(f"/api/projects/{p.id}/export?exportType=JSON&ids[]={ids[1]}")
    assert [t["id"] for t in r.json()] == [ids[1]]
    # only annotated tasks by default, all with download_all_tasks
    extra = p.add_tasks([{"image": "/data/upload/none.png"}])
    assert extra[0] not in [t["id"] for t in p.export("JSON").json()]
    assert extra[0] in [t["id"] for t in p.export("JSON", download_all_tasks="true").json()]
    r = p.api.get(f"/api/projects/{p.id}/export", params={"exportType": "NOPE"})
    assert r.status_code == 400


def test_json_export_is_the_task_shape(image_project, live):
    """The direct export writes exactly the task shape of Tasks.export_json."""
    p = image_project
    tasks = p.export("JSON", download_all_tasks="true").json()
    core = live.app
    with core.records.lock:
        expected = [core.tasks.export_json(t["id"], core.annotations.export_json) for t in tasks]
    assert json.dumps(tasks) == json.dumps(expected)


def test_keypoints_match_the_converter(live, tmp_path):
    p = Project(live, tmp_path, KEYPOINT_CONFIG, "keypoints")
    size = (50, 40)
    [task] = p.upload([("person.png", png(size))])
    box = rect(10, 10, 50, 60, "Person", size, region_id="b1", from_name="box")
    kp = lambda x, y, label: {"type": "keypointlabels", "from_name": "kp", "to_name": "image",  # noqa: E731
                              "original_width": size[0], "original_height": size[1],
                              "parentID": "b1", "id": f"k{label}",
                              "value": {"x": x, "y": y, "width": 1, "keypointlabels": [label]}}
    p.annotate(task, [box, kp(20, 15, "Head"), kp(30, 60, "Foot")])
    ours = json.loads((p.ours("COCO") / "result.json").read_text())
    ls = json.loads((p.oracle("COCO") / "result.json").read_text())
    assert ours["categories"] == ls["categories"]
    assert close([sorted(a.items()) for a in ours["annotations"]],
                 [sorted(a.items()) for a in ls["annotations"]])
    ours, ls = p.ours("YOLO"), p.oracle("YOLO")
    assert files_in(ours) == files_in(ls)
    for name in files_in(ls):
        if name.startswith("labels/"):
            assert close(numbers((ours / name).read_text()), numbers((ls / name).read_text()))


def test_ner_conll_matches_the_converter(live, tmp_path):
    p = Project(live, tmp_path, NER_CONFIG, "ner")
    text = "John Smith works at Acme Corp in Berlin."
    [t1, t2] = p.add_tasks([{"text": text}, {"text": "Mary met Bob."}])
    span = lambda s, e, label: {"type": "labels", "from_name": "ner", "to_name": "text",  # noqa: E731
                                "value": {"start": s, "end": e, "text": text[s:e],
                                          "labels": [label]}}
    p.annotate(t1, [span(0, 10, "PER"), span(20, 29, "ORG")])
    p.annotate(t2, [{"type": "labels", "from_name": "ner", "to_name": "text",
                     "value": {"start": 0, "end": 4, "text": "Mary", "labels": ["PER"]}}])
    r = p.export("CONLL2003")
    assert r.headers["Content-Type"] == "application/.conll"
    ls = p.oracle("CONLL2003")
    assert r.content == (ls / "result.conll").read_bytes()
    assert b"John -X- _ B-PER\nSmith -X- _ I-PER\n" in r.content
    assert p.export("CSV").content == (p.oracle("CSV") / "result.csv").read_bytes()
    assert p.export("JSON_MIN").json() == json.loads(
        (p.oracle("JSON_MIN") / "result.json").read_text())


def test_asr_manifest_matches_the_converter(live, tmp_path):
    p = Project(live, tmp_path, ASR_CONFIG, "asr")
    ids = p.upload([("one.wav", wav(1.5)), ("two.wav", wav(0.25))])
    for task_id, text in zip(ids, ("hello world", "second one")):
        p.annotate(task_id, [{"type": "textarea", "from_name": "transcription",
                              "to_name": "audio", "value": {"text": [text]}}])
    ours, ls = p.ours("ASR_MANIFEST"), p.oracle("ASR_MANIFEST")
    assert files_in(ours) == files_in(ls)
    assert (ours / "manifest.json").read_bytes() == (ls / "manifest.json").read_bytes()
    lines = [json.loads(x) for x in (ours / "manifest.json").read_text().splitlines()]
    assert sorted((x["duration"], x["text"]) for x in lines) == [(0.25, "second one"),
                                                               (1.5, "hello world")]
    assert len([n for n in files_in(ours) if n.startswith("audio/")]) == 2


def brush_mask(height, width, seed):
    rng = np.random.default_rng(seed)
    m = np.zeros((height, width), dtype=np.uint8)
    m[height // 4: height // 2, width // 3: width - 2] = 255
    m[rng.integers(0, height, 20), rng.integers(0, width, 20)] = 128
    return m


@pytest.mark.parametrize("fmt", ["BRUSH_TO_PNG", "BRUSH_TO_NUMPY"])
def test_brush_masks_match_the_converter(live, tmp_path, fmt):
    from label_studio_sdk.converter.brush import mask2rle

    p = Project(live, tmp_path, BRUSH_CONFIG, "brush")
    size = (37, 23)
    [task] = p.upload([("street.png", png(size))])
    masks = [brush_mask(23, 37, 1), brush_mask(23, 37, 2)]
    p.annotate(task, [{"type": "brushlabels", "from_name": "tag", "to_name": "image",
                       "original_width": 37, "original_height": 23, "image_rotation": 0,
                       "value": {"format": "rle", "rle": mask2rle(m), "brushlabels": [label]}}
                      for m, label in zip(masks, ("Car", "Road"))])
    ours, ls = p.ours(fmt), p.oracle(fmt)
    assert files_in(ours) == files_in(ls)
    assert len(files_in(ours)) == 2
    for name, m in zip(files_in(ls), masks):
        if fmt == "BRUSH_TO_NUMPY":
            assert (ours / name).read_bytes() == (ls / name).read_bytes()
            assert np.array_equal(np.load(ours / name), m)
        else:
            with Image.open(ours / name) as mine, Image.open(ls / name) as theirs:
                assert np.array_equal(np.array(mine), np.array(theirs))
                assert np.array_equal(np.array(mine), m)


def test_text_formats_and_list(live, tmp_path):
    p = Project(live, tmp_path, TEXT_CONFIG, "text")
    ids = p.add_tasks([{"text": "good, \"quoted\"\nline"}, {"text": "bad"}, {"text": "none"}])
    p.annotate(ids[0], [{"type": "choices", "from_name": "sentiment", "to_name": "text",
                         "value": {"choices": ["Pos"]}},
                        {"type": "textarea", "from_name": "note", "to_name": "text",
                         "value": {"text": ["a note"]}}], lead_time=3.5)
    p.annotate(ids[1], [{"type": "choices", "from_name": "sentiment", "to_name": "text",
                         "value": {"choices": ["Neg"]}}])
    p.annotate(ids[1], [], was_cancelled=True)
    for fmt, name in (("JSON_MIN", "result.json"), ("CSV", "result.csv"),
                      ("TSV", "result.csv")):
        for all_tasks in ("false", "true"):
            ours = p.export(fmt, download_all_tasks=all_tasks).content
            ls = (p.oracle(fmt, download_all_tasks=all_tasks) / name).read_bytes()
            if fmt == "JSON_MIN":
                assert json.loads(ours) == json.loads(ls), all_tasks
            else:
                assert ours == ls, (fmt, all_tasks)
    rows = list(csv.DictReader(io.StringIO(p.export("CSV").text)))
    assert [r["sentiment"] for r in rows] == ["Pos", "Neg"]
    formats = p.api.get(f"/api/projects/{p.id}/export/formats").json()
    enabled = [f["name"] for f in formats if not f.get("disabled")]
    # LS also enables DOCLANG here (a TextArea); LabelDesk doesn't write it so lists it nowhere
    assert enabled == ["JSON", "JSON_MIN", "CSV", "TSV"]


def test_formats_list_follows_the_config(image_project, live):
    formats = live.api.get(f"/api/projects/{image_project.id}/export/formats").json()
    enabled = [f["name"] for f in formats if not f.get("disabled")]
    assert enabled == ["JSON", "JSON_MIN", "CSV", "TSV", "COCO", "COCO_WITH_IMAGES", "VOC",
                       "YOLO", "YOLO_WITH_IMAGES", "YOLO_OBB", "YOLO_OBB_WITH_IMAGES"]
    coco = next(f for f in formats if f["name"] == "COCO")
    assert coco["title"] == "COCO" and coco["tags"] == ["image segmentation",
                                                        "object detection", "keypoints"]
    assert formats[-1]["disabled"] is True
    assert live.api.get("/api/projects/999999/export/formats").status_code == 404


def test_snapshots(image_project):
    p = image_project
    api = p.api
    r = api.post(f"/api/projects/{p.id}/exports", json={"title": "snap"})
    assert r.status_code == 201, r.text
    snap = r.json()
    assert snap["status"] == "completed" and snap["title"] == "snap"
    assert snap["counters"]["task_number"] >= 3 and snap["converted_formats"] == []
    # LS's create answer has the three options, null (no columns of its Export); GET has none
    assert snap["task_filter_options"] is None and snap["serialization_options"] is None
    second = api.post(f"/api/projects/{p.id}/exports", json={
        "title": "second", "task_filter_options": {"only_with_annotations": True}}).json()
    assert second["task_filter_options"] is None
    listed = api.get(f"/api/projects/{p.id}/exports").json()
    assert [s["id"] for s in listed][:2] == [second["id"], snap["id"]]  # newest first
    assert "task_filter_options" not in listed[0]
    got = api.get(f"/api/projects/{p.id}/exports/{snap['id']}").json()
    assert got["md5"] == snap["md5"] and "task_filter_options" not in got
    for body, problem in [({}, "This field is required."),
                          ({"exportType": "JSON"}, "This field is required."),
                          ({"export_type": ""}, "This field may not be blank."),
                          ({"export_type": "NOPE"}, "NOPE is not supported export format")]:
        r = api.post(f"/api/projects/{p.id}/exports/{snap['id']}/convert", json=body)
        assert r.status_code == 400 and r.json()["validation_errors"] == {
            "export_type": [problem]}
    r = api.get(f"/api/projects/{p.id}/exports/{snap['id']}/download?exportType=JSON")
    assert r.headers["Content-Type"] == "application/json"
    assert len(r.json()) == snap["counters"]["task_number"]
    assert r.json() == p.export("JSON", download_all_tasks="true").json()
    r = api.post(f"/api/projects/{p.id}/exports/{snap['id']}/convert",
                 json={"export_type": "YOLO"})
    assert r.json() == {"export_type": "YOLO", "converted_format": 1}
    r = api.post(f"/api/projects/{p.id}/exports/{snap['id']}/convert",
                 json={"export_type": "YOLO"})
    assert r.status_code == 400 and "already started" in r.text
    r = api.post(f"/api/projects/{p.id}/exports/{snap['id']}/convert",
                 json={"export_type": "CONLL2003"})
    assert r.status_code == 400 and "is not supported export format" in r.text
    got = api.get(f"/api/projects/{p.id}/exports/{snap['id']}").json()
    assert got["converted_formats"] == [{"id": 1, "status": "completed", "export_type": "YOLO",
                                         "traceback": None}]
    r = api.get(f"/api/projects/{p.id}/exports/{snap['id']}/download?exportType=YOLO")
    assert r.headers["Content-Type"] == "application/zip"
    assert "classes.txt" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    r = api.get(f"/api/projects/{p.id}/exports/{snap['id']}/download?exportType=COCO")
    assert "result.json" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    # COCO was converted for that download only (LS's convert_file): not recorded
    assert [c["export_type"] for c in api.get(
        f"/api/projects/{p.id}/exports/{snap['id']}").json()["converted_formats"]] == ["YOLO"]
    assert api.delete(f"/api/projects/{p.id}/exports/{snap['id']}").status_code == 204
    assert api.get(f"/api/projects/{p.id}/exports/{snap['id']}").status_code == 404


@pytest.mark.parametrize("body, errors", [
    ({"title": "t" * 2049}, {"title": ["Ensure this field has no more than 2048 characters."]}),
    ({"title": None}, {"title": ["This field may not be null."]}),
    ({"title": True}, {"title": ["Not a valid string."]}),
    ({"task_filter_options": "x"}, {"task_filter_options": {"non_field_errors": [
        "Invalid data. Expected a dictionary, but got str."]}}),
    ({"task_filter_options": None}, {"task_filter_options": ["This field may not be null."]}),
    ({"task_filter_options": {"annotated": "bogus", "view": "x"},
      "annotation_filter_options": {"usual": "x"}},
     {"task_filter_options": {"view": ["A valid integer is required."],
                              "annotated": ['"bogus" is not a valid choice.']},
      "annotation_filter_options": {"usual": ["Must be a valid boolean."]}}),
    ({"task_filter_options": {"skipped": 5}},
     {"task_filter_options": {"skipped": ['"5" is not a valid choice.']}}),
    ({"task_filter_options": {"view": 1.5}},
     {"task_filter_options": {"view": ["A valid integer is required."]}}),
    ({"task_filter_options": {"only_with_annotations": "x"}},
     {"task_filter_options": {"only_with_annotations": ["Must be a valid boolean."]}}),
    ({"annotation_filter_options": {"skipped": 2}},
     {"annotation_filter_options": {"skipped": ["Must be a valid boolean."]}}),
    ({"serialization_options": {"drafts": "x"}}, {"serialization_options": {"drafts": {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}}}),
    ({"serialization_options": {"drafts": {"only_id": "x"}}},
     {"serialization_options": {"drafts": {"only_id": ["Must be a valid boolean."]}}}),
    ({"serialization_options": {"include_annotation_history": None}},
     {"serialization_options": {"include_annotation_history": ["This field may not be null."]}}),
])
def test_snapshot_options_are_checked_as_label_studio(api, body, errors):
    # Label Studio 1.23.2's 400 and validation_errors for each body (issue 19); nothing made
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/exports", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "Validation error"
    assert response.json()["validation_errors"] == errors
    assert api.get(f"/api/projects/{project['id']}/exports").json() == []


@pytest.mark.parametrize("body", [
    {"title": 5}, {"title": "t" * 2048}, {"task_filter_options": {"foo": 1}},
    {"task_filter_options": {"view": "3", "skipped": None, "only_with_annotations": "true"}},
    {"annotation_filter_options": {"usual": None, "ground_truth": "yes", "skipped": 1}},
    {"serialization_options": {"interpolate_key_frames": "no", "drafts": {},
                               "predictions": {"only_id": "1"}, "unknown": 5}}])
def test_snapshot_options_label_studio_accepts(api, body):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/exports", json=body)
    assert response.status_code == 201, response.text
    if "title" in body:
        assert response.json()["title"] == str(body["title"])


def test_yolo_names_an_unread_value_as_the_sdks_download_cache(live, tmp_path):
    """A value that is no file LabelDesk can read (here a text) is named as LS's SDK caches
    it: "<md5 of the value>[:8]__<its last path part>"."""
    import hashlib
    api = live.api
    project = api.project(label_config=TEXT_CONFIG)
    api.post(f"/api/projects/{project['id']}/import", json=[
        {"data": {"text": "I love it"}, "annotations": [{"result": []}]}])
    r = api.get(f"/api/projects/{project['id']}/export", params={"exportType": "YOLO"})
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert f"labels/{hashlib.md5(b'I love it').hexdigest()[:8]}__I love it.txt" in names


def test_voc_of_nothing_is_an_empty_archive(live):
    """No annotated task: LS's VOC converter fails (500); LabelDesk answers the archive with its
    empty images/ folder, as COCO and YOLO do (docs/compatibility.md)."""
    api = live.api
    project = api.project(label_config=IMAGE_CONFIG)
    api.post(f"/api/projects/{project['id']}/import", json=[{"image": "/data/upload/1/x.png"}])
    r = api.get(f"/api/projects/{project['id']}/export", params={"exportType": "VOC"})
    assert r.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(r.content)).namelist() == ["images/"]
