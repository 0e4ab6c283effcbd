"""`labeldesk push` / `pull` against a real Label Studio 1.23.2 (started here, on loopback, by
tests/helpers/lshelp.py: a copy of the migrated template, a fixed legacy token, no outbound calls).
"""

import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import orjson
import pytest

from desktop import pushpull
from desktop.core.settings import Settings
from desktop.shell.app import LabelDesk
from lshelp import TOKEN, LabelStudioServer
from paths import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("label_studio"),
              pytest.mark.timeout(420)]

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
  <RectangleLabels name="box" toName="image">
    <Label value="Cat"/><Label value="Dog"/>
  </RectangleLabels>
</View>"""

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="kind" toName="image"><Choice value="A"/><Choice value="B"/></Choices>
</View>"""


def png(n, size=4):
    """A small, distinct, valid PNG."""
    rows = b"".join(b"\x00" + bytes((n * 7 + x * 3 + y) % 256 for x in range(size * 3))
                    for y in range(size))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0,
                                                              0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def choice(value):
    return [{"id": f"c{value}", "from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": [value]}}]


def box(n):
    return [{"id": f"b{n}", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
             "original_width": 4, "original_height": 4, "image_rotation": 0,
             "value": {"x": n % 50, "y": 10.5, "width": 20, "height": 30, "rotation": 0,
                       "rectanglelabels": ["Cat" if n % 2 else "Dog"]}}]


# -- Label Studio -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"))
    yield server
    server.stop()


def open_desk(path):
    return LabelDesk(Settings(data_dir=path, fsync=False))


# -- the LabelDesk side -------------------------------------------------------------------


def make_project(app, tasks=1000, images=200):
    """tasks text+image tasks; `images` of them point at uploaded PNGs, the rest at a URL.
    About half are annotated (some twice, some skipped, some ground truth), a third predicted."""
    project = app.projects.create({"title": "Hand-over", "label_config": CONFIG,
                                   "description": "push me", "color": "#00AA33",
                                   "maximum_annotations": 1, "show_skip_button": False}, 1)
    items = []
    for n in range(tasks):
        if n < images:
            stored, url = app.uploads.plan(project, f"photo_{n}.png")
            app.uploads.write(project, stored, png(n))
        else:
            url = f"https://images.example.invalid/{n}.png"
        item = {"data": {"image": url, "text": f"task number {n}"}, "meta": {"n": n}}
        if n % 2 == 0:
            annotations = [{"result": choice("Pos" if n % 4 else "Neg") + (box(n) if n < images
                                                                            else []),
                            "ground_truth": n % 10 == 0, "lead_time": n / 10}]
            if n % 6 == 0:
                annotations.append({"result": choice("Neg"), "ground_truth": False,
                                    "lead_time": 1.0})
            if n % 8 == 0:
                annotations.append({"result": [], "was_cancelled": True, "ground_truth": False})
            item["annotations"] = annotations
        if n % 3 == 0:
            item["predictions"] = [{"result": choice("Pos"), "score": round(n / tasks, 3),
                                    "model_version": "m1" if n % 2 else "m2"}]
        items.append(item)
    app.imports.import_json(project, items, 1)
    return project


def local_view(app, project, remote_media=None):
    """A LabelDesk project as comparable values: media as bytes, ids left out."""
    tasks = []
    for task_id in app.tasks.ids(project):
        task = app.records.tasks.doc(task_id)
        data = dict(task["data"])
        path = app.uploads.url_to_path(data.get("image"))
        if path is not None:
            data["image"] = ("bytes", path.read_bytes())
        tasks.append({
            "data": data, "meta": task.get("meta", {}),
            "is_labeled": task.get("is_labeled", False),
            "annotations": [(a.get("result"), a.get("was_cancelled", False),
                             a.get("ground_truth", False), a.get("lead_time"))
                            for _, a in app.tasks.annotations_of(task_id)],
            "predictions": [(p.get("result"), p.get("score"), p.get("model_version"))
                            for _, p in app.tasks.predictions_of(task_id)]})
    project_doc = app.projects.get(project)
    settings = {k: project_doc.get(k) for k in ("title", "label_config", "description", "color",
                                                "maximum_annotations", "show_skip_button")}
    counts = app.projects.counts(project)
    counts.pop("id")
    return settings, counts, tasks


def remote_view(ls, project):
    tasks = []
    for task in sorted(ls.tasks(project), key=lambda t: t["meta"]["labeldesk_id"]):
        data = dict(task["data"])
        if data["image"].startswith("/data/upload/"):
            response = ls.api.get(ls.url + data["image"], timeout=60)
            assert response.status_code == 200, data["image"]
            data["image"] = ("bytes", response.content)
        meta = {k: v for k, v in task["meta"].items() if k != "labeldesk_id"}
        tasks.append({
            "data": data, "meta": meta, "is_labeled": task["is_labeled"],
            "annotations": [(a["result"], a["was_cancelled"], a["ground_truth"], a["lead_time"])
                            for a in sorted(task["annotations"], key=lambda a: a["id"])],
            "predictions": [(p["result"], p["score"], p["model_version"])
                            for p in sorted(task["predictions"], key=lambda p: p["id"])]})
    return tasks


