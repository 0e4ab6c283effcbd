"""POST /api/projects/{id}/import (reference §3.1, §3.2, §3.4): bodies, files, errors."""

import orjson
import pytest

from datahelp import (
    IMPORT_KEYS,
    TWO_KEYS_CONFIG,
    all_tasks,
    choice,
    files_under,
    import_tasks,
    non_field_errors,
    task_count,
)


def upload(api, project_id, files, **params):
    """files: [(filename, bytes)] under field names file, file1, ..."""
    parts = {f"file{i or ''}": (name, data) for i, (name, data) in enumerate(files)}
    return api.post(f"/api/projects/{project_id}/import", files=parts, params=params)


# -- JSON bodies ----------------------------------------------------------------------------

def test_json_list_answer_has_exactly_label_studios_keys(api):
    project = api.project()
    body = import_tasks(api, project["id"], [{"text": "a"}, {"text": "b"}])
    assert list(body) == IMPORT_KEYS
    assert body["task_count"] == 2
    assert body["annotation_count"] == 0 and body["prediction_count"] == 0
    assert body["file_upload_ids"] == [] and body["data_columns"] == []
    assert body["found_formats"] == []  # a list for JSON bodies (ref §13.6)
    assert body["could_be_tasks_list"] is False
    assert isinstance(body["duration"], float)
    assert [t["data"] for t in all_tasks(api, project["id"])] == [{"text": "a"}, {"text": "b"}]


@pytest.mark.parametrize("flag", ["true", "1", "True", "yes"])
def test_return_task_ids_lists_the_new_ids(api, flag):
    project = api.project()
    body = import_tasks(api, project["id"], [{"text": "a"}, {"text": "b"}],
                        return_task_ids=flag)
    assert list(body) == IMPORT_KEYS + ["task_ids"]
    assert body["task_ids"] == [t["id"] for t in all_tasks(api, project["id"])]


def test_return_task_ids_false_has_no_key(api):
    project = api.project()
    body = import_tasks(api, project["id"], [{"text": "a"}], return_task_ids="false")
    assert "task_ids" not in body


def test_bad_bool_parameter_is_a_400_with_a_plain_string(api):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}],
                        params={"commit_to_project": "maybe"})
    assert response.status_code == 400
    assert response.json()["validation_errors"] == {"commit_to_project": (
        'Incorrect bool value "maybe". It should be one of [1, 0, true, false, yes, no]')}


def test_json_object_is_one_task(api):
    project = api.project()
    body = import_tasks(api, project["id"], {"text": "single"}, return_task_ids=1)
    assert body["task_count"] == 1
    task = api.get(f"/api/tasks/{body['task_ids'][0]}").json()
    assert task["data"] == {"text": "single"}


def test_task_root_with_annotations_predictions_meta(api, live):
    project = api.project()
    items = [{"data": {"text": "rooted"}, "meta": {"source": "x"},
              "annotations": [{"result": choice("Pos"), "id": 77, "lead_time": 2}],
              "predictions": [{"result": choice("Neg"), "score": "0.25", "model_version": "m1"},
                              {"result": choice("Pos"), "score": "bad"}]},
             {"text": "flat", "extra": 1}]
    body = import_tasks(api, project["id"], items, return_task_ids="true")
    assert (body["task_count"], body["annotation_count"], body["prediction_count"]) == (2, 1, 2)
    first = api.get(f"/api/tasks/{body['task_ids'][0]}").json()
    assert first["data"] == {"text": "rooted"} and first["meta"] == {"source": "x"}
    [annotation] = first["annotations"]
    assert annotation["ground_truth"] is True  # LS default for imported annotations
    assert annotation["was_cancelled"] is False
    assert annotation["import_id"] == 77
    assert annotation["completed_by"]["id"] == 1  # GET /api/tasks/{id}: the user, as LS
    assert annotation["result"] == choice("Pos")
    scores = {p["model_version"]: p["score"] for p in first["predictions"]}
    assert scores == {"m1": 0.25, "undefined": None}
    assert first["total_annotations"] == 1 and first["total_predictions"] == 2
    assert first["is_labeled"] is True
    second = api.get(f"/api/tasks/{body['task_ids'][1]}").json()
    assert second["data"] == {"text": "flat", "extra": 1} and second["meta"] == {}
    # a project without a model version adopts the imported one
    assert api.get(f"/api/projects/{project['id']}").json()["model_version"] in ("m1",
                                                                                  "undefined")


