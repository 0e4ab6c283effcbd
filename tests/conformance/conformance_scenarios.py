"""The request sequence replayed against Label Studio 1.23.2 and LabelDesk (conformance_replay.py).

Paths are spelled as Label Studio routes them (an SDK's spelling, trailing slashes and all).
`{name}` / "@name" are ids captured by `save=` from an earlier answer of the same server; FILES
is the local-files folder both servers may read (the same absolute path on both).
"""

import orjson
from conformance_replay import step

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
</View>"""

CONFIG_NER = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
  <Labels name="label" toName="text"><Label value="Person"/><Label value="Place"/></Labels>
</View>"""

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="kind" toName="image"><Choice value="A"/><Choice value="B"/></Choices>
</View>"""

BAD_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="nowhere"><Choice value="Pos"/></Choices>
</View>"""

JSON_TYPE = {"Content-Type": "application/json"}


def choice(value, rid="r1"):
    return [{"id": rid, "from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": [value]}}]


def span(start, end, label="Person"):
    return [{"id": f"s{start}", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": start, "end": end, "text": "x" * (end - start),
                       "labels": [label]}}]


def query(*items, conjunction="and", ordering=None):
    body = {"filters": {"conjunction": conjunction,
                        "items": [{"filter": f, "operator": o, "type": t, "value": v}
                                  for f, o, t, v in items]}}
    if ordering:
        body["ordering"] = ordering
    return orjson.dumps(body).decode()


def users():
    return [
        step("health", "get", "/health"),
        step("users.whoami", "get", "/api/current-user/whoami", save={"me": "id"}),
        step("users.current", "get", "/api/current-user"),
        step("users.patch", "patch", "/api/users/{me}/",
             {"first_name": "Ada", "last_name": "Lovelace"}),
        step("users.patch.phone", "patch", "/api/users/{me}/", {"phone": "12345"}),
        step("users.patch.bad_type", "patch", "/api/users/{me}/",
             {"first_name": {"not": "text"}}),
        step("users.patch.restore", "patch", "/api/users/{me}/",
             {"first_name": "Ada", "last_name": "Byron"}),
        step("users.whoami.after", "get", "/api/current-user/whoami"),
        step("users.list", "get", "/api/users/"),
        step("users.get", "get", "/api/users/{me}/"),
        step("users.get.unknown", "get", "/api/users/9999/"),
        step("users.patch.unknown", "patch", "/api/users/9999/", {"last_name": "X"}),
        step("users.current.hotkeys", "get", "/api/current-user/hotkeys/"),
        step("users.current.hotkeys.bad", "patch", "/api/current-user/hotkeys/",
             {"custom_hotkeys": {"no-colon": {"key": "x"}}}),
        step("users.current.hotkeys.patch", "patch", "/api/current-user/hotkeys/",
             {"custom_hotkeys": {"editor:save": {"key": "ctrl+s", "active": True}}}),
        step("orgs.list", "get", "/api/organizations/"),
        step("tokens.legacy", "get", "/api/current-user/token"),
        step("tokens.list.empty", "get", "/api/token/"),
        step("tokens.create", "post", "/api/token/"),
        step("tokens.list", "get", "/api/token/"),
        step("tokens.jwt_settings", "get", "/api/jwt/settings"),
        step("tokens.refresh.bad", "post", "/api/token/refresh/", {"refresh": "not-a-token"}),
        step("tokens.refresh.missing", "post", "/api/token/refresh/", {}),
    ]


