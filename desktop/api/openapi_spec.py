"""LabelDesk's OpenAPI 3.1 description as data: the objects, the parameters, and every route
once (OPERATIONS). desktop/api/schema.py builds the document from it and serves it.

The spec is not generated from the routes: it is written here and tests/api/test_api_schema.py fails
when a route has no entry or an entry has no route, so the two cannot drift apart. OPERATIONS
lists every route in its canonical form (no trailing slash; the server takes one anyway). Paths
use OpenAPI's `{name}` where Bottle's rules have `<name>`.
"""

from desktop.io_storages.storages import TYPES as STORAGE_TYPES
from desktop.ui.webapp import APP_ROOTS

REF = "#/components/schemas/"


def ref(name):
    return {"$ref": REF + name}


def array(items):
    return {"type": "array", "items": items}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, \
    {"type": "number"}
OBJ = {"type": "object"}
ANY = {}
DATE = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1}


def obj(props=None, required=(), **extra):
    """An object schema; responses may carry more fields than listed (as Label Studio's do)."""
    schema = {"type": "object", "properties": props or {}}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


# -- the objects ----------------------------------------------------------------------------

RESULT = array(obj({"from_name": STR, "to_name": STR, "type": STR, "value": OBJ,
                    "id": STR}))
USER_BRIEF = obj({"id": INT, "first_name": STR, "last_name": STR, "email": STR,
                  "avatar": nullable(STR)}, ["id", "email"])

