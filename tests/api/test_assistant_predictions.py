"""What the assistants' models predict is taken by a real LabelDesk as Label Studio takes it:
POST /api/predictions stores each prediction (201) and hands back the same result, score and
model version; the task counts it. The models run on the inputs assistanthelp renders."""

import pytest

import assistanthelp as h
from datahelp import import_ids
from desktop.assistants import entities, mask, ocr


def post_and_read_back(api, config, data, prediction):
    project = api.project(label_config=config)
    [task_id] = import_ids(api, project["id"], [data])
    response = api.post("/api/predictions", json={"task": task_id, **prediction})
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["result"] == prediction["result"]
    assert stored["score"] == prediction["score"]
    assert stored["model_version"] == prediction["model_version"]
    assert api.get(f"/api/predictions/{stored['id']}").json()["result"] == prediction["result"]
    task = api.get(f"/api/tasks/{task_id}").json()
    assert task["total_predictions"] == 1
    assert task["predictions"][0]["result"] == prediction["result"]
    return stored


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assistant-inputs")
    h.render_page(folder / "page.png")
    truths = h.render_scene(folder / "scene.png")
    return folder, truths


def test_ocr_prediction_is_stored(api, rendered):
    folder, _ = rendered
    data = {"ocr": "/data/upload/1/page.png"}
    [prediction] = ocr.predict(ocr.load(), [{"data": data,
                                             "local_files": {"ocr": str(folder / "page.png")}}],
                               ocr.fits(h.OCR_CONFIG))
    assert len(prediction["result"]) > 30
    post_and_read_back(api, h.OCR_CONFIG, data, prediction)


def test_entities_prediction_is_stored(api):
    text, _ = h.entity_text()
    data = {"text": text}
    [prediction] = entities.predict(entities.load(), [{"data": data}],
                                    entities.fits(h.NER_CONFIG))
    assert len(prediction["result"]) >= 10
    post_and_read_back(api, h.NER_CONFIG, data, prediction)


@pytest.mark.parametrize("config", [h.BRUSH_CONFIG, h.POLYGON_CONFIG])
def test_mask_prediction_is_stored(api, rendered, config):
    folder, truths = rendered
    data = {"image": "/data/upload/1/scene.png"}
    task = {"id": 1, "data": data, "local_files": {"image": str(folder / "scene.png")}}
    context = h.smart_box(h.box_around(truths["Star"]), 640, 480, "Star")
    [prediction] = mask.predict(mask.load(), [task], mask.fits(config), context)
    assert len(prediction["result"]) == 1
    post_and_read_back(api, config, data, prediction)