def projects():
    full = {"title": "Sentiment", "description": "first project", "label_config": CONFIG,
            "color": "#FF0000", "maximum_annotations": 2, "show_skip_button": False,
            "expert_instruction": "<b>Be kind</b>", "show_instruction": True,
            "min_annotations_to_start_training": 5, "sampling": "Uniform sampling"}
    return [
        step("projects.list.empty", "get", "/api/projects/"),
        step("projects.create", "post", "/api/projects/", full, save={"p1": "id"}),
        step("projects.create.minimal", "post", "/api/projects/", {"title": "Bare"},
             save={"p2": "id"}),
        step("projects.create.empty_body", "post", "/api/projects/", {}, save={"p3": "id"}),
        step("projects.create.images", "post", "/api/projects/",
             {"title": "Images", "label_config": IMAGE_CONFIG}, save={"p4": "id"}),
        step("projects.create.ner", "post", "/api/projects/",
             {"title": "Spans", "label_config": CONFIG_NER}, save={"p5": "id"}),
        step("projects.create.scratch", "post", "/api/projects/",
             {"title": "Scratch", "label_config": CONFIG}, save={"p6": "id"}),
        step("projects.create.bad.title_short", "post", "/api/projects/", {"title": "ab"}),
        step("projects.create.bad.title_type", "post", "/api/projects/", {"title": 12345}),
        step("projects.create.bad.config", "post", "/api/projects/",
             {"title": "Broken", "label_config": BAD_CONFIG}),
        step("projects.create.bad.config_xml", "post", "/api/projects/",
             {"title": "Broken", "label_config": "<View><Text"}),
        step("projects.create.bad.max_annotations", "post", "/api/projects/",
             {"title": "Typed", "maximum_annotations": "many"}),
        step("projects.create.bad.color_type", "post", "/api/projects/",
             {"title": "Typed", "show_skip_button": "perhaps"}),
        step("projects.create.bad.not_json", "post", "/api/projects/", data="{not json",
             headers=JSON_TYPE),
        step("projects.create.bad.list_body", "post", "/api/projects/", [1, 2]),
        step("projects.get", "get", "/api/projects/{p1}/"),
        step("projects.get.minimal", "get", "/api/projects/{p2}/"),
        step("projects.get.unknown", "get", "/api/projects/9999/"),
        step("projects.get.not_int", "get", "/api/projects/abc/"),
        step("projects.list", "get", "/api/projects/"),
        step("projects.list.include_id_title", "get", "/api/projects/",
             params={"include": "id,title"}),
        step("projects.list.include_counts", "get", "/api/projects/",
             params={"include": "id,task_number,total_annotations_number,"
                                "num_tasks_with_annotations"}),
        step("projects.list.include_config", "get", "/api/projects/",
             params={"include": "id,label_config,parsed_label_config"}),
        step("projects.list.include_unknown", "get", "/api/projects/",
             params={"include": "id,no_such_field"}),
        step("projects.list.page", "get", "/api/projects/", params={"page": 2, "page_size": 2}),
        step("projects.list.page_out", "get", "/api/projects/",
             params={"page": 9, "page_size": 2}),
        step("projects.list.page_bad", "get", "/api/projects/", params={"page": "x"}),
        step("projects.list.ordering", "get", "/api/projects/",
             params={"ordering": "title", "include": "id,title"}),
        step("projects.list.title", "get", "/api/projects/",
             params={"title": "Images", "include": "id,title"}),
        step("projects.counts", "get", "/api/projects/counts/"),
        step("projects.patch", "patch", "/api/projects/{p2}/",
             {"title": "Bare renamed", "description": "now described", "color": "#00FF00"}),
        step("projects.patch.config", "patch", "/api/projects/{p2}/", {"label_config": CONFIG}),
        step("projects.patch.bad.config", "patch", "/api/projects/{p2}/",
             {"label_config": BAD_CONFIG}),
        step("projects.patch.bad.title", "patch", "/api/projects/{p2}/", {"title": ""}),
        step("projects.patch.bad.type", "patch", "/api/projects/{p2}/",
             {"maximum_annotations": "two"}),
        step("projects.patch.unknown", "patch", "/api/projects/9999/", {"title": "Nope"}),
        step("projects.get.patched", "get", "/api/projects/{p2}/"),
        step("projects.validate", "post", "/api/projects/{p1}/validate/",
             {"label_config": CONFIG}),
        step("projects.validate.bad", "post", "/api/projects/{p1}/validate/",
             {"label_config": BAD_CONFIG}),
        step("projects.validate.global", "post", "/api/projects/validate/",
             {"label_config": CONFIG}),
        step("projects.delete", "delete", "/api/projects/{p3}/"),
        step("projects.get.deleted", "get", "/api/projects/{p3}/"),
        step("projects.delete.unknown", "delete", "/api/projects/9999/"),
    ]


def imports():
    csv = b"text,score\nfirst csv row,1\nsecond csv row,2\nthird csv row,3\n"
    tsv = b"text\tscore\nfirst tsv row\t1\nsecond tsv row\t2\n"
    return [
        step("import.json.data", "post", "/api/projects/{p1}/import",
             [{"text": "I love it"}, {"text": "I hate it"}, {"text": "It is fine"}]),
        step("import.json.tasks", "post", "/api/projects/{p1}/import",
             [{"data": {"text": "Annotated already"}, "meta": {"source": "json"},
               "annotations": [{"result": choice("Pos"), "lead_time": 2.5}],
               "predictions": [{"result": choice("Neg"), "score": 0.4, "model_version": "v1"}]},
              {"data": {"text": "Predicted only"},
               "predictions": [{"result": choice("Pos"), "score": 0.9, "model_version": "v2"}]}]),
        step("import.json.single", "post", "/api/projects/{p1}/import", {"text": "Lonely one"}),
        step("import.json.return_ids", "post", "/api/projects/{p1}/import",
             [{"text": "With ids"}], params={"return_task_ids": "true"}),
        step("import.csv", "post", "/api/projects/{p1}/import",
             files={"file": ("rows.csv", csv, "text/csv")}),
        step("import.tsv", "post", "/api/projects/{p2}/import",
             files={"file": ("rows.tsv", tsv, "text/tab-separated-values")}),
        step("import.json.file", "post", "/api/projects/{p5}/import",
             files={"file": ("tasks.json", orjson.dumps([{"text": "Ada met Byron in London"},
                                                         {"text": "Paris"}]),
                             "application/json")}),
        step("import.txt", "post", "/api/projects/{p2}/import",
             files={"file": ("lines.txt", b"line one\nline two\n", "text/plain")}),
        step("import.scratch", "post", "/api/projects/{p6}/import",
             [{"text": "scratch one"}, {"text": "scratch two"}],
             params={"return_task_ids": "true"}, save={"x1": "task_ids.0", "x2": "task_ids.1"}),
        step("import.bad.empty_list", "post", "/api/projects/{p1}/import", []),
        step("import.bad.not_json", "post", "/api/projects/{p1}/import", data="[{oops",
             headers=JSON_TYPE),
        step("import.bad.data_string", "post", "/api/projects/{p1}/import",
             [{"data": "just a string"}]),
        step("import.bad.scalar", "post", "/api/projects/{p1}/import", 42),
        step("import.bad.unknown_project", "post", "/api/projects/9999/import",
             [{"text": "nowhere"}]),
        step("import.bad.annotation_result", "post", "/api/projects/{p1}/import",
             [{"data": {"text": "bad ann"}, "annotations": [{"result": "not a list"}]}]),
        step("import.file_uploads", "get", "/api/projects/{p1}/file-uploads", sort="file"),
        step("import.project_counts", "get", "/api/projects/{p1}/",
             params={"include": "id"}),
    ]


