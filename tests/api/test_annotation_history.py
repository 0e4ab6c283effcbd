"""Annotation history (issue 20; desktop/core/history.py, desktop/db/history.py) over HTTP with
the real label-studio-sdk 2.1.2: every version kept across restarts, compactions, backups,
project files and kill -9; restore; LSE's shapes; damage reported with where; bad input 4xx."""

import io
import os
import signal
import subprocess
import sys
import zipfile

import pytest
from conftest import LiveServer
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from datahelp import assert_envelope, choice, wait_for
from paths import ROOT

# LSE's AnnotationHistorySerializer fields (label-studio-sdk 2.1.2's AnnotationHistory type)
HISTORY_KEYS = {"id", "action", "annotation_id", "comment", "comment_id", "created_at",
                "created_by", "draft_id", "lead_time", "organization_id", "project_id",
                "result", "review_id", "started_at", "task_id"}


def sdk(server):
    return LabelStudio(base_url=server.url, api_key=server.token)


def labeled(api, texts=("one",)):
    """A project with a task per text; (project id, task ids)."""
    project = api.project(title="History")["id"]
    answer = api.post(f"/api/projects/{project}/import?return_task_ids=true",
                      json=[{"text": t} for t in texts])
    assert answer.status_code == 201, answer.text
    return project, answer.json()["task_ids"]


def edit_five_times(api, task_id):
    """An annotation made, then updated 5 times; its id and the 6 results in order."""
    results = [choice("Pos")]
    annotation = api.post(f"/api/tasks/{task_id}/annotations",
                          json={"result": results[0], "lead_time": 1.5}).json()["id"]
    for n in range(5):
        results.append(choice("Neg" if n % 2 == 0 else "Pos") + [
            {"from_name": "sentiment", "to_name": "text", "type": "choices", "id": f"r{n}",
             "value": {"choices": ["Pos"]}}][:n % 2])
        answer = api.patch(f"/api/annotations/{annotation}",
                           json={"result": results[-1], "lead_time": 2.0 + n})
        assert answer.status_code == 200, answer.text
    return annotation, results


def test_five_edits_restart_compact_restore_version_2_export(tmp_path):
    server = LiveServer(tmp_path / "data")
    project, (task,) = labeled(server.api)
    annotation, results = edit_five_times(server.api, task)
    server.close()

    server = LiveServer(tmp_path / "data")  # restarted: versions read back from the journal
    try:
        client = sdk(server)
        history = client.annotation_history.list(annotation=annotation)
        assert [h.action for h in history] == ["updated"] * 5 + ["submitted"]
        server.app.store.compact()  # the versions move from the journal to history.ldb
        assert not server.app.store.storage.history.pending
        assert os.path.getsize(tmp_path / "data" / "db" / "history.ldb") > 0
        history = client.annotation_history.list(annotation=annotation)
        assert len(history) == 6
        oldest_first = list(reversed(history))
        assert [h.result for h in oldest_first] == results
        version_2 = oldest_first[1]
        answer = server.api.post(f"/api/annotation-history/{version_2.id}/restore")
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"] == results[1] and answer.json()["id"] == annotation

        export = server.api.get(f"/api/projects/{project}/export?exportType=JSON"
                                "&download_all_tasks=true").json()
        assert export[0]["annotations"][0]["result"] == results[1]
        history = client.annotation_history.list(annotation=annotation)
        assert len(history) == 7
        assert history[0].result == results[1] and history[0].action == "updated"
        assert history[0].comment == f"Restored version #{version_2.id}"
        assert history[0].created_by == 1
    finally:
        server.close()
    server = LiveServer(tmp_path / "data")  # and all of it after another restart
    try:
        history = sdk(server).annotation_history.list(annotation=annotation)
        assert [h.result for h in reversed(history)] == results + [results[1]]
    finally:
        server.close()