SCHEMAS = {
    "Error": obj({
        "id": STR, "status_code": INT, "version": STR,
        "detail": {"anyOf": [STR, OBJ, {"type": "array"}]},
        "exc_info": nullable(STR),
        "validation_errors": {"anyOf": [OBJ, {"type": "array"}, STR]},
    }, ["id", "status_code", "version", "detail"],
        description="Label Studio's error envelope: every 4xx/5xx answer unless noted."),
    "FieldErrors": obj(additionalProperties=ANY,
                       description="A bare error (no envelope): field -> messages, or detail."),
    "Health": obj({"status": {"type": "string", "enum": ["UP"]}}, ["status"]),
    "Version": obj({"release": STR, "edition": STR, "label-studio-os-package": OBJ,
                    "labeldesk": OBJ}, ["release", "edition"]),
    "UserBrief": USER_BRIEF,
    "User": obj({"id": INT, "first_name": STR, "last_name": STR, "username": STR, "email": STR,
                 "avatar": nullable(STR), "initials": STR, "phone": STR,
                 "custom_hotkeys": OBJ, "active_organization": nullable(INT),
                 "allow_newsletters": nullable(BOOL), "date_joined": DATE,
                 "last_activity": DATE}, ["id", "email"]),
    "UserWrite": obj({"first_name": STR, "last_name": STR, "username": STR, "email": STR,
                      "phone": STR, "allow_newsletters": nullable(BOOL)}),
    "Token": obj({"token": STR}, ["token"]),
    "Refresh": obj({"refresh": STR}, ["refresh"]),
    "Project": obj({
        "id": INT, "title": nullable(STR), "description": nullable(STR),
        "label_config": STR, "expert_instruction": nullable(STR),
        "show_instruction": BOOL, "show_skip_button": BOOL, "enable_empty_annotation": BOOL,
        "show_annotation_history": BOOL, "organization": nullable(INT), "color": nullable(STR),
        "maximum_annotations": INT, "is_published": BOOL, "model_version": nullable(STR),
        "is_draft": BOOL, "created_by": nullable(USER_BRIEF), "created_at": DATE,
        "min_annotations_to_start_training": INT, "show_collab_predictions": BOOL,
        "sampling": nullable(STR), "show_ground_truth_first": BOOL,
        "show_overlap_first": BOOL, "overlap_cohort_percentage": INT,
        "control_weights": nullable(OBJ), "parsed_label_config": ANY,
        # counters: null in the answer to a create, as in Label Studio
        "task_number": nullable(INT), "num_tasks_with_annotations": nullable(INT),
        "total_annotations_number": nullable(INT), "total_predictions_number": nullable(INT),
        "useful_annotation_number": nullable(INT), "ground_truth_number": nullable(INT),
        "skipped_annotations_number": nullable(INT), "finished_task_number": nullable(INT),
        "pinned_at": nullable(DATE),
    }, ["id", "title", "label_config", "created_at"]),
    "ProjectWrite": obj({
        "title": nullable({"type": "string", "maxLength": 50}), "description": nullable(STR),
        "label_config": STR, "expert_instruction": nullable(STR), "show_instruction": BOOL,
        "show_skip_button": BOOL, "enable_empty_annotation": BOOL,
        "show_annotation_history": BOOL, "color": nullable(STR),
        "maximum_annotations": INT, "is_published": BOOL, "model_version": nullable(STR),
        "is_draft": BOOL, "min_annotations_to_start_training": INT,
        "show_collab_predictions": BOOL, "sampling": STR, "show_ground_truth_first": BOOL,
        "show_overlap_first": BOOL, "overlap_cohort_percentage": INT,
        "control_weights": OBJ, "pinned_at": nullable(DATE),
    }),
    "ProjectPage": obj({"count": INT, "next": nullable(STR), "previous": nullable(STR),
                        "results": array(ref("Project"))},
                       ["count", "next", "previous", "results"]),
    "ProjectCountsPage": obj({"count": INT, "next": nullable(STR), "previous": nullable(STR),
                              "results": array(obj({"id": INT, "task_number": INT}, ["id"]))},
                             ["count", "results"]),
    "LabelConfig": obj({"label_config": STR}, ["label_config"]),
    "Organization": obj({"id": INT, "title": STR, "token": STR, "created_at": DATE,
                         "updated_at": DATE, "contact_info": nullable(STR),
                         "created_by": nullable(INT), "users": array(INT)}, ["id", "title"]),
    "MemberPage": obj({"count": INT, "next": nullable(STR), "previous": nullable(STR),
                       "results": array(obj({
                           "id": INT, "organization": INT, "user": ref("User"),
                           "created_projects": nullable(array(OBJ)),
                           "contributed_to_projects": nullable(array(OBJ))}))},
                      ["count", "next", "previous", "results"]),
    "Member": obj({"user": INT, "organization": INT, "contributed_projects_count": INT,
                   "annotations_count": INT, "created_at": DATE,
                   "created_projects": nullable(array(OBJ)),
                   "contributed_to_projects": nullable(array(OBJ))}, ["user", "organization"]),
    "Invite": obj({"invite_url": STR, "token": STR}, ["invite_url", "token"]),
    "Summary": obj({"project": INT, "all_data_columns": OBJ, "common_data_columns": array(STR),
                    "created_annotations": OBJ, "created_labels": OBJ}, ["project"]),
    "Task": obj({
        "id": INT, "data": OBJ, "meta": nullable(OBJ), "project": INT, "inner_id": INT,
        "created_at": DATE, "updated_at": DATE, "is_labeled": BOOL, "overlap": INT,
        "total_annotations": INT, "cancelled_annotations": INT, "total_predictions": INT,
        "file_upload": ANY, "storage_filename": nullable(STR), "updated_by": ANY,
        "annotations": array(ref("Annotation")), "predictions": array(ref("Prediction")),
        "drafts": {"type": "array"}, "annotators": {"type": "array"},
    }, ["id", "data"]),
    "TaskWrite": obj({"data": OBJ, "meta": OBJ, "project": ID, "is_labeled": BOOL}),
    "TaskCreate": obj({"data": OBJ, "meta": OBJ, "project": ID}, ["data", "project"]),
    "TaskPage": obj({"total_annotations": INT, "total_predictions": INT, "total": INT,
                     "tasks": array(OBJ)}, ["total", "tasks"]),
    "Annotation": obj({
        "id": INT, "result": nullable(RESULT), "task": INT, "project": nullable(INT),
        "completed_by": ANY, "was_cancelled": BOOL, "ground_truth": BOOL,
        "created_at": DATE, "updated_at": DATE, "lead_time": nullable(NUM),
        "updated_by": nullable(INT), "parent_prediction": nullable(INT),
        "parent_annotation": nullable(INT), "last_action": nullable(STR),
    }, ["id", "result", "task"]),
    "AnnotationWrite": obj({"result": RESULT, "was_cancelled": BOOL, "ground_truth": BOOL,
                            "lead_time": nullable(NUM), "parent_prediction": nullable(ID),
                            "parent_annotation": nullable(ID)}),
    "AnnotationHistory": obj({
        "id": INT, "action": nullable(STR), "annotation_id": nullable(INT),
        "comment": nullable(STR), "comment_id": nullable(INT), "created_at": DATE,
        "created_by": nullable(INT), "draft_id": nullable(INT), "lead_time": nullable(NUM),
        "organization_id": nullable(INT), "project_id": nullable(INT),
        "result": nullable(RESULT), "review_id": nullable(INT), "started_at": nullable(DATE),
        "task_id": nullable(INT),
    }, ["id", "comment", "created_at"], description="A version of an annotation, as Label "
        "Studio Enterprise's AnnotationHistory: `action` is one of LSE's (prediction, "
        "imported, submitted, updated, skipped, ...) or LabelDesk's `deleted`."),
    "AnnotationHistoryPage": obj({"count": INT, "next": nullable(STR),
                                  "previous": nullable(STR),
                                  "results": array(ref("AnnotationHistory"))},
                                 ["count", "results"]),
    "Prediction": obj({
        "id": INT, "result": RESULT, "task": INT, "project": nullable(INT),
        "model_version": nullable(STR), "score": nullable(NUM), "created_at": DATE,
        "updated_at": DATE,
    }, ["id", "result", "task"]),
    "PredictionWrite": obj({"task": ID, "result": RESULT, "score": nullable(NUM),
                            "model_version": nullable(STR)}),
    "ModelVersions": obj(additionalProperties=INT),
    "ImportAnswer": obj({"task_count": INT, "annotation_count": INT, "prediction_count": INT,
                         "duration": NUM, "file_upload_ids": array(INT),
                         "could_be_tasks_list": BOOL, "found_formats": ANY,
                         "data_columns": ANY, "task_ids": array(INT)},
                        ["task_count", "annotation_count", "prediction_count"]),
    "ImportBody": {"anyOf": [array(OBJ), OBJ],
                   "description": "A list of tasks (or one task): {data: {...}, annotations: "
                                  "[...], predictions: [...]} or the bare data object."},
    "FileUpload": obj({"id": INT, "file": STR}, ["id", "file"]),
    "View": obj({"id": INT, "data": OBJ, "order": nullable(INT), "user": nullable(INT),
                 "project": INT}, ["id", "project"]),
    "ViewWrite": obj({"project": {"anyOf": [ID, {"type": "string", "pattern": "^[0-9]+$"}]},
                      "data": OBJ, "order": INT}),
    "Action": obj({"id": STR, "title": STR, "order": INT, "permission": ANY,
                   "experimental": BOOL, "reload": BOOL, "hidden": BOOL,
                   "dialog": obj({"title": nullable(STR), "text": nullable(STR),
                                  "type": nullable(STR), "form": nullable(array(OBJ))})},
                  ["id", "title"]),
    # the data manager's other answers, and drafts (desktop/api/dm.py, drafts.py)
    "DmColumns": obj({"columns": array(obj({
        "id": STR, "title": STR, "type": STR, "target": STR, "help": STR, "parent": STR,
        "children": array(STR), "schema": OBJ, "project_defined": BOOL,
        "visibility_defaults": obj({"explore": BOOL, "labeling": BOOL})},
        ["id", "title", "type", "target"]))}, ["columns"]),
    "DmProject": obj({
        "id": INT, "title": nullable(STR), "label_config": STR, "task_count": INT,
        "annotation_count": INT, "queue_total": INT, "queue_done": INT,
        "config_has_control_tags": BOOL, "config_suitable_for_bulk_annotation": BOOL,
        "can_delete_tasks": BOOL, "can_manage_annotations": BOOL, "can_manage_tasks": BOOL,
        "source_syncing": BOOL, "target_syncing": BOOL, "task_number": {"type": "null"},
        "num_tasks_with_annotations": {"type": "null"}},
        ["id", "task_count", "annotation_count"],
        description="A project as the data manager reads it: LS's project without its "
                    "counters (null), the requesting user's queue, and the DM's own keys."),
    "Draft": obj({"id": INT, "user": STR, "created_username": STR, "created_ago": STR,
                  "result": ANY, "lead_time": nullable(NUM), "was_postponed": BOOL,
                  "import_id": nullable(INT), "created_at": DATE, "updated_at": DATE,
                  "task": nullable(INT), "annotation": nullable(INT)},
                 ["id", "user", "result", "task", "annotation"]),
    "DraftWrite": obj({"result": ANY, "lead_time": nullable(NUM), "was_postponed": BOOL,
                       "import_id": nullable(INT), "task": ID, "annotation": nullable(ID)}),
    "StreamHistory": array(obj({"taskId": INT, "annotationId": nullable(INT)},
                               ["taskId", "annotationId"])),
    "LabelLinkPage": obj({"count": INT, "next": nullable(STR), "previous": nullable(STR),
                          "results": array(OBJ)}, ["count", "next", "previous", "results"]),
    "Export": obj({"id": INT, "title": STR, "created_by": nullable(USER_BRIEF),
                   "created_at": DATE, "finished_at": nullable(DATE), "status": STR,
                   "md5": nullable(STR), "counters": OBJ, "converted_formats": {"type": "array"}},
                  ["id", "status"]),
    "ExportFormat": obj({"name": STR, "title": STR, "description": STR, "disabled": BOOL},
                        ["name"]),
    "MLBackend": obj({"id": INT, "url": STR, "title": nullable(STR), "project": INT,
                      "state": STR, "is_interactive": BOOL, "timeout": NUM},
                     ["id", "url", "project"]),
    "MLBackendWrite": obj({"url": STR, "project": ID, "title": nullable(STR),
                           "is_interactive": BOOL, "timeout": NUM}),
    "Job": obj({"id": INT, "status": STR}, ["id", "status"]),
    "Storage": obj({"id": INT, "type": STR, "project": INT, "title": nullable(STR)},
                   ["id", "project"]),
    "StorageWrite": obj({"project": ID, "title": nullable(STR), "description": nullable(STR),
                         "path": nullable(STR), "regex_filter": nullable(STR),
                         "use_blob_urls": BOOL, "bucket": nullable(STR),
                         "prefix": nullable(STR)}),
    "StorageType": obj({"name": STR, "title": STR}, ["name", "title"]),
    "LiveExport": obj(additionalProperties=ANY),
    "ArchiveAnswer": obj({"id": INT, "counts": OBJ, "project": ref("Project"),
                          "mapping": OBJ}, ["id", "counts", "project"]),
    "UiSession": obj({"csrf_token": STR, "signed_in": BOOL, "auth": BOOL,
                      "user": ref("User"), "version": STR}, ["csrf_token", "signed_in"]),
    "UiSettings": obj({"auth": BOOL, "api_url": STR, "data_dir": STR,
                       "local_files_root": STR, "settings_file": STR,
                       "data_dir_source": STR, "can_reopen": BOOL,
                       "trash_days": {"type": "integer", "minimum": 0, "maximum": 3650}},
                      ["auth", "api_url"]),
    "UiDataDir": obj({"data_dir": STR, "existing": BOOL, "config_file": STR,
                      "overridden_by": nullable(STR), "reopened": BOOL, "url": nullable(STR)},
                     ["data_dir", "reopened"], description=(
                         "The new data folder, remembered in the user config. `reopened`: "
                         "LabelDesk now serves it (this session's data is gone: `url` signs a "
                         "browser in to the new folder); else it is used from the next start. "
                         "`overridden_by`: --data-dir or LABELDESK_DATA_DIR chose this run's "
                         "folder and still win at the next start.")),
    # the create-project wizard, settings and export pages (Label Studio 1.23.2's shapes)
    "Template": obj({"title": STR, "type": STR, "group": STR, "image": STR, "details": STR,
                     "config": STR, "order": INT, "source_repo": STR},
                    ["title", "type", "group", "image", "details", "config"]),
    "TemplateList": obj({"templates": array(ref("Template")), "groups": array(STR)},
                        ["templates", "groups"]),
    "SampleTask": obj({"sample_task": OBJ}, ["sample_task"], description=(
        "The data of a task for the config; with include_annotation_and_prediction, "
        "{data, annotations, predictions}.")),
    "ReimportAnswer": obj({"task_count": INT, "annotation_count": INT,
                           "prediction_count": INT, "duration": NUM,
                           "file_upload_ids": array(INT), "found_formats": OBJ,
                           "data_columns": array(STR)},
                          ["task_count", "annotation_count", "prediction_count", "duration",
                           "file_upload_ids", "found_formats", "data_columns"]),
    "ImportProgress": obj({"importing": BOOL, "phase": nullable(STR), "done": INT,
                           "total": INT}, ["importing", "phase", "done", "total"]),
    "ExportFiles": obj({"export_files": array(obj({"name": STR, "url": STR}))},
                       ["export_files"]),
    "Webhook": obj({"id": INT, "organization": INT, "project": nullable(INT), "url": STR,
                    "send_payload": BOOL, "send_for_all_actions": BOOL, "headers": OBJ,
                    "is_active": BOOL, "actions": array(STR), "created_at": DATE,
                    "updated_at": DATE},
                   ["id", "project", "url", "send_payload", "send_for_all_actions",
                    "headers", "is_active", "actions"]),
    "WebhookWrite": obj({"project": ID, "url": STR, "send_payload": BOOL,
                         "send_for_all_actions": BOOL, "headers": OBJ, "is_active": BOOL,
                         "actions": array(STR)}, description=(
        "`url`: http(s) on localhost, 127.0.0.0/8 or [::1] only (LabelDesk makes no network "
        "call of its own; docs/compatibility.md). `project` is required to create and can't "
        "change.")),
    "Backup": obj({"name": STR, "created_at": DATE, "generation": INT, "size": INT,
                   "kind": {"type": "string",
                            "enum": ["manual", "daily", "before-restore", "compaction"]},
                   "projects": nullable(INT), "tasks": nullable(INT),
                   "annotations": nullable(INT), "damaged": nullable(STR)},
                  ["name", "created_at", "kind", "size"], description=(
                      "One backup in <data dir>/backups: a whole snapshot of the store at "
                      "`created_at`. Counts are null when unknown; `damaged` says why a "
                      "backup can't be restored.")),
    "Assistant": obj({
        "name": {"type": "string", "enum": ["ocr", "entities", "teach", "mask", "duplicates"]},
        "title": STR, "version": STR, "installed": BOOL, "light": BOOL, "interactive": BOOL,
        "needs": STR, "error": nullable(STR), "fits": nullable(OBJ), "enabled": BOOL,
        "ml_backend": nullable(INT), "label_map": nullable(OBJ), "stats": nullable(OBJ),
        "scan": nullable(OBJ), "pack": BOOL},
        ["name", "title", "version", "installed", "light", "needs", "fits", "enabled"],
        description=(
            "A built-in assistant for one project: whether it is installed (`needs`: what to "
            "install when not), `fits`: the tags of the project's config it fills (null: "
            "none), `enabled`: on for the project (`ml_backend`: its ML backend). Teach mode "
            "adds `stats` (labels seen, progressive-validation accuracy); near-duplicates "
            "`scan` (when, how many found). `pack`: missing, and installable here from an "
            "assistant pack (POST /api/assistants/install; not in a packaged LabelDesk).")),
    "AssistantSwitch": obj({"project": ID, "label_map": obj(additionalProperties=STR)},
                           ["project"], description=(
                               "`label_map`: {model label: the project's label}, where they "
                               "differ by more than case (PERSON -> Person is automatic).")),
    "AssistantJob": obj({"id": INT, "status": STR, "total": INT, "processed": INT,
                         "url": STR}, ["id", "status", "total", "processed", "url"],
                        description="Predicting all tasks (an ML job) or scanning for "
                                    "near-duplicates; poll `url` for progress."),
    "AssistantInstall": obj({
        "id": INT, "kind": {"type": "string", "enum": ["install"]}, "pack": STR,
        "status": {"type": "string", "enum": ["queued", "running", "completed", "failed"]},
        "stage": STR, "extras": array(STR), "files": INT, "installed": array(STR),
        "total": INT, "processed": INT, "error": nullable(STR), "seconds": nullable(NUM),
        "created_at": STR, "finished_at": nullable(STR), "url": STR},
        ["id", "kind", "status", "total", "processed", "url"], description=(
            "An assistant pack being installed: `extras` (entities, mask), `files` (its "
            "wheels), `installed` (the requirements pip installed, once completed); poll `url`."
            " The assistants' worker starts again, with them, on its next use.")),
    "BackupList": obj({"folder": STR, "keep": INT, "backups": array(ref("Backup"))},
                      ["folder", "keep", "backups"]),
    "TrashItem": obj({
        "id": ID, "kind": {"type": "string", "enum": ["project", "tasks", "annotations",
                                                      "predictions"]},
        "name": STR, "project": nullable(INT), "project_title": nullable(STR),
        "deleted_at": DATE, "expires_at": DATE, "size": INT,
        "counts": obj(additionalProperties=INT, description=(
            "Records by table (projects, tasks, annotations, predictions, drafts, views, "
            "uploads, exports, ml_backends, storages, webhooks, …) and `files`: the media "
            "and export files kept with them"))},
        ["id", "kind", "name", "deleted_at", "expires_at", "size", "counts"], description=(
            "One deleted thing in the trash: a project with all it owns, or tasks, "
            "annotations or predictions deleted together. `size`: bytes of its records "
            "and files. It goes for good at `expires_at` (the trash_days setting).")),
    "TrashList": obj({"days": INT, "count": INT, "size": INT,
                      "items": array(ref("TrashItem"))}, ["days", "count", "size", "items"]),
    "TrashRestored": obj({"restored": ref("TrashItem")}, ["restored"], description=(
        "Everything of the item is back under its own ids.")),
    "TrashEmptied": obj({"removed": INT, "size": INT, "files": INT},
                        ["removed", "size", "files"], description=(
                            "Items removed for good, the bytes they held, and their files "
                            "removed from the data folder.")),
    "TrashPreview": obj({"action": STR, "tasks": INT, "annotations": INT, "predictions": INT,
                         "drafts": INT, "days": INT, "text": STR},
                        ["action", "tasks", "annotations", "predictions", "drafts", "text"],
                        description=(
                            "What POST /api/dm/actions with the same query and body would "
                            "delete, and the sentence the confirm dialog shows.")),
    "BackupRestored": obj({"restored": ref("Backup"), "previous_state": ref("Backup"),
                           "reopened": BOOL, "url": nullable(STR)},
                          ["restored", "previous_state", "reopened"], description=(
                              "The app now serves the restored data; `previous_state` is the "
                              "backup of what it replaced. `url` signs a browser in again.")),
    "Handover": obj({
        "id": INT, "direction": {"type": "string", "enum": ["push", "pull"]}, "url": STR,
        "project": nullable(INT), "remote_project": nullable(INT),
        "status": {"type": "string", "enum": ["running", "done", "error", "cancelled"]},
        "cancel_requested": BOOL, "stage": nullable(STR), "done": INT, "total": INT,
        "messages": array(STR), "message_count": INT, "error": nullable(STR),
        "created_at": DATE, "finished_at": nullable(DATE), "summary": nullable(OBJ)},
        ["id", "direction", "url", "status", "done", "total", "messages", "summary"],
        description=(
            "A push or pull running in the app (or finished in this run). `stage`, `done` and "
            "`total`: the step under way (media, tasks, changes); `summary`: what "
            "`labeldesk push/pull` prints at the end (with the id mapping when the job is asked "
            "for on its own). A cancelled job resumes when started again. The Label Studio "
            "token is never part of it.")),
    "HandoverList": obj({
        "jobs": array(ref("Handover")),
        "previous": array(obj({
            "direction": {"type": "string", "enum": ["push", "pull"]}, "url": STR,
            "project": nullable(INT), "project_title": nullable(STR),
            "remote_project": nullable(INT), "tasks": INT, "updated_at": DATE,
            "token_kept": BOOL}, ["direction", "url", "project", "remote_project"]))},
        ["jobs", "previous"], description=(
            "The jobs of this run, newest first, and every hand-over the data folder keeps a "
            "mapping file for (<data dir>/pushpull/). `token_kept`: the app holds a token for "
            "that server in memory, so starting it again needs none.")),
    "HandoverStart": obj({
        "direction": {"type": "string", "enum": ["push", "pull"]},
        "url": {"type": "string", "description": "the Label Studio server: http(s)://..."},
        "token": {"type": "string", "description": "a Label Studio token (legacy or "
                  "personal access token); kept in memory only; may be left out when the app "
                  "holds one for this server"},
        "project": ID, "remote_project": ID, "project_id": ID, "into": ID,
        "batch_size": {"type": "integer", "minimum": 1, "maximum": 10000}},
        ["direction", "url"], description=(
            "push: `project` (LabelDesk's), optional `remote_project` (alias `project_id`, the "
            "CLI's --project-id). pull: `remote_project`, optional `into` (a LabelDesk "
            "project). The same hand-over already running is a 409.")),
}