FIELDS_INCLUDES = [
    ("all", None), ("task_only", None),
    ("all", "id"), ("task_only", "id"),
    ("all", "id,data"), ("task_only", "id,data,meta"),
    ("all", "id,annotations,predictions"), ("task_only", "id,annotations_results"),
    ("all", "id,total_annotations,total_predictions,cancelled_annotations"),
    ("all", "id,completed_at,annotators,predictions_score"),
    ("task_only", "id,is_labeled,inner_id,file_upload,storage_filename"),
]


def tasks():
    steps = [
        step("tasks.list", "get", "/api/tasks/", params={"project": "{p1}"},
             save={"t1": "tasks.0.id", "t2": "tasks.1.id", "t3": "tasks.2.id",
                   "t4": "tasks.3.id", "t5": "tasks.4.id", "t9": "tasks.-1.id"}),
    ]
    for fields, include in FIELDS_INCLUDES:
        params = {"project": "{p1}", "fields": fields}
        if include:
            params["include"] = include
        name = f"tasks.list.fields_{fields}" + (f".include_{include}" if include else "")
        steps.append(step(name, "get", "/api/tasks/", params=params))
    steps += [
        step("tasks.list.page", "get", "/api/tasks/",
             params={"project": "{p1}", "page": 2, "page_size": 3}),
        step("tasks.list.page_out", "get", "/api/tasks/",
             params={"project": "{p1}", "page": 50, "page_size": 3}),
        step("tasks.list.page_size_bad", "get", "/api/tasks/",
             params={"project": "{p1}", "page_size": "lots"}),
        step("tasks.list.no_project", "get", "/api/tasks/"),
        step("tasks.list.unknown_project", "get", "/api/tasks/", params={"project": 9999}),
        step("tasks.list.project_not_int", "get", "/api/tasks/", params={"project": "abc"}),
        step("tasks.list.resolve_uri", "get", "/api/tasks/",
             params={"project": "{p1}", "resolve_uri": "false", "fields": "task_only"}),
        step("tasks.list.ids", "get", "/api/tasks/",
             params={"project": "{p1}", "ids": "{t1},{t2}", "fields": "task_only"}),
        step("tasks.project_list", "get", "/api/projects/{p1}/tasks/"),
        step("tasks.project_list.page", "get", "/api/projects/{p1}/tasks/",
             params={"page": 1, "page_size": 2}),
        step("tasks.get", "get", "/api/tasks/{t1}/"),
        step("tasks.get.annotated", "get", "/api/tasks/{t4}/"),
        step("tasks.get.predicted", "get", "/api/tasks/{t5}/"),
        step("tasks.get.unknown", "get", "/api/tasks/99999/"),
        step("tasks.get.not_int", "get", "/api/tasks/abc/"),
        step("tasks.create", "post", "/api/tasks/",
             {"project": "@p1", "data": {"text": "Made by POST"}, "meta": {"m": 1}},
             save={"tnew": "id"}),
        step("tasks.create.project_tasks", "post", "/api/projects/{p1}/tasks/",
             {"data": {"text": "Made under the project"}}),
        step("tasks.create.bad.no_data", "post", "/api/tasks/", {"project": "@p1"}),
        step("tasks.create.bad.data_string", "post", "/api/tasks/",
             {"project": "@p1", "data": "text"}),
        step("tasks.create.bad.unknown_project", "post", "/api/tasks/",
             {"project": 9999, "data": {"text": "x"}}),
        step("tasks.create.bad.no_project", "post", "/api/tasks/", {"data": {"text": "x"}}),
        step("tasks.patch.data", "patch", "/api/tasks/{tnew}/",
             {"data": {"text": "Changed by PATCH"}}),
        step("tasks.patch.meta", "patch", "/api/tasks/{tnew}/", {"meta": {"m": 2, "n": "x"}}),
        step("tasks.patch.is_labeled", "patch", "/api/tasks/{tnew}/", {"is_labeled": True}),
        step("tasks.patch.bad.data_list", "patch", "/api/tasks/{x2}/", {"data": [1, 2]}),
        step("tasks.patch.unknown", "patch", "/api/tasks/99999/", {"data": {"text": "x"}}),
        step("tasks.get.patched", "get", "/api/tasks/{tnew}/"),
        step("tasks.delete", "delete", "/api/tasks/{tnew}/"),
        step("tasks.get.deleted", "get", "/api/tasks/{tnew}/"),
        step("tasks.delete.again", "delete", "/api/tasks/{tnew}/"),
        step("tasks.delete_all.p2", "delete", "/api/projects/{p2}/tasks/"),
        step("tasks.list.p2_after_delete_all", "get", "/api/tasks/",
             params={"project": "{p2}"}),
        step("tasks.import.formulas", "post", "/api/projects/{p2}/import",
             [{"text": "=1+2"}, {"text": "+cmd"}, {"text": "plain"}]),
        step("tasks.project_counts", "get", "/api/projects/{p1}/"),
    ]
    return steps