def test_sdk_annotation_history_calls_work_unchanged(make_live):
    server = make_live()
    client, api = sdk(server), server.api
    project, tasks = labeled(api, ["a", "b", "c"])
    annotation, results = edit_five_times(api, tasks[0])
    skipped = api.post(f"/api/tasks/{tasks[1]}/annotations?was_cancelled=true",
                       json={"result": []}).json()["id"]
    api.post("/api/predictions", json={"task": tasks[2], "result": choice("Neg")})
    api.post(f"/api/dm/actions?id=predictions_to_annotations&project={project}",
             json={"selectedItems": {"all": True}}).raise_for_status()
    api.post(f"/api/projects/{project}/import", json=[{"data": {"text": "d"}, "annotations": [
        {"result": choice("Pos")}]}]).raise_for_status()

    history = client.annotation_history.list(annotation=annotation)
    raw = api.get(f"/api/annotation-history/?annotation={annotation}").json()
    assert [set(item) for item in raw] == [HISTORY_KEYS] * 6
    assert [h.id for h in history] == sorted((h.id for h in history), reverse=True)
    assert history[-1].action == "submitted" and history[-1].lead_time == 1.5
    assert history[0].lead_time == 6.0 and history[0].task_id == tasks[0]
    assert history[0].project_id == project and history[0].organization_id == 1
    oldest = client.annotation_history.list(annotation=annotation, ordering="id")
    assert [h.id for h in oldest] == [h.id for h in reversed(history)]
    assert client.annotation_history.retrieve(id=history[2].id) == history[2]

    page = client.annotation_history.list_for_project(id=project, page=1, page_size=4)
    everything = client.annotation_history.list_for_project(id=project, page_size=100)
    actions = {h.annotation_id: h.action for h in reversed(everything.results)}
    assert actions[skipped] == "skipped"
    assert sorted(actions.values()) == sorted(
        ["updated", "skipped", "prediction", "imported"])
    assert page.count == everything.count == 9 and len(page.results) == 4
    assert page.next.endswith(f"/api/projects/{project}/annotation-history/?page=2&page_size=4")

    client.annotations.delete(id=skipped)
    deleted = client.annotation_history.list(annotation=skipped)
    assert [h.action for h in deleted] == ["deleted", "skipped"]
    assert deleted[0].created_by == 1

    removed = client.annotation_history.delete(annotation=annotation)
    assert removed.removed == 6
    assert client.annotation_history.list(annotation=annotation) == []
    with pytest.raises(ApiError) as e:
        client.annotation_history.retrieve(id=history[0].id)
    assert e.value.status_code == 404
    assert client.annotation_history.delete(project=project).removed == 4
    assert client.annotation_history.list_for_project(id=project).count == 0
    # a later change has history again
    api.patch(f"/api/annotations/{annotation}", json={"result": choice("Pos")})
    assert [h.action for h in client.annotation_history.list(annotation=annotation)] == [
        "updated"]


def test_history_survives_a_backup_restore(make_live):
    server = make_live(reopenable=True)
    api = server.api
    _project, (task,) = labeled(api)
    annotation, results = edit_five_times(api, task)
    backup = api.post("/api/ui/backups").json()["name"]
    api.patch(f"/api/annotations/{annotation}", json={"result": choice("Neg")})
    later = api.post(f"/api/tasks/{task}/annotations", json={"result": choice("Pos")}).json()
    answer = api.post("/api/ui/backups/restore", json={"name": backup})
    assert answer.status_code == 200, answer.text

    api = server.api
    assert api.get(f"/api/annotations/{annotation}").json()["result"] == results[-1]
    history = api.get(f"/api/annotation-history?annotation={annotation}").json()
    assert [h["result"] for h in reversed(history)] == results + [choice("Neg"), results[-1]]
    assert history[0]["comment"] == f"Restored from the backup {backup}"
    gone = api.get(f"/api/annotation-history?annotation={later['id']}").json()
    assert [h["action"] for h in gone] == ["deleted", "submitted"]
    # ids are never given out twice: a new annotation has a history of its own
    new = api.post(f"/api/tasks/{task}/annotations", json={"result": choice("Neg")}).json()
    assert new["id"] > later["id"]
    assert len(api.get(f"/api/annotation-history?annotation={new['id']}").json()) == 1


def test_history_survives_a_project_file_round_trip(make_live):
    source = make_live("source")
    project, (task, other) = labeled(source.api, ["one", "two"])
    annotation, results = edit_five_times(source.api, task)
    gone = source.api.post(f"/api/tasks/{other}/annotations", json={"result": []}).json()["id"]
    source.api.delete(f"/api/annotations/{gone}").raise_for_status()
    before = source.api.get(f"/api/projects/{project}/annotation-history?page_size=100").json()
    archive = source.api.get(f"/api/projects/{project}/archive").content
    assert "history.jsonl" in zipfile.ZipFile(io.BytesIO(archive)).namelist()

    target = make_live("target")
    answer = target.api.post("/api/projects/archive?mapping=true",
                             files={"file": ("p.zip", archive, "application/zip")})
    assert answer.status_code == 201, answer.text
    mapping = answer.json()["mapping"]
    new_project = answer.json()["id"]
    after = target.api.get(
        f"/api/projects/{new_project}/annotation-history?page_size=100").json()
    assert after["count"] == before["count"] == 8

    def comparable(items):
        return [(h["action"], h["result"], h["created_at"], h["lead_time"], h["comment"])
                for h in items]
    assert comparable(after["results"]) == comparable(before["results"])
    new_annotation = mapping["annotations"][str(annotation)]
    history = target.api.get(f"/api/annotation-history?annotation={new_annotation}").json()
    assert [h["result"] for h in reversed(history)] == results
    assert {h["task_id"] for h in history} == {mapping["tasks"][str(task)]}
    # the deleted annotation's versions stay together, under an id no annotation has
    deleted = [h for h in after["results"] if h["action"] == "deleted"][0]
    assert target.api.get(f"/api/annotations/{deleted['annotation_id']}").status_code == 404
    assert len(target.api.get(
        f"/api/annotation-history?annotation={deleted['annotation_id']}").json()) == 2
    # restoring a version in the copy works as in the original
    oldest = history[-1]["id"]
    assert target.api.post(f"/api/annotation-history/{oldest}/restore").json()["result"] == \
        results[0]


