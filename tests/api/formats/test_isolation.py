"""desktop/formats runs headless on the standard library + orjson (STYLE.md: no GUI, no store)."""

import subprocess
import sys

from paths import ROOT

SCRIPT = r"""
import io, sys
from desktop.data_export.formats import ExportContext, REGISTRY
from desktop.data_import.importers import read_tasks
parsed = {"label": {"type": "RectangleLabels", "to_name": ["image"], "labels": ["Cat"],
                    "labels_attrs": {"Cat": {}},
                    "inputs": [{"type": "Image", "valueType": None, "value": "image"}]}}
region = {"id": "r", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
          "original_width": 4, "original_height": 3,
          "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0,
                    "rectanglelabels": ["Cat"]}}
tasks = [{"id": 1, "data": {"image": "/data/upload/1/a.png"},
          "annotations": [{"id": 1, "completed_by": 1, "result": [region], "created_at": "x"}]}]
ctx = ExportContext(project_id=1, parsed_label_config=parsed)
for fmt in REGISTRY.values():
    fmt.write(iter(tasks), io.BytesIO(), ctx)
read_tasks("a.csv", b"a,b\n1,x\n")
banned = ("bottle", "webview", "desktop.db", "pandas", "numpy", "PIL", "label_studio_sdk", "cv2")
print(sorted(m for m in sys.modules if m.split(".")[0] in banned or m.startswith("desktop.db")))
"""


def test_formats_import_nothing_heavy():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