def test_imported_annotation_keeps_explicit_ground_truth_false(api):
    project = api.project()
    body = import_tasks(api, project["id"], [{"data": {"text": "a"}, "annotations": [
        {"result": choice("Pos"), "ground_truth": False}]}], return_task_ids=1)
    task = api.get(f"/api/tasks/{body['task_ids'][0]}").json()
    assert task["annotations"][0]["ground_truth"] is False


def test_completions_from_0x_are_silently_dropped(api):
    project = api.project()
    body = import_tasks(api, project["id"], [{"data": {"text": "old"},
                                              "completions": [{"result": choice("Pos")}]}],
                        return_task_ids=1)
    assert body["annotation_count"] == 0
    task = api.get(f"/api/tasks/{body['task_ids'][0]}").json()
    assert task["annotations"] == [] and task["data"] == {"text": "old"}


def test_undefined_key_is_renamed_to_first_data_key(api):
    project = api.project()
    body = import_tasks(api, project["id"], [{"$undefined$": "who am I"}], return_task_ids=1)
    assert api.get(f"/api/tasks/{body['task_ids'][0]}").json()["data"] == {"text": "who am I"}


def test_preannotated_from_fields(api):
    project = api.project()
    body = import_tasks(api, project["id"], [{"text": "pre", "sentiment": "Pos"}],
                        preannotated_from_fields="sentiment", return_task_ids=1)
    assert body["prediction_count"] == 1
    task = api.get(f"/api/tasks/{body['task_ids'][0]}").json()
    assert task["data"] == {"text": "pre", "sentiment": "Pos"}
    [prediction] = task["predictions"]
    assert prediction["model_version"] == "preannotated"
    assert prediction["result"] == [{"from_name": "sentiment", "to_name": "text",
                                     "type": "choices", "value": {"choices": ["Pos"]}}]


def test_commit_to_project_false_stores_nothing(api):
    project = api.project()
    body = import_tasks(api, project["id"], [{"text": "a"}, {"text": "b"}],
                        commit_to_project="false")
    assert body["task_count"] == 2
    assert body["annotation_count"] is None and body["prediction_count"] is None
    assert task_count(api, project["id"]) == 0


def test_commit_to_project_false_keeps_uploaded_files(api, live):
    project = api.project()
    response = upload(api, project["id"], [("rows.csv", b"text\nx\ny\n")],
                      commit_to_project="0")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["annotation_count"] is None and len(body["file_upload_ids"]) == 1
    assert task_count(api, project["id"]) == 0


# -- errors: nothing stored ------------------------------------------------------------------

def test_missing_data_key_is_400_naming_it_and_stores_nothing(api):
    project = api.project()
    import_tasks(api, project["id"], [{"text": "kept"}])
    response = api.post(f"/api/projects/{project['id']}/import",
                        json=[{"text": "fine"}, {"foo": "bar"}])
    [message] = non_field_errors(response)
    assert message == ("Error at item 1: \"text\" key is expected in task data [assume: item "
                       "as is = task root with values]  :: {'foo': 'bar'}")
    assert task_count(api, project["id"]) == 1


def test_missing_data_key_in_rooted_item_names_the_data_hint(api):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import",
                        json=[{"data": {"foo": "bar"}}])
    [message] = non_field_errors(response)
    assert message == ('Error at item 0: "text" key is expected in task data '
                       "[assume: item[\"data\"] = task root with values] :: "
                       "{'data': {'foo': 'bar'}}")  # one space before "::" here, as in LS


def test_missing_data_key_in_a_file_leaves_tasks_and_upload_folder_unchanged(api, live):
    project = api.project()
    folder = live.settings.media_dir / "upload" / str(project["id"])
    assert upload(api, project["id"], [("ok.csv", b"text\nfirst\n")]).status_code == 201
    before = files_under(folder)
    response = upload(api, project["id"], [("good.csv", b"text\nx\n"),
                                          ("bad.csv", b"other\ny\n")])
    assert response.status_code == 400
    assert '"text" key is expected' in non_field_errors(response)[0]
    assert task_count(api, project["id"]) == 1
    assert files_under(folder) == before