def annotations():
    return [
        step("annotations.create", "post", "/api/tasks/{t1}/annotations/",
             {"result": choice("Pos"), "lead_time": 3.5}, save={"a1": "id"}),
        step("annotations.create.second", "post", "/api/tasks/{t1}/annotations/",
             {"result": choice("Neg"), "ground_truth": True}, save={"a2": "id"}),
        step("annotations.create.cancelled", "post", "/api/tasks/{t2}/annotations/",
             {"result": [], "was_cancelled": True}, save={"a3": "id"}),
        step("annotations.create.empty", "post", "/api/tasks/{t3}/annotations/", {},
             save={"a4": "id"}),
        step("annotations.create.ner", "post", "/api/tasks/{t3}/annotations/",
             {"result": choice("Pos", "r9")}),
        step("annotations.create.bad.result_type", "post", "/api/tasks/{x1}/annotations/",
             {"result": "Pos"}),
        step("annotations.create.bad.result_items", "post", "/api/tasks/{x1}/annotations/",
             {"result": [1, 2]}),
        step("annotations.create.bad.lead_time", "post", "/api/tasks/{x1}/annotations/",
             {"result": choice("Pos"), "lead_time": "slow"}),
        step("annotations.create.bad.not_json", "post", "/api/tasks/{x1}/annotations/",
             data="{", headers=JSON_TYPE),
        step("annotations.create.unknown_task", "post", "/api/tasks/99999/annotations/",
             {"result": choice("Pos")}),
        step("annotations.list", "get", "/api/tasks/{t1}/annotations/"),
        step("annotations.list.unknown_task", "get", "/api/tasks/99999/annotations/"),
        step("annotations.get", "get", "/api/annotations/{a1}/"),
        step("annotations.get.cancelled", "get", "/api/annotations/{a3}/"),
        step("annotations.get.unknown", "get", "/api/annotations/99999/"),
        step("annotations.patch", "patch", "/api/annotations/{a1}/",
             {"result": choice("Neg"), "lead_time": 7}),
        step("annotations.patch.ground_truth", "patch", "/api/annotations/{a1}/",
             {"ground_truth": True}),
        step("annotations.patch.bad.result", "patch", "/api/annotations/{a1}/",
             {"result": {"not": "a list"}}),
        step("annotations.patch.unknown", "patch", "/api/annotations/99999/",
             {"result": []}),
        step("annotations.put", "put", "/api/annotations/{a2}/",
             {"result": choice("Pos"), "ground_truth": False}),
        step("annotations.get.patched", "get", "/api/annotations/{a1}/"),
        step("annotations.task_after", "get", "/api/tasks/{t1}/"),
        step("annotations.task_list_after", "get", "/api/tasks/",
             params={"project": "{p1}", "fields": "all",
                     "include": "id,total_annotations,cancelled_annotations,is_labeled,"
                                "annotators,completed_at"}),
        step("annotations.delete", "delete", "/api/annotations/{a4}/"),
        step("annotations.get.deleted", "get", "/api/annotations/{a4}/"),
        step("annotations.delete.unknown", "delete", "/api/annotations/99999/"),
        step("annotations.project_counts", "get", "/api/projects/{p1}/"),
        step("annotations.ner.tasks", "get", "/api/tasks/", params={"project": "{p5}"},
             save={"n1": "tasks.0.id"}),
        step("annotations.ner.create", "post", "/api/tasks/{n1}/annotations/",
             {"result": span(0, 3) + span(16, 22, "Place")}),
        step("annotations.ner.task", "get", "/api/tasks/{n1}/"),
    ]


