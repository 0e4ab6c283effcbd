"""The data manager's fixed descriptions, word for word as Label Studio 1.23.2 (Community)
answers them: the task columns of GET /api/dm/columns (data_manager/functions.py
get_all_columns) and the actions of GET /api/dm/actions (data_manager/actions/*.py)."""

HIDDEN = {"explore": False, "labeling": False}
SHOWN = {"explore": True, "labeling": False}
MEMBERS = object()  # stands for {"schema": {"items": <the project's members>}}
MODEL_VERSIONS = object()  # {"schema": {"items": <model versions>, "multiple": True}}


def _column(column_id, title, kind, help_text, visible=HIDDEN, schema=None, help_first=False):
    column = {"id": column_id, "title": title, "type": kind}
    if help_first:  # LS writes a few with `help` before `target`
        column.update(help=help_text, target="tasks")
    else:
        column.update(target="tasks", help=help_text)
    if schema is not None:
        column["schema"] = schema
    column.update(visibility_defaults=dict(visible), project_defined=False)
    return column


# (id, title, type, help, visibility, schema, help before target), in LS's order
TASK_COLUMNS = (
    ("id", "ID", "Number", "Task ID", SHOWN, None, True),
    ("inner_id", "Inner ID", "Number",
     "Internal task ID starting from 1 for the current project", HIDDEN, None, True),
    ("completed_at", "Completed", "Datetime", "Last annotation date", SHOWN, None, False),
    ("total_annotations", "Annotations", "Number", "Total annotations per task",
     {"explore": True, "labeling": True}, None, False),
    ("cancelled_annotations", "Cancelled", "Number", "Total cancelled (skipped) annotations",
     SHOWN, None, False),
    ("total_predictions", "Predictions", "Number", "Total predictions per task", SHOWN, None,
     False),
    ("annotators", "Annotated by", "List", "All users who completed the task", SHOWN, MEMBERS,
     False),
    ("annotations_results", "Annotation results", "String",
     "Annotation results stacked over all annotations", HIDDEN, None, False),
    ("annotations_ids", "Annotation IDs", "String", "Annotation IDs stacked over all annotations",
     HIDDEN, None, False),
    ("predictions_score", "Prediction score", "Number",
     "Average prediction score over all task predictions", HIDDEN, None, False),
    ("predictions_model_versions", "Prediction model versions", "List",
     "Model versions aggregated over all predictions", HIDDEN, MODEL_VERSIONS, False),
    ("predictions_results", "Prediction results", "String",
     "Prediction results stacked over all predictions", HIDDEN, None, False),
    ("file_upload", "Upload filename", "String", "Filename of uploaded file", HIDDEN, None,
     False),
    ("storage_filename", "Storage filename", "String", "Filename from import storage", HIDDEN,
     None, False),
    ("created_at", "Created at", "Datetime", "Task creation time", HIDDEN, None, False),
    ("updated_at", "Updated at", "Datetime", "Task update time", HIDDEN, None, False),
    ("updated_by", "Updated by", "List", "User who did the last task update", HIDDEN, MEMBERS,
     False),
    ("avg_lead_time", "Lead Time", "Time", "Average lead time over all annotations", HIDDEN,
     None, True),
    ("draft_exists", "Drafts", "Boolean", "True if at least one draft exists for the task",
     HIDDEN, None, True),
)

# The types LS keeps for a data column; any other object tag is shown as a String
MEDIA_TYPES = ("Image", "Audio", "AudioPlus", "Video", "Unknown")


def task_columns(members, model_versions):
    columns = []
    for column_id, title, kind, help_text, visible, schema, help_first in TASK_COLUMNS:
        if schema is MEMBERS:
            schema = {"items": list(members)}
        elif schema is MODEL_VERSIONS:
            schema = {"items": list(model_versions), "multiple": True}
        columns.append(_column(column_id, title, kind, help_text, visible, schema, help_first))
    return columns


