"""What the data manager reads before it shows a project: GET /api/dm/columns, /api/dm/project,
/api/dm/actions (with each action's dialog) and /api/dm/actions/{id}/form, /api/label_links.
Expected answers are Label Studio 1.23.2's, taken from a running LS with the same data."""

import pytest

from datahelp import IMAGE_CONFIG, assert_envelope, choice, import_ids

# GET /api/dm/columns's task columns after the data columns: (id, title, type, explore,
# labeling), LS's order; `data` comes last, its children the data columns
TASK_COLUMNS = [
    ("id", "ID", "Number", True, False),
    ("inner_id", "Inner ID", "Number", False, False),
    ("completed_at", "Completed", "Datetime", True, False),
    ("total_annotations", "Annotations", "Number", True, True),
    ("cancelled_annotations", "Cancelled", "Number", True, False),
    ("total_predictions", "Predictions", "Number", True, False),
    ("annotators", "Annotated by", "List", True, False),
    ("annotations_results", "Annotation results", "String", False, False),
    ("annotations_ids", "Annotation IDs", "String", False, False),
    ("predictions_score", "Prediction score", "Number", False, False),
    ("predictions_model_versions", "Prediction model versions", "List", False, False),
    ("predictions_results", "Prediction results", "String", False, False),
    ("file_upload", "Upload filename", "String", False, False),
    ("storage_filename", "Storage filename", "String", False, False),
    ("created_at", "Created at", "Datetime", False, False),
    ("updated_at", "Updated at", "Datetime", False, False),
    ("updated_by", "Updated by", "List", False, False),
    ("avg_lead_time", "Lead Time", "Time", False, False),
    ("draft_exists", "Drafts", "Boolean", False, False),
]


def columns(api, project_id):
    response = api.get("/api/dm/columns", params={"project": project_id})
    assert response.status_code == 200, response.text
    return response.json()["columns"]


def test_columns_data_keys_first_then_task_columns(api):
    project = api.project()
    import_ids(api, project["id"], [{"text": "a", "extra": 1}, {"text": "b", "meta_x": "y"}])
    found = columns(api, project["id"])
    data = found[:3]
    assert data == [
        {"id": "text", "title": "text", "type": "String", "target": "tasks", "parent": "data",
         "visibility_defaults": {"explore": True, "labeling": True}, "project_defined": True},
        {"id": "extra", "title": "extra", "type": "Unknown", "target": "tasks",
         "parent": "data", "visibility_defaults": {"explore": True, "labeling": False},
         "project_defined": True},
        {"id": "meta_x", "title": "meta_x", "type": "Unknown", "target": "tasks",
         "parent": "data", "visibility_defaults": {"explore": True, "labeling": False},
         "project_defined": True}]
    fixed = found[3:-1]
    assert [(c["id"], c["title"], c["type"], c["visibility_defaults"]["explore"],
             c["visibility_defaults"]["labeling"]) for c in fixed] == TASK_COLUMNS
    assert all(c["target"] == "tasks" and c["project_defined"] is False and c["help"]
               for c in fixed)
    assert fixed[0] == {"id": "id", "title": "ID", "type": "Number", "help": "Task ID",
                        "target": "tasks",
                        "visibility_defaults": {"explore": True, "labeling": False},
                        "project_defined": False}
    by_id = {c["id"]: c for c in fixed}
    users = sorted(u["id"] for u in api.get("/api/users").json())  # LS: the members
    assert by_id["annotators"]["schema"] == {"items": users}
    assert by_id["updated_by"]["schema"] == {"items": users}
    assert by_id["predictions_model_versions"]["schema"] == {"items": [], "multiple": True}
    assert found[-1] == {"id": "data", "title": "data", "type": "List", "target": "tasks",
                         "children": ["text", "extra", "meta_x"], "project_defined": False}
    # a key no task holds any more is no column; one a changed task brings is
    ids = [t["id"] for t in api.get("/api/tasks", params={"project": project["id"]}).json()[
        "tasks"]]
    api.delete(f"/api/tasks/{ids[1]}")
    api.patch(f"/api/tasks/{ids[0]}", json={"data": {"text": "a", "other": 2}})
    assert columns(api, project["id"])[-1]["children"] == ["text", "other"]


