"""Pascal VOC XML: Annotations/<image>.xml (+ images/) in a zip.

The XML is laid out as LS's minidom writer does (no indentation, one element per line), and
pixel coordinates are truncated to int like LS's.
"""

import os

from desktop.data_export.formats import media
from desktop.data_export.formats.base import ExportFormat
from desktop.data_export.formats.items import annotator, flat_regions, iter_items


class VOCFormat(ExportFormat):
    name = "VOC"
    order = 8
    title = "Pascal VOC XML"
    description = ("Popular XML format used for object detection and polygon image segmentation "
                   "tasks.")
    link = "https://labelstud.io/guide/export.html#Pascal-VOC-XML"
    tags = ["image segmentation", "object detection"]

    def fits(self, summary):
        s = summary
        boxes = s.has("RectangleLabels") or s.has("Rectangle") and s.has("Labels")
        return s.has("Image") and boxes and not s.multi_image

    def write(self, tasks, out, ctx):
        archive = media.Archive(out, ["images"])
        for item in iter_items(tasks, ctx.parsed_label_config):
            if "Annotations" not in archive.folders:
                archive.folders.append("Annotations")
            url = item["input"].get(ctx.data_key)
            path = media.resolve(ctx, url)
            info = media.image_info(path) if path else None
            if path is not None:
                image_name = media.archive_name(url, path, ctx.download_resources)
                if ctx.download_resources:
                    archive.add_media("images/" + image_name, path)
            else:
                image_name = os.path.basename(url or "")
            boxes = flat_regions(item)
            if not boxes:
                continue
            if "original_width" in boxes[0] and "original_height" in boxes[0]:
                width, height = boxes[0]["original_width"], boxes[0]["original_height"]
            elif info:
                # LS skips the task here; the image's own size is our fallback.
                width, height = info[0], info[1]
            else:
                continue
            channels = info[2] if info else 3
            xml = voc_xml(image_name, annotator(item, ""), width, height, channels, boxes)
            xml_name = os.path.splitext(image_name)[0] + ".xml"
            archive.put(f"Annotations/{xml_name}", xml.encode("utf8"))
        return archive.close()


def voc_xml(image_name, author, width, height, channels, boxes):
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<annotation>"]
    lines += [node("folder", "images"), node("filename", image_name), "<source>"]
    lines += [node("database", "MyDatabase"), node("annotation", "COCO2017"),
              node("image", "flickr")]
    lines += [node("flickrid", "NULL"), node("annotator", author), "</source>", "<owner>"]
    lines += [node("flickrid", "NULL"), node("name", "Label Studio"), "</owner>", "<size>"]
    lines += [node("width", str(width)), node("height", str(height)), node("depth", str(channels))]
    lines += ["</size>", node("segmented", "0")]
    for box in boxes:
        key = "rectanglelabels" if "rectanglelabels" in box else (
            "labels" if "labels" in box else None)
        if key is None or len(box[key]) == 0:
            continue
        x = int(box["x"] / 100 * width)
        y = int(box["y"] / 100 * height)
        w = int(box["width"] / 100 * width)
        h = int(box["height"] / 100 * height)
        lines += ["<object>", node("name", box[key][0]), node("pose", "Unspecified")]
        lines += [node("truncated", "0"), node("difficult", "0"), "<bndbox>"]
        lines += [node("xmin", str(x)), node("ymin", str(y)), node("xmax", str(x + w)),
                  node("ymax", str(y + h))]
        lines += ["</bndbox>", "</object>"]
    lines.append("</annotation>")
    return "\n".join(lines) + "\n"


def node(tag, text):
    return f"<{tag}>{escape(text)}</{tag}>"


def escape(text):
    # minidom escapes these four in text nodes
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace(">", "&gt;"))


FORMATS = [VOCFormat()]