# -- parameters by name ---------------------------------------------------------------------

PAGE = {"type": "integer", "minimum": 1}
QUERY = {
    "page": PAGE, "page_size": PAGE, "project": ID, "view": ID, "task": ID,
    "task__project": ID, "ids": STR, "title": STR, "ordering": STR, "filter": STR,
    "query": {"type": "string", "description": "The data manager's JSON query"},
    "fields": {"type": "string", "enum": ["all", "task_only"]}, "include": STR,
    "only_annotated": BOOL, "was_cancelled": BOOL, "return_task_ids": BOOL,
    "commit_to_project": BOOL, "preannotated_from_fields": STR, "all": BOOL,
    "exportType": STR, "export_type": STR, "download_all_tasks": BOOL,
    "download_resources": BOOL, "escape_formulas": BOOL, "ids[]": STR, "mapping": BOOL,
    "is_interactive": BOOL,
    "random": BOOL, "batch_size": PAGE, "id": STR, "d": STR, "fileuri": STR, "desc": STR,
    "format": STR, "storage_for": STR, "type": STR, "uuid": STR, "task_ids": STR,
    "mode": STR, "label_config": STR, "q": STR, "raw": BOOL, "error": STR,
    "interaction": STR, "organization-only": BOOL, "contributed_to_projects": BOOL,
    "annotation": ID, "created_at_from": DATE, "created_at_to": DATE,
    "name": {"type": "string", "description": "the uploaded file's name (a raw body's)"},
}
PATH = {
    "kind_type": {"type": "string", "enum": sorted(STORAGE_TYPES)},
    "name": STR, "path": STR, "completion_id": STR, "action_id": STR,
}

