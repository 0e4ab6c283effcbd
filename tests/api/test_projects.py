"""Projects (reference §2): create, read, list, update, delete and label-config validation."""

from urllib.parse import urlsplit

import pytest

from datahelp import LABEL_CONFIG

# The key set of the project object observed on Label Studio 1.23.2 (reference §2.1).
PROJECT_KEYS = {
    "id", "title", "description", "label_config", "expert_instruction", "show_instruction",
    "show_skip_button", "enable_empty_annotation", "show_annotation_history", "organization",
    "color", "maximum_annotations", "is_published", "model_version", "is_draft", "created_by",
    "created_at", "min_annotations_to_start_training", "start_training_on_annotation_update",
    "show_collab_predictions", "num_tasks_with_annotations", "task_number",
    "useful_annotation_number", "ground_truth_number", "skipped_annotations_number",
    "total_annotations_number", "total_predictions_number", "sampling",
    "show_ground_truth_first", "annotator_evaluation_enabled", "show_overlap_first",
    "overlap_cohort_percentage", "task_data_login", "task_data_password", "control_weights",
    "parsed_label_config", "evaluate_predictions_automatically", "config_has_control_tags",
    "skip_queue", "reveal_preannotations_interactively", "pinned_at", "finished_task_number",
    "queue_total", "queue_done", "config_suitable_for_bulk_annotation", "state",
}
COUNTERS = ("task_number", "num_tasks_with_annotations", "useful_annotation_number",
            "ground_truth_number", "skipped_annotations_number", "total_annotations_number",
            "total_predictions_number", "finished_task_number")
IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Cat"/><Label value="Dog"/>
  </RectangleLabels>