@pytest.mark.parametrize("body, message", [
    ([], "load_tasks: No tasks added"),
    ([{"data": {"text": "a"}, "annotations": [{"id": 1}]}],
     'Error at item 0: Annotation must have "result" fields'),
    ([{"data": {"text": "a"}, "annotations": [{"result": "x"}]}],
     'Error at item 0: "result" field in annotation must be list'),
    ([{"data": {"text": "a"}, "annotations": {"result": []}}],
     "Error at item 0: Task[annotations] must be list"),
    ([{"data": {"text": "a"}, "predictions": [{"score": 1}]}],
     'Error at item 0: Prediction must have "result" fields'),
    ([{"data": "just a string"}], "Error at item 0: Task[data] must be dict or list"),
])
def test_bad_items_are_400(api, body, message):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import", json=body)
    if body:  # LS's TaskValidator.format_error: the item after " :: "
        message = f"{message} :: {body[0]!r}"
    assert non_field_errors(response) == [message]
    assert task_count(api, project["id"]) == 0


@pytest.mark.parametrize("body", [
    [1, 2], ["text"], [None], [{"data": "text"}], [{"data": None}], [{"data": []}],
    [{"data": {"text": "a"}, "meta": "m"}], [{"data": {"text": {"nested": 1}}}],
    [{"data": {"text": "a"}, "predictions": [{"result": 5}]}],
    [{"data": {"text": "a"}, "annotations": [{"result": [], "completed_by": "x"}]}],
    [{"data": {"text": "a"}, "annotations": [{"result": [1, 2]}]}],
    [{"data": {"text": "a"}, "annotations": [None]}], 5, "text", None, True,
])
def test_odd_json_bodies_never_500(api, body):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import", data=orjson.dumps(body),
                        headers={"Content-Type": "application/json"})
    assert response.status_code in (201, 400), response.text


def test_no_body_is_400(api):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import")
    assert response.status_code == 400  # LS: an empty body is one empty task
    assert non_field_errors(response) == [
        'Error at item 0: "text" key is expected in task data '
        "[assume: item as is = task root with values]  :: {}"]


def test_import_into_unknown_project_is_404(api):
    assert api.post("/api/projects/999999/import", json=[{"text": "a"}]).status_code == 404


# -- file formats ----------------------------------------------------------------------------

def test_json_file(api):
    project = api.project()
    data = orjson.dumps([{"text": "one"}, {"data": {"text": "two"}, "annotations": [
        {"result": choice("Neg")}]}])
    response = upload(api, project["id"], [("tasks.json", data)], return_task_ids="true")
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == IMPORT_KEYS + ["task_ids"]
    assert body["found_formats"] == {".json": 1}  # a dict for files (ref §13.6)
    assert body["could_be_tasks_list"] is False
    assert body["task_count"] == 2 and body["annotation_count"] == 1
    assert len(body["file_upload_ids"]) == 1
    tasks = all_tasks(api, project["id"])
    assert [t["data"] for t in tasks] == [{"text": "one"}, {"text": "two"}]
    assert all(t["file_upload"] and t["file_upload"].endswith("-tasks.json") for t in tasks)


def test_json_file_with_single_object(api):
    project = api.project()
    response = upload(api, project["id"], [("one.json", b'{"text": "only"}')])
    assert response.status_code == 201, response.text
    assert [t["data"] for t in all_tasks(api, project["id"])] == [{"text": "only"}]


def test_jsonl_file(api):
    project = api.project()
    response = upload(api, project["id"], [("tasks.jsonl",
                                           b'{"text": "a"}\n{"data": {"text": "b"}}\n')])
    assert response.status_code == 201, response.text
    assert response.json()["task_count"] == 2
    assert [t["data"] for t in all_tasks(api, project["id"])] == [{"text": "a"}, {"text": "b"}]


def test_csv_file_with_quotes_and_unicode(api):
    project = api.project()
    data = 'text,label\n"Hello, world",pos\n"She said ""hi""",neg\nÜnïcødé ✓ 日本,x\n'
    response = upload(api, project["id"], [("rows.csv", data.encode())])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["found_formats"] == {".csv": 1}
    assert body["could_be_tasks_list"] is True
    assert sorted(body["data_columns"]) == ["label", "text"]
    assert [t["data"] for t in all_tasks(api, project["id"])] == [
        {"text": "Hello, world", "label": "pos"}, {"text": 'She said "hi"', "label": "neg"},
        {"text": "Ünïcødé ✓ 日本", "label": "x"}]