def predictions():
    return [
        step("predictions.create", "post", "/api/predictions/",
             {"task": "@t2", "result": choice("Pos"), "score": 0.75, "model_version": "m1"},
             save={"pr1": "id"}),
        step("predictions.create.no_score", "post", "/api/predictions/",
             {"task": "@t3", "result": choice("Neg"), "model_version": "m2"},
             save={"pr2": "id"}),
        step("predictions.list", "get", "/api/predictions/"),
        step("predictions.list.task", "get", "/api/predictions/", params={"task": "{t2}"}),
        step("predictions.list.project", "get", "/api/predictions/",
             params={"project": "{p1}"}),
        step("predictions.get", "get", "/api/predictions/{pr1}/"),
        step("predictions.get.unknown", "get", "/api/predictions/99999/"),
        step("predictions.patch", "patch", "/api/predictions/{pr1}/",
             {"score": 0.5, "model_version": "m1b"}),
        step("predictions.patch.bad", "patch", "/api/predictions/{pr1}/", {"score": "x"}),
        step("predictions.patch.list_body", "patch", "/api/predictions/{pr1}/", []),
        step("predictions.delete", "delete", "/api/predictions/{pr2}/"),
        step("predictions.get.deleted", "get", "/api/predictions/{pr2}/"),
        step("predictions.model_versions", "get", "/api/projects/{p1}/model-versions/"),
        step("predictions.import", "post", "/api/projects/{p1}/import/predictions",
             [{"task": "@t3", "result": choice("Pos"), "score": 0.3, "model_version": "m3"}]),
        step("predictions.import.bad", "post", "/api/projects/{p1}/import/predictions",
             [{"result": choice("Pos")}]),
        step("predictions.create.bad.no_task", "post", "/api/predictions/",
             {"result": choice("Pos")}),
        step("predictions.create.bad.unknown_task", "post", "/api/predictions/",
             {"task": 99999, "result": choice("Pos")}),
        step("predictions.create.bad.score_text", "post", "/api/predictions/",
             {"task": "@x1", "result": choice("Pos"), "score": "high"}),
        step("predictions.create.bad.score_nan", "post", "/api/predictions/",
             {"task": "@x1", "result": choice("Pos"), "score": "nan"}),
        step("predictions.create.bad.result_type", "post", "/api/predictions/",
             {"task": "@x1", "result": 5}),
        step("predictions.import.bad_score", "post", "/api/projects/{p6}/import/predictions",
             [{"task": "@x1", "result": choice("Pos"), "score": "high"}]),
        step("predictions.task_after", "get", "/api/tasks/{t2}/"),
        step("predictions.task_list", "get", "/api/tasks/",
             params={"project": "{p1}", "fields": "all",
                     "include": "id,predictions,total_predictions,predictions_score,"
                                "predictions_model_versions"}),
    ]


def data_manager():
    view_data = {"title": "Loved", "type": "list", "target": "tasks",
                 "filters": {"conjunction": "and", "items": [
                     {"filter": "filter:tasks:data.text", "operator": "contains",
                      "type": "String", "value": "love"}]},
                 "ordering": ["-tasks:id"], "hiddenColumns": {"explore": [], "labeling": []}}
    steps = [
        step("dm.views.list.empty", "get", "/api/dm/views/", params={"project": "{p1}"}),
        step("dm.views.create", "post", "/api/dm/views/", {"project": "@p1", "data": view_data},
             save={"v1": "id"}),
        step("dm.views.create.plain", "post", "/api/dm/views/",
             {"project": "@p1", "data": {"title": "Everything"}}, save={"v2": "id"}),
        step("dm.views.create.bad.project", "post", "/api/dm/views/",
             {"project": 9999, "data": {"title": "x"}}),
        step("dm.views.create.bad.filters", "post", "/api/dm/views/",
             {"project": "@p6", "data": {"filters": "everything"}}),
        step("dm.views.get", "get", "/api/dm/views/{v1}/"),
        step("dm.views.get.unknown", "get", "/api/dm/views/9999/"),
        step("dm.views.list", "get", "/api/dm/views/", params={"project": "{p1}"}),
        step("dm.views.patch", "patch", "/api/dm/views/{v2}/",
             {"project": "@p1", "data": {"title": "Renamed view", "ordering": ["tasks:id"]}}),
        step("dm.views.tasks", "get", "/api/tasks/",
             params={"view": "{v1}", "project": "{p1}", "fields": "task_only"}),
        step("dm.views.tasks.plain", "get", "/api/tasks/",
             params={"view": "{v2}", "fields": "task_only", "include": "id"}),
        step("dm.views.order", "post", "/api/dm/views/order/",
             {"project": "@p1", "ids": ["@v2", "@v1"]}),
        step("dm.views.list.ordered", "get", "/api/dm/views/", params={"project": "{p1}"}),
        step("dm.views.delete", "delete", "/api/dm/views/{v2}/"),
        step("dm.views.get.deleted", "get", "/api/dm/views/{v2}/"),
        step("dm.actions.list", "get", "/api/dm/actions/", params={"project": "{p1}"}),
        step("dm.columns", "get", "/api/dm/columns/", params={"project": "{p1}"}),
        step("dm.project", "get", "/api/dm/project/", params={"project": "{p1}"}),
    ]
    filters = [
        ("id_greater", [("filter:tasks:id", "greater", "Number", 0)]),
        ("text_contains", [("filter:tasks:data.text", "contains", "String", "csv")]),
        ("text_not_contains", [("filter:tasks:data.text", "not_contains", "String", "csv")]),
        ("text_equal", [("filter:tasks:data.text", "equal", "String", "I love it")]),
        ("annotations_equal", [("filter:tasks:total_annotations", "equal", "Number", 0)]),
        ("annotations_greater", [("filter:tasks:total_annotations", "greater", "Number", 0)]),
        ("predictions_greater", [("filter:tasks:total_predictions", "greater", "Number", 0)]),
        ("cancelled", [("filter:tasks:cancelled_annotations", "greater", "Number", 0)]),
        ("completed_empty", [("filter:tasks:completed_at", "empty", "Datetime", True)]),
        ("labeled", [("filter:tasks:is_labeled", "equal", "Boolean", True)]),
        ("in_range", [("filter:tasks:id", "in", "Number", {"min": 1, "max": 3})]),
        ("or_two", [("filter:tasks:data.text", "contains", "String", "love"),
                    ("filter:tasks:data.text", "contains", "String", "hate")]),
    ]
    for name, items in filters:
        conjunction = "or" if name.startswith("or_") else "and"
        steps.append(step(f"dm.filter.{name}", "get", "/api/tasks/",
                          params={"project": "{p1}", "fields": "task_only", "include": "id,data",
                                  "query": query(*items, conjunction=conjunction)}))
    steps += [
        step("dm.order.text", "get", "/api/tasks/",
             params={"project": "{p1}", "fields": "task_only", "include": "id",
                     "query": orjson.dumps({"ordering": ["tasks:data.text"]}).decode()}),
        step("dm.order.annotations_desc", "get", "/api/tasks/",
             params={"project": "{p1}", "fields": "task_only", "include": "id",
                     "query": orjson.dumps({"ordering": ["-tasks:total_annotations"]}).decode()}),
        step("dm.query.bad_json", "get", "/api/tasks/",
             params={"project": "{p1}", "query": "{broken"}),
        step("dm.actions.delete_predictions", "post", "/api/dm/actions/",
             {"selectedItems": {"all": False, "included": ["@t5"]}},
             params={"id": "delete_tasks_predictions", "project": "{p1}"}),
        step("dm.actions.delete_annotations", "post", "/api/dm/actions/",
             {"selectedItems": {"all": False, "included": ["@t2"]}},
             params={"id": "delete_tasks_annotations", "project": "{p1}"}),
        step("dm.actions.delete_tasks", "post", "/api/dm/actions/",
             {"selectedItems": {"all": False, "included": ["@t9"]}},
             params={"id": "delete_tasks", "project": "{p1}"}),
        step("dm.actions.unknown", "post", "/api/dm/actions/",
             {"selectedItems": {"all": False, "included": ["@t1"]}},
             params={"id": "no_such_action", "project": "{p1}"}),
        step("dm.actions.no_selection", "post", "/api/dm/actions/", {},
             params={"id": "delete_tasks_predictions", "project": "{p1}"}),
        step("dm.actions.tasks_after", "get", "/api/tasks/",
             params={"project": "{p1}", "fields": "task_only",
                     "include": "id,total_annotations,total_predictions"}),
        step("dm.views.reset", "delete", "/api/dm/views/reset/", {"project": "@p1"}),
        step("dm.views.list.after_reset", "get", "/api/dm/views/", params={"project": "{p1}"}),
        step("dm.project_counts", "get", "/api/projects/{p1}/"),
    ]
    return steps