</View>"""


def validation_errors(response, status=400):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["detail"] == "Validation error", body
    return body["validation_errors"]


# -- create and read -------------------------------------------------------------------------

def test_create_returns_201_with_null_counters(api):
    response = api.post("/api/projects/", json={"title": "Proj One", "description": "desc",
                                                "label_config": IMAGE_CONFIG})
    assert response.status_code == 201, response.text
    project = response.json()
    assert set(project) == PROJECT_KEYS
    for key in COUNTERS:
        assert project[key] is None, key
    assert project["title"] == "Proj One" and project["description"] == "desc"
    assert project["organization"] == 1
    assert project["created_by"] == {"id": 1, "first_name": "", "last_name": "",
                                     "email": api.get("/api/current-user/whoami").json()["email"],
                                     "avatar": None}
    assert project["created_at"].endswith("Z")
    assert project["parsed_label_config"] == {
        "label": {"type": "RectangleLabels", "to_name": ["image"],
                  "inputs": [{"type": "Image", "valueType": None, "value": "image"}],
                  "labels": ["Cat", "Dog"],
                  "labels_attrs": {"Cat": {"value": "Cat"}, "Dog": {"value": "Dog"}}}}
    assert project["control_weights"] == {
        "label": {"overall": 1.0, "type": "RectangleLabels",
                  "labels": {"Cat": 1.0, "Dog": 1.0}}}
    assert project["config_has_control_tags"] is True

    fetched = api.get(f"/api/projects/{project['id']}")
    assert fetched.status_code == 200
    body = fetched.json()
    assert set(body) == PROJECT_KEYS
    for key in COUNTERS:
        assert body[key] == 0, key
    for key in PROJECT_KEYS - set(COUNTERS):
        assert body[key] == project[key], key


def test_create_with_defaults(api):
    response = api.post("/api/projects", json={})
    assert response.status_code == 201
    project = response.json()
    assert project["title"] == "" and project["label_config"] == "<View></View>"
    assert project["parsed_label_config"] == {} and project["config_has_control_tags"] is False
    expected = {"expert_instruction": "", "show_instruction": False, "show_skip_button": True,
                "enable_empty_annotation": True, "show_annotation_history": False,
                "color": "#FFFFFF", "maximum_annotations": 1, "is_published": False,
                "model_version": "", "is_draft": False, "min_annotations_to_start_training": 0,
                "start_training_on_annotation_update": False, "show_collab_predictions": True,
                "sampling": "Sequential sampling", "show_ground_truth_first": False,
                "annotator_evaluation_enabled": False, "show_overlap_first": False,
                "overlap_cohort_percentage": 100, "task_data_login": None,
                "task_data_password": None, "evaluate_predictions_automatically": False,
                "skip_queue": "REQUEUE_FOR_OTHERS", "reveal_preannotations_interactively": False,
                "pinned_at": None, "queue_total": 0, "queue_done": 0,
                "config_suitable_for_bulk_annotation": True, "state": None}
    for key, value in expected.items():
        assert project[key] == value, key
    # no body at all, and duplicate titles are fine
    assert api.post("/api/projects").status_code == 201
    assert api.project(title="Same")["id"] != api.project(title="Same")["id"]


def test_create_from_form_data(api):
    response = api.post("/api/projects", data={"title": "From a form", "color": "#00FF00"})
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "From a form"
    assert response.json()["color"] == "#00FF00"


def test_patch_returns_the_full_object_and_persists(api):
    project = api.project()
    response = api.patch(f"/api/projects/{project['id']}/",
                         json={"title": "Renamed", "color": "#123ABC", "sampling":
                               "Uniform sampling", "maximum_annotations": "3",
                               "show_instruction": "true", "expert_instruction": "<b>hi</b>",
                               "start_training_on_annotation_update": True,
                               "id": 999, "created_at": "ignored", "unknown": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PROJECT_KEYS
    assert body["id"] == project["id"]  # read-only fields are ignored
    assert body["created_at"] == project["created_at"]
    assert (body["title"], body["color"], body["sampling"]) == ("Renamed", "#123ABC",
                                                                "Uniform sampling")
    assert body["maximum_annotations"] == 3 and body["show_instruction"] is True
    assert body["start_training_on_annotation_update"] is True
    assert api.get(f"/api/projects/{project['id']}").json() == body

    cleared = api.patch(f"/api/projects/{project['id']}", json={"title": None})
    assert cleared.status_code == 200 and cleared.json()["title"] is None


def test_put_is_accepted(api):
    project = api.project()
    response = api.put(f"/api/projects/{project['id']}", json={"title": "Put title"})
    assert response.status_code == 200
    assert response.json()["title"] == "Put title"


def test_show_collab_predictions_false_clears_model_version(api):
    project = api.project()
    body = api.patch(f"/api/projects/{project['id']}",
                     json={"show_collab_predictions": False}).json()
    assert body["show_collab_predictions"] is False and body["model_version"] == ""


@pytest.mark.parametrize("value, stored", [(12345, "12345"), (1.5, "1.5")])
def test_numeric_title_is_its_text(api, value, stored):
    # Label Studio 1.23.2: 201 and the number's text as the title (issue 19)
    response = api.post("/api/projects", json={"title": value})
    assert response.status_code == 201, response.text
    assert response.json()["title"] == stored
    assert api.get(f"/api/projects/{response.json()['id']}").json()["title"] == stored


def test_overlong_title_refused(api):
    # LS 1.23.2 refuses anything over 50 characters, 2,049 included (issue 19)
    errors = validation_errors(api.post("/api/projects", json={"title": "t" * 2049}))
    assert errors == {"title": ["Ensure this field has no more than 50 characters."]}


@pytest.mark.parametrize("field, value, message", [
    ("color", "red", 'Color must be in "#RRGGBB" format'),
    ("color", "#12345", 'Color must be in "#RRGGBB" format'),
    ("color", 123, 'Color must be in "#RRGGBB" format'),
    ("color", True, "Not a valid string."),
    ("color", [], "Not a valid string."),
    ("sampling", "Random", '"Random" is not a valid choice.'),
    ("skip_queue", "NEVER", '"NEVER" is not a valid choice.'),
    ("title", "ab", "Ensure this field has at least 3 characters."),
    ("title", "x" * 51, "Ensure this field has no more than 50 characters."),
    ("title", 17, "Ensure this field has at least 3 characters."),  # LS: "17", too short
    ("title", True, "Not a valid string."),
    ("description", ["a"], "Not a valid string."),
    ("show_instruction", "maybe", "Must be a valid boolean."),
    ("is_draft", [], "Must be a valid boolean."),
    ("start_training_on_annotation_update", {}, "Must be a valid boolean."),
    ("maximum_annotations", "x", "A valid integer is required."),
    ("overlap_cohort_percentage", 1.5, "A valid integer is required."),
    ("min_annotations_to_start_training", True, "A valid integer is required."),
    ("control_weights", [1], "Value must be valid JSON."),
    ("model_version", "ghost", "Model version doesn't exist either as live model or as "
                               "static predictions."),
    ("label_config", "", "This field may not be blank."),
    ("label_config", 5, "Not a valid string."),
    ("label_config", '<View><Text name="t" value="$t"/><Choices name="c" toName="x">'
                     '<Choice value="A"/></Choices></View>',
     "toName=\"x\" not found in names: ['c', 't']"),
])
def test_patch_validation_errors(api, field, value, message):
    project = api.project()
    errors = validation_errors(api.patch(f"/api/projects/{project['id']}",
                                         json={field: value}))
    assert errors == {field: [message]}
    after = api.get(f"/api/projects/{project['id']}").json()
    assert after[field] == project[field]  # unchanged


def test_patch_collects_errors_of_every_field(api):
    project = api.project()
    errors = validation_errors(api.patch(f"/api/projects/{project['id']}",
                                         json={"color": "red", "title": "ab",
                                               "maximum_annotations": "x"}))
    assert set(errors) == {"color", "title", "maximum_annotations"}


def test_patch_with_an_xml_syntax_error(api):
    project = api.project()
    response = api.patch(f"/api/projects/{project['id']}",
                         json={"label_config": '<View><Text name="text" value="$text"/>'})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Premature end of data in tag View line 1")
    assert "validation_errors" not in body
    assert api.get(f"/api/projects/{project['id']}").json()["label_config"] == LABEL_CONFIG


def test_create_validation_errors(api):
    errors = validation_errors(api.post("/api/projects", json={"title": "ab",
                                                               "label_config": "<View>"}))
    assert set(errors) == {"title", "label_config"}
    response = api.post("/api/projects", json=["not", "a", "dict"])
    assert response.status_code == 400
    assert response.json()["validation_errors"] == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_delete_then_404(api):
    project = api.project()
    response = api.delete(f"/api/projects/{project['id']}/")
    assert response.status_code == 204 and response.content == b""
    again = api.delete(f"/api/projects/{project['id']}")
    assert again.status_code == 404
    assert again.json()["detail"] == "No Project matches the given query."
    assert api.get(f"/api/projects/{project['id']}").status_code == 404
    assert api.patch(f"/api/projects/{project['id']}", json={"title": "abc"}).status_code == 404


# -- listing ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def many(tmp_path_factory, live):
    """A server of its own with 65 projects (ids 1..65), for exact list answers."""
    server = type(live)(tmp_path_factory.mktemp("many"), fsync=False)
    for i in range(1, 66):
        server.api.project(title=f"Project {i:03d}" + (" special" if i % 10 == 0 else ""),
                           color="#%06X" % (i * 1000))
    yield server
    server.close()


def ids_of(response):
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["results"]]


def test_list_pagination(many):
    api = many.api
    first = api.get("/api/projects")
    body = first.json()
    assert body["count"] == 65
    assert ids_of(first) == list(range(65, 35, -1))  # 30 a page, newest first
    assert body["previous"] is None
    next_url = urlsplit(body["next"])
    assert next_url.path == "/api/projects/"  # DRF's links: LS's path, sorted query
    assert next_url.query == "page=2"
    assert set(body["results"][0]) == PROJECT_KEYS

    second = api.session.get(body["next"])
    assert ids_of(second) == list(range(35, 5, -1))
    assert second.json()["previous"].endswith("/api/projects/")  # no page=1 (DRF)
    third = api.session.get(second.json()["next"])
    assert ids_of(third) == [5, 4, 3, 2, 1]
    assert third.json()["next"] is None

    past = api.get("/api/projects?page=4")
    assert past.status_code == 404 and past.json()["detail"] == "Invalid page."
    assert api.get("/api/projects?page=0").status_code == 404
    assert api.get("/api/projects?page=abc").status_code == 404

    sized = api.get("/api/projects/?page_size=7&page=2")
    assert ids_of(sized) == list(range(58, 51, -1))
    assert sized.json()["next"].endswith("/api/projects/?page=3&page_size=7")
    assert sized.json()["previous"].endswith("/api/projects/?page_size=7")
    assert len(ids_of(api.get("/api/projects?page_size=1000"))) == 65
    big = api.get("/api/projects?page_size=100")
    assert len(ids_of(big)) == 65 and big.json()["next"] is None


def test_list_page_size_is_capped_at_100(make_live):
    server = make_live(fsync=False)
    for i in range(105):
        server.app.projects.create({"title": f"P{i:03d}"}, 1)
    body = server.api.get("/api/projects?page_size=500").json()
    assert body["count"] == 105 and len(body["results"]) == 100
    assert "page=2" in body["next"]
    assert len(server.api.session.get(body["next"]).json()["results"]) == 5


def test_empty_list_first_page_is_200(make_live):
    server = make_live(fsync=False)
    response = server.api.get("/api/projects")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert server.api.get("/api/projects?page=2").status_code == 404


def test_list_ordering(many):
    api = many.api
    assert ids_of(api.get("/api/projects?ordering=id&page_size=100")) == list(range(1, 66))
    assert ids_of(api.get("/api/projects?ordering=-id&page_size=5")) == [65, 64, 63, 62, 61]
    titles = [p["title"] for p in api.get("/api/projects?ordering=title&page_size=100")
              .json()["results"]]
    assert titles == sorted(titles)
    titles = [p["title"] for p in api.get("/api/projects?ordering=-title&page_size=100")
              .json()["results"]]
    assert titles == sorted(titles, reverse=True)
    assert ids_of(api.get("/api/projects?ordering=created_at&page_size=3")) == [1, 2, 3]
    assert ids_of(api.get("/api/projects?ordering=-created_at&page_size=3")) == [65, 64, 63]


def test_list_title_and_ids_filters(many):
    api = many.api
    special = api.get("/api/projects?title=SPECIAL")
    assert ids_of(special) == [60, 50, 40, 30, 20, 10]
    assert special.json()["count"] == 6
    assert ids_of(api.get("/api/projects?ids=3,5,64")) == [64, 5, 3]
    assert ids_of(api.get("/api/projects?ids=3,%20nope,999")) == [3]
    assert ids_of(api.get("/api/projects?ids=1,2,3&title=Project 002")) == [2]
    assert api.get("/api/projects?title=nothing-like-it").json()["count"] == 0


def test_pinned_projects_come_first(make_live):
    server = make_live(fsync=False)
    api = server.api
    ids = [api.project(title=f"Pin {i}")["id"] for i in range(4)]
    api.patch(f"/api/projects/{ids[1]}", json={"pinned_at": "2026-01-01T00:00:00.000000Z"})
    assert ids_of(api.get("/api/projects"))[0] == ids[1]
    assert ids_of(api.get("/api/projects?filter=pinned_only")) == [ids[1]]
    assert ids[1] not in ids_of(api.get("/api/projects?filter=exclude_pinned"))


def test_project_counts(many):
    response = many.api.get("/api/projects/counts?page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 65
    assert set(body["results"][0]) == {"id", *COUNTERS}
    assert body["results"][0]["task_number"] == 0
    assert [p["id"] for p in body["results"]] == [1, 2]  # LS: by id, oldest first


# -- label-config validation -----------------------------------------------------------------

VALIDATE_TABLE = [
    (LABEL_CONFIG, 204, None),
    ('<View><Text name="text" value="$text"></View>', 400,
     {"label_config": ["mismatched tag: line 1, column 40"]}),
    ('<View><Text name="s" value="$s"/><Text name="text" value="$t"/>'
     '<Choices name="c" toName="txt"><Choice value="A"/></Choices></View>', 400, None),
    ('<View><Text name="t" value="$t"/><Choices name="t" toName="t">'
     '<Choice value="A"/></Choices></View>', 400,
     {"label_config": ["Label config contains non-unique names"]}),
    ('<View><Text name="t" value="$t"/><Choices name="c"><Choice value="A"/></Choices></View>',
     400, {"label_config": ["Validation failed on : 'toName' is a required property"]}),
    ('<View><Image name="img"/></View>', 400,
     {"label_config": ["Validation failed on : 'value' is a required property"]}),
    ("", 400, {"label_config": ["This field may not be blank."]}),
    ('<Root><Text name="t" value="$t"/></Root>', 204, None),
    ('<View><Text name="t" value="$t"/></View>', 204, None),
    ('<View><Whatever name="x"/></View>', 204, None),
]


@pytest.mark.parametrize("config, status, body", VALIDATE_TABLE)
def test_validate_without_project(live, config, status, body):
    response = live.anonymous.post("/api/projects/validate/", json={"label_config": config})
    assert response.status_code == status, response.text
    if status == 204:
        assert response.content == b""
    elif body is not None:
        assert response.json() == body  # bare DRF body, no envelope
    else:
        assert set(response.json()) == {"label_config"}


def test_validate_to_name_message(live):
    config = VALIDATE_TABLE[2][0]
    response = live.anonymous.post("/api/projects/validate", json={"label_config": config})
    assert response.json() == {
        "label_config": ["toName=\"txt\" not found in names: ['c', 's', 'text']"]}


def test_validate_missing_key_and_bad_bodies(live):
    anonymous = live.anonymous
    assert anonymous.post("/api/projects/validate", json={}).json() == {
        "label_config": ["This field is required."]}
    assert anonymous.post("/api/projects/validate").status_code == 400
    assert anonymous.post("/api/projects/validate", json=[]).status_code == 400
    assert anonymous.post("/api/projects/validate",
                          json={"label_config": None}).status_code == 400
    assert anonymous.post("/api/projects/validate",
                          json={"label_config": 5}).status_code == 400
    form = anonymous.post("/api/projects/validate", data={"label_config": LABEL_CONFIG})
    assert form.status_code == 204


def test_validate_for_a_project(api):
    project = api.project()
    ok = api.post(f"/api/projects/{project['id']}/validate/", json={"label_config": IMAGE_CONFIG})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"config_essential_data_has_changed": None}

    empty = api.post(f"/api/projects/{project['id']}/validate", json={"label_config": ""})
    assert validation_errors(empty) == {
        "non_field_errors": ["Label config is not set or is empty"]}
    missing = api.post(f"/api/projects/{project['id']}/validate", json={})
    assert validation_errors(missing) == {
        "non_field_errors": ["Label config is not set or is empty"]}

    syntax = api.post(f"/api/projects/{project['id']}/validate",
                      json={"label_config": '<View><Text name="text" value="$text"></View>'})
    assert syntax.status_code == 400
    assert syntax.json()["detail"].startswith(
        "Opening and ending tag mismatch: Text line 1 and View, line 1, column ")
    assert "validation_errors" not in syntax.json()

    to_name = api.post(f"/api/projects/{project['id']}/validate", json={
        "label_config": '<View><Text name="t" value="$t"/><Choices name="c" toName="x">'
                        '<Choice value="A"/></Choices></View>'})
    assert validation_errors(to_name) == {
        "non_field_errors": ["toName=\"x\" not found in names: ['c', 't']"]}

    assert api.post("/api/projects/99999/validate",
                    json={"label_config": LABEL_CONFIG}).status_code == 404


def test_summary(api):
    project = api.project()
    response = api.get(f"/api/projects/{project['id']}/summary/")
    assert response.status_code == 200
    body = response.json()
    assert body["project"] == project["id"]
    assert body["all_data_columns"] == {} and body["created_annotations"] == {}


# -- trailing slashes ------------------------------------------------------------------------

def test_trailing_slash_is_optional_everywhere(api, live):
    project = api.project()
    pid = project["id"]
    for path in ("/api/projects", "/api/projects/counts", f"/api/projects/{pid}",
                 f"/api/projects/{pid}/summary", "/api/current-user/whoami",
                 "/api/current-user/token", "/api/current-user/hotkeys", "/api/users",
                 "/api/users/1", "/api/organizations", "/api/token", "/api/jwt/settings",
                 "/api/version", "/api/health", "/health", "/version"):
        for form in (path, path + "/"):
            response = api.get(form)
            assert response.status_code == 200, (form, response.text)
    for form in (f"/api/projects/{pid}", f"/api/projects/{pid}/"):
        assert api.patch(form, json={"description": form}).json()["description"] == form
        assert api.post(form + ("validate" if form.endswith("/") else "/validate"),
                        json={"label_config": LABEL_CONFIG}).status_code == 200
    for form in ("/api/projects/validate", "/api/projects/validate/"):
        assert live.anonymous.post(form, json={"label_config": LABEL_CONFIG}).status_code == 204
    for form in ("/api/projects", "/api/projects/"):
        created = api.post(form, json={"title": "Slash test"})
        assert created.status_code == 201
        gone = api.delete(f"/api/projects/{created.json()['id']}" + form[len("/api/projects"):])
        assert gone.status_code == 204


# -- ?include= (what the web app's project list asks for) ------------------------------------

LIST_INCLUDE = "id,title,created_by,created_at,color,is_published,assignment_settings,state"
COUNTS_INCLUDE = ("id,task_number,finished_task_number,total_annotations_number,"
                  "num_tasks_with_annotations,total_predictions_number,"
                  "skipped_annotations_number,ground_truth_number,useful_annotation_number,"
                  "config_has_control_tags")


def test_include_keeps_only_the_named_fields_in_the_objects_order(api):
    project = api.project(title="Included")
    body = api.get("/api/projects", params={"include": LIST_INCLUDE, "page_size": 100}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    mine = next(p for p in body["results"] if p["id"] == project["id"])
    # as LS 1.23.2: the serializer's order, unknown names (assignment_settings) left out
    assert list(mine) == ["id", "title", "color", "is_published", "created_by", "created_at",
                          "state"]
    assert mine["created_by"]["id"] == 1 and mine["state"] is None
    counts = api.get("/api/projects", params={"ids": project["id"],
                                              "include": COUNTS_INCLUDE}).json()
    assert counts["count"] == 1
    assert list(counts["results"][0]) == [
        "id", "num_tasks_with_annotations", "task_number", "useful_annotation_number",
        "ground_truth_number", "skipped_annotations_number", "total_annotations_number",
        "total_predictions_number", "config_has_control_tags", "finished_task_number"]


def test_include_on_one_project_counts_and_updates(api):
    project = api.project(title="Included 2")
    pid = project["id"]
    assert api.get(f"/api/projects/{pid}", params={"include": "title,id"}).json() == {
        "id": pid, "title": "Included 2"}
    assert api.patch(f"/api/projects/{pid}", params={"include": "id"},
                     json={"color": "#000000"}).json() == {"id": pid}
    assert api.get(f"/api/projects/{pid}").json()["color"] == "#000000"
    counts = api.get("/api/projects/counts", params={"include": "id,task_number",
                                                     "ids": pid}).json()
    assert counts["results"] == [{"id": pid, "task_number": 0}]


def test_empty_or_unknown_include_leaves_empty_objects(api):
    project = api.project(title="Included 3")
    for include in ("", "nope,also_not"):
        body = api.get(f"/api/projects/{project['id']}", params={"include": include}).json()
        assert body == {}


# -- POST /api/projects/{id}/sample-task ------------------------------------------------------

def test_sample_task_for_a_config(api):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/sample-task",
                        json={"label_config": IMAGE_CONFIG})
    assert response.status_code == 200
    assert response.json() == {"sample_task": {"image": "/static/samples/sample.jpg"}}
    text = api.post(f"/api/projects/{project['id']}/sample-task",
                    json={"label_config": LABEL_CONFIG}).json()
    # LS 1.23.2's own examples (its data_examples.json), not the SDK's older texts
    assert text == {"sample_task": {"text": "Sample: Your text will go here."}}
    # a <!-- {"data": …} --> comment in the config wins, as in LS
    commented = LABEL_CONFIG + '\n<!-- {"data": {"text": "From the comment"}} -->'
    assert api.post(f"/api/projects/{project['id']}/sample-task",
                    json={"label_config": commented}).json() == {
        "sample_task": {"text": "From the comment"}}


def test_sample_task_with_annotation_and_prediction(api, live):
    project = api.project()
    body = api.post(f"/api/projects/{project['id']}/sample-task",
                    json={"label_config": IMAGE_CONFIG,
                          "include_annotation_and_prediction": True}).json()["sample_task"]
    assert list(body) == ["data", "annotations", "predictions"]
    assert body["data"] == {"image": f"{live.url}/static/samples/sample.jpg"}
    annotation, = body["annotations"]
    assert list(annotation) == ["was_cancelled", "ground_truth", "lead_time", "result_count",
                                "completed_by", "result"]
    assert annotation["completed_by"] == 1 and annotation["lead_time"] == 0.0
    prediction, = body["predictions"]
    assert list(prediction) == ["model_version", "score", "result"]
    assert prediction["model_version"] == "sample model version"
    for result in (annotation["result"], prediction["result"]):
        region, = result
        assert list(region) == ["id", "from_name", "to_name", "type", "value"]
        assert (region["from_name"], region["to_name"], region["type"]) == (
            "label", "image", "rectanglelabels")
        assert region["value"]["rectanglelabels"] == ["Cat"]
    # a region each for the controls of a text config too; none for a config without
    text = api.post(f"/api/projects/{project['id']}/sample-task",
                    json={"label_config": LABEL_CONFIG,
                          "include_annotation_and_prediction": 1}).json()["sample_task"]
    # the data as the SDK makes it (its "upload" examples), as in LS
    assert text["data"] == {"text": "To have faith is to trust yourself to the water"}
    assert text["annotations"][0]["result"][0]["value"] == {"choices": ["Pos"]}
    bare = api.post(f"/api/projects/{project['id']}/sample-task",
                    json={"label_config": '<View><Text name="t" value="$t"/></View>',
                          "include_annotation_and_prediction": True}).json()["sample_task"]
    assert bare["annotations"][0]["result"] == [] and bare["predictions"][0]["result"] == []


@pytest.mark.parametrize("body", [{}, {"label_config": ""}, {"label_config": None}])
def test_sample_task_without_a_config_is_400(api, body):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/sample-task", json=body)
    assert validation_errors(response) == {
        "non_field_errors": ["Label config is not set or is empty"]}


@pytest.mark.parametrize("body, detail", [
    ({"label_config": "<View"}, "unclosed token: line 1, column 0"),  # LS: the same, a 500
    ({"label_config": 5}, "Validation error"),
    ([1], "Validation error"),
])
def test_bad_sample_task_bodies_are_400(api, body, detail):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/sample-task", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == detail


def test_sample_task_of_unknown_project_is_404(api):
    response = api.post("/api/projects/999999/sample-task", json={"label_config": LABEL_CONFIG})
    assert response.status_code == 404
    assert response.json()["detail"] == "No Project matches the given query."


# -- GET /api/projects/{id}/export/files ------------------------------------------------------

def test_export_files_lists_no_snapshot(api, live):
    """LS 1.23.2 lists only the export folder's "<id>-*.json" files (0.x's); its snapshots,
    like LabelDesk's, are named otherwise, so a snapshot never shows here."""
    project = api.project()
    pid = project["id"]
    assert api.post(f"/api/projects/{pid}/exports", json={}).status_code == 201
    response = api.get(f"/api/projects/{pid}/export/files")
    assert response.status_code == 200
    assert response.json() == {"export_files": []}
    folder = live.settings.data_dir / "export"
    for name in (f"{pid}-2024-01-01.json", f"{pid}-2024-02-01.json", f"{pid}-x-info.json",
                 f"{pid}0-2024.json", f"{pid}-2024.csv"):
        (folder / name).write_text("[]")
    try:
        assert api.get(f"/api/projects/{pid}/export/files").json() == {"export_files": [
            {"name": f"{pid}-2024-02-01", "url": f"/export/{pid}-2024-02-01.json"},
            {"name": f"{pid}-2024-01-01", "url": f"/export/{pid}-2024-01-01.json"}]}
    finally:
        for name in (f"{pid}-2024-01-01.json", f"{pid}-2024-02-01.json", f"{pid}-x-info.json",
                     f"{pid}0-2024.json", f"{pid}-2024.csv"):
            (folder / name).unlink()


def test_export_files_of_unknown_project_is_404(api, live):
    assert api.get("/api/projects/999999/export/files").status_code == 404
    assert live.anonymous.get("/api/projects/1/export/files").status_code == 401


def test_a_form_body_leaves_unchecked_booleans_false(api):
    """DRF reads an HTML form's missing boolean as an unchecked box: false, not the default."""
    project = api.post("/api/projects", data={"title": "Form project",
                                              "show_instruction": "true"}).json()
    assert project["title"] == "Form project" and project["show_instruction"] is True
    for key in ("show_skip_button", "enable_empty_annotation", "show_collab_predictions"):
        assert project[key] is False, key
    assert api.project(title="JSON project")["show_skip_button"] is True