# -- the operations -------------------------------------------------------------------------
# (methods, path, tag, summary, options). Options: q (query parameters), body (a schema name
# or a schema; "form" for multipart/urlencoded), ok (status, schema name or schema, or None
# for no body; a str media type as third item), auth=False, bare=True (errors may come without
# the envelope, as field -> messages) or "any" (0.x: any JSON), raw=True (a file or text body).

JSON_OR_FORM = "json-or-form"
OPERATIONS = [
    # health, version
    ("GET", "/health", "Health", "Health check", dict(auth=False, ok=(200, "Health"))),
    ("GET", "/api/health", "Health", "Health check", dict(auth=False, ok=(200, "Health"))),
    ("GET", "/version", "Health", "Version (0.x name)", dict(auth=False, ok=(200, "Version"))),
    ("GET", "/api/version", "Health", "Version", dict(auth=False, ok=(200, "Version"))),
    ("GET", "/api/schema", "Health", "This OpenAPI description",
     dict(auth=False, ok=(200, OBJ))),
    ("GET", "/docs/api", "Health", "This description, rendered",
     dict(auth=False, ok=(200, None, "text/html"))),
    # users and tokens
    ("GET", "/api/current-user", "Users", "The current user", dict(ok=(200, "User"))),
    ("GET", "/api/current-user/whoami", "Users", "The current user", dict(ok=(200, "User"))),
    ("PATCH", "/api/current-user", "Users", "Update the current user",
     dict(body="UserWrite", ok=(200, "User"))),
    ("GET", "/api/current-user/token", "Users", "The legacy token", dict(ok=(200, "Token"))),
    ("POST", "/api/current-user/reset-token", "Users", "A new legacy token",
     dict(ok=(200, "Token"))),
    ("GET", "/api/current-user/hotkeys", "Users", "Custom hotkeys", dict(ok=(200, OBJ))),
    ("PATCH", "/api/current-user/hotkeys", "Users", "Set custom hotkeys",
     dict(body=obj({"custom_hotkeys": OBJ}), ok=(200, OBJ), bare="any")),
    ("GET", "/api/users", "Users", "Users", dict(ok=(200, array(ref("User"))))),
    ("POST", "/api/users", "Users", "Create a user", dict(body="UserWrite", ok=(201, "User"))),
    ("GET", "/api/users/{user_id}", "Users", "A user", dict(ok=(200, "User"))),
    ("PATCH", "/api/users/{user_id}", "Users", "Update a user",
     dict(body="UserWrite", ok=(200, "User"))),
    ("DELETE", "/api/users/{user_id}", "Users", "Delete a user (not the local one)",
     dict(ok=(204, None))),
    ("GET", "/api/organizations", "Users", "The one organization", dict(ok=(200, array(OBJ)))),
    ("GET", "/api/organizations/{org_id}", "Users", "The organization (id 1)",
     dict(ok=(200, "Organization"))),
    ("GET", "/api/organizations/{org_id}/memberships", "Users",
     "The organization's members (every user), paginated; page_size=-1 for all",
     dict(q=("page", "page_size", "contributed_to_projects"), ok=(200, "MemberPage"))),
    ("GET", "/api/organizations/{org_id}/memberships/{user_id}", "Users", "One member",
     dict(q=("contributed_to_projects",), ok=(200, "Member"))),
    ("GET", "/api/invite", "Users", "The invite link (LabelDesk has no sign-up page)",
     dict(ok=(200, "Invite"))),
    ("POST", "/api/invite/reset-token", "Users", "A new invite token",
     dict(ok=(201, "Invite"))),
    ("POST", "/api/token", "Users", "Create a personal access token", dict(ok=(201, "Token"))),
    ("GET", "/api/token", "Users", "Personal access tokens", dict(ok=(200, array(OBJ)))),
    ("POST", "/api/token/refresh", "Users", "Exchange a refresh token for an access token",
     dict(auth=False, body="Refresh", ok=(200, obj({"access": STR}, ["access"])), bare=True)),
    ("POST", "/api/token/blacklist", "Users", "Revoke a refresh token",
     dict(body="Refresh", ok=(204, None), bare=True)),
    ("POST", "/api/token/rotate", "Users", "Rotate a refresh token",
     dict(body="Refresh", ok=(200, "Refresh"), bare=True)),
    ("GET", "/api/jwt/settings", "Users", "Token settings", dict(ok=(200, OBJ))),
    ("POST", "/api/jwt/settings", "Users", "Token settings (fixed)", dict(ok=(200, OBJ))),
    # projects
    ("GET", "/api/projects", "Projects", "Projects, paginated",
     dict(q=("page", "page_size", "ids", "title", "ordering", "filter", "include"),
          ok=(200, "ProjectPage"))),
    ("GET", "/api/projects/counts", "Projects", "Projects' counters, paginated",
     dict(q=("page", "page_size", "ids", "title", "ordering", "filter", "include"),
          ok=(200, "ProjectCountsPage"))),
    ("POST", "/api/projects", "Projects", "Create a project",
     dict(body="ProjectWrite", ok=(201, "Project"))),
    ("GET", "/api/projects/{project_id}", "Projects", "A project",
     dict(q=("include",), ok=(200, "Project"))),
    ("PATCH PUT", "/api/projects/{project_id}", "Projects", "Update a project",
     dict(body="ProjectWrite", ok=(200, "Project"))),
    ("DELETE", "/api/projects/{project_id}", "Projects", "Delete a project and its tasks",
     dict(ok=(204, None))),
    ("POST", "/api/projects/validate", "Projects", "Check a label config",
     dict(auth=False, body="LabelConfig", ok=(204, None), bare=True)),
    ("POST", "/api/projects/{project_id}/validate", "Projects",
     "Check a label config against a project's annotations",
     dict(body="LabelConfig", ok=(200, OBJ))),
    ("GET", "/api/projects/{project_id}/summary", "Projects", "Data columns and labels used",
     dict(ok=(200, "Summary"))),
    # the create-project wizard, settings and export pages
    ("POST", "/api/projects/{project_id}/sample-task", "Projects",
     "A sample task for a label config", dict(
         body=obj({"label_config": STR, "include_annotation_and_prediction": BOOL},
                  ["label_config"]), ok=(200, "SampleTask"))),
    ("GET", "/api/templates", "Projects", "Label Studio's label-config templates",
     dict(ok=(200, "TemplateList"))),
    ("GET", "/static/templates/{name}", "Projects", "A template's thumbnail",
     dict(auth=False, raw=True, ok=(200, None, "image/png"))),
    ("POST", "/api/projects/{project_id}/reimport", "Import",
     "Make tasks of files uploaded before (commit_to_project=false), replacing theirs",
     dict(body=obj({"file_upload_ids": array(ID), "files_as_tasks_list": BOOL}),
          ok=(201, "ReimportAnswer"), also=(200,))),
    ("GET", "/api/projects/{project_id}/export/files", "Export",
     "Export files of Label Studio 0.x in the export folder (none from snapshots)",
     dict(ok=(200, "ExportFiles"))),
    ("GET", "/api/webhooks", "Webhooks", "Webhooks (of a project)",
     dict(q=("project",), ok=(200, array(ref("Webhook"))))),
    ("POST", "/api/webhooks", "Webhooks", "Create a project's webhook (loopback URLs only)",
     dict(body="WebhookWrite", ok=(201, "Webhook"))),
    ("GET", "/api/webhooks/info", "Webhooks", "The actions a webhook can listen for",
     dict(auth=False, q=("organization-only",), ok=(200, OBJ))),
    ("GET", "/api/webhooks/{webhook_id}", "Webhooks", "A webhook", dict(ok=(200, "Webhook"))),
    ("PATCH PUT", "/api/webhooks/{webhook_id}", "Webhooks", "Update a webhook",
     dict(body="WebhookWrite", ok=(200, "Webhook"))),
    ("DELETE", "/api/webhooks/{webhook_id}", "Webhooks", "Delete a webhook",
     dict(ok=(204, None))),
    # tasks
    ("GET", "/api/tasks", "Tasks", "The data manager's task list (without project or view: "
     "0.x's task list, or 1.x's 404 for a 1.x client; docs/legacy-api.md)",
     dict(q=("project", "view", "query", "page", "page_size", "fields", "include",
             "only_annotated"), ok=(200, {"anyOf": [ref("TaskPage"), array(OBJ)]}),
          bare=True)),
    ("POST", "/api/tasks", "Tasks", "Create a task", dict(body="TaskCreate", ok=(201, "Task"))),
    ("DELETE", "/api/tasks", "Legacy", "0.x: delete every task of the current project",
     dict(ok=(204, None), bare=True)),
    ("GET", "/api/tasks/{task_id}", "Tasks", "A task with its annotations and predictions",
     dict(ok=(200, "Task"))),
    ("PATCH PUT", "/api/tasks/{task_id}", "Tasks", "Update a task",
     dict(body="TaskWrite", ok=(200, "Task"))),
    ("POST", "/api/tasks/{task_id}", "Legacy",
     "0.x: rewrite a task (with completions or predictions; otherwise 1.x's 405)",
     dict(body=OBJ, ok=(200, OBJ), bare=True)),
    ("DELETE", "/api/tasks/{task_id}", "Tasks", "Delete a task", dict(ok=(204, None))),
    ("GET", "/api/projects/{project_id}/tasks", "Tasks", "A project's tasks",
     dict(q=("page", "page_size"), ok=(200, array(ref("Task"))))),
    ("POST", "/api/projects/{project_id}/tasks", "Tasks", "Create a task in a project",
     dict(body="TaskWrite", ok=(201, "Task"))),
    ("DELETE", "/api/projects/{project_id}/tasks", "Tasks", "Delete all of a project's tasks",
     dict(ok=(204, None))),
    ("GET", "/api/projects/{project_id}/next", "Tasks", "The next task to label",
     dict(ok=(200, "Task"))),
    # annotations and predictions
    ("GET", "/api/tasks/{task_id}/annotations", "Annotations", "A task's annotations",
     dict(ok=(200, array(ref("Annotation"))))),
    ("POST", "/api/tasks/{task_id}/annotations", "Annotations", "Annotate a task",
     dict(q=("was_cancelled",), body="AnnotationWrite", ok=(201, "Annotation"))),
    ("GET", "/api/annotations/{annotation_id}", "Annotations", "An annotation",
     dict(ok=(200, "Annotation"))),
    ("PATCH PUT", "/api/annotations/{annotation_id}", "Annotations", "Update an annotation",
     dict(body="AnnotationWrite", ok=(200, "Annotation"))),
    ("DELETE", "/api/annotations/{annotation_id}", "Annotations", "Delete an annotation",
     dict(ok=(204, None))),
    # annotation history (Label Studio Enterprise's endpoints; restore is LabelDesk's)
    ("GET", "/api/annotation-history", "Annotation history",
     "Every version of an annotation, newest first (also of a deleted one)",
     dict(q=("annotation", "ordering"), ok=(200, array(ref("AnnotationHistory"))))),
    ("DELETE", "/api/annotation-history", "Annotation history",
     "Remove the history of an annotation, task or project from every answer",
     dict(q=("annotation", "task", "project"), ok=(200, obj({"removed": INT}, ["removed"])))),
    ("GET", "/api/annotation-history/{version_id}", "Annotation history", "One version",
     dict(ok=(200, "AnnotationHistory"))),
    ("POST", "/api/annotation-history/{version_id}/restore", "Annotation history",
     "LabelDesk: make the annotation that version again (the restore is a new version)",
     dict(ok=(200, "Annotation"))),
    ("GET", "/api/projects/{project_id}/annotation-history", "Annotation history",
     "A project's versions, newest first, a page at a time",
     dict(q=("page", "page_size", "created_at_from", "created_at_to"),
          ok=(200, "AnnotationHistoryPage"))),
    ("GET", "/api/predictions", "Predictions", "Predictions of a task or project",
     dict(q=("task", "project", "task__project"), ok=(200, array(ref("Prediction"))))),
    ("POST", "/api/predictions", "Predictions", "Create a prediction",
     dict(body="PredictionWrite", ok=(201, "Prediction"))),
    ("GET", "/api/predictions/{prediction_id}", "Predictions", "A prediction",
     dict(ok=(200, "Prediction"))),
    ("PATCH PUT", "/api/predictions/{prediction_id}", "Predictions", "Update a prediction",
     dict(body="PredictionWrite", ok=(200, "Prediction"))),
    ("DELETE", "/api/predictions/{prediction_id}", "Predictions", "Delete a prediction",
     dict(ok=(204, None))),
    ("POST", "/api/projects/{project_id}/import/predictions", "Predictions",
     "Import predictions for existing tasks",
     dict(body=array(ref("PredictionWrite")), ok=(201, obj({"created": INT}, ["created"])))),
    ("GET", "/api/projects/{project_id}/model-versions", "Predictions",
     "Model versions and their prediction counts", dict(ok=(200, "ModelVersions"))),
    # import
    ("POST", "/api/projects/{project_id}/import", "Import",
     "Import tasks: a JSON body or files (JSON, JSON lines, CSV, TSV, TXT, media)",
     dict(q=("return_task_ids", "commit_to_project", "preannotated_from_fields"),
          body="ImportBody", files=True, ok=(201, "ImportAnswer"))),
    ("GET", "/api/projects/{project_id}/file-uploads", "Import", "A project's uploaded files",
     dict(q=("ids", "all"), ok=(200, array(ref("FileUpload"))))),
    ("DELETE", "/api/projects/{project_id}/file-uploads", "Import", "Delete uploaded files",
     dict(body=obj({"file_upload_ids": array(ID)}), ok=(200, obj({"deleted": INT})))),
    ("GET", "/api/import/file-upload/{upload_id}", "Import", "An uploaded file",
     dict(ok=(200, "FileUpload"))),
    ("DELETE", "/api/import/file-upload/{upload_id}", "Import", "Delete an uploaded file",
     dict(ok=(204, None))),
    ("GET", "/data/upload/{project_id}/{name}", "Import", "An uploaded file's content",
     dict(raw=True, ok=(200, None, "application/octet-stream"))),
    # data manager
    ("GET", "/api/dm/views", "Data manager", "Views (tabs)",
     dict(q=("project",), ok=(200, array(ref("View"))))),
    ("POST", "/api/dm/views", "Data manager", "Create a view",
     dict(body="ViewWrite", ok=(201, "View"))),
    ("GET", "/api/dm/views/{view_id}", "Data manager", "A view", dict(ok=(200, "View"))),
    ("PATCH PUT", "/api/dm/views/{view_id}", "Data manager", "Update a view",
     dict(body="ViewWrite", ok=(200, "View"))),
    ("DELETE", "/api/dm/views/{view_id}", "Data manager", "Delete a view",
     dict(ok=(204, None))),
    ("POST", "/api/dm/views/order", "Data manager", "Reorder a project's views",
     dict(body=obj({"project": ID, "ids": array(ID)}), ok=(200, None))),
    ("DELETE", "/api/dm/views/reset", "Data manager", "Delete a project's views",
     dict(q=("project",), ok=(204, None))),
    ("GET", "/api/dm/actions", "Data manager", "Actions on selected tasks",
     dict(q=("project",), ok=(200, array(ref("Action"))))),
    ("POST", "/api/dm/actions", "Data manager",
     "Run an action on selected tasks (`next_task`: the next task of the label stream)",
     dict(q=("id", "project", "view"),
          body=obj({"selectedItems": obj({"all": BOOL, "included": array(ID),
                                          "excluded": array(ID)})}), ok=(200, OBJ),
          bare=True)),
    ("GET", "/api/dm/actions/{action_id}/form", "Data manager",
     "An action's dialog form for a project ([] for none)",
     dict(q=("project",), ok=(200, array(OBJ)))),
    ("GET", "/api/dm/columns", "Data manager", "The columns of a project's tasks",
     dict(q=("project",), ok=(200, "DmColumns"))),
    ("GET", "/api/dm/project", "Data manager", "A project as the data manager reads it",
     dict(q=("project", "interaction"), ok=(200, "DmProject"))),
    ("GET", "/api/label_links", "Data manager", "Custom labels linked to a project (none)",
     dict(q=("project", "page"), ok=(200, "LabelLinkPage"))),
    ("GET", "/api/projects/{project_id}/label-stream-history", "Data manager",
     "The tasks the label stream handed the user, with the annotation made of each",
     dict(ok=(200, "StreamHistory"))),
    # drafts
    ("GET", "/api/tasks/{task_id}/drafts", "Drafts", "A task's drafts (every user's)",
     dict(ok=(200, array(ref("Draft"))))),
    ("POST", "/api/tasks/{task_id}/drafts", "Drafts", "Save a draft of a task",
     dict(body="DraftWrite", ok=(201, "Draft"))),
    ("GET", "/api/tasks/{task_id}/annotations/{annotation_id}/drafts", "Drafts",
     "A task's drafts (as Label Studio: the annotation doesn't narrow them)",
     dict(ok=(200, array(ref("Draft"))))),
    ("POST", "/api/tasks/{task_id}/annotations/{annotation_id}/drafts", "Drafts",
     "Save a draft of an annotation", dict(body="DraftWrite", ok=(201, "Draft"))),
    ("GET", "/api/drafts/{draft_id}", "Drafts", "A draft", dict(ok=(200, "Draft"))),
    ("PATCH PUT", "/api/drafts/{draft_id}", "Drafts", "Update a draft",
     dict(body="DraftWrite", ok=(200, "Draft"))),
    ("DELETE", "/api/drafts/{draft_id}", "Drafts", "Delete a draft", dict(ok=(204, None))),
    ("POST", "/api/annotations/{annotation_id}/convert-to-draft", "Drafts",
     "Turn an annotation back into the user's draft", dict(ok=(201, "Draft"))),
    # export
    ("GET", "/api/projects/{project_id}/export/formats", "Export", "Export formats",
     dict(ok=(200, array(ref("ExportFormat"))))),
    ("GET", "/api/projects/{project_id}/export", "Export", "Export a project's tasks (a file)",
     dict(q=("exportType", "export_type", "download_all_tasks", "download_resources", "ids[]",
            "escape_formulas"),
          raw=True, ok=(200, None, "application/octet-stream"))),
    ("GET", "/api/projects/{project_id}/exports", "Export", "Export snapshots",
     dict(ok=(200, array(ref("Export"))))),
    ("POST", "/api/projects/{project_id}/exports", "Export", "Create an export snapshot",
     dict(body=obj({"title": STR, "task_filter_options": OBJ,
                    "annotation_filter_options": OBJ, "serialization_options": OBJ}),
          ok=(201, "Export"))),
    ("GET", "/api/projects/{project_id}/exports/{export_id}", "Export", "An export snapshot",
     dict(ok=(200, "Export"))),
    ("DELETE", "/api/projects/{project_id}/exports/{export_id}", "Export",
     "Delete an export snapshot", dict(ok=(204, None))),
    ("POST", "/api/projects/{project_id}/exports/{export_id}/convert", "Export",
     "Convert a snapshot to another format",
     dict(body=obj({"export_type": STR, "download_resources": BOOL,
                    "escape_formulas": BOOL}), ok=(200, OBJ))),
    ("GET", "/api/projects/{project_id}/exports/{export_id}/download", "Export",
     "Download a snapshot (a file)",
     dict(q=("exportType", "export_type", "escape_formulas"), raw=True,
          ok=(200, None, "application/octet-stream"))),
    ("GET", "/api/projects/{project_id}/archive", "Export",
     "The whole project as a .zip (LabelDesk)", dict(raw=True, ok=(200, None, "application/zip"))),
    ("POST", "/api/projects/archive", "Export", "A new project from a project .zip (LabelDesk)",
     dict(q=("title", "mapping"), body="zip", ok=(201, "ArchiveAnswer"))),
    ("GET", "/api/projects/{project_id}/live-export", "Export",
     "The project's live export folder (LabelDesk)", dict(ok=(200, "LiveExport"))),
    ("PUT POST PATCH", "/api/projects/{project_id}/live-export", "Export",
     "Configure the live export folder (LabelDesk)",
     dict(body=obj({"path": STR, "format": STR, "enabled": BOOL, "download_resources": BOOL,
                    "escape_formulas": BOOL}), ok=(200, "LiveExport"))),
    ("DELETE", "/api/projects/{project_id}/live-export", "Export",
     "Stop the live export (LabelDesk)", dict(ok=(204, None))),
    ("POST", "/api/projects/{project_id}/live-export/sync", "Export",
     "Rewrite the live export folder now (LabelDesk)", dict(ok=(200, "LiveExport"))),
    # ML backends
    ("GET", "/api/ml", "ML", "A project's ML backends",
     dict(q=("project", "is_interactive"), ok=(200, array(ref("MLBackend"))))),
    ("POST", "/api/ml", "ML", "Connect an ML backend",
     dict(body="MLBackendWrite", ok=(201, "MLBackend"))),
    ("GET", "/api/ml/jobs", "ML", "Batch prediction jobs (LabelDesk)",
     dict(q=("project",), ok=(200, array(ref("Job"))))),
    ("GET", "/api/ml/jobs/{job_id}", "ML", "A batch prediction job", dict(ok=(200, "Job"))),
    ("DELETE", "/api/ml/jobs/{job_id}", "ML", "Cancel a job", dict(ok=(200, "Job"))),
    ("POST", "/api/ml/jobs/{job_id}/cancel", "ML", "Cancel a job", dict(ok=(200, "Job"))),
    ("GET", "/api/ml/{backend_id}", "ML", "An ML backend", dict(ok=(200, "MLBackend"))),
    ("PATCH PUT", "/api/ml/{backend_id}", "ML", "Update an ML backend",
     dict(body="MLBackendWrite", ok=(200, "MLBackend"))),
    ("DELETE", "/api/ml/{backend_id}", "ML", "Disconnect an ML backend", dict(ok=(204, None))),
    ("POST", "/api/ml/{backend_id}/train", "ML", "Ask the model to train",
     dict(body=obj({"use_ground_truth": BOOL}), ok=(200, None))),
    ("POST", "/api/ml/{backend_id}/predict/test", "ML", "Predict a random task",
     dict(q=("random",), ok=(200, OBJ))),
    ("POST", "/api/ml/{backend_id}/predict", "ML", "Predict every task (a background job)",
     dict(q=("batch_size",), ok=(200, "Job"))),
    ("POST", "/api/ml/{backend_id}/interactive-annotating", "ML", "Interactive pre-annotation",
     dict(body=obj({"task": ID, "context": OBJ}), ok=(200, OBJ))),
    ("GET", "/api/ml/{backend_id}/versions", "ML", "The model's versions", dict(ok=(200, OBJ))),
    # storages, files
    ("GET", "/data/local-files", "Storages", "A file from the local files root",
     dict(q=("d",), raw=True, ok=(200, None, "application/octet-stream"))),
    ("GET", "/tasks/{task_id}/resolve", "Storages", "A storage URI of a task, resolved",
     dict(q=("fileuri",), raw=True, ok=(200, None, "application/octet-stream"))),
    ("GET", "/tasks/{task_id}/presign", "Storages", "A storage URI of a task, resolved",
     dict(q=("fileuri",), raw=True, ok=(200, None, "application/octet-stream"))),
]

