"""Export formats: Label Studio 1.23's, file for file (reading imports is data_import.importers).

Headless and small: standard library + orjson only; never imports bottle, webview or desktop.db.

A format module lists its formats at module level, `FORMATS = [SomeFormat(), ...]` (one module per
family: json_export, csv_export, conll, coco, voc, yolo, brush, asr); the registry finds those
modules on the first lookup (pkgutil over this package), so adding a format is adding a module
and importing this package registers nothing. items.py and media.py are the shared helpers.

    REGISTRY: Registry (a Mapping name -> format)     LS's catalogue order, see get_format(name)
    Registry(*packages)                               scans other packages too (a plug-in, a test)
    formats_for(parsed_label_config, data_keys=None)  GET /api/projects/{id}/export/formats answer
    ExportContext(project_id, parsed_label_config, label_config="", download_resources=True,
                  resolve_media=lambda url: None, now=datetime.now(), escape_formulas=True)
    ExportFormat.write(tasks, out, ctx) -> (ext, content_type)
    export_filename(project_id, now, ext, digest) -> "project-1-at-2026-11-23-13-36-d7161aef.json"

`tasks` is any iterable (a generator is fine) of tasks in the shape of LS's direct JSON export:
annotations as full objects, predictions as ids. `out` is a binary file opened for writing;
single-file formats (JSON, JSON_MIN, CSV, TSV, CONLL2003, a lone brush mask) are written into it
as is, the others as a zip with LS's folders. `ext` and `content_type` are what LS answers,
quirks included: TSV is ".csv", and single files are `application/.json`, `application/.csv`,
`application/.conll` (LS keeps the dot). CSV and TSV put a `'` before text cells a spreadsheet
would run as formulas unless `ctx.escape_formulas` is False (then: LS's bytes).

    ctx = ExportContext(project_id=1, parsed_label_config=parsed, resolve_media=store.local_path)
    with open(tmp_path, "wb") as out:
        ext, content_type = get_format("YOLO").write(tasks_iter(), out, ctx)
    name = export_filename(1, ctx.now, ext, md5_of(tmp_path))

Label Studio 1.23 also lists BRUSH_TO_COCO and DOCLANG; LabelDesk lists neither, as it writes
neither (docs/export.md).
"""

from desktop.data_export.formats.base import (
    REGISTRY,
    ConfigSummary,
    ExportContext,
    ExportFormat,
    Registry,
    export_filename,
    formats_for,
    get_format,
    supported_formats,
)

__all__ = [
    "REGISTRY", "ConfigSummary", "ExportContext", "ExportFormat", "Registry", "export_filename",
    "formats_for", "get_format", "supported_formats",
]
