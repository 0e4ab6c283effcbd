"""S3 storages against a moto server on a free loopback port (boto3 + moto[server])."""

import base64
import json
import socket

import pytest
import requests

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

IMAGE_CONFIG = """<View><Image name="image" value="$image"/>
<Choices name="c" toName="image"><Choice value="A"/></Choices></View>"""
TEXT_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Pos"/></Choices></View>"""
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
        "region_name": "us-east-1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(),
                                            verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    yield type("Moto", (), {"endpoint": endpoint, "client": client})
    server.stop()


@pytest.fixture
def bucket(moto, request):
    name = "b-" + request.node.name.lower().replace("_", "-")[:40]
    moto.client.create_bucket(Bucket=name)
    return name


def storage_fields(moto, bucket, **fields):
    return {"bucket": bucket, "s3_endpoint": moto.endpoint, **KEYS, **fields}


def test_import_blob_urls_resync_and_resolve(api, moto, bucket):
    c = moto.client
    for key in ("imgs/b.png", "imgs/a.png", "imgs/readme.txt", "imgs/deep/c.png",
                "other/x.png"):
        c.put_object(Bucket=bucket, Key=key, Body=b"bytes of " + key.encode(),
                     ContentType="image/png")
    project = api.project(label_config=IMAGE_CONFIG)
    r = api.post("/api/storages/s3", json={"project": project["id"], **storage_fields(
        moto, bucket, prefix="imgs", regex_filter=r".*\.png$", use_blob_urls=True,
        title="bucket")})
    assert r.status_code == 201, r.text
    storage = r.json()
    assert storage["type"] == "s3" and storage["presign"] is True
    assert "aws_secret_access_key" not in storage and "aws_access_key_id" not in storage
    synced = api.post(f"/api/storages/s3/{storage['id']}/sync").json()
    assert synced["status"] == "completed" and synced["last_sync_count"] == 2, synced
    tasks = api.get("/api/tasks", params={"project": project["id"], "fields": "all",
                                          "resolve_uri": "false"}).json()
    images = [t["data"]["image"] for t in tasks["tasks"]]
    assert images == [f"s3://{bucket}/imgs/a.png", f"s3://{bucket}/imgs/b.png"]
    # served to the labeling UI (resolve_uri defaults to true), URIs become our resolve URLs
    shown = api.get(f"/api/tasks/{tasks['tasks'][0]['id']}").json()["data"]["image"]
    token = base64.urlsafe_b64encode(images[0].encode()).decode().rstrip("=")
    assert shown == f"/tasks/{tasks['tasks'][0]['id']}/resolve/?fileuri={token}"
    listed = api.get("/api/tasks", params={"project": project["id"]}).json()["tasks"]
    assert listed[0]["data"]["image"] == shown

    api.patch(f"/api/storages/s3/{storage['id']}", json={"recursive_scan": True})
    assert api.post(f"/api/storages/s3/{storage['id']}/sync").json()["last_sync_count"] == 1

    task_id = tasks["tasks"][0]["id"]
    token = base64.urlsafe_b64encode(images[0].encode()).decode().rstrip("=")
    r = api.get(f"/tasks/{task_id}/resolve/?fileuri={token}", allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"].startswith(moto.endpoint)
    assert requests.get(r.headers["Location"], timeout=10).content == b"bytes of imgs/a.png"
    api.patch(f"/api/storages/s3/{storage['id']}", json={"presign": False})
    r = api.get(f"/tasks/{task_id}/presign/?fileuri={token}")
    assert r.status_code == 200 and r.content == b"bytes of imgs/a.png"
    other = base64.urlsafe_b64encode(b"s3://elsewhere/x.png").decode()
    assert api.get(f"/tasks/{task_id}/resolve/?fileuri={other}").status_code == 404
    assert api.get(f"/tasks/{task_id}/resolve/?fileuri=!!!").status_code in (400, 404)


def test_import_json_tasks(api, moto, bucket):
    c = moto.client
    c.put_object(Bucket=bucket, Key="t/1.json", Body=json.dumps({"text": "one"}))
    c.put_object(Bucket=bucket, Key="t/2.json", Body=json.dumps([{"data": {"text": "two"}},
                                                                 {"text": "three"}]))
    c.put_object(Bucket=bucket, Key="t/bad.json", Body=b"nope")
    project = api.project(label_config=TEXT_CONFIG)
    storage = api.post("/api/storages/s3", json={"project": project["id"], **storage_fields(
        moto, bucket, prefix="t/")}).json()
    synced = api.post(f"/api/storages/s3/{storage['id']}/sync").json()
    assert synced["status"] == "completed_with_errors" and synced["last_sync_count"] == 3
    assert "t/bad.json" in synced["traceback"]
    texts = sorted(t["data"]["text"] for t in api.get(
        "/api/tasks", params={"project": project["id"], "fields": "all"}).json()["tasks"])
    assert texts == ["one", "three", "two"]


def test_export_storage(live, api, moto, bucket):
    project = api.project(label_config=TEXT_CONFIG)
    [task_id] = api.post(f"/api/projects/{project['id']}/import?return_task_ids=true",
                         json=[{"text": "a"}]).json()["task_ids"]
    first = api.post(f"/api/tasks/{task_id}/annotations", json={"result": []}).json()
    r = api.post("/api/storages/export/s3", json={"project": project["id"], **storage_fields(
        moto, bucket, prefix="out", can_delete_objects=True)})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "queued"  # LS: the sync runs after the answer
    assert api.get(f"/api/storages/export/s3/{r.json()['id']}").json()["last_sync_count"] == 1
    body = moto.client.get_object(Bucket=bucket, Key=f"out/{first['id']}")["Body"].read()
    assert json.loads(body)["task"]["data"] == {"text": "a"}

    second = api.post(f"/api/tasks/{task_id}/annotations", json={"result": []}).json()
    live.app.storages.flush()
    keys = {o["Key"] for o in moto.client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {f"out/{first['id']}", f"out/{second['id']}"}
    api.delete(f"/api/annotations/{second['id']}")
    live.app.storages.flush()
    keys = {o["Key"] for o in moto.client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {f"out/{first['id']}"}


def test_connection_errors_are_400(api, moto, bucket):
    project = api.project()
    r = api.post("/api/storages/s3", json={"project": project["id"], **storage_fields(
        moto, "no-such-bucket")})
    assert r.status_code == 400 and "no-such-bucket" in r.text
    r = api.post("/api/storages/s3", json={"project": project["id"], **KEYS,
                                           "bucket": bucket, "s3_endpoint": "not a url"})
    assert r.status_code == 400
    r = api.post("/api/storages/s3", json={"project": project["id"], **KEYS})
    assert r.status_code == 400 and "bucket" in r.text
    r = api.post("/api/storages/s3/validate", json={"project": project["id"],
                                                    **storage_fields(moto, bucket)})
    assert r.status_code == 200
    storage = api.post("/api/storages/s3", json={"project": project["id"], **storage_fields(
        moto, bucket)}).json()
    moto.client.delete_bucket(Bucket=bucket)
    synced = api.post(f"/api/storages/s3/{storage['id']}/sync")
    assert synced.status_code == 200 and synced.json()["status"] == "failed"
    assert "NoSuchBucket" in synced.json()["traceback"]