def test_uploaded_tasks_name_their_upload(api):
    """The data manager answers the upload's file name; LS's TaskSerializer (a project's
    tasks, the label stream) its id."""
    project = api.project()
    body = upload(api, project["id"], [("rows.csv", b"text\na\nb\n")]).json()
    [upload_id] = body["file_upload_ids"]
    name = all_tasks(api, project["id"])[0]["file_upload"]
    assert name.endswith("-rows.csv")
    listed = api.get(f"/api/projects/{project['id']}/tasks").json()
    assert [t["file_upload"] for t in listed] == [upload_id, upload_id]
    assert api.get(f"/api/projects/{project['id']}/next").json()["file_upload"] == upload_id


def test_csv_file_with_semicolons(api):
    project = api.project()
    response = upload(api, project["id"], [("rows.csv", b"text;label\na, b;1\nc;2\n")])
    assert response.status_code == 201, response.text
    texts = [t["data"]["text"] for t in all_tasks(api, project["id"])]
    assert texts == ["a, b", "c"]


def test_tsv_file(api):
    project = api.project()
    response = upload(api, project["id"], [("rows.tsv", b"text\tlabel\nx, y\t1\nz\t2\n")])
    assert response.status_code == 201, response.text
    assert response.json()["found_formats"] == {".tsv": 1}
    assert [t["data"]["text"] for t in all_tasks(api, project["id"])] == ["x, y", "z"]


def test_txt_file_one_task_per_line(api):
    project = api.project()
    response = upload(api, project["id"], [("lines.txt", "line one\nline two ✓\n".encode())])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["data_columns"] == ["$undefined$"]
    assert body["could_be_tasks_list"] is True
    assert [t["data"] for t in all_tasks(api, project["id"])] == [
        {"text": "line one"}, {"text": "line two ✓"}]


def test_several_files_in_one_request(api):
    project = api.project()
    response = upload(api, project["id"], [("a.csv", b"text\nx\n"), ("b.csv", b"text\ny\n"),
                                          ("c.json", b'[{"text": "z"}]')])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["found_formats"] == {".csv": 2, ".json": 1}
    assert body["task_count"] == 3 and len(body["file_upload_ids"]) == 3


MEDIA = [("red.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, "image/png"),
         ("photo.jpg", b"\xff\xd8\xff\xe0" + b"0" * 20, "image/jpeg"),
         ("song.mp3", b"ID3" + b"0" * 20, "audio/mpeg"),
         ("sound.wav", b"RIFF" + b"0" * 20, ("audio/x-wav", "audio/wav")),
         ("clip.mp4", b"\x00\x00\x00\x18ftyp" + b"0" * 20, "video/mp4"),
         ("doc.pdf", b"%PDF-1.4\n" + b"0" * 20, "application/pdf")]


@pytest.mark.parametrize("name, content, kind", MEDIA)
def test_media_file_becomes_a_task_pointing_at_the_upload(live, api, name, content, kind):
    project = api.project(label_config="<View><Image name='image' value='$image'/>"
                                       "<Choices name='c' toName='image'><Choice value='A'/>"
                                       "</Choices></View>")
    response = upload(api, project["id"], [(name, content)], return_task_ids=1)
    assert response.status_code == 201, response.text
    body = response.json()
    ext = "." + name.rsplit(".", 1)[1]
    assert body["found_formats"] == {ext: 1}
    assert body["data_columns"] == ["$undefined$"]
    assert body["could_be_tasks_list"] is False
    task = api.get(f"/api/tasks/{body['task_ids'][0]}").json()
    url = task["data"]["image"]
    prefix = f"/data/upload/{project['id']}/"
    assert url.startswith(prefix) and url.endswith("-" + name)
    assert len(url[len(prefix):].split("-", 1)[0]) == 8
    assert task["file_upload"] == url[len(prefix):]
    served = api.get(url)
    assert served.status_code == 200
    assert served.content == content
    expected = kind if isinstance(kind, tuple) else (kind,)
    assert served.headers["Content-Type"].split(";")[0] in expected
    assert live.anonymous.get(url).status_code == 401
    on_disk = live.settings.media_dir / "upload" / str(project["id"]) / url[len(prefix):]
    assert on_disk.read_bytes() == content


def test_text_upload_is_served_as_text(api):
    project = api.project()
    body = upload(api, project["id"], [("notes.txt", b"hello\n")]).json()
    upload_id = body["file_upload_ids"][0]
    stored = api.get(f"/api/import/file-upload/{upload_id}").json()
    assert stored["file"].startswith(f"upload/{project['id']}/")
    served = api.get("/data/" + stored["file"])
    assert served.status_code == 200 and served.text == "hello\n"
    assert served.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/data/upload/{p}/nope.png", "/data/upload/{p}/",
                                  "/data/upload/999999/x.png", "/data/upload/abc/x.png",
                                  "/data/upload/{p}/../../store/x", "/data/upload/{p}/%00.png",
                                  "/data/upload/{p}/a/b/c.png"])