def project_counts(ls, project):
    remote = ls.get(f"/api/projects/{project}/")
    return {k: remote[k] for k in ("task_number", "finished_task_number",
                                   "total_predictions_number", "total_annotations_number",
                                   "num_tasks_with_annotations", "useful_annotation_number",
                                   "ground_truth_number", "skipped_annotations_number")}


def cli(data_dir, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, **(env or {})})


# -- the hand-over ------------------------------------------------------------------------


def test_push_1000_tasks_resume_repush_and_pull_back(label_studio, tmp_path):
    ls = label_studio
    timings = {"label_studio_start": round(ls.start_seconds, 1)}
    app = open_desk(tmp_path / "desk")
    project = make_project(app)
    settings, counts, tasks = local_view(app, project)
    assert counts["task_number"] == 1000 and counts["total_annotations_number"] > 600

    # A push cut short after its second batch was imported but before the mapping was saved.
    started = time.monotonic()
    with pytest.raises(pushpull.Interrupted):
        pushpull.push(app, project, ls.url, TOKEN, stop_after="2:before-save", progress=False)
    remote = pushpull.Mapping.open(tmp_path / "desk", "push", ls.url, project).doc["target"]
    assert project_counts(ls, remote)["task_number"] == 500

    # Resume: the server's 500 tasks are recognised (meta.labeldesk_id), the rest sent once.
    summary = pushpull.push(app, project, ls.url, TOKEN, progress=False)
    timings["push_1000"] = round(time.monotonic() - started, 1)
    assert summary["remote_project"] == remote
    assert summary["created"]["tasks"] == 500
    assert len(summary["tasks"]) == 1000
    assert len(summary["annotations"]) == app.records.annotations_by_project.count(project)
    assert len(summary["predictions"]) == counts["total_predictions_number"]
    assert len(summary["files"]) == 200

    # Label Studio has everything: config, settings, counters, annotations, predictions, media.
    remote_project = ls.get(f"/api/projects/{remote}/")
    assert remote_project["label_config"] == CONFIG
    assert {k: remote_project[k] for k in settings} == settings
    assert project_counts(ls, remote) == counts
    started = time.monotonic()
    assert remote_view(ls, remote) == tasks
    timings["verify_on_label_studio"] = round(time.monotonic() - started, 1)
    ids = [t["meta"]["labeldesk_id"] for t in ls.tasks(remote)]
    assert sorted(ids) == app.tasks.ids(project)  # no duplicates

    # Re-running sends nothing.
    started = time.monotonic()
    again = pushpull.push(app, project, ls.url, TOKEN, progress=False)
    timings["repush_nothing_new"] = round(time.monotonic() - started, 1)
    assert again["created"] == {"tasks": 0, "annotations": 0, "predictions": 0, "files": 0}
    assert project_counts(ls, remote) == counts

    # The mapping file lost: rebuilt from the server, still nothing sent twice.
    Path(again["mapping_file"]).unlink()
    rebuilt = pushpull.push(app, project, ls.url, TOKEN, remote_project=remote, progress=False)
    assert rebuilt["created"] == {"tasks": 0, "annotations": 0, "predictions": 0, "files": 0}
    assert rebuilt["tasks"] == summary["tasks"]
    assert rebuilt["annotations"] == summary["annotations"]
    assert rebuilt["predictions"] == summary["predictions"]

    # Work done locally after the hand-over goes along on the next push: a new annotation, a
    # changed one, a new prediction, and new tasks with new images (the project now has its
    # two-key config, so these go through a placeholder upload replaced by PATCH).
    first, second = app.tasks.ids(project)[1], app.tasks.ids(project)[2]
    app.annotations.create(first, {"result": choice("Neg"), "lead_time": 3.0}, 1)
    changed = app.tasks.annotations_of(second)[0][0]
    app.annotations.update(changed, {"result": choice("Pos")}, 1)
    app.predictions.create({"task": first, "result": choice("Neg"), "score": 0.25,
                            "model_version": "m3"})
    new_items = []
    for n in range(3):
        stored, url = app.uploads.plan(project, f"late_{n}.png")
        app.uploads.write(project, stored, png(5000 + n))
        new_items.append({"data": {"image": url, "text": f"late {n}"},
                          "annotations": [{"result": box(n), "ground_truth": False}]})
    app.imports.import_json(project, new_items, 1)
    settings, counts, tasks = local_view(app, project)
    later = pushpull.push(app, project, ls.url, TOKEN, progress=False)
    assert later["created"] == {"tasks": 3, "annotations": 4, "predictions": 1, "files": 3}
    assert later["updated"] == {"annotations": 1}
    assert project_counts(ls, remote) == counts
    assert remote_view(ls, remote) == tasks
    app.close()

    # The command line: a running LabelDesk holds the data folder -> a clear refusal.
    holder = open_desk(tmp_path / "desk")
    refused = cli(tmp_path / "desk", "push", str(project), "--to", ls.url, "--token", TOKEN)
    holder.close()
    assert refused.returncode != 0
    assert "LabelDesk is running with this data folder" in refused.stderr
    # ... and once closed, the same command pushes (nothing left) and prints the mapping.
    done = cli(tmp_path / "desk", "push", str(project), "--to", ls.url, "--token", TOKEN)
    assert done.returncode == 0, done.stderr
    mapping = orjson.loads(done.stdout)
    assert mapping["remote_project"] == remote and len(mapping["tasks"]) == 1003
    assert "created 0 tasks" in done.stderr

    # Pull it back into a fresh data folder, cut short once, then resumed.
    fresh = open_desk(tmp_path / "fresh")
    started = time.monotonic()
    with pytest.raises(pushpull.Interrupted):
        pushpull.pull(fresh, ls.url, remote, TOKEN, stop_after="2:before-save", progress=False)
    pulled = pushpull.pull(fresh, ls.url, remote, TOKEN, progress=False)
    timings["pull_1003"] = round(time.monotonic() - started, 1)
    assert pulled["created"]["tasks"] == 503
    local = pulled["local_project"]
    assert fresh.projects.list_ids() == [local]
    assert local_view(fresh, local) == (settings, counts, tasks)
    assert len(pulled["files"]) == 203 and not pulled["unreachable_media"]
    again = pushpull.pull(fresh, ls.url, remote, TOKEN, progress=False)
    assert again["created"] == {"tasks": 0, "annotations": 0, "predictions": 0, "files": 0}
    assert local_view(fresh, local)[1] == counts

    # Work done on the server comes back on the next pull.
    remote_task = later["tasks"][first]
    response = ls.api.post(f"{ls.url}/api/tasks/{remote_task}/annotations/",
                           json={"result": choice("Pos"), "lead_time": 9.0}, timeout=60)
    assert response.status_code == 201, response.text
    back = pushpull.pull(fresh, ls.url, remote, TOKEN, progress=False)
    assert back["created"]["annotations"] == 1 and back["created"]["tasks"] == 0
    local_task = back["tasks"][remote_task]
    assert [a["result"] for _, a in fresh.tasks.annotations_of(local_task)][-1] == choice("Pos")
    fresh.close()
    print(f"\npush/pull timings (s): {timings}", file=sys.stderr)


