"""Shapes and small helpers shared by the data-API tests (import, tasks, annotations, ...).

The key lists are Label Studio 1.23's, copied from reference §3.1, §4.1, §5.1 and §5.2.
"""

import struct
import time
import uuid
import zlib

IMPORT_KEYS = ["task_count", "annotation_count", "prediction_count", "duration",
               "file_upload_ids", "could_be_tasks_list", "found_formats", "data_columns"]

TASK_FULL_KEYS = ["id", "predictions", "annotations", "drafts", "annotators", "inner_id",
                  "cancelled_annotations", "total_annotations", "total_predictions",
                  "completed_at", "annotations_results", "predictions_results",
                  "predictions_score", "file_upload", "storage_filename", "annotations_ids",
                  "predictions_model_versions", "avg_lead_time", "draft_exists", "updated_by",
                  "data", "meta", "created_at", "updated_at", "is_labeled", "overlap",
                  "comment_count", "unresolved_comment_count", "last_comment_updated_at",
                  "project", "comment_authors"]
# default list items omit these six (ref §4.1)
TASK_ONLY_KEYS = [k for k in TASK_FULL_KEYS if k not in (
    "annotations", "predictions", "completed_at", "avg_lead_time", "draft_exists",
    "predictions_score")]

BASE_TASK_KEYS = ["id", "data", "meta", "created_at", "updated_at", "is_labeled", "overlap",
                  "inner_id", "total_annotations", "cancelled_annotations", "total_predictions",
                  "comment_count", "unresolved_comment_count", "last_comment_updated_at",
                  "project", "updated_by", "file_upload", "comment_authors"]

ANNOTATION_KEYS = ["id", "result", "created_username", "created_ago", "completed_by",
                   "was_cancelled", "ground_truth", "created_at", "updated_at",
                   "draft_created_at", "lead_time", "import_id", "last_action", "bulk_created",
                   "task", "project", "updated_by", "parent_prediction", "parent_annotation",
                   "last_created_by"]

PREDICTION_KEYS = ["id", "result", "model_version", "created_ago", "score", "cluster",
                   "neighbors", "mislabeling", "created_at", "updated_at", "model", "model_run",
                   "task", "project"]

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Pos"/><Choice value="Neg"/>
  </Choices>
</View>"""  # the config of api.project() (conftest) and most data tests

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="label" toName="image"><Choice value="A"/><Choice value="B"/></Choices>
</View>"""

TWO_KEYS_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Text name="title" value="$title"/>
  <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
</View>"""


def choice(value, from_name="sentiment", to_name="text"):
    return [{"from_name": from_name, "to_name": to_name, "type": "choices",
             "value": {"choices": [value]}}]


def assert_envelope(response, status, detail=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status
    assert body["version"] == "1.23.2"
    uuid.UUID(body["id"])
    if detail is not None:
        assert body["detail"] == detail
    return body


def non_field_errors(response, status=400):
    body = assert_envelope(response, status, "Validation error")
    return body["validation_errors"]["non_field_errors"]


def import_tasks(api, project_id, tasks, status=201, **params):
    response = api.post(f"/api/projects/{project_id}/import", json=tasks, params=params)
    assert response.status_code == status, response.text
    return response.json()


def import_ids(api, project_id, tasks):
    return import_tasks(api, project_id, tasks, return_task_ids="true")["task_ids"]


def task_count(api, project_id):
    return api.get(f"/api/projects/{project_id}").json()["task_number"]


def all_tasks(api, project_id, **params):
    response = api.get("/api/tasks", params={"project": project_id, "page_size": 100000,
                                             "fields": "all", **params})
    assert response.status_code == 200, response.text
    return response.json()["tasks"]


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() \
        else []


def wait_for(check, timeout=20, step=0.05):
    """The first truthy value of check(), polled until `timeout` seconds have passed."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {check}")


def png(rgb=(10, 200, 10), size=8):
    """A small PNG of one colour, written without an imaging library."""
    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

