"""Formats LS lists that LabelDesk does not write yet: catalogue entries only.

They appear in `formats_for()` with LS's rules, so the export dialog looks the same; writing
one raises ValidationError.
"""

from desktop.data_export.formats.base import ExportFormat, register
from desktop.data_export.formats.brush import fits_brush


@register
class BrushToCOCOFormat(ExportFormat):
    name = "BRUSH_TO_COCO"
    title = "Brush labels to COCO"
    description = (
        "Export your brush labels as COCO format for segmentation tasks. Converts RLE encoded masks to COCO polygons."
    )
    link = "https://labelstud.io/guide/export.html#COCO"
    tags = ["image segmentation", "brush annotations"]
    implemented = False

    def fits(self, summary):
        return fits_brush(summary)


@register
class DocLangFormat(ExportFormat):
    name = "DOCLANG"
    title = "DocLang (.dclx)"
    description = (
        "Package annotations from the Doclang Interface as DocLang OPC archives (document.xml + page image) "
        "for downstream Docling model training."
    )
    link = "https://github.com/doclang-project/doclang/blob/main/spec.md#doclang-archive-format"
    tags = ["document", "doclang"]
    implemented = False

    def fits(self, summary):
        return bool(summary.control_types & {"TextArea", "ReactCode", "CustomInterface"})
