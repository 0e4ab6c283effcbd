"""COCO, YOLO (+OBB) and VOC against LS's converter, with and without images."""

import io
import json
import math
import os
import zipfile

import pytest

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Dog"/><Label value="Cat"/><Label value="Bird" category="7"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image">
    <Label value="Fence"/><Label value="Cat"/>
  </PolygonLabels>
  <Choices name="quality" toName="image"><Choice value="good"/></Choices>
</View>"""

KEYPOINTS_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Person"/><Label value="Animal"/>
  </RectangleLabels>
  <KeyPointLabels name="kp" toName="image">
    <Label value="nose" model_index="1"/><Label value="eye" model_index="0"/>
  </KeyPointLabels>
</View>"""


def polygon(region_id, points, label, ow, oh):
    return {"id": region_id, "type": "polygonlabels", "from_name": "poly", "to_name": "image",
            "original_width": ow, "original_height": oh,
            "value": {"points": points, "polygonlabels": [label]}}


@pytest.fixture
def project(make_project, h):
    p = make_project(CONFIG)
    cat = p.image("ab12cd34-cat.png", (40, 30))
    dog = p.image("cd34ef56-dog.jpg", (64, 48), fmt="JPEG")
    grey = p.image("ef56ab12-grey.png", (20, 10), mode="L")
    bare = p.image("0000aaaa-bare.png", (16, 16))
    a, r = h.annotation, h.rect
    tasks = [
        h.task(1, {"image": cat}, [a(10, [
            r("r1", 10, 20, 50, 40, "Cat", 40, 30),
            r("r2", 5.5, 7.25, 12.125, 33.3, "Dog", 40, 30, rotation=30),
            r("r3", 0, 0, 100, 100, "Bird", 40, 30),
            polygon("p1", [[10, 10], [50, 12.5], [30, 60.75]], "Fence", 40, 30),
            {"id": "q", "type": "choices", "from_name": "quality", "to_name": "image",
             "value": {"choices": ["good"]}},
        ])]),
        # two annotations: LS writes one COCO image per annotation, YOLO keeps the older one
        h.task(2, {"image": dog}, [
            a(11, [r("r4", 1, 2, 3, 4, "Dog", 64, 48)], created_at="2026-11-23T10:00:00Z"),
            a(12, [r("r5", 20, 30, 40, 50, "Cat", 64, 48),
                   polygon("p2", [[0, 0], [100, 0], [100, 100]], "Cat", 64, 48)],
              created_at="2026-11-23T11:00:00Z"),
        ]),
        h.task(3, {"image": grey},
               [a(13, [r("r6", 25, 25, 50, 50, "Cat", 20, 10)], completed_by=5)]),
        h.task(4, {"image": bare}),
        h.task(5, {"image": "/data/upload/1/missing-file.png"},
               [a(14, [r("r7", 10, 10, 10, 10, "Dog", 100, 80)])]),
    ]
    return p, tasks


def close(a, b):
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def zip_names(data):
    return sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())


# ---------------------------------------------------------------- COCO

@pytest.mark.parametrize("fmt", ["COCO", "COCO_WITH_IMAGES"])
def test_coco_matches_ls(project, h, fmt):
    p, tasks = project
    ours = json.loads((p.ours_dir(fmt, tasks) / "result.json").read_text())
    ls = json.loads((p.oracle_dir(fmt, tasks) / "result.json").read_text())
    assert ours["categories"] == ls["categories"]
    assert [(i["id"], i["width"], i["height"]) for i in ours["images"]] == [
        (i["id"], i["width"], i["height"]) for i in ls["images"]
    ]
    # LS >= 1.16 writes paths relative to its temp dir (issue #7294): compare file names
    assert [os.path.basename(i["file_name"]) for i in ours["images"]] == [
        os.path.basename(i["file_name"]) for i in ls["images"]
    ]
    assert ours["images"][0]["file_name"] == "images/ab12cd34-cat.png"
    assert len(ours["annotations"]) == len(ls["annotations"]) == 9
    for mine, theirs in zip(ours["annotations"], ls["annotations"]):
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert close(mine[key], theirs[key]), (key, mine[key], theirs[key])
    assert set(ours["info"]) == set(ls["info"])
    assert ours["info"]["date_created"] == str(h.now)