def test_unknown_upload_is_404_not_500(api, path):
    project = api.project()
    response = api.get(path.format(p=project["id"]))
    assert response.status_code == 404, response.text


def test_media_into_config_with_two_data_keys_is_400(api):
    project = api.project(label_config=TWO_KEYS_CONFIG)
    response = upload(api, project["id"], [("x.png", b"\x89PNG")])
    assert non_field_errors(response) == [
        "Your label config has more than one data key and direct file upload supports only "
        "one data key. To import data with multiple data keys, use a JSON or CSV file."]


def test_unsupported_extension_is_400(api, live):
    project = api.project()
    response = upload(api, project["id"], [("evil.xyz", b"data")])
    assert non_field_errors(response) == [".xyz extension is not supported"]
    assert files_under(live.settings.media_dir / "upload" / str(project["id"])) == []


@pytest.mark.parametrize("data", [b"[{\"text\": ", b"not json", b"\xff\xfe\x00", b"",
                                  b"[1, 2]", b'{"data": 5}'])
def test_broken_json_file_is_400_with_a_clear_message(api, live, data):
    project = api.project()
    response = upload(api, project["id"], [("broken.json", data)])
    assert response.status_code == 400, response.text
    [message] = non_field_errors(response)
    assert message.startswith(("Failed to parse input file", "Error at item", "load_tasks")), \
        message
    assert task_count(api, project["id"]) == 0
    assert files_under(live.settings.media_dir / "upload" / str(project["id"])) == []


@pytest.mark.parametrize("data", [b"\xff\xfe\xfa bad utf8", b"text\n\"unterminated\n"])
def test_broken_csv_never_500(api, data):
    project = api.project()
    response = upload(api, project["id"], [("broken.csv", data)])
    assert response.status_code in (201, 400), response.text


# -- upload names never escape the upload folder --------------------------------------------

def raw_multipart(api, project_id, filename_bytes, content=b"\x89PNG\r\n"):
    boundary = b"----labeldesk-test-boundary"
    body = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"" + filename_bytes + b"\"\r\nContent-Type: application/octet-stream"
            b"\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n")
    return api.post(f"/api/projects/{project_id}/import", data=body, params={
        "return_task_ids": 1}, headers={"Content-Type": "multipart/form-data; boundary="
                                        + boundary.decode()})


HOSTILE_NAMES = [b"../../x.png", b"..\\..\\x.png", b"..\\x.png", b"/etc/passwd.png",
                 b"a/../../b.png", b"....//....//c.png", b"x\x00.png", b"\x00",
                 b"%2e%2e%2fd.png", b".hidden.png", b"C:\\Windows\\e.png",
                 b"a" * 5000 + b".png", b"\xe2\x9c\x93 ok.png", b"", b".png", b"..",
                 b"sp ace \r\n.png"]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n[:30]))
def test_upload_names_never_escape_the_upload_folder(live, api, name, tmp_path):
    project = api.project(label_config="<View><Image name='image' value='$image'/></View>")
    data_dir = live.settings.media_dir.parent
    before = {p for p in data_dir.rglob("*")}
    response = raw_multipart(api, project["id"], name)
    assert response.status_code in (201, 400), response.text
    folder = (live.settings.media_dir / "upload" / str(project["id"])).resolve()
    created_files = {p for p in data_dir.rglob("*") if p.is_file()} - before
    created_files = {p for p in created_files if "store" not in p.relative_to(data_dir).parts}
    for path in created_files:
        assert path.resolve().parent == folder, path
        assert len(path.name.encode()) <= 255
    if response.status_code == 201:
        task = api.get(f"/api/tasks/{response.json()['task_ids'][0]}").json()
        url = task["data"]["image"]
        assert url.startswith(f"/data/upload/{project['id']}/")
        assert "/" not in url[len(f"/data/upload/{project['id']}/"):]
        assert api.get(url).status_code == 200