# GET /api/dm/actions for Community, in order. Forms made per project (`form` None here) come
# from GET /api/dm/actions/{id}/form. `next_task` (hidden) and `cache_labels` (experimental)
# are registered but never listed.
ACTIONS = [
    {"id": "retrieve_tasks_predictions", "title": "Retrieve Predictions", "order": 90,
     "permission": "predictions.any",
     "dialog": {"title": "Retrieve Predictions",
                "text": "Send the selected tasks to all ML backends connected to the project."
                        "This operation might be abruptly interrupted due to a timeout. The "
                        "recommended way to get predictions is to update tasks using the Label "
                        "Studio API.Please confirm your action.",
                "type": "confirm"}},
    {"id": "predictions_to_annotations", "title": "Create Annotations From Predictions",
     "order": 91, "permission": "tasks.change",
     "dialog": {"title": "Create Annotations From Predictions",
                "text": "Create annotations from predictions using selected predictions set for "
                        "each selected task. Your account will be assigned as an owner to those "
                        "annotations. ",
                "type": "confirm", "form": None}},
    {"id": "remove_duplicates", "title": "Remove Duplicated Tasks", "order": 95,
     "permission": ["projects.change", "tasks.delete"], "experimental": False,
     "dialog": {"text": "Confirm that you want to remove duplicated tasks with the same data "
                        "fields. Duplicated tasks will be deleted and all annotations will be "
                        "moved to the first task from duplicated tasks. Also Source Storage Links "
                        "will be restored if at least one duplicated task has a storage link. "
                        "Warning: Task assignments (enterprise only) won't be saved.",
                "type": "confirm"}},
    {"id": "delete_tasks", "title": "Delete Tasks", "order": 100, "permission": "tasks.delete",
     "reload": True,
     "dialog": {"text": "You are going to delete the selected tasks. Please confirm your "
                        "action.", "type": "confirm"}},
    {"id": "delete_tasks_annotations", "title": "Delete Annotations", "order": 101,
     "permission": ["tasks.change", "annotations.delete"],
     "dialog": {"text": "You are going to delete annotations from the selected tasks.\nYou can "
                        "select specific annotators to delete annotations for.\nPlease confirm "
                        "your action.", "type": "confirm", "form": None}},
    {"id": "delete_tasks_predictions", "title": "Delete Predictions", "order": 102,
     "permission": "predictions.any",
     "dialog": {"text": "You are going to delete all predictions from the selected tasks. "
                        "Please confirm your action.", "type": "confirm"}},
]
UNLISTED = ("next_task", "cache_labels")


# LabelDesk's own, shown once a project was scanned for near-duplicates (desktop/assistants/
# duplicates.py): the column, its filter ("is not empty", "equal N") and two actions.
NEAR_DUPLICATE_COLUMN = {
    "id": "near_duplicate_of", "title": "Near-duplicate of", "type": "Number", "target": "tasks",
    "help": "The task this one nearly repeats (LabelDesk's near-duplicates assistant)",
    "visibility_defaults": {"explore": True, "labeling": False}, "project_defined": False}
NEAR_DUPLICATE_ACTIONS = [
    {"id": "delete_near_duplicates", "title": "Delete Near-Duplicates", "order": 96,
     "permission": "tasks.delete", "reload": True,
     "dialog": {"title": "Delete Near-Duplicates",
                "text": "The selected tasks that are near-duplicates of another task are deleted "
                        "with their annotations (into LabelDesk's trash); the tasks they repeat "
                        "stay. Please confirm your action.", "type": "confirm"}},
    {"id": "merge_near_duplicates", "title": "Merge Near-Duplicates", "order": 97,
     "permission": ["tasks.change", "tasks.delete"], "reload": True,
     "dialog": {"title": "Merge Near-Duplicates",
                "text": "The annotations and predictions of the selected near-duplicates move to "
                        "the task each one repeats, then the near-duplicates are deleted. Please "
                        "confirm your action.", "type": "confirm"}},
]
