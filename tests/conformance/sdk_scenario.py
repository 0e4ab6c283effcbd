"""One script of label-studio-sdk 2.1.2 calls (the `LabelStudio` client and the legacy
`Client`), for tests/conformance/test_conformance.py::test_sdk_calls_raise_alike: each call is
recorded as "ok" or "raises <exception>", on Label Studio and on LabelDesk alike."""

from label_studio_sdk import Client, LabelStudio

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
          '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')
BOXES = ('<View><Image name="image" value="$image"/><RectangleLabels name="label" '
         'toName="image"><Label value="Airplane"/></RectangleLabels></View>')
CHOICE = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
           "value": {"choices": ["Positive"]}}]


def scenario(url, token):
    client = LabelStudio(base_url=url, api_key=token)
    out = []

    def call(name, fn):
        try:
            value = fn()
            if type(value).__name__.startswith(("SyncPager", "Pager")):
                value = list(value)  # a pager fetches its pages as it is read
            out.append((name, "ok"))
            return value
        except Exception as e:  # noqa: BLE001
            out.append((name, f"raises {type(e).__name__}"))
            return None

    call("users.whoami", lambda: client.users.whoami())
    call("users.list", lambda: client.users.list())
    p = call("projects.create", lambda: client.projects.create(title="SDK project",
                                                               label_config=CONFIG))
    pid = p.id if p else 0
    call("projects.get", lambda: client.projects.get(id=pid))
    call("projects.list", lambda: list(client.projects.list()))
    call("projects.update", lambda: client.projects.update(id=pid, title="SDK project 2"))
    call("projects.import_tasks", lambda: client.projects.import_tasks(
        id=pid, request=[{"text": "a"}, {"text": "b"}]))
    call("tasks.list", lambda: list(client.tasks.list(project=pid)))
    t = call("tasks.create", lambda: client.tasks.create(project=pid, data={"text": "c"}))
    tid = t.id if t else 0
    call("tasks.get", lambda: client.tasks.get(id=str(tid)))
    call("tasks.update", lambda: client.tasks.update(id=str(tid), data={"text": "c2"}))
    a = call("annotations.create", lambda: client.annotations.create(id=tid, result=CHOICE))
    aid = a.id if a else 0
    call("annotations.get", lambda: client.annotations.get(id=aid))
    call("annotations.update", lambda: client.annotations.update(id=aid, result=CHOICE))
    call("annotations.list", lambda: client.annotations.list(id=tid))
    pr = call("predictions.create", lambda: client.predictions.create(
        task=tid, result=CHOICE, score=0.5, model_version="v1"))
    prid = pr.id if pr else 0
    call("predictions.list", lambda: client.predictions.list(task=tid))
    call("predictions.get", lambda: client.predictions.get(id=prid))
    call("predictions.update", lambda: client.predictions.update(id=prid, score=0.7))
    v = call("views.create", lambda: client.views.create(project=pid, data={
        "title": "Mine", "filters": {"conjunction": "and", "items": []}}))
    vid = v.id if v else 0
    call("views.list", lambda: client.views.list(project=pid))
    call("views.update", lambda: client.views.update(id=str(vid), data={"title": "Mine 2"}))
    call("actions.list", lambda: client.actions.list(project=pid))
    call("projects.exports.list_formats", lambda: client.projects.exports.list_formats(id=pid))
    e = call("projects.exports.create", lambda: client.projects.exports.create(
        id=pid, title="snap"))
    call("projects.exports.list", lambda: client.projects.exports.list(id=pid))
    if e:
        call("projects.exports.get", lambda: client.projects.exports.get(id=pid, export_pk=e.id))
    call("ml.list", lambda: client.ml.list(project=pid))
    call("import_storage.local.list", lambda: client.import_storage.local.list(project=pid))
    call("export_storage.local.list", lambda: client.export_storage.local.list(project=pid))
    call("tasks.list.fields_all", lambda: list(client.tasks.list(project=pid, fields="all")))
    call("predictions.delete", lambda: client.predictions.delete(id=prid))
    call("annotations.delete", lambda: client.annotations.delete(id=aid))
    call("views.delete", lambda: client.views.delete(id=str(vid)))
    call("tasks.delete", lambda: client.tasks.delete(id=str(tid)))
    call("tasks.get.deleted", lambda: client.tasks.get(id=str(tid)))
    call("projects.delete", lambda: client.projects.delete(id=pid))
    call("projects.get.deleted", lambda: client.projects.get(id=pid))

    # the legacy Client (SDK 2.1.2 still ships it), its shortcuts included
    legacy = Client(url=url, api_key=token)
    lp = call("legacy.start_project", lambda: legacy.start_project(
        title="Legacy project", label_config=BOXES))
    ids = call("legacy.import_tasks", lambda: lp.import_tasks(
        [{"image": "/static/samples/sample.jpg"}])) if lp else None
    if ids:
        call("legacy.create_prediction.string_result", lambda: lp.create_prediction(
            ids[0], result="Airplane", score=0.5))
        call("legacy.create_prediction.dict_result", lambda: lp.create_prediction(
            ids[0], result={"rectanglelabels": ["Airplane"]}, score=0.5))
        call("legacy.get_tasks", lambda: lp.get_tasks())
        call("legacy.get_labeled_tasks", lambda: lp.get_labeled_tasks())
        call("legacy.get_unlabeled_tasks", lambda: lp.get_unlabeled_tasks())
        call("legacy.export_tasks", lambda: lp.export_tasks())
        call("legacy.get_params", lambda: lp.get_params())
    call("legacy.get_projects", lambda: legacy.get_projects())
    call("legacy.check_connection", lambda: legacy.check_connection())
    return out