# -- predictions import ------------------------------------------------------------------------

def test_import_predictions_endpoint(api):
    project = api.project()
    ids = import_tasks(api, project["id"], [{"text": "a"}, {"text": "b"}],
                       return_task_ids=1)["task_ids"]
    response = api.post(f"/api/projects/{project['id']}/import/predictions", json=[
        {"task": ids[0], "result": choice("Pos"), "score": 0.5, "model_version": "v7"},
        {"task": ids[1], "result": choice("Neg")}])
    assert response.status_code == 201, response.text
    assert response.json() == {"created": 2}
    assert api.get(f"/api/projects/{project['id']}").json()["model_version"] == "undefined" \
        or api.get(f"/api/projects/{project['id']}").json()["model_version"] == "v7"
    task = api.get(f"/api/tasks/{ids[0]}").json()
    assert task["total_predictions"] == 1 and task["predictions"][0]["score"] == 0.5


@pytest.mark.parametrize("body", [[{"task": 999999, "result": []}], [{"result": []}],
                                  {"task": 1}, [5], "x", [{"task": "1", "result": []}]])
def test_import_predictions_bad_bodies_are_400(api, body):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import/predictions", json=body)
    assert response.status_code == 400, response.text


# -- malformed CSV: refused naming the line, as pandas (LS) does -----------------------------

@pytest.mark.parametrize("data, reason", [
    (b"text,score\nhello,1\nworld,2,3\n", "Expected 2 fields in line 3, saw 3\n"),
    (b"text,score\na,1\n\n\nb,2,3\n", "Expected 2 fields in line 5, saw 3\n"),
    (b'text,score\n"a\nb",1\nc,2,3\n', "Expected 2 fields in line 3, saw 3\n"),
    (b'text,score\nhello,1\n\n"world,2\n', "EOF inside string starting at row 3"),
    (b'text,score\n"hello,1\nworld,2\n', "EOF inside string starting at row 1"),
    (b'text,score\na,"1\nb,2\n', "EOF inside string starting at row 1"),
    (b'"text,score\na,1\n', "EOF inside string starting at row 0"),
    (b'text;score\na;1\n"b;2\n', "EOF inside string starting at row 2"),
    (b'text,score\r\na,1\r\n"x""y,2\r\n', "EOF inside string starting at row 2"),
])
def test_malformed_csv_is_400_naming_the_line(api, live, data, reason):
    project = api.project()
    import_tasks(api, project["id"], [{"text": "kept"}])
    response = upload(api, project["id"], [("rows.csv", data)])
    [message] = non_field_errors(response)
    # LS names the file as stored: "<8 hex>-rows.csv"
    prefix, _, rest = message.partition(": ")
    assert prefix.startswith("Failed to parse input file ") and prefix.endswith("-rows.csv")
    assert len(prefix[len("Failed to parse input file "):]) == len("01234567-rows.csv")
    assert rest == "Error tokenizing data. C error: " + reason
    assert task_count(api, project["id"]) == 1
    assert files_under(live.settings.media_dir / "upload" / str(project["id"])) == []


@pytest.mark.parametrize("data, rows", [
    (b'text,score\n"hel"lo,1\nworld,2\n', [{"text": "hello", "score": 1},
                                           {"text": "world", "score": 2}]),
    (b'text,score\nhel"lo,1\n', [{"text": 'hel"lo', "score": 1}]),
    (b'text,score\na,1\n"x""y",2', [{"text": "a", "score": 1}, {"text": 'x"y', "score": 2}]),
    (b'text,score\na,""\n', [{"text": "a", "score": ""}]),
])
def test_odd_but_valid_quoting_imports_as_pandas_reads_it(api, data, rows):
    project = api.project()
    assert upload(api, project["id"], [("rows.csv", data)]).status_code == 201
    assert [t["data"] for t in all_tasks(api, project["id"])] == rows


# -- file uploads listed as LS lists them ----------------------------------------------------