@pytest.mark.parametrize("flush_bytes", ["100", ""], ids=["flushed", "in-the-journal"])
def test_kill_9_after_an_acknowledged_update_keeps_that_version(serve_process, tmp_path,
                                                                flush_bytes):
    env = {"LABELDESK_HISTORY_FLUSH_BYTES": flush_bytes}
    process = serve_process(tmp_path / "data", env=env)
    project, (task,) = labeled(process.api)
    annotation, results = edit_five_times(process.api, task)
    last = choice("Neg") + choice("Pos")
    assert process.api.patch(f"/api/annotations/{annotation}",
                             json={"result": last}).status_code == 200
    process.proc.send_signal(signal.SIGKILL)
    process.proc.wait()

    process = serve_process(tmp_path / "data", env=env)
    history = process.api.get(f"/api/annotation-history?annotation={annotation}").json()
    assert [h["result"] for h in reversed(history)] == results + [last]
    assert len({h["id"] for h in history}) == 7
    process.stop()


def damage(path, offset, length=1):
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(length)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def compacted_history(tmp_path):
    """A store whose history is in history.ldb (a compaction moved it there); its folder and
    the annotation's id."""
    server = LiveServer(tmp_path / "data")
    _project, (task,) = labeled(server.api)
    annotation, _results = edit_five_times(server.api, task)
    server.app.store.compact()
    server.close()
    return tmp_path / "data", annotation