def test_columns_media_types_model_versions_and_undefined(api):
    project = api.project(label_config=IMAGE_CONFIG)
    import_ids(api, project["id"], [
        {"data": {"image": f"http://x/{i}.png"},
         "predictions": [{"result": choice("A", "label", "image"), "model_version": f"m{i}"}]}
        for i in range(2)])
    found = {c["id"]: c for c in columns(api, project["id"])}
    assert found["image"]["type"] == "Image"
    assert found["predictions_model_versions"]["schema"]["items"] == ["m1", "m0"]  # latest 1st
    empty = api.project(label_config="<View></View>")
    import_ids(api, empty["id"], [{"$undefined$": "just text"}])
    first = columns(api, empty["id"])[0]
    assert first["id"] == "$undefined$" and first["title"] == "data"
    assert first["visibility_defaults"] == {"explore": True, "labeling": True}


@pytest.mark.parametrize("path", ["/api/dm/columns", "/api/dm/project"])
def test_columns_and_project_bad_ids(api, path):
    body = assert_envelope(api.get(path, params={"project": "x"}), 400, "Validation error")
    assert body["validation_errors"] == {
        "project": 'Incorrect value in key "project" = "x". It should be digit string.'}
    assert_envelope(api.get(path, params={"project": 999999}), 404,
                    "No Project matches the given query.")