def test_file_uploads_of_a_project_are_listed_by_ids_or_all(api):
    project = api.project()
    pid = project["id"]
    first = upload(api, pid, [("a.csv", b"text\nx\n")]).json()["file_upload_ids"][0]
    second = upload(api, pid, [("b.csv", b"text\ny\n")]).json()["file_upload_ids"][0]
    # the import page asks without ids: LS answers [] (an upload list that starts empty)
    assert api.get(f"/api/projects/{pid}/file-uploads").json() == []
    assert [u["id"] for u in api.get(f"/api/projects/{pid}/file-uploads",
                                     params={"ids": f"[{second}]"}).json()] == [second]
    assert [u["id"] for u in api.get(f"/api/projects/{pid}/file-uploads",
                                     params={"all": "true"}).json()] == [first, second]
    # a draft project (the create-project wizard's) lists them all
    api.patch(f"/api/projects/{pid}", json={"is_draft": True})
    assert len(api.get(f"/api/projects/{pid}/file-uploads").json()) == 2
    bad = api.get(f"/api/projects/{pid}/file-uploads", params={"ids": "[1,", "all": "0"})
    assert bad.status_code == 200  # a draft ignores ids
    api.patch(f"/api/projects/{pid}", json={"is_draft": False})
    bad = api.get(f"/api/projects/{pid}/file-uploads", params={"ids": "[1,"})
    assert bad.status_code == 400


# -- POST /api/projects/{id}/reimport (the wizard's commit) ----------------------------------

REIMPORT_KEYS = ["task_count", "annotation_count", "prediction_count", "duration",
                 "file_upload_ids", "found_formats", "data_columns"]


def reimport(api, pid, **body):
    return api.post(f"/api/projects/{pid}/reimport", json=body)


def test_wizard_uploads_then_reimports(api):
    """The create-project wizard: files uploaded with commit_to_project=false, then committed
    with reimport. Observed on LS 1.23.2: 201, these keys, found formats counted per file."""
    project = api.project(is_draft=True)
    pid = project["id"]
    answer = upload(api, pid, [("rows.csv", b"text,score\nhello,1\nworld,2\n"),
                               ("more.json", b'[{"text": "j1"}, {"text": "j2"}]')],
                    commit_to_project="false").json()
    ids = answer["file_upload_ids"]
    assert task_count(api, pid) == 0
    response = reimport(api, pid, file_upload_ids=ids, files_as_tasks_list=True)
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == REIMPORT_KEYS
    assert (body["task_count"], body["annotation_count"], body["prediction_count"]) == (4, 0, 0)
    assert body["file_upload_ids"] == ids and isinstance(body["duration"], float)
    assert body["found_formats"] == {".csv": 1, ".json": 1}
    assert body["data_columns"] == ["text"]
    tasks = all_tasks(api, pid)
    assert sorted(t["data"]["text"] for t in tasks) == ["hello", "j1", "j2", "world"]
    assert all(t["file_upload"].endswith(("-rows.csv", "-more.json")) for t in tasks)
    # again: the same uploads' tasks are replaced, not added
    assert reimport(api, pid, file_upload_ids=ids).json()["task_count"] == 4
    assert task_count(api, pid) == 4


def test_reimport_csv_as_one_task_per_file(api):
    project = api.project()
    pid = project["id"]
    upload_id = upload(api, pid, [("rows.csv", b"text\nhello\nworld\n")],
                       commit_to_project="false").json()["file_upload_ids"][0]
    assert reimport(api, pid, file_upload_ids=[upload_id]).json()["task_count"] == 2
    body = reimport(api, pid, file_upload_ids=[upload_id], files_as_tasks_list=False).json()
    assert body["task_count"] == 1 and body["data_columns"] == ["$undefined$"]
    [task] = all_tasks(api, pid)
    assert task["data"]["text"].startswith(f"/data/upload/{pid}/")
    assert task["data"]["text"].endswith("-rows.csv")
    assert api.get(task["data"]["text"]).content == b"text\nhello\nworld\n"


def test_reimport_keeps_other_tasks(api):
    project = api.project()
    pid = project["id"]
    import_tasks(api, pid, [{"text": "typed in"}])
    upload_id = upload(api, pid, [("a.txt", b"one\ntwo\n")]).json()["file_upload_ids"][0]
    assert task_count(api, pid) == 3
    assert reimport(api, pid, file_upload_ids=[upload_id]).json()["task_count"] == 2
    assert sorted(t["data"]["text"] for t in all_tasks(api, pid)) == ["one", "two", "typed in"]


