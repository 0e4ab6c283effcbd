"""Task and project counters under random operation sequences (hypothesis), and after a restart.

After every step the test recomputes, from the raw annotation and prediction lists it fetches,
what Label Studio 1.23 would report (its projects/functions/__init__.py and
tasks/models.py), and compares with the server's task fields and project counters.
"""

import random
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datahelp import choice

COUNTERS = ("task_number", "num_tasks_with_annotations", "total_annotations_number",
            "skipped_annotations_number", "ground_truth_number", "useful_annotation_number",
            "finished_task_number", "total_predictions_number")

annotation_spec = st.fixed_dictionaries({
    "cancelled": st.booleans(), "gt": st.booleans(), "with_result": st.booleans(),
    "user": st.integers(0, 1)})
task_spec = st.fixed_dictionaries({
    "annotations": st.lists(annotation_spec, max_size=2),
    "predictions": st.integers(0, 2)})
pick = st.integers(0, 1000)

operations = st.one_of(
    st.tuples(st.just("import"), st.lists(task_spec, min_size=1, max_size=3)),
    st.tuples(st.just("create_task")),
    st.tuples(st.just("delete_task"), pick),
    st.tuples(st.just("annotate"), pick, annotation_spec, st.booleans()),
    st.tuples(st.just("toggle"), pick, st.sampled_from(["was_cancelled", "ground_truth"])),
    st.tuples(st.just("delete_annotation"), pick),
    st.tuples(st.just("predict"), pick),
    st.tuples(st.just("delete_prediction"), pick),
    st.tuples(st.just("action"), st.sampled_from(["delete_tasks", "delete_tasks_annotations",
                                                  "delete_tasks_predictions",
                                                  "predictions_to_annotations"]),
              st.lists(pick, max_size=2), st.booleans()),
)


def annotation_body(spec, users, imported=False):
    body = {"completed_by": users[spec["user"]], "ground_truth": spec["gt"],
            "was_cancelled": spec["cancelled"]}
    if spec["with_result"]:
        body["result"] = choice(random.choice(["Pos", "Neg"]))
    elif imported:
        body["result"] = []  # import requires the key (ref §3.1)
    return body


def expected_task(task, project):
    """A task's counters from its raw annotations and predictions, as Label Studio."""
    annotations = task["annotations"]
    done = [a for a in annotations if not a["was_cancelled"]]
    if project["skip_queue"] == "IGNORE_SKIPPED":
        finished = annotations
    else:
        finished = [a for a in done if a["result"] is not None]
    return {"total_annotations": len(done),
            "cancelled_annotations": len(annotations) - len(done),
            "total_predictions": len(task["predictions"]),
            # GET /api/tasks/{id} gives each annotation's completed_by as the user, as LS does
            "is_labeled": len({a["completed_by"]["id"] for a in finished}) >= task["overlap"]}


def expected_project(tasks):
    annotations = [a for t in tasks for a in t["annotations"]]

    def useful(a):
        return not a["was_cancelled"] and not a["ground_truth"] and a["result"] is not None
    return {"task_number": len(tasks),
            "num_tasks_with_annotations": sum(1 for t in tasks
                                              if any(useful(a) for a in t["annotations"])),
            "total_annotations_number": sum(1 for a in annotations if not a["was_cancelled"]),
            "skipped_annotations_number": sum(1 for a in annotations if a["was_cancelled"]),
            "ground_truth_number": sum(1 for a in annotations if a["ground_truth"]),
            "useful_annotation_number": sum(1 for a in annotations if useful(a)),
            "finished_task_number": sum(1 for t in tasks if t["is_labeled"]),
            "total_predictions_number": sum(len(t["predictions"]) for t in tasks)}


def check(api, project_id, model):
    """Compare the server with the model (ids) and with counters recomputed from raw lists."""
    project = api.get(f"/api/projects/{project_id}").json()
    listed = api.get("/api/tasks", params={"project": project_id, "page_size": 1000}).json()
    assert sorted(t["id"] for t in listed["tasks"]) == sorted(model)
    tasks = []
    for task_id in sorted(model):
        task = api.get(f"/api/tasks/{task_id}", params={"fields": "all"}).json()
        assert sorted(a["id"] for a in task["annotations"]) == sorted(model[task_id]["a"])
        assert sorted(p["id"] for p in task["predictions"]) == sorted(model[task_id]["p"])
        expected = expected_task(task, project)
        assert {k: task[k] for k in expected} == expected, task_id
        tasks.append(task)
    numbers = expected_project(tasks)
    assert {k: project[k] for k in COUNTERS} == numbers
    assert listed["total"] == len(model)
    assert listed["total_annotations"] == numbers["total_annotations_number"]
    assert listed["total_predictions"] == numbers["total_predictions_number"]
    return numbers


def nth(items, index):
    items = sorted(items)
    return items[index % len(items)] if items else None


