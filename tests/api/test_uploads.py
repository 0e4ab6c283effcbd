"""Uploaded files (reference §3.3): stored names, serving, the file-upload endpoints."""

import orjson

from datahelp import files_under


def upload(api, project_id, name, data, **params):
    return api.post(f"/api/projects/{project_id}/import", files={"file": (name, data)},
                    params=params)


def test_file_upload_endpoints(api, live):
    project = api.project()
    first = upload(api, project["id"], "a.csv", b"text\nx\n").json()["file_upload_ids"][0]
    second = upload(api, project["id"], "b.txt", b"y\n").json()["file_upload_ids"][0]
    one = api.get(f"/api/import/file-upload/{first}").json()
    assert set(one) == {"id", "file", "size"}
    assert one["id"] == first and one["size"] == len(b"text\nx\n")
    assert one["file"].startswith(f"upload/{project['id']}/") and one["file"].endswith("-a.csv")
    listed = api.get(f"/api/projects/{project['id']}/file-uploads",
                     params={"ids": orjson.dumps([second]).decode()}).json()
    assert [u["id"] for u in listed] == [second]
    everything = api.get(f"/api/projects/{project['id']}/file-uploads",
                         params={"all": "true"}).json()
    assert sorted(u["id"] for u in everything) == sorted([first, second])
    folder = live.settings.media_dir / "upload" / str(project["id"])
    assert len(files_under(folder)) == 2
    assert api.delete(f"/api/import/file-upload/{first}").status_code == 204
    assert api.get(f"/api/import/file-upload/{first}").status_code == 404
    assert len(files_under(folder)) == 1
    response = api.delete(f"/api/projects/{project['id']}/file-uploads",
                          json={"file_upload_ids": [second]})
    assert response.status_code == 200 and response.json() == {"deleted": 1}
    assert files_under(folder) == []


def test_file_uploads_bad_ids_param_is_400(api):
    project = api.project()
    for value in ("not json", "{", "5", '"x"'):
        response = api.get(f"/api/projects/{project['id']}/file-uploads",
                           params={"ids": value})
        assert response.status_code in (200, 400), response.text


def test_delete_file_uploads_odd_bodies_never_500(api):
    project = api.project()
    upload(api, project["id"], "a.csv", b"text\nx\n")
    for body in ([1], {"file_upload_ids": "x"}, {"file_upload_ids": [None, {}]}, "x"):
        response = api.delete(f"/api/projects/{project['id']}/file-uploads", json=body)
        assert response.status_code in (200, 400), response.text


def test_stored_name_is_8_hex_dash_original(api):
    project = api.project(label_config="<View><Image name='image' value='$image'/></View>")
    body = upload(api, project["id"], "My Photo (1).png", b"\x89PNG", return_task_ids=1).json()
    task = api.get(f"/api/tasks/{body['task_ids'][0]}").json()
    name = task["data"]["image"].rsplit("/", 1)[1]
    prefix, _, original = name.partition("-")
    assert len(prefix) == 8 and int(prefix, 16) >= 0
    assert original == "My Photo (1).png"
    assert api.get(task["data"]["image"]).status_code == 200


def test_range_request(api):
    project = api.project(label_config="<View><Audio name='audio' value='$audio'/></View>")
    content = bytes(range(256)) * 4
    body = upload(api, project["id"], "a.wav", content, return_task_ids=1).json()
    url = api.get(f"/api/tasks/{body['task_ids'][0]}").json()["data"]["audio"]
    response = api.get(url, headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == content[10:20]


def test_uploads_go_with_the_project(api, live):
    project = api.project()
    upload(api, project["id"], "a.csv", b"text\nx\n")
    folder = live.settings.media_dir / "upload" / str(project["id"])
    assert files_under(folder)
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert files_under(folder)  # in the trash with the project (tests/api/test_trash.py)
    item = next(i for i in api.get("/api/ui/trash").json()["items"]
                if i["kind"] == "project" and i["project"] == project["id"])
    assert api.delete(f"/api/ui/trash/{item['id']}").json()["files"] == 1
    assert files_under(folder) == []


def test_upload_of_another_project_is_not_served_under_this_one(api):
    one = api.project(label_config="<View><Image name='image' value='$image'/></View>")
    two = api.project()
    body = upload(api, one["id"], "x.png", b"\x89PNG", return_task_ids=1).json()
    url = api.get(f"/api/tasks/{body['task_ids'][0]}").json()["data"]["image"]
    name = url.rsplit("/", 1)[1]
    assert api.get(f"/data/upload/{two['id']}/{name}").status_code == 404