def test_reimport_without_files_is_a_200_of_zeros(api):
    project = api.project()
    for body in ({}, {"file_upload_ids": []}, {"file_upload_ids": None}):
        response = api.post(f"/api/projects/{project['id']}/reimport", json=body)
        assert response.status_code == 200
        assert response.json() == {"task_count": 0, "annotation_count": 0,
                                   "prediction_count": 0, "duration": 0, "file_upload_ids": [],
                                   "found_formats": {}, "data_columns": []}


def test_reimport_ignores_other_projects_uploads(api):
    first, second = api.project(), api.project()
    upload_id = upload(api, first["id"], [("a.txt", b"one\n")],
                       commit_to_project="false").json()["file_upload_ids"][0]
    body = reimport(api, second["id"], file_upload_ids=[upload_id]).json()
    assert body["task_count"] == 0 and body["found_formats"] == {}
    assert task_count(api, second["id"]) == 0


def test_reimport_of_inconsistent_files_is_400_and_changes_nothing(api):
    project = api.project()
    pid = project["id"]
    ids = upload(api, pid, [("a.csv", b"text,score\nx,1\n")],
                 commit_to_project="false").json()["file_upload_ids"]
    ids += upload(api, pid, [("b.txt", b"line\n")],
                  commit_to_project="false").json()["file_upload_ids"]
    [message] = non_field_errors(reimport(api, pid, file_upload_ids=ids))
    assert message.startswith("You're trying to import inconsistent data:\nuploading a single "
                              f"file upload/{pid}/")
    assert message.endswith('-b.txt clashes with data key(s) found from other files:\n'
                            '"score,text"')
    assert task_count(api, pid) == 0


def test_reimport_single_file_into_two_key_config_is_400(api):
    project = api.project(label_config=TWO_KEYS_CONFIG)
    pid = project["id"]
    upload_id = upload(api, pid, [("a.csv", b"text,title\nx,y\n")],
                       commit_to_project="false").json()["file_upload_ids"][0]
    [message] = non_field_errors(reimport(api, pid, file_upload_ids=[upload_id],
                                          files_as_tasks_list=False))
    assert message.endswith("-a.csv: Your label config has more than one data key and direct "
                            "file upload supports only one data key. To import data with "
                            "multiple data keys, use a JSON or CSV file.")
    assert reimport(api, pid, file_upload_ids=[upload_id]).json()["task_count"] == 1


@pytest.mark.parametrize("body, field", [
    ({"file_upload_ids": 5}, "file_upload_ids"),
    ({"file_upload_ids": ["a"]}, "file_upload_ids"),
    ({"file_upload_ids": [True]}, "file_upload_ids"),
    ({"file_upload_ids": [1], "files_as_tasks_list": "maybe"}, "files_as_tasks_list"),
])
def test_bad_reimport_bodies_are_400(api, body, field):
    project = api.project()
    response = reimport(api, project["id"], **body)
    assert response.status_code == 400, response.text
    assert field in response.json()["validation_errors"]


def test_reimport_of_unknown_project_is_404(api):
    assert reimport(api, 999999, file_upload_ids=[1]).status_code == 404
    response = api.post("/api/projects/1/reimport", json=[1])
    assert response.status_code in (400, 404)


def test_uploads_are_checked_when_committed_not_before(api):
    """As LS: commit_to_project=false reads the files only (the wizard uploads them before its
    label config is saved); the reimport that commits them checks them against the config."""
    project = api.project()  # <Text value="$text"/>
    pid = project["id"]
    response = upload(api, pid, [("rows.csv", b"title\nhello\n")], commit_to_project="false")
    assert response.status_code == 201, response.text
    ids = response.json()["file_upload_ids"]
    [message] = non_field_errors(reimport(api, pid, file_upload_ids=ids))
    assert message == ('Error at item 0: "text" key is expected in task data [assume: '
                       "item[\"data\"] = task root with values] :: {'data': {'title': "
                       f"'hello'}}, 'file_upload_id': {ids[0]}}}")  # LS's words, to the space
    assert task_count(api, pid) == 0
    config = ('<View><Text name="title" value="$title"/>'
              '<Choices name="c" toName="title"><Choice value="A"/></Choices></View>')
    assert api.patch(f"/api/projects/{pid}", json={"label_config": config}).status_code == 200
    assert reimport(api, pid, file_upload_ids=ids).json()["task_count"] == 1
