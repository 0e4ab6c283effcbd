"""CSV and TSV: the JSON_MIN records as a table.

The header is the sorted union of every record's keys, so the rows can only be written once all
records are known. LS reads its input three times for that; we read the tasks once, spool the
records to a temporary file, then write the table: memory stays flat.

Cells a spreadsheet would run as a formula are neutralized by default (OWASP's advice on CSV
injection): a text cell, header included, starting with `=`, `+`, `-`, `@`, a tab or a carriage
return gets a leading `'`. Text that is a plain decimal number (`-3`, `+1.5e3`) runs nothing and
is left alone; JSON numbers are numbers, never text. `ctx.escape_formulas = False` writes Label
Studio's bytes exactly.
"""

import csv
import io
import re
import tempfile

import orjson

from desktop.data_export.formats.base import ExportFormat, content_type_for
from desktop.data_export.formats.items import annotator, iter_items, prettify

ALWAYS = {"annotator", "annotation_id", "created_at", "updated_at", "lead_time"}
SPOOL_BATCH = 1000
FORMULA_STARTS = frozenset("=+-@\t\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def neutralize(value):
    """`value` as a cell no spreadsheet runs: "'" before text that could start a formula."""
    if (value.__class__ is str and value[:1] in FORMULA_STARTS
            and not PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


class TableFormat(ExportFormat):
    delimiter = ","
    escapes_formulas = True  # ExportContext.escape_formulas applies to this format
    multi_key = True

    def fits(self, summary):
        return True

    def write(self, tasks, out, ctx):
        with tempfile.TemporaryFile() as spool:
            input_keys, output_keys, other_keys = set(), set(), set(ALWAYS)
            seen = set()  # key sets already merged: most rows share theirs
            lines = []
            for item in iter_items(tasks, ctx.parsed_label_config):
                parts = record_parts(item)
                shape = (tuple(parts["input"]), tuple(parts["output"]), tuple(parts),
                         tuple(parts["meta"]))
                if shape not in seen:
                    seen.add(shape)
                    input_keys.update(parts["input"])
                    output_keys.update(parts["output"])
                    other_keys.update(k for k in parts if k not in ("input", "output", "meta"))
                    other_keys.update(parts["meta"])
                lines.append(orjson.dumps(parts))
                if len(lines) >= SPOOL_BATCH:
                    spool.write(b"\n".join(lines) + b"\n")
                    lines = []
            if lines:
                spool.write(b"\n".join(lines) + b"\n")
            # A data key that is also a control name is renamed "_data_<key>" in every row.
            colliding = input_keys & output_keys
            header = sorted(other_keys | output_keys | {data_column(k, colliding)
                                                        for k in input_keys})
            spool.seek(0)
            text = io.TextIOWrapper(out, encoding="utf8", newline="")
            writer = csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, delimiter=self.delimiter)
            escape = ctx.escape_formulas
            writer.writerow([neutralize(key) for key in header] if escape else header)
            rows = []
            for line in spool:
                record = assemble(orjson.loads(line), colliding)
                # csv.DictWriter's row, without its per-row check for unknown keys
                row = [record.get(key, "") for key in header]
                rows.append([neutralize(v) for v in row] if escape else row)
                if len(rows) >= SPOOL_BATCH:
                    writer.writerows(rows)
                    rows = []
            writer.writerows(rows)
            text.flush()
            text.detach()
        # LS writes TSV into result.csv too, hence ".csv" for both.
        return ".csv", content_type_for(".csv")


def record_parts(item):
    """The pieces of one row, before data keys are renamed (that needs every row's keys)."""
    outputs, meta = {}, {}
    if item.get("id") is not None:
        meta["id"] = item["id"]
    for name, values in item["output"].items():
        pretty = prettify(values)
        outputs[name] = pretty if isinstance(pretty, str) else dumps(pretty)
        if any(isinstance(v, dict) and v.get("type") in ("Chat", "chatmessage") for v in values):
            outputs[f"{name}_transcript"] = chat_transcript(pretty)
    inputs = {
        name: dumps(value) if isinstance(value, (dict, list)) else value
        for name, value in item["input"].items()
    }
    tail = {
        "annotator": annotator(item),
        "annotation_id": item["annotation_id"],
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
        "lead_time": item["lead_time"],
    }
    if "agreement" in item:
        tail["agreement"] = item["agreement"]
    if item.get("history"):
        tail["history"] = dumps(item["history"])
    return {"meta": meta, "output": outputs, "input": inputs, **tail}


def assemble(parts, colliding):
    # LS's assignment order matters when names clash (e.g. a data key called "id").
    record = dict(parts.pop("meta"))
    record.update(parts.pop("output"))
    for name, value in parts.pop("input").items():
        record[data_column(name, colliding)] = value
    record.update(parts)
    return record


def data_column(name, colliding):
    return f"_data_{name}" if name in colliding else name


def dumps(value):
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def chat_transcript(messages):
    lines = []
    if isinstance(messages, list):
        for message in messages:
            if not isinstance(message, dict):
                continue
            role = str(message.get("role", ""))
            content = str(message.get("content", ""))
            if role:
                lines.append(f"{role}: {content}" if content else f"{role}:")
            else:
                lines.append(content)
    return "\n".join(lines)


class CSVFormat(TableFormat):
    name = "CSV"
    order = 3
    title = "CSV"
    description = (
        "Results are stored as comma-separated values with the column names specified by the "
        'values of the "from_name" and "to_name" fields.'
    )
    link = "https://labelstud.io/guide/export.html#CSV"


class TSVFormat(TableFormat):
    name = "TSV"
    order = 4
    title = "TSV"
    description = (
        "Results are stored in tab-separated tabular file with column names specified by "
        '"from_name" "to_name" values'
    )
    link = "https://labelstud.io/guide/export.html#TSV"
    delimiter = "\t"


FORMATS = [CSVFormat(), TSVFormat()]