def test_coco_archive_layout(project):
    p, tasks = project
    ext, content_type, data = p.ours("COCO", tasks)
    assert (ext, content_type) == (".zip", "application/zip")
    assert zip_names(data) == ["images/", "result.json"]
    ext, _, data = p.ours("COCO_WITH_IMAGES", tasks)
    ls_images = sorted(os.listdir(p.oracle_dir("COCO_WITH_IMAGES", tasks) / "images"))
    assert zip_names(data) == ["images/"] + [f"images/{n}" for n in ls_images] + ["result.json"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert (zf.read("images/ab12cd34-cat.png")
                == (p.upload / "1" / "ab12cd34-cat.png").read_bytes())


def test_coco_keypoints_match_ls(make_project, h):
    p = make_project(KEYPOINTS_CONFIG)
    img = p.image("aaaa0000-person.png", (100, 50))
    kp = lambda rid, x, y, label, parent: {  # noqa: E731
        "id": rid, "type": "keypointlabels", "from_name": "kp", "to_name": "image",
        "parentID": parent, "original_width": 100, "original_height": 50,
        "value": {"x": x, "y": y, "width": 1, "keypointlabels": [label]}}
    tasks = [h.task(1, {"image": img}, [h.annotation(1, [
        h.rect("b1", 10, 10, 50, 80, "Person", 100, 50, from_name="box"),
        kp("k1", 20.4, 30.6, "eye", "b1"), kp("k2", 40, 10, "nose", "b1")])])]
    ours = json.loads((p.ours_dir("COCO", tasks) / "result.json").read_text())
    ls = json.loads((p.oracle_dir("COCO", tasks) / "result.json").read_text())
    assert ours["categories"] == ls["categories"]
    assert close([sorted(a.items()) for a in ours["annotations"]],
                 [sorted(a.items()) for a in ls["annotations"]])


def test_coco_falls_back_to_the_image_size(make_project, h):
    p = make_project(CONFIG)
    img = p.image("aaaa0000-x.png", (200, 100))
    region = h.rect("r1", 10, 10, 50, 50, "Cat", 1, 1)
    del region["original_width"], region["original_height"]
    tasks = [h.task(1, {"image": img}, [h.annotation(1, [region])])]
    ours = json.loads((p.ours_dir("COCO", tasks) / "result.json").read_text())
    assert ours["images"] == [{"width": 200, "height": 100, "id": 0,
                               "file_name": "images/aaaa0000-x.png"}]
    assert ours["annotations"][0]["bbox"] == [20.0, 10.0, 100.0, 50.0]


# ---------------------------------------------------------------- YOLO

def parse_lines(text):
    return [[float(v) for v in line.split()] for line in text.splitlines()]


@pytest.mark.parametrize("fmt", ["YOLO", "YOLO_WITH_IMAGES", "YOLO_OBB", "YOLO_OBB_WITH_IMAGES"])
def test_yolo_matches_ls(project, h, fmt):
    p, tasks = project
    ours, ls = p.ours_dir(fmt, tasks), p.oracle_dir(fmt, tasks)
    assert h.files_in(ours) == h.files_in(ls)
    assert (ours / "classes.txt").read_text() == (ls / "classes.txt").read_text()
    assert (json.loads((ours / "notes.json").read_text())
            == json.loads((ls / "notes.json").read_text()))
    for name in os.listdir(ls / "labels"):
        mine, theirs = (ours / "labels" / name).read_text(), (ls / "labels" / name).read_text()
        assert close(parse_lines(mine), parse_lines(theirs)), name
        assert mine == theirs, name  # same float arithmetic, so even the text is the same
    for name in os.listdir(ls / "images"):
        assert (ours / "images" / name).read_bytes() == (ls / "images" / name).read_bytes()


def test_yolo_class_ids(project):
    p, tasks = project
    ours = p.ours_dir("YOLO", tasks)
    # alphabetical over all controls' labels, Bird pinned to 7 by its category attribute
    assert (ours / "classes.txt").read_text().splitlines() == ["Bird", "Cat", "Dog", "Fence",
                                                               "good"]
    notes = json.loads((ours / "notes.json").read_text())
    assert ({c["name"]: c["id"] for c in notes["categories"]}
            == {"Bird": 7, "Cat": 0, "Dog": 1, "Fence": 2, "good": 3})


def test_yolo_keypoints_match_ls(make_project, h):
    p = make_project(KEYPOINTS_CONFIG)
    img = p.image("aaaa0000-person.png", (100, 50))
    kp = lambda rid, x, y, label, parent: {  # noqa: E731
        "id": rid, "type": "keypointlabels", "from_name": "kp", "to_name": "image",
        "parentID": parent, "original_width": 100, "original_height": 50,
        "value": {"x": x, "y": y, "width": 1, "keypointlabels": [label]}}
    tasks = [h.task(1, {"image": img}, [h.annotation(1, [
        h.rect("b1", 10, 10, 50, 80, "Person", 100, 50, from_name="box"),
        h.rect("b2", 60, 10, 20, 20, "Animal", 100, 50, from_name="box"),
        kp("k1", 20.4, 30.6, "eye", "b1"), kp("k2", 40, 10, "nose", "b1")])])]
    ours, ls = p.ours_dir("YOLO", tasks), p.oracle_dir("YOLO", tasks)
    assert h.files_in(ours) == h.files_in(ls)
    for name in ("classes.txt", "labels/aaaa0000-person.txt"):
        assert (ours / name).read_text() == (ls / name).read_text()
    assert (json.loads((ours / "notes.json").read_text())
            == json.loads((ls / "notes.json").read_text()))


# ---------------------------------------------------------------- VOC

@pytest.mark.parametrize("download", [True, False])
def test_voc_matches_ls_byte_for_byte(project, h, download):
    p, tasks = project
    ours = p.ours_dir("VOC", tasks, download_resources=download)
    ls = p.oracle_dir("VOC", tasks, download_resources=download)
    assert h.files_in(ours) == h.files_in(ls)
    for name in h.files_in(ls):
        assert (ours / name).read_bytes() == (ls / name).read_bytes(), name


def test_voc_archive_has_ls_folders(project):
    p, tasks = project
    ext, content_type, data = p.ours("VOC", tasks, download_resources=False)
    assert (ext, content_type) == (".zip", "application/zip")
    assert "Annotations/" in zip_names(data) and "images/" in zip_names(data)


# ---------------------------------------------------------------- Local Storage files

@pytest.mark.parametrize("fmt", ["YOLO", "YOLO_WITH_IMAGES", "COCO_WITH_IMAGES", "VOC"])
def test_local_storage_files_are_named_like_ls(make_project, h, fmt):
    from label_studio_sdk.converter import Converter

    p = make_project(CONFIG)
    root = p.tmp / "storage"
    (root / "pets").mkdir(parents=True)
    from PIL import Image
    Image.new("RGB", (50, 40)).save(root / "pets" / "cat 1.png")
    url = "/data/local-files/?d=pets/cat%201.png"
    tasks = [h.task(1, {"image": url},
                    [h.annotation(1, [h.rect("r1", 10, 20, 30, 40, "Cat", 50, 40)])])]

    def local_file(d):
        return str(root / d)

    p.resolve = lambda u: root / "pets" / "cat 1.png" if u == url else None
    ours = p.ours_dir(fmt, tasks)
    source = p.tmp / "tasks.json"
    source.write_text(json.dumps(tasks))
    ls = p.tmp / "ls"
    ls.mkdir()
    Converter(config=p.label_config, project_dir=None, upload_dir=str(p.upload),
              local_files_resolver=local_file).convert(str(source), str(ls), fmt, is_dir=False)
    assert h.files_in(ours) == h.files_in(ls)