def test_single_key_project_via_cli_with_env_interruption(label_studio, tmp_path):
    """An image-only project (media uploaded into an already configured project, tasks that came
    from file uploads), pushed by the CLI, stopped by LABELDESK_PUSHPULL_STOP_AFTER, resumed."""
    ls = label_studio
    app = open_desk(tmp_path / "desk")
    project = app.projects.create({"title": "Images", "label_config": IMAGE_CONFIG}, 1)
    answer = app.imports.import_files(project, [(f"shot_{n}.png", png(700 + n))
                                                for n in range(12)], 1, return_task_ids=True)
    for task_id in answer["task_ids"][::2]:
        app.annotations.create(task_id, {"result": [{
            "from_name": "kind", "to_name": "image", "type": "choices",
            "value": {"choices": ["A"]}}]}, 1)
    settings, counts, tasks = local_view(app, project)
    app.close()

    args = ("push", str(project), "--to", ls.url, "--token", TOKEN, "--batch-size", "5")
    stopped = cli(tmp_path / "desk", *args, env={"LABELDESK_PUSHPULL_STOP_AFTER": "1"})
    assert stopped.returncode == 3, stopped.stderr
    assert "Run the same command again to resume" in stopped.stderr
    resumed = cli(tmp_path / "desk", *args)
    assert resumed.returncode == 0, resumed.stderr
    assert "tasks" in resumed.stderr and "[###" in resumed.stderr  # the progress bar
    mapping = orjson.loads(resumed.stdout)
    remote = mapping["remote_project"]
    assert len(mapping["tasks"]) == 12 and len(mapping["files"]) == 12
    assert project_counts(ls, remote) == counts

    pulled = cli(tmp_path / "back", "pull", ls.url, str(remote), "--token", TOKEN)
    assert pulled.returncode == 0, pulled.stderr
    back = open_desk(tmp_path / "back")
    local = orjson.loads(pulled.stdout)["local_project"]
    assert local_view(back, local) == (settings, counts, tasks)
    back.close()

    # A personal access token (JWT) works too: exchanged for access tokens by the client.
    pat = ls.api.post(ls.url + "/api/token/", timeout=60)
    assert pat.status_code == 201, pat.text
    again = cli(tmp_path / "back", "pull", ls.url, str(remote), "--token", pat.json()["token"])
    assert again.returncode == 0, again.stderr
    assert "created 0 tasks, 0 annotations, 0 predictions, 0 files" in again.stderr

    wrong = cli(tmp_path / "back", "pull", ls.url, "99999", "--token", TOKEN)
    assert wrong.returncode == 1 and "There is no project 99999" in wrong.stderr
    bad_token = cli(tmp_path / "back", "pull", ls.url, str(remote), "--token", "nope")
    assert bad_token.returncode == 1 and "refused the token" in bad_token.stderr
