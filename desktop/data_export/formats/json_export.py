"""JSON (the tasks as they are) and JSON_MIN (one flat record per annotation).

Both stream: one task is serialized at a time, so memory stays flat whatever the project size.
"""

import orjson

from desktop.data_export.formats.base import ExportFormat, content_type_for
from desktop.data_export.formats.items import annotator, iter_items, prettify

DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS
BATCH = 500


class JSONFormat(ExportFormat):
    name = "JSON"
    order = 1
    title = "JSON"
    description = (
        "List of items in raw JSON format stored in one JSON file. Use to export both the data "
        "and the annotations for a dataset. It's Label Studio Common Format"
    )
    link = "https://labelstud.io/guide/export.html#JSON"
    multi_key = True

    def fits(self, summary):
        return True

    def write(self, tasks, out, ctx):
        # Serialized a batch at a time: one orjson call and one write per BATCH tasks.
        out.write(b"[")
        first = True
        for batch in batches(tasks):
            data = orjson.dumps(batch, option=DUMP_OPTIONS)
            if not first:
                out.write(b",")
            out.write(memoryview(data)[1:-1])
            first = False
        out.write(b"]")
        return ".json", content_type_for(".json")


class JSONMinFormat(ExportFormat):
    name = "JSON_MIN"
    order = 2
    title = "JSON-MIN"
    description = (
        'List of items where only "from_name", "to_name" values from the raw JSON format are '
        "exported. Use to export only the annotations for a dataset."
    )
    link = "https://labelstud.io/guide/export.html#JSON-MIN"
    multi_key = True

    def fits(self, summary):
        return True

    def write(self, tasks, out, ctx):
        # Same layout as LS: "[\n", records indented by 2 joined by ",\n", "\n]".
        out.write(b"[\n")
        first = True
        option = DUMP_OPTIONS | orjson.OPT_INDENT_2
        for batch in batches(iter_items(tasks, ctx.parsed_label_config)):
            data = b",\n".join([orjson.dumps(min_record(item), option=option) for item in batch])
            if not first:
                out.write(b",\n")
            out.write(data)
            first = False
        out.write(b"\n]")
        return ".json", content_type_for(".json")


def batches(iterable, size=BATCH):
    """Lists of up to `size` consecutive elements."""
    batch = []
    for element in iterable:
        batch.append(element)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def min_record(item):
    # A copy, not the task's own dict: the record gets extra top-level keys (nothing nested
    # is changed, so a shallow copy is enough).
    data = item["input"]
    record = dict(data) if isinstance(data, dict) else orjson.loads(
        orjson.dumps(data, option=DUMP_OPTIONS))
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


FORMATS = [JSONFormat(), JSONMinFormat()]
