"""JSON (the tasks as they are) and JSON_MIN (one flat record per annotation).

Both stream: one task is serialized at a time, so memory stays flat whatever the project size.
"""

import orjson

from desktop.formats.base import ExportFormat, content_type_for, register
from desktop.formats.items import annotator, iter_items, prettify

DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS


@register
class JSONFormat(ExportFormat):
    name = "JSON"
    title = "JSON"
    description = (
        "List of items in raw JSON format stored in one JSON file. Use to export both the data "
        "and the annotations for a dataset. It's Label Studio Common Format"
    )
    link = "https://labelstud.io/guide/export.html#JSON"

    def fits(self, summary):
        return True

    def write(self, tasks, out, ctx):
        out.write(b"[")
        first = True
        for task in tasks:
            if not first:
                out.write(b",")
            out.write(orjson.dumps(task, option=DUMP_OPTIONS))
            first = False
        out.write(b"]")
        return ".json", content_type_for(".json")


@register
class JSONMinFormat(ExportFormat):
    name = "JSON_MIN"
    title = "JSON-MIN"
    description = (
        'List of items where only "from_name", "to_name" values from the raw JSON format are '
        "exported. Use to export only the annotations for a dataset."
    )
    link = "https://labelstud.io/guide/export.html#JSON-MIN"

    def fits(self, summary):
        return True

    def write(self, tasks, out, ctx):
        # Same layout as LS: "[\n", records indented by 2 joined by ",\n", "\n]".
        out.write(b"[\n")
        first = True
        for item in iter_items(tasks, ctx.parsed_label_config):
            if not first:
                out.write(b",\n")
            out.write(orjson.dumps(min_record(item), option=DUMP_OPTIONS | orjson.OPT_INDENT_2))
            first = False
        out.write(b"\n]")
        return ".json", content_type_for(".json")


def min_record(item):
    # A copy, not the task's own dict: the record gets extra keys.
    record = orjson.loads(orjson.dumps(item["input"], option=DUMP_OPTIONS))
    if item.get("id") is not None:
        record["id"] = item["id"]
    for name, values in item["output"].items():
        record[name] = prettify(values)
    record["annotator"] = annotator(item, int_id=True)
    record["annotation_id"] = item["annotation_id"]
    record["created_at"] = item["created_at"]
    record["updated_at"] = item["updated_at"]
    record["lead_time"] = item["lead_time"]
    if "agreement" in item:
        record["agreement"] = item["agreement"]
    return record