def exports():
    steps = [
        step("export.formats", "get", "/api/projects/{p1}/export/formats"),
        step("export.formats.images", "get", "/api/projects/{p4}/export/formats"),
    ]
    for kind in ("JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", "YOLO"):
        steps.append(step(f"export.direct.{kind}", "get", "/api/projects/{p1}/export",
                          params={"exportType": kind}))
    steps += [
        step("export.direct.default", "get", "/api/projects/{p1}/export"),
        step("export.direct.all_tasks", "get", "/api/projects/{p1}/export",
             params={"exportType": "JSON", "download_all_tasks": "true"}),
        step("export.direct.ids", "get", "/api/projects/{p1}/export",
             params={"exportType": "JSON_MIN", "ids": "{t1}"}),
        step("export.direct.unknown_type", "get", "/api/projects/{p1}/export",
             params={"exportType": "NOPE"}),
        step("export.direct.unknown_project", "get", "/api/projects/9999/export"),
        step("export.formulas.CSV", "get", "/api/projects/{p2}/export",
             params={"exportType": "CSV", "download_all_tasks": "true"}),
        step("export.formulas.CSV_raw", "get", "/api/projects/{p2}/export",
             params={"exportType": "CSV", "download_all_tasks": "true",
                     "escape_formulas": "false"}),
        step("exports.list.empty", "get", "/api/projects/{p1}/exports/"),
        step("exports.create", "post", "/api/projects/{p1}/exports/", {"title": "Snapshot"},
             save={"e1": "id"}),
        step("exports.create.options", "post", "/api/projects/{p1}/exports/",
             {"title": "Filtered", "task_filter_options": {"only_with_annotations": True},
              "annotation_filter_options": {"ground_truth": True},
              "serialization_options": {"drafts": {"only_id": True},
                                        "predictions": {"only_id": False}}},
             save={"e2": "id"}),
        step("exports.create.bad", "post", "/api/projects/{p1}/exports/",
             {"task_filter_options": "all"}),
        step("exports.create.unknown_project", "post", "/api/projects/9999/exports/", {}),
        step("exports.list", "get", "/api/projects/{p1}/exports/"),
        step("exports.get", "get", "/api/projects/{p1}/exports/{e1}"),
        step("exports.get.unknown", "get", "/api/projects/{p1}/exports/9999"),
        step("exports.convert", "post", "/api/projects/{p1}/exports/{e1}/convert",
             {"export_type": "CSV"}),
        step("exports.convert.bad", "post", "/api/projects/{p1}/exports/{e1}/convert",
             {"export_type": "NOPE"}),
        step("exports.convert.missing", "post", "/api/projects/{p1}/exports/{e1}/convert", {}),
        step("exports.get.converted", "get", "/api/projects/{p1}/exports/{e1}"),
        step("exports.download", "get", "/api/projects/{p1}/exports/{e1}/download"),
        step("exports.download.json", "get", "/api/projects/{p1}/exports/{e1}/download",
             params={"exportType": "JSON"}),
        step("exports.download.csv", "get", "/api/projects/{p1}/exports/{e1}/download",
             params={"exportType": "CSV"}),
        step("exports.download.not_converted", "get",
             "/api/projects/{p1}/exports/{e1}/download", params={"exportType": "TSV"}),
        step("exports.download.filtered", "get", "/api/projects/{p1}/exports/{e2}/download"),
        step("exports.delete", "delete", "/api/projects/{p1}/exports/{e2}"),
        step("exports.get.deleted", "get", "/api/projects/{p1}/exports/{e2}"),
        step("exports.list.after", "get", "/api/projects/{p1}/exports/"),
    ]
    return steps