def test_a_damaged_history_block_is_reported_with_where(tmp_path, caplog):
    data, annotation = compacted_history(tmp_path)
    ldb = data / "db" / "history.ldb"
    damage(ldb, os.path.getsize(ldb) - 10)  # inside the last (only) block
    server = LiveServer(data)  # opening reads no block: it opens
    try:
        answer = server.api.get(f"/api/annotation-history?annotation={annotation}")
        body = assert_envelope(answer, 503)
        assert "history.ldb" in body["detail"] and "block 1, bytes" in body["detail"]
        assert "fails its checksum" in body["detail"] and "labeldesk repair" in body["detail"]
        # the check after opening found it too, and says so to the user
        warning = wait_for(lambda: [w for w in server.app.warnings if "history" in w])
        assert "history.ldb" in warning[0] and "block 1, bytes" in warning[0]
        # everything else works
        assert server.api.get(f"/api/annotations/{annotation}").status_code == 200
    finally:
        server.close()
    # `labeldesk repair` keeps what passes its checksums (here: nothing of that block)
    done = subprocess.run([sys.executable, "-m", "desktop", "repair", "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "history.ldb" in done.stdout and "skipped damaged bytes" in done.stdout
    server = LiveServer(data)
    try:
        assert server.api.get(f"/api/annotation-history?annotation={annotation}").json() == []
        assert not [w for w in server.app.warnings if "history" in w]
    finally:
        server.close()


def test_history_cut_short_is_refused_naming_the_file_and_bytes(tmp_path):
    data, _annotation = compacted_history(tmp_path)
    ldb = data / "db" / "history.ldb"
    with open(ldb, "r+b") as f:
        f.truncate(os.path.getsize(ldb) - 5)
    done = subprocess.run([sys.executable, "-m", "desktop", "serve", "--data-dir", str(data),
                           "--port", "0"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0
    assert "history.ldb" in done.stderr + done.stdout
    assert "was cut short" in done.stderr + done.stdout


def test_bad_input_to_the_history_routes_is_a_4xx_in_the_envelope(make_live):
    server = make_live()
    api = server.api
    project, (task,) = labeled(api)
    annotation, _results = edit_five_times(api, task)
    version = api.get(f"/api/annotation-history?annotation={annotation}").json()[0]["id"]
    api.delete(f"/api/annotations/{annotation}").raise_for_status()
    cases = [
        ("GET", "/api/annotation-history", 400),
        ("GET", "/api/annotation-history?annotation=", 400),
        ("GET", "/api/annotation-history?annotation=abc", 400),
        ("GET", "/api/annotation-history?annotation=-1", 400),
        ("GET", "/api/annotation-history?annotation=99999999999999999999999", 400),
        ("GET", "/api/annotation-history?annotation=1.5", 400),
        ("GET", "/api/annotation-history/abc", 404),
        ("GET", "/api/annotation-history/0", 404),
        ("GET", "/api/annotation-history/999999", 404),
        ("POST", "/api/annotation-history/999999/restore", 404),
        ("POST", "/api/annotation-history/x/restore", 404),
        ("POST", f"/api/annotation-history/{version}/restore", 409),  # its annotation is gone
        ("GET", "/api/projects/999/annotation-history", 404),
        ("GET", f"/api/projects/{project}/annotation-history?page=0", 404),
        ("GET", f"/api/projects/{project}/annotation-history?page=abc", 404),
        ("GET", f"/api/projects/{project}/annotation-history?page=50", 404),
        ("GET", f"/api/projects/{project}/annotation-history?created_at_from=yesterday", 400),
        ("GET", f"/api/projects/{project}/annotation-history?created_at_to=2026-13-01", 400),
        ("DELETE", "/api/annotation-history", 400),
        ("DELETE", "/api/annotation-history?task=abc", 400),
        ("DELETE", "/api/annotation-history?project=1&annotation=x", 400),
        ("PUT", "/api/annotation-history/1", 405),
    ]
    for method, path, status in cases:
        assert_envelope(api.request(method, path), status), (method, path)
    # what is fine stays fine: odd orderings and page sizes are ignored, as DRF does
    assert len(api.get(f"/api/annotation-history?annotation={annotation}&ordering=zz").json()) \
        == 7
    page = api.get(f"/api/projects/{project}/annotation-history?page_size=abc").json()
    assert page["count"] == 7
    window = api.get(f"/api/projects/{project}/annotation-history?created_at_from="
                     "2000-01-01T00:00:00&created_at_to=2999-01-01T00:00:00Z").json()
    assert window["count"] == 7
    assert api.get(f"/api/projects/{project}/annotation-history?created_at_from="
                   "2999-01-01").json()["count"] == 0


def test_a_restore_discards_the_users_draft_of_that_annotation(make_live):
    """The editor shows a user's draft of an annotation over the annotation: a restore would
    not be seen, so the draft goes with it."""
    api = make_live().api
    _project, (task,) = labeled(api)
    annotation, results = edit_five_times(api, task)
    draft = api.post(f"/api/tasks/{task}/annotations/{annotation}/drafts",
                     json={"result": choice("Neg"), "lead_time": 1})
    assert draft.status_code == 201, draft.text
    oldest = api.get(f"/api/annotation-history?annotation={annotation}&ordering=id").json()[0]
    restored = api.post(f"/api/annotation-history/{oldest['id']}/restore").json()
    assert restored["result"] == results[0]
    assert api.get(f"/api/drafts/{draft.json()['id']}").status_code == 404


def test_a_deleted_annotation_back_from_the_trash_keeps_its_history(make_live):
    """The delete leaves a "deleted" version; the trash gives the annotation back, which is
    one more version; its versions can be restored again."""
    api = make_live().api
    project, (task,) = labeled(api)
    annotation, results = edit_five_times(api, task)
    newest = api.get(f"/api/annotation-history?annotation={annotation}").json()[0]["id"]
    api.delete(f"/api/annotations/{annotation}").raise_for_status()
    refused = assert_envelope(api.post(f"/api/annotation-history/{newest}/restore"), 409)
    assert "restore it from the trash first" in refused["detail"]
    item = api.get("/api/ui/trash").json()["items"][0]
    assert item["kind"] == "annotations"
    answer = api.post(f"/api/ui/trash/{item['id']}/restore")
    assert answer.status_code == 200, answer.text
    history = api.get(f"/api/annotation-history?annotation={annotation}").json()
    assert [h["action"] for h in history[:3]] == ["updated", "deleted", "updated"]
    assert history[0]["comment"] == "Restored from the trash"
    assert history[0]["result"] == history[1]["result"] == results[-1]
    first = history[-1]["id"]
    assert api.post(f"/api/annotation-history/{first}/restore").json()["result"] == results[0]
