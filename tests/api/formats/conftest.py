"""Shared fixtures: small LS projects in JSON-export shape, and runners for our exporter and LS's.

The oracle is `label_studio_sdk.converter.Converter` (a test dependency only): both run on the
same tasks and the tests compare what they wrote.
"""

import datetime
import io
import json
import pathlib
import zipfile

import pytest
from PIL import Image

from desktop.data_export.formats import ExportContext, get_format

NOW = datetime.datetime(2026, 11, 23, 13, 36, 49)


def parse(label_config):
    from label_studio_sdk._extensions.label_studio_tools.core.label_config import parse_config

    return parse_config(label_config)


def annotation(ann_id, result, completed_by=1, created_at=None, **extra):
    created_at = created_at or f"2026-11-23T13:{ann_id % 60:02d}:00.000000Z"
    return {
        "id": ann_id, "completed_by": completed_by, "result": result, "was_cancelled": False,
        "ground_truth": False, "created_at": created_at, "updated_at": created_at,
        "draft_created_at": None, "lead_time": 2.5, "prediction": {}, "result_count": len(result),
        "unique_id": f"uid-{ann_id}", "import_id": None, "last_action": None, "bulk_created": False,
        "task": None, "project": 1, "updated_by": 1, "parent_prediction": None,
        "parent_annotation": None, "last_created_by": None, **extra,
    }


def task(task_id, data, annotations=(), **extra):
    anns = [dict(a, task=task_id) for a in annotations]
    return {
        "id": task_id, "annotations": anns, "drafts": [], "predictions": [], "data": data,
        "meta": {},
        "created_at": "2026-11-23T13:00:00.000000Z", "updated_at": "2026-11-23T13:00:00.000000Z",
        "allow_skip": True, "inner_id": task_id, "total_annotations": len(anns),
        "cancelled_annotations": 0, "total_predictions": 0, "comment_count": 0,
        "unresolved_comment_count": 0, "last_comment_updated_at": None, "project": 1,
        "updated_by": 1, "comment_authors": [], **extra,
    }


def rect(region_id, x, y, w, h, label, ow, oh, rotation=0, from_name="label", to_name="image",
         **extra):
    value = {"x": x, "y": y, "width": w, "height": h, "rotation": rotation,
             "rectanglelabels": [label]}
    return {"id": region_id, "type": "rectanglelabels", "from_name": from_name, "to_name": to_name,
            "original_width": ow, "original_height": oh, "image_rotation": 0, "value": value,
            **extra}


class Project:
    """An upload folder with images, and runners for both exporters."""

    def __init__(self, tmp_path, label_config):
        self.tmp = tmp_path
        self.label_config = label_config
        self.parsed = parse(label_config)
        self.upload = tmp_path / "media" / "upload"
        (self.upload / "1").mkdir(parents=True)

    def image(self, name, size=(40, 30), mode="RGB", fmt="PNG"):
        path = self.upload / "1" / name
        Image.new(mode, size, 0 if mode in ("L", "P", "1") else (200,) * len(mode)).save(path, fmt)
        return f"/data/upload/1/{name}"

    def file(self, name, data):
        (self.upload / "1" / name).write_bytes(data)
        return f"/data/upload/1/{name}"

    def resolve(self, url):
        if url.startswith("/data/upload/"):
            return self.upload / url[len("/data/upload/"):]
        return None

    def ours(self, fmt, tasks, download_resources=True):
        """(ext, content_type, bytes) of our export."""
        ctx = ExportContext(
            project_id=1, parsed_label_config=self.parsed, label_config=self.label_config,
            download_resources=download_resources, resolve_media=self.resolve, now=NOW,
        )
        out = io.BytesIO()
        ext, content_type = get_format(fmt).write(iter(tasks), out, ctx)
        return ext, content_type, out.getvalue()

    def ours_dir(self, fmt, tasks, download_resources=True):
        ext, _, data = self.ours(fmt, tasks, download_resources)
        target = self.tmp / f"ours-{fmt}"
        target.mkdir()
        if ext == ".zip":
            zipfile.ZipFile(io.BytesIO(data)).extractall(target)
        else:
            (target / ("result" + ext)).write_bytes(data)
        return target

    def oracle_dir(self, fmt, tasks, download_resources=True):
        from label_studio_sdk.converter import Converter

        source = self.tmp / f"tasks-{fmt}.json"
        source.write_text(json.dumps(list(tasks)))
        target = self.tmp / f"ls-{fmt}"
        target.mkdir()  # LS exports into an existing temp dir; the brush writer relies on it
        converter = Converter(
            config=self.label_config, project_dir=None, upload_dir=str(self.upload),
            download_resources=download_resources,
        )
        converter.convert(str(source), str(target), fmt, is_dir=False)
        return target


@pytest.fixture
def make_project(tmp_path):
    return lambda label_config: Project(tmp_path, label_config)


def files_in(folder):
    folder = pathlib.Path(folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def h():
    """The helpers above, for test modules (conftest modules are not imported by name)."""
    import types

    return types.SimpleNamespace(
        annotation=annotation, task=task, rect=rect, files_in=files_in, parse=parse, now=NOW
    )
