"""One annotation as Label Studio's export storages write it, named by its id (no extension).

Local and S3 export storages (desktop/io_storages/storages.py) and live folders in JSON mode
(livefolder.py) write this same file. LS: io_storages.serializers.StorageAnnotationSerializer,
the annotation with `completed_by` expanded to {id, first_name, last_name, email} and its task
embedded without annotations, saved with `json.dump(..., indent=2)`.
"""

import orjson

DUMP_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def annotation_file(core, annotation_id):
    """The file's bytes, or None when the annotation is gone."""
    with core.records.lock:
        doc = core.records.annotations.doc(annotation_id)
        if doc is None:
            return None
        data = core.annotations.export_json(annotation_id, doc)
        author = doc.get("completed_by")
        user = core.users.users.doc(author) if isinstance(author, int) else None
        if user is not None:
            data["completed_by"] = {"id": author, "first_name": user.get("first_name", ""),
                                    "last_name": user.get("last_name", ""),
                                    "email": user.get("email", "")}
        if core.records.tasks.doc(doc["task"]) is not None:
            data["task"] = storage_task(core.tasks.base_json(doc["task"]))
    return orjson.dumps(data, option=DUMP_OPTIONS)


def storage_task(base):
    """LS's StorageTaskSerializer: a ModelSerializer with fields "__all__", so the Task model's
    columns in declaration order, relations last; no annotations, predictions or drafts."""
    return {"id": base["id"], "data": base["data"], "meta": base["meta"],
            "created_at": base["created_at"], "updated_at": base["updated_at"],
            "is_labeled": base["is_labeled"], "allow_skip": True, "overlap": base["overlap"],
            "inner_id": base["inner_id"], "total_annotations": base["total_annotations"],
            "cancelled_annotations": base["cancelled_annotations"],
            "total_predictions": base["total_predictions"], "precomputed_agreement": None,
            "comment_count": base["comment_count"],
            "unresolved_comment_count": base["unresolved_comment_count"],
            "last_comment_updated_at": base["last_comment_updated_at"],
            "project": base["project"], "updated_by": base["updated_by"],
            "file_upload": base["file_upload"], "comment_authors": base["comment_authors"]}