for _kind, _prefix in (("import", "/api/storages"), ("export", "/api/storages/export")):
    _t = f"Storages ({_kind})"
    OPERATIONS += [
        ("GET", _prefix, _t, f"A project's {_kind} storages",
         dict(q=("project",), ok=(200, array(ref("Storage"))))),
        ("GET", _prefix + "/types", _t, "Storage types", dict(ok=(200, array(ref("StorageType"))))),
        ("GET", _prefix + "/{kind_type}", _t, f"A project's {_kind} storages of a type",
         dict(q=("project",), ok=(200, array(ref("Storage"))))),
        ("POST", _prefix + "/{kind_type}", _t, f"Create an {_kind} storage",
         dict(q=("project",), body="StorageWrite", ok=(201, "Storage"))),
        ("POST", _prefix + "/{kind_type}/validate", _t, "Check a storage's settings",
         dict(body="StorageWrite", ok=(200, None))),
        ("GET", _prefix + "/{kind_type}/{storage_id}", _t, "A storage", dict(ok=(200, "Storage"))),
        ("PATCH PUT", _prefix + "/{kind_type}/{storage_id}", _t, "Update a storage",
         dict(body="StorageWrite", ok=(200, "Storage"))),
        ("DELETE", _prefix + "/{kind_type}/{storage_id}", _t, "Delete a storage",
         dict(ok=(204, None))),
        ("POST", _prefix + "/{kind_type}/{storage_id}/sync", _t, "Sync a storage",
         dict(ok=(200, "Storage"))),
    ]