def run(api, project_id, model, users, operation):
    kind = operation[0]
    annotation_ids = [(t, a) for t in model for a in model[t]["a"]]
    prediction_ids = [(t, p) for t in model for p in model[t]["p"]]
    if kind == "import":
        items = [{"data": {"text": uuid.uuid4().hex},
                  "annotations": [annotation_body(s, users, True) for s in spec["annotations"]],
                  "predictions": [{"result": choice("Pos"), "score": 0.5}
                                  for _ in range(spec["predictions"])]}
                 for spec in operation[1]]
        response = api.post(f"/api/projects/{project_id}/import", json=items,
                            params={"return_task_ids": "true"})
        assert response.status_code == 201, response.text
        for task_id in response.json()["task_ids"]:
            task = api.get(f"/api/tasks/{task_id}", params={"fields": "all"}).json()
            model[task_id] = {"a": {a["id"] for a in task["annotations"]},
                              "p": {p["id"] for p in task["predictions"]}}
    elif kind == "create_task":
        response = api.post("/api/tasks", json={"project": project_id, "data": {"text": "n"}})
        assert response.status_code == 201
        model[response.json()["id"]] = {"a": set(), "p": set()}
    elif kind == "delete_task":
        task_id = nth(model, operation[1])
        if task_id is not None:
            assert api.delete(f"/api/tasks/{task_id}").status_code == 204
            del model[task_id]
    elif kind == "annotate":
        task_id = nth(model, operation[1])
        if task_id is not None:
            spec, via_query = operation[2], operation[3]
            body = annotation_body(spec, users)
            params = {}
            if via_query and body.pop("was_cancelled"):
                params["was_cancelled"] = "1"
            response = api.post(f"/api/tasks/{task_id}/annotations", json=body, params=params)
            assert response.status_code == 201, response.text
            model[task_id]["a"].add(response.json()["id"])
    elif kind == "toggle":
        found = nth(annotation_ids, operation[1])
        if found is not None:
            annotation = api.get(f"/api/annotations/{found[1]}").json()
            field = operation[2]
            response = api.patch(f"/api/annotations/{found[1]}",
                                 json={field: not annotation[field]})
            assert response.status_code == 200, response.text
    elif kind == "delete_annotation":
        found = nth(annotation_ids, operation[1])
        if found is not None:
            assert api.delete(f"/api/annotations/{found[1]}").status_code == 204
            model[found[0]]["a"].discard(found[1])
    elif kind == "predict":
        task_id = nth(model, operation[1])
        if task_id is not None:
            response = api.post("/api/predictions", json={"task": task_id, "result": "Neg",
                                                          "score": 0.1})
            assert response.status_code == 201, response.text
            model[task_id]["p"].add(response.json()["id"])
    elif kind == "delete_prediction":
        found = nth(prediction_ids, operation[1])
        if found is not None:
            assert api.delete(f"/api/predictions/{found[1]}").status_code == 204
            model[found[0]]["p"].discard(found[1])
    elif kind == "action":
        action, picks, everything = operation[1:]
        chosen = sorted({nth(model, i) for i in picks} - {None})
        selected = {"all": True, "excluded": chosen} if everything else \
            {"all": False, "included": chosen}
        targets = [t for t in model if (t not in chosen) == everything]
        response = api.post("/api/dm/actions", params={"id": action, "project": project_id},
                            json={"selectedItems": selected})
        assert response.status_code == 200, response.text
        for task_id in targets:
            if action == "delete_tasks":
                del model[task_id]
            elif action == "delete_tasks_annotations":
                model[task_id]["a"] = set()
            elif action == "delete_tasks_predictions":
                model[task_id]["p"] = set()
        if action == "predictions_to_annotations":
            for task_id in targets:
                task = api.get(f"/api/tasks/{task_id}", params={"fields": "all"}).json()
                model[task_id]["a"] = {a["id"] for a in task["annotations"]}


def test_counters_follow_random_operations_and_survive_a_restart(make_live):
    first = make_live("data")
    api = first.api
    helper = api.post("/api/users", json={"email": "counter-helper@x.org"}).json()["id"]
    users = [1, helper]
    checked = {}

    @settings(max_examples=50, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(ops=st.lists(operations, min_size=1, max_size=10),
           overlap=st.sampled_from([1, 2]),
           skip_queue=st.sampled_from(["REQUEUE_FOR_OTHERS", "REQUEUE_FOR_ME",
                                       "IGNORE_SKIPPED"]))
    def scenario(ops, overlap, skip_queue):
        project = api.project(maximum_annotations=overlap, skip_queue=skip_queue)
        model = {}
        for operation in ops:
            run(api, project["id"], model, users, operation)
            numbers = check(api, project["id"], model)
        checked[project["id"]] = (model, numbers)

    scenario()
    assert len(checked) >= 20
    first.close()
    second = make_live("data")  # same data dir: indexes and counters rebuilt from disk
    for project_id, (model, numbers) in checked.items():
        assert check(second.api, project_id, model) == numbers
