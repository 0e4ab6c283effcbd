"""Near-duplicates (desktop/assistants/duplicates.py) in process: our pHash is imagehash's bit for
bit, planted image and text copies are grouped with their originals and nothing else is, and
the labels helpers (configs, label maps)."""

import random

import imagehash
import pytest
from PIL import Image

from assisthelp import IMAGE_CONFIG, TEXT_CONFIG, image_copy, scene, texts_with_duplicates
from desktop.assistants import duplicates, labels


@pytest.fixture(scope="module")
def model():
    return duplicates.load()


def test_phash_is_imagehashs(model, tmp_path):
    for seed in range(25):
        path = tmp_path / f"{seed}.png"
        scene(seed, size=(90 + seed * 7, 60 + seed * 5)).save(path)
        with Image.open(path) as image:
            theirs = int(str(imagehash.phash(image)), 16)
        assert duplicates.phash(model, str(path)) == theirs


def test_planted_image_copies_are_found(model, tmp_path):
    rnd = random.Random(4)
    paths, copies = [], {}
    for seed in range(60):
        path = tmp_path / f"o{seed}.png"
        scene(seed).save(path)
        paths.append(str(path))
    for k in range(20):
        original = rnd.randrange(60)
        path = tmp_path / f"c{k}"
        path.write_bytes(image_copy(scene(original), rnd))
        copies[len(paths)] = original
        paths.append(str(path))
    tasks = [{"id": i + 1, "data": {"image": "/data/x"}, "local_files": {"image": p}}
             for i, p in enumerate(paths)]
    tasks.append({"id": 999, "data": {}, "local_files": {}})  # no image: no signature
    fit = duplicates.fits(IMAGE_CONFIG)
    signatures = duplicates.signatures(model, tasks, fit)
    assert signatures[-1] is None and all(s.startswith("p:") for s in signatures[:-1])
    groups = duplicates.group([[t["id"], s] for t, s in zip(tasks, signatures)])
    expected = {}
    for copy, original in copies.items():
        expected[copy + 1] = original + 1
    # each copy points at the first task of its group: its original (or an earlier copy's)
    assert set(groups) == set(expected)
    for copy, original in expected.items():
        assert groups[copy] == min(original, *[c for c, o in expected.items()
                                               if o == original])


def test_planted_text_copies_are_found_and_nothing_else(model):
    texts, copies = texts_with_duplicates(600, 40, seed=5)
    fit = duplicates.fits(TEXT_CONFIG)
    assert fit == {"type": "text", "to_name": "text", "value": "text", "labels": []}
    tasks = [{"id": i + 1, "data": {"text": t}} for i, t in enumerate(texts)]
    signatures = duplicates.signatures(model, tasks, fit)
    groups = duplicates.group([[t["id"], s] for t, s in zip(tasks, signatures)])
    assert {c + 1 for c in copies} <= set(groups) | {o + 1 for o in copies.values()}
    assert set(groups) <= {c + 1 for c in copies}, "a text that is no copy was grouped"


def test_broken_images_and_missing_data_have_no_signature(model, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    tasks = [{"id": 1, "data": {}, "local_files": {"image": str(broken)}},
             {"id": 2, "data": {}, "local_files": {"image": str(tmp_path / "gone.png")}}]
    assert duplicates.signatures(model, tasks, duplicates.fits(IMAGE_CONFIG)) == [None, None]
    assert duplicates.signatures(model, [{"id": 3, "data": {"text": "  "}}],
                                 duplicates.fits(TEXT_CONFIG)) == [None]
    assert duplicates.group([[1, None], [2, "x:?"]]) == {}


def test_label_maps():
    assert labels.auto_map(["PERSON", "GPE", "ORG"], ["Person", "Organization"],
                           {"ORG": "Organization"}) == {"PERSON": "Person",
                                                        "ORG": "Organization"}
    assert labels.check_label_map({"ORG": "Company"}, ["Person"]).startswith(
        "The project has no label Company")
    assert labels.check_label_map(["ORG"], ["Person"]) is not None
    assert labels.check_label_map(None, []) is None
    predictions = [{"result": [{"value": {"labels": ["PERSON", "X"], "start": 0}},
                               {"value": "not a dict"}]}]
    assert labels.map_results(predictions, {"PERSON": "Person"})[0]["result"][0]["value"] == \
        {"labels": ["Person", "X"], "start": 0}


def test_media_reads_only_what_labeldesk_serves(tmp_path):
    from desktop.assistants.media import Media
    uploads = tmp_path / "upload"
    (uploads / "3").mkdir(parents=True)
    (uploads / "3" / "cat.png").write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("secret")
    media = Media(str(uploads), str(tmp_path / "cache"))
    task = {"data": {"image": "/data/upload/3/cat.png", "text": "just text",
                     "up": "/data/upload/3/../../secret.txt", "web": "https://example.com/a.png",
                     "local": "http://127.0.0.1:1/x.png", "inline": "data:text/plain,hi%21"}}
    media.resolve(task, hostname="http://127.0.0.1:2", token="t")
    assert task["local_files"]["image"] == str((uploads / "3" / "cat.png").resolve())
    assert open(task["local_files"]["inline"]).read() == "hi!"
    assert "text" not in task["local_files"] and "text" not in task.get("file_errors", {})
    errors = task["file_errors"]
    assert "no such upload" in errors["up"]
    assert "not fetched" in errors["web"] and "not fetched" in errors["local"]  # not LabelDesk