def storages(files):
    base = {"project": "@p4", "path": str(files), "regex_filter": r".*\.(png|txt)",
            "use_blob_urls": True, "title": "Pictures", "description": "local folder"}
    return [
        step("storages.types", "get", "/api/storages/types"),
        step("storages.export_types", "get", "/api/storages/export/types"),
        step("storages.list.empty", "get", "/api/storages/", params={"project": "{p4}"}),
        step("storages.local.list.empty", "get", "/api/storages/localfiles/",
             params={"project": "{p4}"}),
        step("storages.local.validate", "post", "/api/storages/localfiles/validate", base),
        step("storages.local.create", "post", "/api/storages/localfiles/", base,
             save={"s1": "id"}),
        step("storages.local.create.outside_root", "post", "/api/storages/localfiles/",
             {**base, "path": "/"}),
        step("storages.local.create.missing_dir", "post", "/api/storages/localfiles/",
             {**base, "path": str(files / "no-such-folder")}),
        step("storages.local.create.no_project", "post", "/api/storages/localfiles/",
             {"path": str(files)}),
        step("storages.local.get", "get", "/api/storages/localfiles/{s1}"),
        step("storages.local.get.unknown", "get", "/api/storages/localfiles/9999"),
        step("storages.local.list", "get", "/api/storages/localfiles/",
             params={"project": "{p4}"}),
        step("storages.list", "get", "/api/storages/", params={"project": "{p4}"}),
        step("storages.local.patch", "patch", "/api/storages/localfiles/{s1}",
             {"title": "Pictures renamed"}),
        step("storages.local.patch.full", "patch", "/api/storages/localfiles/{s1}",
             {**base, "title": "Pictures renamed"}),
        step("storages.local.sync", "post", "/api/storages/localfiles/{s1}/sync"),
        step("storages.local.get.synced", "get", "/api/storages/localfiles/{s1}"),
        step("storages.local.tasks", "get", "/api/tasks/",
             params={"project": "{p4}", "fields": "task_only"}, sort="storage_filename",
             save={"st1": "tasks.0.id"}),
        step("storages.local.sync.again", "post", "/api/storages/localfiles/{s1}/sync"),
        step("storages.local.tasks.again", "get", "/api/tasks/",
             params={"project": "{p4}", "fields": "task_only", "include": "id"}),
        step("storages.local.file", "get", "/data/local-files/",
             params={"d": "files/a.txt"}),
        step("storages.local.file.missing", "get", "/data/local-files/",
             params={"d": "files/none.txt"}),
        step("storages.export.local.create", "post", "/api/storages/export/localfiles",
             {"project": "@p1", "path": str(files / "out"), "title": "Out"},
             save={"se1": "id"}),
        step("storages.export.local.sync", "post",
             "/api/storages/export/localfiles/{se1}/sync"),
        step("storages.export.local.list", "get", "/api/storages/export/localfiles",
             params={"project": "{p1}"}),
        step("storages.export.list", "get", "/api/storages/export", params={"project": "{p1}"}),
        step("storages.export.local.delete", "delete",
             "/api/storages/export/localfiles/{se1}"),
        step("storages.local.delete", "delete", "/api/storages/localfiles/{s1}"),
        step("storages.local.get.deleted", "get", "/api/storages/localfiles/{s1}"),
    ]


def ml():
    return [
        step("ml.list", "get", "/api/ml/", params={"project": "{p1}"}),
        step("ml.list.no_project", "get", "/api/ml/"),
        step("ml.create.unreachable", "post", "/api/ml/",
             {"project": "@p1", "url": "http://127.0.0.1:9/", "title": "Gone"}),
        step("ml.create.bad", "post", "/api/ml/", {"project": "@p1"}),
        step("ml.get.unknown", "get", "/api/ml/9999"),
    ]