def test_dm_project_shape(api):
    project = api.project()
    ids = import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": choice("Pos")})
    api.post(f"/api/tasks/{ids[1]}/annotations", json={"result": [], "was_cancelled": True})
    for params in ({"project": project["id"]}, {"project": project["id"],
                                                "interaction": "timer"}):
        response = api.get("/api/dm/project", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        plain = api.get(f"/api/projects/{project['id']}").json()
        assert list(body)[:len(plain)] == list(plain)
        assert list(body)[len(plain):] == [
            "can_delete_tasks", "can_manage_annotations", "can_manage_tasks", "source_syncing",
            "target_syncing", "task_count", "annotation_count"]
        # LS's ProjectStateAPI serializes without the counters: they are null there
        for key in ("task_number", "num_tasks_with_annotations", "total_annotations_number",
                    "finished_task_number", "useful_annotation_number"):
            assert body[key] is None
        assert body["task_count"] == 3 and body["annotation_count"] == 2
        assert body["queue_done"] == 2 and body["queue_total"] == 3
        assert body["config_has_control_tags"] is True
        assert body["config_suitable_for_bulk_annotation"] is True
        assert body["can_delete_tasks"] is True and body["source_syncing"] is False
    # the project itself answers the same per-user queue and flag (LS's ProjectSerializer)
    for plain in (api.get(f"/api/projects/{project['id']}").json(),
                  api.get("/api/projects").json()["results"][0]):
        assert plain["queue_done"] == 2 and plain["queue_total"] == 3
        assert plain["config_suitable_for_bulk_annotation"] is True
    only = api.get(f"/api/projects/{project['id']}", params={"include": "id,queue_done"}).json()
    assert only == {"id": project["id"], "queue_done": 2}


def test_bulk_annotation_suitability(api):
    labels = api.project(label_config="""<View><Text name="text" value="$text"/>
      <Labels name="ner" toName="text"><Label value="A"/></Labels></View>""")
    per_region = api.project(label_config="""<View><Text name="text" value="$text"/>
      <Choices name="c" toName="text" perRegion="true"><Choice value="A"/></Choices></View>""")
    for project in (labels, per_region):
        body = api.get("/api/dm/project", params={"project": project["id"]}).json()
        assert body["config_suitable_for_bulk_annotation"] is False
        body = api.get(f"/api/projects/{project['id']}").json()
        assert body["config_suitable_for_bulk_annotation"] is False


def test_actions_as_label_studio_lists_them(api):
    project = api.project()
    actions = api.get("/api/dm/actions", params={"project": project["id"]}).json()
    assert [(a["id"], a["order"], a["permission"]) for a in actions] == [
        ("retrieve_tasks_predictions", 90, "predictions.any"),
        ("predictions_to_annotations", 91, "tasks.change"),
        ("remove_duplicates", 95, ["projects.change", "tasks.delete"]),
        ("delete_tasks", 100, "tasks.delete"),
        ("delete_tasks_annotations", 101, ["tasks.change", "annotations.delete"]),
        ("delete_tasks_predictions", 102, "predictions.any")]
    by_id = {a["id"]: a for a in actions}
    assert list(by_id["delete_tasks"]) == ["id", "title", "order", "permission", "reload",
                                           "dialog"]
    assert by_id["delete_tasks"]["reload"] is True
    assert by_id["delete_tasks"]["dialog"] == {
        "text": "You are going to delete the selected tasks. Please confirm your action.",
        "type": "confirm"}
    assert by_id["remove_duplicates"]["experimental"] is False
    assert by_id["predictions_to_annotations"]["dialog"]["form"] is None  # made per project
    assert by_id["predictions_to_annotations"]["dialog"]["title"] == \
        "Create Annotations From Predictions"
    assert by_id["delete_tasks_annotations"]["dialog"]["form"] is None
    assert "form" not in by_id["delete_tasks_predictions"]["dialog"]


def test_actions_need_a_project(api):
    assert_envelope(api.get("/api/dm/actions"), 404, "No Project matches the given query.")
    assert_envelope(api.get("/api/dm/actions", params={"project": 999999}), 404)
    body = assert_envelope(api.get("/api/dm/actions", params={"project": "x"}), 400)
    assert body["validation_errors"] == {
        "project": 'Incorrect value in key "project" = "x". It should be digit string.'}


def test_action_forms(api):
    project = api.project()
    pid = project["id"]
    ids = import_ids(api, pid, [
        {"data": {"text": "a"}, "predictions": [{"result": choice("Pos"), "model_version": "v1"}]}])
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": choice("Pos")})

    def form(action):
        response = api.get(f"/api/dm/actions/{action}/form", params={"project": pid})
        assert response.status_code == 200, response.text
        return response.json()

    for action in ("delete_tasks", "delete_tasks_predictions", "remove_duplicates",
                   "retrieve_tasks_predictions", "next_task"):
        assert form(action) == []
    assert form("predictions_to_annotations") == [{"columnCount": 1, "fields": [
        {"type": "select", "name": "model_version", "label": "Choose predictions",
         "options": ["v1"], "value": "v1"}]}]  # the project took the imported version
    assert form("delete_tasks_annotations") == [{"columnCount": 1, "fields": [
        {"type": "select", "name": "annotator", "label": "Annotator",
         "options": [{"value": "1", "label": api.get("/api/current-user").json()["email"]}],
         "placeholder": "All", "searchable": True}]}]
    assert [f["name"] for f in form("cache_labels")[0]["fields"]] == [
        "control_tag", "custom_control_tag", "with_counters", "source"]
    # LS: 500 "Can't find 'nope' in registered actions"; here 404 with its words
    assert_envelope(api.get("/api/dm/actions/nope/form", params={"project": pid}), 404,
                    "Can't find 'nope' in registered actions")
    assert_envelope(api.get("/api/dm/actions/delete_tasks/form"), 404)
    assert_envelope(api.get("/api/dm/actions/delete_tasks/form",
                            params={"project": "1.5"}), 400)


def test_label_links_is_an_empty_page(api):
    project = api.project()
    empty = {"count": 0, "next": None, "previous": None, "results": []}
    assert api.get("/api/label_links", params={"project": project["id"]}).json() == empty
    assert api.get("/api/label_links").json() == empty
    for bad in (999999, "x"):
        body = assert_envelope(api.get("/api/label_links", params={"project": bad}), 400)
        assert body["validation_errors"] == {"project": [
            "Select a valid choice. That choice is not one of the available choices."]}
    assert_envelope(api.get("/api/label_links", params={"project": project["id"], "page": 2}),
                    404, "Invalid page.")
