"""The 0.8/0.9 single-project API (ref. §10.2): every endpoint's shapes and status codes."""

import io
import re
import zipfile

import pytest

from desktop import labelconfig

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
</View>"""
RESULT = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
           "value": {"choices": ["Pos"]}}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import LiveServer
    live = LiveServer(tmp_path_factory.mktemp("legacy-data"))
    yield live
    live.close()


@pytest.fixture
def api(server):
    """The server with a fresh current project (POST /api/project makes it current)."""
    response = server.api.post("/api/project", params={"new": 1, "desc": "Legacy test"},
                               json={"label_config": TEXT_CONFIG})
    assert response.status_code == 201, response.text
    return server.api


def import_texts(api, *texts):
    response = api.post("/api/project/import", json=[{"text": t} for t in texts])
    assert response.status_code == 201, response.text
    return response.json()["new_task_ids"]


# -- the current project ------------------------------------------------------------------------

def test_first_start_has_a_project_that_takes_any_data(make_live):
    live = make_live()
    project = live.api.get("/api/project").json()
    assert project["project_name"] == "Default project" and project["task_count"] == 0
    response = live.api.post("/api/project/import",
                             json=[{"my_key": "my_value_1"}, {"my_key": "my_value_2"}])
    assert response.status_code == 201
    assert live.api.get("/api/project").json()["task_count"] == 2
    # the same project, seen through 1.x
    listed = live.api.get("/api/projects").json()["results"]
    assert [p["title"] for p in listed] == ["Default project"]


def test_current_project_survives_a_restart(make_live, tmp_path):
    first = make_live("data")
    created = first.api.post("/api/project", params={"desc": "Second one"}).json()
    first.close()
    again = make_live("data-again")  # a different dir: starts fresh
    assert again.api.get("/api/project").json()["project_name"] == "Default project"
    from conftest import LiveServer
    reopened = LiveServer(tmp_path / "data")
    try:
        assert reopened.api.get("/api/project").json()["id"] == created["id"]
    finally:
        reopened.close()


def test_project_shape_and_patch(api):
    project = api.get("/api/project").json()
    for key in ("project_name", "task_count", "completion_count", "config", "instruction",
                "can_manage_tasks", "can_manage_completions", "can_delete_tasks",
                "target_storage", "source_storage", "available_storages", "data_types",
                "label_config_line", "multi_session_mode"):
        assert key in project
    assert project["data_types"] == {"text": "Text"}
    assert "\n" not in project["label_config_line"]
    response = api.patch("/api/project", json={"title": "Renamed", "sampling": "uniform",
                                               "instruction": "Be quick"})
    assert response.status_code == 201
    assert response.json()["config"]["sampling"] == "uniform"
    assert response.json()["instruction"] == "Be quick"
    one_x = api.get(f"/api/projects/{project['id']}").json()
    assert one_x["title"] == "Renamed" and one_x["sampling"] == "Uniform sampling"
    assert api.patch("/api/project", json={"color": "red"}).status_code == 400


def test_project_switch(api, server):
    current = api.get("/api/project").json()["id"]
    other = server.api.project(title="Other project")["id"]
    response = api.post("/api/project-switch", params={"uuid": other})
    assert response.status_code == 200 and response.json()["id"] == other
    assert api.get("/api/project").json()["id"] == other
    assert api.get("/api/project-switch", params={"uuid": current}).status_code == 405
    assert api.get("/api/project").json()["id"] == other  # a GET switches nothing
    assert api.post("/api/project-switch", params={"uuid": current}).json()["id"] == current
    assert api.post("/api/project-switch").status_code == 400
    assert api.post("/api/project-switch", params={"uuid": "not-a-uuid"}).status_code == 400
    assert api.post("/api/project-switch", params={"uuid": 999999}).status_code == 404


# -- config -------------------------------------------------------------------------------------

def test_config_json_xml_and_errors(api):
    xml = TEXT_CONFIG.replace("Neg", "Meh")
    response = api.post("/api/project/config", json={"label_config": xml})
    assert response.status_code == 201 and response.content == b""
    response = api.post("/api/project/config", data=xml.encode(),
                        headers={"Content-Type": "application/xml"})
    assert response.status_code == 201
    response = api.post("/api/project/config", data={"label_config": xml})
    assert response.status_code == 201
    assert "Meh" in api.get("/api/project").json()["label_config_line"]
    for bad in ("<View><Text name='a' value='$a'/><Choices name='c' toName='zz'/></View>",
                "not xml", "", "<View>"):
        response = api.post("/api/project/config", json={"label_config": bad})
        assert response.status_code == 400, bad
        body = response.json()
        assert list(body) == ["label_config"] and all(isinstance(m, str)
                                                      for m in body["label_config"])
    assert api.post("/api/project/config", json={}).status_code == 400
    assert api.post("/api/project/config", data=b"\xff\xfe",
                    headers={"Content-Type": "application/xml"}).status_code == 400


def test_config_change_is_checked_against_completions(api):
    [task_id] = import_texts(api, "a")
    assert api.post(f"/api/tasks/{task_id}/completions", json={"result": RESULT}).status_code == 201
    other = "<View><Image name='img' value='$image'/><Choices name='other' toName='img'>" \
            "<Choice value='x'/></Choices></View>"
    response = api.post("/api/project/config", json={"label_config": other})
    assert response.status_code == 400 and "label_config" in response.json()


def test_validate_config(api):
    assert api.post("/api/validate-config", data={"label_config": TEXT_CONFIG}).status_code == 204
    response = api.post("/api/validate-config", data={"label_config": "<View><Nope"})
    assert response.status_code == 400 and response.json()["label_config"]
    response = api.post("/api/validate-config", data={})
    assert response.status_code == 417 and response.text == "No label_config in POST"


# -- import -------------------------------------------------------------------------------------

def test_import_json_list_dict_and_0x_completions(api):
    response = api.post("/api/project/import", json=[{"text": "a"}, {"data": {"text": "b"}}])
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"task_count", "completion_count", "prediction_count", "duration",
                         "formats", "new_task_ids"}
    assert body["task_count"] == 2 and len(body["new_task_ids"]) == 2
    response = api.post("/api/project/import", json={
        "data": {"text": "c"}, "completions": [{"id": 7001, "result": RESULT,
                                                "created_at": 1590712275, "lead_time": 4.0}],
        "predictions": [{"result": RESULT, "score": 0.4}]})
    assert response.status_code == 201
    assert response.json()["completion_count"] == 1
    assert response.json()["prediction_count"] == 1
    [task_id] = response.json()["new_task_ids"]
    task = api.get(f"/api/tasks/{task_id}").json()
    (completion,) = task["completions"]
    assert completion["created_at"] == 1590712275 and completion["lead_time"] == 4.0
    assert task["annotations"][0]["created_at"].startswith("2020-05-29")


def test_import_file_and_errors(api):
    response = api.post("/api/project/import",
                        files={"FileUpload": ("tasks.csv", b"text\nfirst\nsecond\n")})
    assert response.status_code == 201
    assert response.json()["task_count"] == 2 and response.json()["formats"] == {".csv": 1}
    response = api.post("/api/project/import", json=[{"wrong": "key"}])
    assert response.status_code == 400
    assert isinstance(response.json(), list) and "text" in response.json()[0]
    for body in (b"[", b"42", b'"x"', b"[]", b"[1]", b'{"data": 5}'):
        response = api.post("/api/project/import", data=body,
                            headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
    assert api.post("/api/project/import", files={"f": ("x.exe", b"MZ")}).status_code == 400


# -- tasks --------------------------------------------------------------------------------------

def test_task_list_paging_and_order(api):
    ids = import_texts(api, "a", "b", "c")
    tasks = api.get("/api/tasks").json()
    assert [t["id"] for t in tasks] == ids
    assert set(tasks[0]) == {"id", "data", "completions", "predictions", "completed_at",
                             "has_cancelled_completions"}
    assert [t["id"] for t in api.get("/api/tasks?order=-id").json()] == ids[::-1]
    assert [t["id"] for t in api.get("/api/tasks?page=2&page_size=2").json()] == ids[2:]
    assert api.get("/api/tasks?page=5&page_size=2").json() == []
    api.post(f"/api/tasks/{ids[1]}/completions", json={"result": RESULT})
    api.post(f"/api/tasks/{ids[2]}/completions", json={"result": RESULT})
    newest = api.get("/api/tasks?order=-completed_at").json()
    assert [t["id"] for t in newest] == [ids[2], ids[1], ids[0]]
    oldest = api.get("/api/tasks?order=completed_at").json()
    assert [t["id"] for t in oldest] == [ids[1], ids[2], ids[0]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", newest[0]["completed_at"])
    assert api.get("/api/tasks?fields=id,data").json()[0].keys() == {"id", "data"}
    for bad in ("page=0", "page_size=-1", "page=x", "order=title"):
        response = api.get(f"/api/tasks?{bad}")
        assert response.status_code == 422 and "detail" in response.json()


def test_tasks_dispatch_rule(api):
    project_id = api.get("/api/project").json()["id"]
    [task_id] = import_texts(api, "a")
    completion_id = api.post(f"/api/tasks/{task_id}/completions",
                             json={"result": RESULT, "lead_time": 2}).json()["id"]
    one_x = api.get("/api/tasks", params={"project": project_id}).json()
    assert set(one_x) >= {"tasks", "total"}
    old = api.get(f"/api/tasks/{task_id}").json()
    assert old["completions"][0]["id"] == completion_id == old["annotations"][0]["id"]
    assert isinstance(old["completions"][0]["created_at"], int)
    for params in ({"project": project_id}, {"fields": "all"}):
        pure = api.get(f"/api/tasks/{task_id}", params=params).json()
        assert "completions" not in pure and pure["annotations"][0]["id"] == completion_id
    # both APIs see the same annotation
    assert api.get(f"/api/annotations/{completion_id}").json()["lead_time"] == 2


def test_task_rewrite_and_delete(api):
    [task_id] = import_texts(api, "a")
    response = api.patch(f"/api/tasks/{task_id}", json={
        "data": {"text": "b"}, "completions": [{"result": RESULT}, {"result": [], "skipped": True}],
        "predictions": [{"result": RESULT, "score": 0.9}]})
    assert response.status_code == 200 and response.json()["detail"] == "Task patched"
    task = response.json()["data"]
    assert task["data"] == {"text": "b"} and len(task["completions"]) == 2
    assert task["has_cancelled_completions"] and task["predictions"][0]["score"] == 0.9
    response = api.post(f"/api/tasks/{task_id}", json={"completions": []})
    assert response.status_code == 200 and response.json()["data"]["completions"] == []
    # a data-only PATCH is the 1.x update
    response = api.patch(f"/api/tasks/{task_id}", json={"data": {"text": "c"}})
    assert response.status_code == 200 and response.json()["data"] == {"text": "c"}
    assert api.patch(f"/api/tasks/{task_id}",
                     json={"completions": "nope"}).status_code == 400
    assert api.post(f"/api/tasks/{task_id}", data=b"[1]",
                    headers={"Content-Type": "application/json"}).status_code == 405
    assert api.delete(f"/api/tasks/{task_id}").status_code == 204
    assert api.get(f"/api/tasks/{task_id}").status_code == 404
    assert api.post("/api/tasks/999999", json={"completions": []}).status_code == 404


@pytest.mark.parametrize("body", [{"data": {"text": "z"}}, {}, None, [1]])
def test_post_task_without_completions_is_1x_405(api, body):
    # Label Studio 1.23.2 answers any POST /api/tasks/{id} with this 405 (issue 19)
    [task_id] = import_texts(api, "a")
    for path in (f"/api/tasks/{task_id}", "/api/tasks/999999"):
        kwargs = {} if body is None else {"json": body}
        response = api.post(path, **kwargs)
        assert response.status_code == 405, response.text
        assert response.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
        assert response.json()["detail"] == 'Method "POST" not allowed.'
        assert response.json()["status_code"] == 405
    assert api.get(f"/api/tasks/{task_id}").json()["data"] == {"text": "a"}


def test_delete_all_tasks(api):
    import_texts(api, "a", "b")
    assert api.delete("/api/tasks").status_code == 204
    assert api.get("/api/project").json()["task_count"] == 0
    assert api.get("/api/tasks").json() == []


# -- completions --------------------------------------------------------------------------------

def test_completions(api):
    first, second = import_texts(api, "a", "b")
    response = api.post(f"/api/tasks/{first}/completions",
                        json={"result": RESULT, "lead_time": 4.2})
    assert response.status_code == 201 and set(response.json()) == {"id"}
    cid = response.json()["id"]
    skipped = api.post(f"/api/tasks/{second}/completions?was_cancelled=1", json={}).json()["id"]
    assert api.get("/api/completions").json() == {"ids": [first, second]}
    response = api.patch(f"/api/tasks/{first}/completions/{cid}", json={"lead_time": 9})
    assert response.status_code == 201
    assert api.get(f"/api/tasks/{first}").json()["completions"][0]["lead_time"] == 9
    assert api.patch(f"/api/tasks/{first}/completions/null", json={}).status_code == 200
    assert api.patch(f"/api/tasks/{second}/completions/{cid}", json={}).status_code == 404
    assert api.patch(f"/api/tasks/{first}/completions/abc", json={}).status_code == 404
    assert api.patch(f"/api/tasks/{first}/completions/{cid}",
                     json={"result": "nope"}).status_code == 400
    assert api.get(f"/api/tasks/{second}").json()["completions"][0]["was_cancelled"]
    assert api.delete(f"/api/tasks/{second}/completions/{skipped}").status_code == 204
    assert api.delete(f"/api/tasks/{first}/completions").status_code == 204
    assert api.get("/api/completions").json() == {"ids": []}
    api.post(f"/api/tasks/{first}/completions", json={"result": RESULT})
    response = api.delete("/api/completions")
    assert response.status_code == 201 and response.text == "done"
    assert api.get("/api/project").json()["completion_count"] == 0
    assert api.post("/api/tasks/999999/completions", json={}).status_code == 404


def test_next_task(api):
    first, second = import_texts(api, "a", "b")
    assert api.get("/api/project/next").json()["id"] == first
    api.post(f"/api/tasks/{first}/completions", json={"result": RESULT})
    assert api.get("/api/project/next").json()["id"] == second
    api.post(f"/api/tasks/{second}/completions", json={"result": RESULT})
    response = api.get("/api/project/next")
    assert response.status_code == 404 and response.content == b""


# -- export -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, member", [("JSON", "result.json"), ("JSON_MIN", "result.json"),
                                         ("CSV", "result.csv"), ("TSV", "result.tsv")])
def test_export_formats(api, fmt, member):
    first, _ = import_texts(api, "a", "b")
    api.post(f"/api/tasks/{first}/completions", json={"result": RESULT})
    response = api.get(f"/api/project/export?format={fmt}")
    assert response.status_code == 200
    assert re.fullmatch(r"\d{4}(-\d\d){5}\.zip", response.headers["filename"])
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [member]
    content = archive.read(member).decode()
    assert "Pos" in content and ("\"b\"" not in content or fmt != "JSON")


def test_export_image_formats_and_errors(api):
    image = "<View><Image name='img' value='$image'/><RectangleLabels name='box' toName='img'>" \
            "<Label value='cat'/></RectangleLabels></View>"
    assert api.post("/api/project/config", json={"label_config": image}).status_code == 201
    response = api.post("/api/project/import", json=[{"image": "http://example.com/1.jpg"}])
    [task_id] = response.json()["new_task_ids"]
    box = [{"from_name": "box", "to_name": "img", "type": "rectanglelabels",
            "original_width": 100, "original_height": 100,
            "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["cat"]}}]
    api.post(f"/api/tasks/{task_id}/completions", json={"result": box})
    for fmt in ("COCO", "VOC"):
        response = api.get(f"/api/project/export?format={fmt}")
        assert response.status_code == 200, response.text
        assert zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert api.get("/api/project/export?format=NOPE").status_code == 400


# -- storages, models, helpers ------------------------------------------------------------------

def test_storage_settings(api):
    settings = api.get("/api/project/storage-settings").json()
    assert set(settings) == {"source", "target"}
    response = api.post("/api/project/storage-settings?storage_for=target&type=completions-dir",
                        json={})
    assert response.status_code == 201 and response.json() == {"result": "ok"}
    assert api.post("/api/project/storage-settings?storage_for=source&type=s3",
                    json={}).status_code == 400
    assert api.post("/api/project/storage-settings?storage_for=elsewhere",
                    json={}).status_code == 400


def test_models_without_backend(api):
    assert api.get("/api/models").json() == {"models": []}
    response = api.post("/api/models/train")
    assert response.status_code == 400 and response.json() == "No ML backend"
    for mode in ("data", "all_tasks", "specific_tasks"):
        assert api.post(f"/api/models/predictions?mode={mode}", json={}).status_code == 400
    assert api.delete("/api/models", json={"name": "nope"}).status_code == 404
    assert api.delete("/api/models", json={}).status_code == 400


CONFIGS = {
    "image": "<View><Image name='img' value='$image'/><RectangleLabels name='b' toName='img'>"
             "<Label value='a'/></RectangleLabels></View>",
    "audio": "<View><Audio name='au' value='$audio'/><Labels name='l' toName='au'>"
             "<Label value='a'/></Labels></View>",
    "text": TEXT_CONFIG,
    "timeseries": "<View><TimeSeries name='ts' value='$ts' valueType='url' timeColumn='t'>"
                  "<Channel column='v'/></TimeSeries><TimeSeriesLabels name='l' toName='ts'>"
                  "<Label value='a'/></TimeSeriesLabels></View>",
    "timeseries-json": "<View><TimeSeries name='ts' value='$ts' valueType='json' "
                       "timeColumn='t'><Channel column='v'/></TimeSeries></View>",
    "multi": "<View><Image name='img' value='$image'/><Text name='cap' value='$caption'/>"
             "<Audio name='au' value='$audio'/><HyperText name='h' value='$html'/>"
             "<Paragraphs name='p' value='$dialogue'/><Choices name='c' toName='img'>"
             "<Choice value='a'/></Choices></View>",
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_import_example_is_valid_task_data(api, name):
    xml = CONFIGS[name]
    for response in (api.get("/api/import-example", params={"label_config": xml}),
                     api.post("/api/import-example", data={"label_config": xml})):
        assert response.status_code == 200
        example = response.json()
        assert example and labelconfig.parse(xml).validate_task_data(dict(example)) is None
    assert api.post("/api/project/config", json={"label_config": xml}).status_code == 201
    assert api.post("/api/project/import", json=[example]).status_code == 201


def test_import_example_file(api):
    for kind in ("json", "csv", "tsv", "txt"):
        response = api.get(f"/api/import-example-file?q={kind}")
        assert response.status_code == 200
        assert re.search(rf"filename=sample-[\d-]+\.{kind}",
                         response.headers["Content-Disposition"])
    assert len(api.get("/api/import-example-file?q=json").json()) == 2
    response = api.post("/api/project/import", files={
        "FileUpload": ("sample.csv", api.get("/api/import-example-file?q=csv").content)})
    assert response.status_code == 201 and response.json()["task_count"] == 2
    multi = CONFIGS["multi"]
    assert api.get("/api/import-example-file", params={
        "q": "txt", "label_config": multi}).status_code == 400
    assert api.get("/api/import-example-file?q=exe").status_code == 400
    assert api.get("/api/import-example-file?q=txt&raw=1").text.count("\n") == 2
    assert api.get("/api/import-example", params={"label_config": "<View"}).status_code == 400


def test_health_and_version(server):
    assert server.anonymous.get("/api/health").status_code == 200
    version = server.anonymous.get("/version").json()
    assert "label-studio-backend" in version and "label-studio-frontend" in version


def test_auth_is_required(server):
    for method, path in (("get", "/api/project"), ("get", "/api/tasks"),
                         ("post", "/api/project/import"), ("get", "/api/models")):
        assert getattr(server.anonymous, method)(path).status_code == 401


@pytest.mark.parametrize("method, path", [
    ("post", "/api/project"), ("patch", "/api/project"), ("post", "/api/project/config"),
    ("post", "/api/project/import"), ("post", "/api/project/storage-settings"),
    ("post", "/api/tasks/1"), ("patch", "/api/tasks/1"), ("post", "/api/tasks/1/completions"),
    ("patch", "/api/tasks/1/completions/1"), ("delete", "/api/models"),
    ("post", "/api/models/predictions"), ("post", "/api/validate-config"),
    ("post", "/api/import-example")])
@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b"null", b'"text"', b"\xff",
                                  b'{"label_config": 5, "data": [], "completions": {}}'])
def test_bad_input_never_500(api, method, path, body):
    import_texts(api, "a")
    response = getattr(api, method)(path, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text
