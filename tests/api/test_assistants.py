"""The built-in assistants over HTTP: a real LabelDesk server and its real worker process
(python -m desktop.assistants.worker). Listing, turning on and off, predict all with progress,
interactive predictions, teach mode's least-sure next task with its guess pre-selected,
near-duplicates found, filtered, deleted and merged, a crashed worker started again, a
missing package reported while labeling goes on, bad input answered 4xx."""

import os
import signal
import sys
import threading
import urllib.parse

import orjson
import pytest

from assisthelp import (
    IMAGE_CONFIG,
    TEXT_CONFIG,
    encoded,
    image_copy,
    scene,
    texts_with_duplicates,
)
from datahelp import wait_for

CHOICE = {"from_name": "label", "to_name": "text", "type": "choices"}


def choose(label):
    return {"result": [dict(CHOICE, value={"choices": [label]})]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import LiveServer
    live = LiveServer(tmp_path_factory.mktemp("assistants"))
    yield live
    live.close()


@pytest.fixture
def api(server):
    return server.api


def text_project(api, texts, **fields):
    project = api.project(label_config=TEXT_CONFIG, **fields)["id"]
    answer = api.post(f"/api/projects/{project}/import", json=[{"text": t} for t in texts])
    assert answer.status_code == 201, answer.text
    return project


def task_ids(api, project):
    tasks = api.get(f"/api/tasks?project={project}&page_size=1000&fields=task_only").json()
    return sorted(t["id"] for t in tasks["tasks"])


def by_name(api, project):
    answer = api.get(f"/api/assistants?project={project}")
    assert answer.status_code == 200, answer.text
    return {a["name"]: a for a in answer.json()}


def wait_job(api, url, timeout=60):
    return wait_for(lambda: (lambda j: j if j["status"] in ("completed", "failed") else None)(
        api.get(url).json()), timeout=timeout)


def test_the_list_says_what_fits_and_what_is_installed(api):
    project = text_project(api, ["one", "two"])
    found = by_name(api, project)
    assert list(found) == ["ocr", "entities", "teach", "mask", "duplicates"]
    teach = found["teach"]
    assert teach["installed"] and teach["light"] and not teach["enabled"]
    assert teach["fits"] == {"from_name": "label", "to_name": "text", "type": "choices",
                             "value": "text", "labels": ["Pos", "Neg"]}
    assert teach["title"] == "Teach mode" and teach["version"]
    assert found["duplicates"]["fits"]["type"] == "text"
    for item in found.values():
        assert item["needs"] and (item["installed"] or item["error"])
    image = api.project(label_config=IMAGE_CONFIG)["id"]
    assert by_name(api, image)["teach"]["fits"] is None
    assert by_name(api, image)["duplicates"]["fits"]["type"] == "image"


def test_bad_input_is_4xx(api):
    project = text_project(api, ["one"])
    image = api.project(label_config=IMAGE_CONFIG)["id"]
    assert api.get("/api/assistants").status_code == 400
    assert api.get("/api/assistants?project=x").status_code == 400
    assert api.get("/api/assistants?project=99999").status_code == 404
    assert api.post("/api/assistants/nope/enable", json={"project": project}).status_code == 404
    assert api.post("/api/assistants/teach/enable", json={}).status_code == 400
    assert api.post("/api/assistants/teach/enable", json={"project": "1"}).status_code == 400
    assert api.post("/api/assistants/teach/enable", data=b"[", headers={
        "Content-Type": "application/json"}).status_code == 400
    assert api.post("/api/assistants/teach/enable", json={"project": 99999}).status_code == 404
    refused = api.post("/api/assistants/teach/enable", json={"project": image})
    assert refused.status_code == 400 and "nothing to do" in refused.text
    refused = api.post("/api/assistants/teach/enable",
                       json={"project": project, "label_map": {"POS": "Positive"}})
    assert refused.status_code == 400 and "no label Positive" in refused.text
    assert api.post("/api/assistants/teach/predict", json={"project": project}).status_code \
        == 400  # not on
    assert api.get("/api/assistants/jobs/12345").status_code == 404
    assert api.get("/api/assistants/jobs/x").status_code == 404


def test_turned_on_it_is_an_ml_backend_and_predicts_all_with_progress(api):
    project = text_project(api, [f"good great {i}" if i % 2 else f"bad awful {i}"
                                 for i in range(30)])
    answer = api.post("/api/assistants/teach/enable",
                      json={"project": project, "label_map": {"POS": "Pos"}})
    assert answer.status_code == 200, answer.text
    backend_id = answer.json()["ml_backend"]
    [backend] = api.get(f"/api/ml?project={project}").json()  # what the web app's Model tab
    assert backend["id"] == backend_id and backend["state"] == "CO"
    assert backend["title"] == "Teach mode" and backend["model_version"] == "teach-1.0"
    assert backend["extra_params"] == {"label_map": {"POS": "Pos"}}
    assert backend["url"].startswith("http://127.0.0.1:") and backend["url"].endswith("/teach")
    settings = api.get(f"/api/projects/{project}").json()
    assert settings["evaluate_predictions_automatically"] is True
    assert settings["model_version"] == "Teach mode"
    assert by_name(api, project)["teach"]["enabled"]

    job = api.post("/api/assistants/teach/predict", json={"project": project}).json()
    assert job["total"] == 30 and job["url"] == f"/api/ml/jobs/{job['id']}"
    done = wait_job(api, job["url"])
    assert done["status"] == "completed" and done["processed"] == 30
    assert done["predictions"] == 30
    prediction = api.get(f"/api/predictions?task={task_ids(api, project)[0]}").json()[0]
    assert prediction["model_version"] == "teach-1.0"
    assert prediction["result"][0]["value"]["choices"][0] in ("Pos", "Neg")

    # the data manager's "Retrieve Predictions" and the SDK's call go through it too
    answer = api.post(f"/api/dm/actions?id=retrieve_tasks_predictions&project={project}",
                      json={"selectedItems": {"all": True}})
    assert answer.status_code == 200 and answer.json()["job"]["status"] == "completed"

    assert api.post("/api/assistants/teach/disable", json={"project": project}).json() == \
        {"enabled": False}
    assert api.get(f"/api/ml?project={project}").json() == []
    assert not by_name(api, project)["teach"]["enabled"]


def test_interactive_predictions_carry_the_context(api):
    project = text_project(api, ["good great", "bad awful"])
    backend_id = api.post("/api/assistants/teach/enable", json={"project": project}).json()[
        "ml_backend"]
    api.patch(f"/api/ml/{backend_id}", json={"is_interactive": True})
    task = task_ids(api, project)[0]
    answer = api.post(f"/api/ml/{backend_id}/interactive-annotating",
                      json={"task": task, "context": {"result": []}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["model_version"] == "teach-1.0"
    assert answer.json()["data"]["result"][0]["from_name"] == "label"


def test_teach_mode_picks_the_least_sure_task_with_its_guess_preselected(api, server):
    texts = [f"good great fine {i}" if i % 2 else f"bad awful poor {i}" for i in range(40)]
    texts.append("good bad")  # as much of one as of the other: the least sure of all
    project = text_project(api, texts, sampling="Uncertainty sampling")
    api.post("/api/assistants/teach/enable", json={"project": project})
    ids = task_ids(api, project)
    shown = []
    for _ in range(8):
        task = api.get(f"/api/projects/{project}/next").json()
        shown.append(task)
        label = "Pos" if "good" in task["data"]["text"] and "bad" not in task["data"]["text"] \
            else "Neg"
        assert api.post(f"/api/tasks/{task['id']}/annotations", json=choose(label)) \
            .status_code == 201
    ranking = server.app.assistants.rankings[project]
    assert ranking, "the worker answered the submits with its ranking"
    # after a few submits the model knows good from bad: the mixed text is the least sure
    assert ids[-1] in [t["id"] for t in shown[2:]]
    nxt = api.get(f"/api/projects/{project}/next").json()
    assert nxt["id"] == next(r[0] for r in server.app.assistants.rankings[project]
                             if r[0] not in {t["id"] for t in shown})
    assert nxt["queue"] == "Active learning or random queue"
    [guess] = nxt["predictions"]  # pre-selected in the editor: one key accepts it
    assert guess["model_version"] == "teach-1.0"
    expected = "Pos" if "good" in nxt["data"]["text"] else "Neg"
    assert guess["result"][0]["value"]["choices"] == [expected]
    stats = by_name(api, project)["teach"]["stats"]
    assert stats["labels_seen"] == 8 and stats["validated"] == 7
    assert stats["accuracy"] is not None and stats["indexed"] == 41


def test_near_duplicates_found_filtered_deleted_and_merged(api, server):
    texts, copies = texts_with_duplicates(120, 10, seed=3)
    project = text_project(api, texts)
    ids = task_ids(api, project)
    api.post(f"/api/tasks/{ids[list(copies)[0]]}/annotations", json=choose("Pos"))
    columns = [c["id"] for c in api.get(f"/api/dm/columns?project={project}").json()["columns"]]
    assert "near_duplicate_of" not in columns  # before a scan: Label Studio's columns only
    job = api.post("/api/assistants/duplicates/enable", json={"project": project}).json()["job"]
    done = wait_job(api, job["url"])
    assert done["status"] == "completed" and done["processed"] == 120 and done["found"] >= 10
    assert by_name(api, project)["duplicates"]["scan"]["found"] == done["found"]

    columns = api.get(f"/api/dm/columns?project={project}").json()["columns"]
    column = next(c for c in columns if c["id"] == "near_duplicate_of")
    assert column["type"] == "Number" and column["title"] == "Near-duplicate of"
    actions = [a["id"] for a in api.get(f"/api/dm/actions?project={project}").json()]
    assert {"delete_near_duplicates", "merge_near_duplicates"} <= set(actions)
    query = {"filters": {"conjunction": "and", "items": [{
        "filter": "filter:tasks:near_duplicate_of", "operator": "empty", "type": "Number",
        "value": False}]}}
    listed = api.get(f"/api/tasks?project={project}&fields=all&query="
                     f"{urllib.parse.quote(orjson.dumps(query).decode())}").json()["tasks"]
    marked = {t["id"]: t["near_duplicate_of"] for t in listed}
    assert {ids[c] for c in copies} <= set(marked)
    for copy, original in copies.items():
        assert marked[ids[copy]] <= ids[original]

    merged_copy = ids[list(copies)[0]]
    original = marked[merged_copy]
    answer = api.post(f"/api/dm/actions?id=merge_near_duplicates&project={project}",
                      json={"selectedItems": {"all": False, "included": [merged_copy]}})
    assert answer.status_code == 200 and answer.json()["processed_items"] == 1
    assert api.get(f"/api/tasks/{merged_copy}").status_code == 404
    assert api.get(f"/api/tasks/{original}").json()["total_annotations"] == 1
    # into the trash as one item: restoring it undoes the merge
    item = max((i for i in api.get("/api/ui/trash").json()["items"] if i["kind"] == "tasks"),
               key=lambda i: i["id"])
    assert api.post(f"/api/ui/trash/{item['id']}/restore").status_code == 200
    assert api.get(f"/api/tasks/{merged_copy}").json()["total_annotations"] == 1
    assert api.get(f"/api/tasks/{original}").json()["total_annotations"] == 0
    answer = api.post(f"/api/dm/actions?id=merge_near_duplicates&project={project}",
                      json={"selectedItems": {"all": False, "included": [merged_copy]}})
    assert answer.json()["processed_items"] == 1

    answer = api.post(f"/api/dm/actions?id=delete_near_duplicates&project={project}",
                      json={"selectedItems": {"all": True}, "filters": query["filters"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["processed_items"] == len(marked) - 1
    left = task_ids(api, project)
    assert len(left) == 120 - len(marked)
    assert set(marked.values()) <= set(left)  # the originals stay

    api.post("/api/assistants/duplicates/disable", json={"project": project})
    columns = [c["id"] for c in api.get(f"/api/dm/columns?project={project}").json()["columns"]]
    assert "near_duplicate_of" not in columns


def test_near_duplicate_images_among_uploads(api):
    import random
    rnd = random.Random(8)
    project = api.project(label_config=IMAGE_CONFIG)["id"]
    files = {f"o{i}.png": encoded(scene(i)) for i in range(12)}
    files["copy.jpg"] = image_copy(scene(5), rnd)
    answer = api.post(f"/api/projects/{project}/import",
                      files={name: (name, raw) for name, raw in files.items()})
    assert answer.status_code == 201, answer.text
    job = api.post("/api/assistants/duplicates/enable", json={"project": project}).json()["job"]
    assert wait_job(api, job["url"])["found"] == 1
    tasks = api.get(f"/api/tasks?project={project}&fields=all&page_size=100").json()["tasks"]
    [copy] = [t for t in tasks if t.get("near_duplicate_of")]
    assert copy["data"]["image"].endswith("copy.jpg")
    original = next(t for t in tasks if t["id"] == copy["near_duplicate_of"])
    assert original["data"]["image"].endswith("o5.png")


def test_a_crashed_worker_starts_again_on_next_use(api, server):
    project = text_project(api, ["good", "bad"])
    api.post("/api/assistants/teach/enable", json={"project": project})
    worker = server.app.assistants.worker
    before = worker.proc.pid
    os.kill(before, signal.SIGKILL)
    worker.proc.wait(10)
    # labeling never needed it: an annotation saves at once
    task = task_ids(api, project)[0]
    assert api.post(f"/api/tasks/{task}/annotations", json=choose("Pos")).status_code == 201
    [backend] = api.get(f"/api/ml?project={project}").json()  # the Model tab: a new worker
    assert backend["state"] == "CO" and worker.proc.pid != before
    assert by_name(api, project)["teach"]["installed"]


def test_a_missing_package_is_reported_and_labeling_goes_on(make_live, tmp_path,
                                                            monkeypatch):
    fake = tmp_path / "site"
    (fake / "numpy").mkdir(parents=True)
    (fake / "numpy" / "__init__.py").write_text("raise ImportError('No module named numpy')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake))  # the worker inherits it: numpy is "missing"
    live = make_live()
    api = live.api
    project = text_project(api, ["good", "bad"], sampling="Uncertainty sampling")
    teach = by_name(api, project)["teach"]
    assert teach["installed"] is False and "numpy" in teach["needs"]
    assert "pip install" in teach["needs"]
    refused = api.post("/api/assistants/teach/enable", json={"project": project})
    assert refused.status_code == 400 and "not installed" in refused.text
    # labeling is unaffected
    task = api.get(f"/api/projects/{project}/next").json()
    assert api.post(f"/api/tasks/{task['id']}/annotations", json=choose("Pos")) \
        .status_code == 201
    assert api.get(f"/api/projects/{project}/next").status_code == 200


def test_entities_through_the_worker_use_the_templates_labels(api):
    """Named entities on Label Studio's NER template, through the worker and an ML backend:
    spaCy's PERSON, GPE, ORG, NORP land on the template's PER, LOC, ORG, MISC (the module's own
    map, not only labels equal by name), at the editor's offsets; a user's label map goes over
    it; the page's label map lists spaCy's labels."""
    import assistanthelp as h
    text, spans = h.entity_text()
    project = api.project(label_config=h.NER_CONFIG)["id"]
    api.post(f"/api/projects/{project}/import", json=[{"text": text}])
    item = by_name(api, project)["entities"]
    assert "PERSON" in item["fits"]["model_labels"] and "GPE" in item["fits"]["model_labels"]
    assert api.post("/api/assistants/entities/enable", json={"project": project}) \
        .status_code == 200
    job = api.post("/api/assistants/entities/predict", json={"project": project}).json()
    assert wait_job(api, job["url"])["status"] == "completed"
    [task] = api.get(f"/api/projects/{project}/tasks").json()
    [prediction] = task["predictions"]
    found = {(r["value"]["start"], r["value"]["end"], r["value"]["text"],
              r["value"]["labels"][0]) for r in prediction["result"]}
    assert len(found & set(spans)) >= 0.9 * len(spans), (set(spans) - found)
    assert {"PER", "LOC", "ORG"} <= {label for *_, label in found}

    assert api.post("/api/assistants/entities/enable", json={
        "project": project, "label_map": {"GPE": "MISC"}}).status_code == 200
    api.post(f"/api/projects/{project}/import", json=[{"text": text}])  # predicted anew
    job = api.post("/api/assistants/entities/predict", json={"project": project}).json()
    assert wait_job(api, job["url"])["predictions"] == 1
    new = max(api.get(f"/api/projects/{project}/tasks").json(), key=lambda t: t["id"])
    labels = {r["value"]["text"]: r["value"]["labels"][0]
              for r in new["predictions"][0]["result"]}
    assert labels["Paris"] == "MISC" and labels["Angela Merkel"] == "PER"


def test_missing_heavy_packages_are_said_before_turning_on(make_live, tmp_path, monkeypatch):
    """Without spaCy and OpenCV (hidden from the worker, as on a machine without them) the list
    says so with what to install — not only once a prediction fails — and enable is a 400;
    labeling goes on."""
    import assistanthelp as h
    import packhelp
    packhelp.hide_from_worker(tmp_path / "hidden", monkeypatch, "cv2", "spacy")
    api = make_live().api
    ner = api.project(label_config=h.NER_CONFIG)["id"]
    brush = api.project(label_config=h.BRUSH_CONFIG)["id"]
    entities, mask = by_name(api, ner)["entities"], by_name(api, brush)["mask"]
    assert not entities["installed"] and entities["error"] == "spaCy is not installed"
    assert "labeldesk[entities]" in entities["needs"]
    assert not mask["installed"] and mask["error"] == "OpenCV is not installed"
    assert "labeldesk[mask]" in mask["needs"]
    assert entities["pack"] and mask["pack"]  # installable from an assistant pack
    assert not by_name(api, ner)["teach"]["pack"]
    for name, project in (("entities", ner), ("mask", brush)):
        refused = api.post(f"/api/assistants/{name}/enable", json={"project": project})
        assert refused.status_code == 400 and "not installed" in refused.text
    assert by_name(api, ner)["teach"]["installed"]  # the light ones are unaffected
    answer = api.post(f"/api/projects/{ner}/import", json=[{"text": "Paris"}])
    assert answer.status_code == 201
    # a packaged LabelDesk (its worker already running) offers no pack and refuses one
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert not by_name(api, ner)["entities"]["pack"]
    refused = api.post("/api/assistants/install", data=packhelp.make_pack(tmp_path)
                       .read_bytes(), headers={"Content-Type": "application/zip"})
    assert refused.status_code == 400 and "packaged LabelDesk" in refused.text


def test_the_worker_answers_labeldesk_only(api, server):
    """Other local programs (no secret) and web pages (Origin, DNS rebinding: a foreign Host)
    are refused; LabelDesk's own calls carry the secret."""
    import requests
    project = text_project(api, ["one"])
    by_name(api, project)  # the worker runs
    worker = server.app.assistants.worker
    url = worker.url
    assert requests.get(f"{url}/health").status_code == 401
    assert requests.post(f"{url}/teach/predict", json={"tasks": []}).status_code == 401
    auth = worker.credentials
    assert requests.get(f"{url}/health", auth=auth).status_code == 200
    assert requests.get(f"{url}/health", auth=("labeldesk", "wrong")).status_code == 401
    assert requests.get(f"{url}/health", auth=auth,
                        headers={"Origin": "http://example.com"}).status_code == 403
    assert requests.get(f"{url}/health", auth=auth,
                        headers={"Host": "evil.example:80"}).status_code == 403
    assert "LABELDESK_ASSISTANTS_SECRET" not in open(
        f"/proc/{worker.proc.pid}/cmdline").read()


def test_a_backend_given_another_url_is_the_users_own_from_then_on(api, server):
    project = text_project(api, ["one"])
    backend_id = api.post("/api/assistants/teach/enable", json={"project": project}).json()[
        "ml_backend"]
    [backend] = api.get(f"/api/ml?project={project}").json()
    # the web app's Model tab saves the form as it shows it: still the assistant
    answer = api.patch(f"/api/ml/{backend_id}", json={"url": backend["url"], "title": "Mine"})
    assert answer.status_code == 200 and answer.json()["state"] == "CO"
    assert by_name(api, project)["teach"]["enabled"]
    # another address: LabelDesk no longer sends it to its worker (nothing listens there)
    answer = api.patch(f"/api/ml/{backend_id}", json={"url": "http://127.0.0.1:9/"})
    assert answer.status_code == 400 and "Can't connect" in answer.text


def test_a_pack_installs_from_the_app_offline(api, server, tmp_path, monkeypatch):
    """An assistant pack uploaded to POST /api/assistants/install (the Assistants page's
    "Install from a pack file…", the window's native dialog behind it) is checked at once, then
    installed by pip from its wheels alone, the registry unreachable (here into a folder of its
    own, not the tests' environment); the worker starts again, with it, on the next use. Bad
    packs are a 400 in Label Studio's envelope, and nothing of theirs is run."""
    import packhelp
    from desktop.assistants import pack

    path = packhelp.make_pack(tmp_path, value=5)
    real = pack.pip_command
    monkeypatch.setattr(pack, "pip_command", lambda python=None, target=None: real(
        python, tmp_path / "site"))
    for key, value in packhelp.NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    project = text_project(api, ["one"])
    by_name(api, project)  # the worker runs
    worker = server.app.assistants.worker
    starts, pid = worker.starts, worker.proc.pid
    with open(path, "rb") as f:
        answer = api.post("/api/assistants/install",
                          files={"file": ("dummy-pack.zip", f, "application/zip")})
    assert answer.status_code == 201, answer.text
    job = answer.json()
    assert (job["kind"], job["pack"], job["files"]) == ("install", "dummy-pack.zip", 1)
    done = wait_job(api, job["url"])
    assert done["status"] == "completed", done
    assert done["installed"] == [packhelp.REQUIREMENT] and done["processed"] == 1
    installed = tmp_path / "site" / "labeldesk_pack_dummy" / "__init__.py"
    assert installed.read_text() == "VALUE = 5\n"
    assert by_name(api, project)["teach"]["installed"]
    assert worker.starts > starts and worker.proc.pid != pid  # stopped, started again

    with open(path, "rb") as f:  # the pack as the body
        again = api.post("/api/assistants/install?name=again.zip", data=f.read(),
                         headers={"Content-Type": "application/zip"})
    assert again.status_code == 201 and again.json()["pack"] == "again.zip"
    assert wait_job(api, again.json()["url"])["status"] == "completed"

    def refused(body, says):
        answer = api.post("/api/assistants/install", data=body,
                          headers={"Content-Type": "application/zip"})
        assert answer.status_code == 400, answer.text
        assert says in answer.json()["validation_errors"]["file"][0]
    refused(b"not a zip", "not an assistant pack")
    evil = packhelp.rewrite(path, tmp_path / "evil.zip", extra={"../../x.whl": b"x"})
    refused(evil.read_bytes(), "don't match its manifest")
    script = packhelp.rewrite(path, tmp_path / "script.zip", extra={"setup.py": b"boom"})
    refused(script.read_bytes(), "don't match its manifest")
    empty = api.post("/api/assistants/install")
    assert empty.status_code == 400 and "assistant pack" in empty.text
    assert not (tmp_path / "x.whl").exists()

    # one pack at a time: a second one while pip runs is a 400
    gate, real_install = threading.Event(), pack.install_unpacked
    monkeypatch.setattr(pack, "install_unpacked",
                        lambda *args, **kwargs: (gate.wait(30), real_install(*args, **kwargs))[1])
    post = lambda: api.post("/api/assistants/install", data=path.read_bytes(),  # noqa: E731
                            headers={"Content-Type": "application/zip"})
    first = post()
    assert first.status_code == 201
    second = post()
    assert second.status_code == 400 and "being installed already" in second.text
    gate.set()
    assert wait_job(api, first.json()["url"])["status"] == "completed"
    third = post()
    assert third.status_code == 201
    assert wait_job(api, third.json()["url"])["status"] == "completed"