LEGACY = dict(bare="any")  # 0.x (Flask) answered errors as bare strings, lists or objects
OPERATIONS += [
    # Label Studio 0.8-0.9 (docs/legacy-api.md): the current project
    ("GET", "/api/project", "Legacy", "0.x: the current project", dict(LEGACY, ok=(200, OBJ))),
    ("POST", "/api/project", "Legacy", "0.x: a new current project",
     dict(LEGACY, q=("desc",), body=JSON_OR_FORM, ok=(201, OBJ))),
    ("PATCH", "/api/project", "Legacy", "0.x: update the current project",
     dict(LEGACY, body=JSON_OR_FORM, ok=(201, OBJ))),
    ("POST", "/api/project/config", "Legacy", "0.x: save the label config",
     dict(LEGACY, q=("label_config",), body=JSON_OR_FORM, ok=(201, None))),
    ("POST", "/api/project/import", "Legacy", "0.x: import tasks",
     dict(LEGACY, body="ImportBody", files=True, ok=(201, OBJ))),
    ("GET", "/api/project/export", "Legacy", "0.x: export (a .zip)",
     dict(LEGACY, q=("format", "download_all_tasks"), raw=True,
          ok=(200, None, "application/zip"))),
    ("GET", "/api/project/next", "Legacy", "0.x: the next task", dict(LEGACY, ok=(200, OBJ))),
    ("GET", "/api/project/storage-settings", "Legacy", "0.x: storage settings",
     dict(LEGACY, ok=(200, OBJ))),
    ("POST", "/api/project/storage-settings", "Legacy", "0.x: set the storage",
     dict(LEGACY, q=("storage_for", "type"), body=JSON_OR_FORM, ok=(201, OBJ))),
    ("POST", "/api/project-switch", "Legacy", "0.x: switch the current project",
     dict(LEGACY, q=("uuid", "project", "id"), ok=(200, OBJ))),
    ("POST", "/api/tasks/{task_id}/completions", "Legacy", "0.x: create a completion",
     dict(LEGACY, q=("was_cancelled",), body=JSON_OR_FORM, ok=(201, OBJ))),
    ("DELETE", "/api/tasks/{task_id}/completions", "Legacy", "0.x: delete a task's completions",
     dict(LEGACY, ok=(204, None))),
    ("PATCH", "/api/tasks/{task_id}/completions/{completion_id}", "Legacy",
     "0.x: update a completion", dict(LEGACY, body=JSON_OR_FORM, ok=(201, OBJ))),
    ("DELETE", "/api/tasks/{task_id}/completions/{completion_id}", "Legacy",
     "0.x: delete a completion", dict(LEGACY, ok=(204, None))),
    ("GET", "/api/completions", "Legacy", "0.x: ids of completed tasks",
     dict(LEGACY, ok=(200, obj({"ids": array(INT)}, ["ids"])))),
    ("DELETE", "/api/completions", "Legacy", "0.x: delete every completion",
     dict(LEGACY, raw=True, ok=(201, None, "text/plain"))),
    ("GET", "/api/models", "Legacy", "0.x: model names",
     dict(LEGACY, ok=(200, obj({"models": array(ANY)}, ["models"])))),
    ("DELETE", "/api/models", "Legacy", "0.x: disconnect a model",
     dict(LEGACY, body=obj({"name": STR}), ok=(204, None))),
    ("POST", "/api/models/train", "Legacy", "0.x: train the models", dict(LEGACY, ok=(200, OBJ))),
    ("POST", "/api/models/predictions", "Legacy", "0.x: predictions for tasks",
     dict(LEGACY, q=("mode", "task_ids"), ok=(200, ANY))),
    ("POST", "/api/validate-config", "Legacy", "0.x: check a label config",
     dict(LEGACY, q=("label_config",), body=JSON_OR_FORM, ok=(204, None))),
    ("GET POST", "/api/import-example", "Legacy", "0.x: an example task for a label config",
     dict(LEGACY, q=("label_config",), ok=(200, ANY))),
    ("GET", "/api/import-example-file", "Legacy", "0.x: an example file for a label config",
     dict(LEGACY, q=("q", "label_config", "raw"), raw=True,
          ok=(200, None, "application/octet-stream"))),
    # the UI's own routes
    ("GET", "/", "UI", "Label Studio's web app (or the sign-in page)",
     dict(auth=False, raw=True, ok=(200, None, "text/html"))),
    *[("GET", path, "UI", "A page of Label Studio's web app (or the sign-in page)",
       dict(auth=False, raw=True, ok=(200, None, "text/html")))
      for root in APP_ROOTS for path in (root, root + "/{rest}")],
    ("GET", "/desktop", "UI", "LabelDesk's own pages (or the sign-in page)",
     dict(auth=False, raw=True, ok=(200, None, "text/html"))),
    ("GET", "/react-app/{path}", "UI", "The files of Label Studio's web app (pinned build)",
     dict(auth=False, raw=True, ok=(200, None, "application/octet-stream"))),
    ("GET", "/heidi-tips", "UI", "The web app's live tips: none (LabelDesk fetches nothing)",
     dict(auth=False, ok=(200, OBJ))),
    ("GET", "/sw.js", "UI", "The web app's service worker (caches nothing)",
     dict(auth=False, raw=True, ok=(200, None, "text/javascript"))),
    ("GET", "/user/login", "UI", "Redirects to /", dict(auth=False, ok=(303, None))),
    ("POST", "/user/login", "UI", "Sign in with the API token (a form)",
     dict(auth=False, body="form", ok=(303, None))),
    ("GET", "/user/logout", "UI", "A page with a Sign out button (a GET signs no one out)",
     dict(auth=False, raw=True, ok=(200, None, "text/html"))),
    ("POST", "/user/logout", "UI", "Sign out", dict(auth=False, ok=(303, None))),
    ("GET", "/logout", "UI", "Redirects to /user/logout (the web app's link)",
     dict(auth=False, ok=(303, None))),
    ("GET", "/static/{path}", "UI", "The UI's static files",
     dict(auth=False, raw=True, ok=(200, None, "application/octet-stream"))),
    ("GET", "/favicon.ico", "UI", "The icon",
     dict(auth=False, raw=True, ok=(200, None, "image/svg+xml"))),
    ("POST", "/api/ui/session", "UI", "The window's one-time secret for a session cookie",
     dict(auth=False, body=obj({"secret": STR}, ["secret"]),
          ok=(201, obj({"csrf_token": STR}, ["csrf_token"])))),
    ("GET", "/api/ui/session", "UI", "The session", dict(ok=(200, "UiSession"))),
    ("POST", "/api/ui/reset-token", "UI", "A new API token, this browser staying signed in",
     dict(ok=(200, obj({"token": STR, "csrf_token": STR}, ["token"])))),
    ("GET", "/api/ui/settings", "UI", "The app's settings", dict(ok=(200, "UiSettings"))),
    ("PATCH", "/api/ui/settings", "UI", "Change the app's settings",
     dict(body=obj({"auth": BOOL, "trash_days": {
         "type": "integer", "minimum": 0, "maximum": 3650,
         "description": "days deleted items stay in the trash; 0: deletes are final"}}),
          ok=(200, "UiSettings"))),
    ("POST", "/api/ui/data-dir", "UI", "Use another data folder (and reopen on it)",
     dict(body=obj({"path": STR}, ["path"]), ok=(200, "UiDataDir"))),
    # built-in assistants (LabelDesk)
    ("GET", "/api/assistants", "Assistants",
     "The built-in assistants, for a project: installed, fitting its config, on (LabelDesk)",
     dict(q=("project",), ok=(200, array(ref("Assistant"))))),
    ("POST", "/api/assistants/{name}/enable", "Assistants",
     "Turn an assistant on for a project: its ML backend, or the near-duplicates scan",
     dict(body="AssistantSwitch", ok=(200, OBJ))),
    ("POST", "/api/assistants/{name}/disable", "Assistants",
     "Turn an assistant off for a project", dict(body="AssistantSwitch", ok=(200, OBJ))),
    ("POST", "/api/assistants/{name}/predict", "Assistants",
     "Predict every task of the project with the assistant (a job with progress)",
     dict(body="AssistantSwitch", ok=(200, "AssistantJob"))),
    ("POST", "/api/assistants/install", "Assistants",
     "Install the heavy assistants offline from a pack file (`make assistant-pack`): checked "
     "now (a bad one is a 400), installed by pip from its wheels alone in the background",
     dict(q=("name",), body="zip", ok=(201, "AssistantInstall"))),
    ("GET", "/api/assistants/jobs/{job_id}", "Assistants",
     "A near-duplicates scan's or a pack install's progress", dict(ok=(200, "AssistantJob"))),
    ("GET", "/api/ui/backups", "UI", "The backups of the data", dict(ok=(200, "BackupList"))),
    ("POST", "/api/ui/backups", "UI", "Back up the data now", dict(ok=(201, "Backup"))),
    ("POST", "/api/ui/backups/restore", "UI",
     "Restore a backup in the running app (the current state is backed up first)",
     dict(body=obj({"name": STR}, ["name"]), ok=(200, "BackupRestored"))),
    ("GET", "/api/ui/handovers", "UI", "Push and pull jobs, and previous hand-overs",
     dict(ok=(200, "HandoverList"))),
    ("POST", "/api/ui/handovers", "UI", "Push to or pull from a Label Studio server (a job)",
     dict(body="HandoverStart", ok=(201, "Handover"))),
    ("GET", "/api/ui/handovers/{job_id}", "UI", "A push or pull job, with its summary",
     dict(ok=(200, "Handover"))),
    ("POST", "/api/ui/handovers/{job_id}/cancel", "UI",
     "Stop a push or pull at its next batch (resumable)", dict(ok=(200, "Handover"))),
    ("GET", "/api/ui/trash", "UI", "The trash: deleted projects, tasks and annotations",
     dict(ok=(200, "TrashList"))),
    ("DELETE", "/api/ui/trash", "UI", "Empty the trash (records and files, for good)",
     dict(ok=(200, "TrashEmptied"))),
    ("GET", "/api/ui/trash/{item_id}", "UI", "One item of the trash",
     dict(ok=(200, "TrashItem"))),
    ("DELETE", "/api/ui/trash/{item_id}", "UI", "Delete one item of the trash for good",
     dict(ok=(200, "TrashEmptied"))),
    ("POST", "/api/ui/trash/{item_id}/restore", "UI",
     "Restore an item: everything back under its own ids (409 when what it belongs to is "
     "not there)", dict(ok=(200, "TrashRestored"))),
    ("GET", "/api/ui/imports/progress", "UI",
     "How far the project's import under way has got: reading its files, checking its items "
     "(done of total), saving its tasks", dict(q=("project",), ok=(200, "ImportProgress"))),
    ("POST", "/api/ui/trash/preview", "UI",
     "What a data-manager action that deletes (id: its action id), or a re-import of file "
     "uploads (id=reimport, body: file_upload_ids), would put in the trash",
     dict(q=("id", "project", "view"), body=obj({
         "selectedItems": OBJ, "filters": OBJ, "ordering": array(STR), "annotator": ANY,
         "file_upload_ids": array(INT)}),
          ok=(200, "TrashPreview"))),
]

DESCRIPTION = """Label Studio 1.23's REST API as LabelDesk serves it on 127.0.0.1.

Authenticate with `Authorization: Token <token>` (the legacy token, `labeldesk user` prints
it) or `Authorization: Bearer <access token>` (from `POST /api/token/refresh` with a personal
access token). Trailing slashes are optional everywhere. Errors are Label Studio's JSON
envelope (`Error`), except where an operation says its errors are bare, as in Label Studio."""