def errors():
    """Requests with the wrong credentials, method, content type or id (last: some create)."""
    no_token = {"Authorization": None}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return [
        step("errors.no_token.projects", "get", "/api/projects/", headers=no_token),
        step("errors.no_token.whoami", "get", "/api/current-user/whoami", headers=no_token),
        step("errors.no_token.task", "get", "/api/tasks/{t1}/", headers=no_token),
        step("errors.no_token.create", "post", "/api/projects/", {"title": "Anonymous"},
             headers=no_token),
        step("errors.bad_token", "get", "/api/projects/",
             headers={"Authorization": "Token not-a-real-token"}),
        step("errors.bad_scheme", "get", "/api/projects/",
             headers={"Authorization": "Basic Zm9vOmJhcg=="}),
        step("errors.method.put_project_list", "put", "/api/projects/", {"title": "Put"}),
        step("errors.method.delete_project_list", "delete", "/api/projects/"),
        step("errors.method.post_task", "post", "/api/tasks/{t1}/", {"data": {"text": "x"}}),
        step("errors.method.put_annotation_list", "put", "/api/tasks/{t1}/annotations/", {}),
        step("errors.method.patch_exports", "patch", "/api/projects/{p1}/exports/", {}),
        step("errors.unknown_route", "get", "/api/no-such-thing/"),
        step("errors.project.negative_id", "get", "/api/projects/-1/"),
        step("errors.project.float_id", "get", "/api/projects/1.5/"),
        step("errors.project.huge_id", "get", "/api/projects/99999999999999999999/"),
        step("errors.task.zero_id", "get", "/api/tasks/0/"),
        step("errors.project.patch.list_body", "patch", "/api/projects/{p1}/", [1, 2]),
        step("errors.project.patch.not_json", "patch", "/api/projects/{p1}/", data="nope",
             headers=JSON_TYPE),
        step("errors.project.patch.null_title", "patch", "/api/projects/{p1}/",
             {"title": None}),
        step("errors.project.patch.bool_color", "patch", "/api/projects/{p1}/",
             {"color": True}),
        step("errors.task.patch.not_json", "patch", "/api/tasks/{t1}/", data="[",
             headers=JSON_TYPE),
        step("errors.task.patch.string_body", "patch", "/api/tasks/{t1}/", "text"),
        step("errors.annotation.patch.string_body", "patch", "/api/annotations/{a1}/", "x"),
        step("errors.import.no_body", "post", "/api/projects/{p1}/import", data="",
             headers=JSON_TYPE),
        step("errors.import.wrong_file_field", "post", "/api/projects/{p1}/import",
             files={"upload": ("x.txt", b"", "text/plain")}),
        step("errors.import.bad_csv", "post", "/api/projects/{p2}/import",
             files={"file": ("broken.csv", b'text\n"unclosed\n', "text/csv")}),
        step("errors.export.lowercase_type", "get", "/api/projects/{p1}/export",
             params={"exportType": "json"}),
        step("errors.view.list_no_project", "get", "/api/dm/views/"),
        step("errors.actions.no_project", "get", "/api/dm/actions/"),
        step("errors.text_plain_body", "post", "/api/projects/", data='{"title": "Plain"}',
             headers={"Content-Type": "text/plain"}),
        step("errors.form_body", "post", "/api/projects/", data="title=Form+project",
             headers=form),
    ]


def final():
    """The state everything above left, read back (without the scratch project, where the
    requests went that leave LS and LabelDesk with different data on purpose)."""
    steps = [step("final.delete_scratch", "delete", "/api/projects/{p6}/")]
    steps += [step(f"final.projects.get.{p}", "get", f"/api/projects/{{{p}}}/")
             for p in ("p1", "p2", "p4", "p5")]
    steps += [step(f"final.tasks.get.{t}", "get", f"/api/tasks/{{{t}}}/")
              for t in ("t1", "t2", "t3", "t4", "t5")]
    steps += [step(f"final.annotations.list.{t}", "get", f"/api/tasks/{{{t}}}/annotations/")
              for t in ("t2", "t3", "n1")]
    for p in ("p4", "p5"):
        for fields in ("all", "task_only"):
            steps.append(step(f"final.tasks.list.{p}.{fields}", "get", "/api/tasks/",
                              params={"project": f"{{{p}}}", "fields": fields}))
    for kind in ("JSON", "JSON_MIN", "CSV", "COCO", "YOLO", "VOC"):
        steps.append(step(f"final.export.images.{kind}", "get", "/api/projects/{p4}/export",
                          params={"exportType": kind}))
    for kind in ("JSON", "CONLL2003", "CSV", "JSON_MIN"):
        steps.append(step(f"final.export.ner.{kind}", "get", "/api/projects/{p5}/export",
                          params={"exportType": kind}))
    steps += [
        step("final.projects.list", "get", "/api/projects/"),
        step("final.projects.list.include_stats", "get", "/api/projects/",
             params={"include": "id,task_number,finished_task_number,total_predictions_number,"
                                "skipped_annotations_number,ground_truth_number"}),
        step("final.projects.counts", "get", "/api/projects/counts/"),
        step("final.projects.summary", "get", "/api/projects/{p1}/summary/"),
        step("final.projects.next", "get", "/api/projects/{p5}/next/", kind="task"),
        step("final.dm.actions.images", "get", "/api/dm/actions/", params={"project": "{p4}"}),
        step("final.predictions.list", "get", "/api/predictions/", params={"project": "{p1}"}),
        step("final.users.list", "get", "/api/users/"),
        step("final.whoami", "get", "/api/current-user/whoami"),
    ]
    return steps


def sequence(files):
    return (users() + projects() + imports() + tasks() + annotations() + predictions()
            + data_manager() + exports() + storages(files) + ml() + final() + errors())
