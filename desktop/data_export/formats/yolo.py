"""YOLO and YOLOv8 OBB (+ with Images): classes.txt, notes.json, labels/*.txt, images/.

Label files are named after the image. Like LS, each converter item rewrites its image's label
file, so for a task with several annotations the oldest one wins (items run newest first).
"""

import math
import os

import orjson

from desktop.data_export.formats import media
from desktop.data_export.formats.base import ExportFormat
from desktop.data_export.formats.coco import fits_shapes, keypoints_without_boxes
from desktop.data_export.formats.items import (
    categories_from_config,
    flat_regions,
    iter_items,
    keypoint_labels,
    keypoint_order,
)

CLOUD_SCHEMES = ("s3://", "gs://", "azure-blob://")


class YOLOFormat(ExportFormat):
    name = "YOLO"
    order = 9
    title = "YOLO"
    description = (
        "Popular TXT format is created for each image file. Each txt file contains annotations for "
        "the corresponding image file, that is object class, object coordinates, height & width."
    )
    link = "https://labelstud.io/guide/export.html#YOLO"
    tags = ["image segmentation", "object detection", "keypoints"]
    with_images = False
    obb = False

    def fits(self, summary):
        return fits_shapes(summary) and not keypoints_without_boxes(summary)

    def write(self, tasks, out, ctx):
        parsed = ctx.parsed_label_config
        archive = media.Archive(out, ["images", "labels"])
        with_keypoints = bool(keypoint_labels(parsed))
        if with_keypoints:
            categories, name_to_id = keypoint_categories(parsed)
        else:
            categories, name_to_id = categories_from_config(parsed)
        kp_order = keypoint_order(parsed)
        for item in iter_items(tasks, parsed, with_region_ids=with_keypoints):
            image = self.image_name(item, ctx, archive)
            if not image:
                continue
            stem = os.path.splitext(os.path.basename(image))[0][: 255 - 4]
            label_name = f"labels/{stem}.txt"
            labels = flat_regions(item)
            if not labels:
                if not archive.has(label_name):
                    archive.put(label_name, b"")
                continue
            if with_keypoints:
                text = keypoint_lines(labels, categories, kp_order)
            else:
                text = "".join(self.lines(labels, categories, name_to_id))
            archive.put(label_name, text.encode("utf8"))
        with open(archive.path("classes.txt"), "w", encoding="utf8") as f:
            f.writelines(c["name"] + "\n" for c in categories)
        notes = {"categories": categories,
                 "info": {"year": ctx.now.year, "version": "1.0", "contributor": "Label Studio"}}
        with open(archive.path("notes.json"), "wb") as f:
            f.write(orjson.dumps(notes, option=orjson.OPT_INDENT_2))
        return archive.close()

    def image_name(self, item, ctx, archive):
        """The image's name in the archive (copying it when asked), or the SDK's cache name
        of its URL when unreadable."""
        value = item["input"].get(ctx.data_key)
        candidates = [value] if isinstance(value, str) else list(value or [])
        for url in reversed(candidates):
            path = media.resolve(ctx, url)
            if path is not None:
                name = media.archive_name(url, path, self.with_images)
                if self.with_images:
                    archive.add_media("images/" + name, path)
                return name
            # With images requested, a cloud file that cannot be read must not leave a label file.
            if self.with_images and isinstance(url, str) and url.startswith(CLOUD_SCHEMES):
                continue
            # unread: named as the SDK's download cache names it ("<md5>__<name>")
            return media.archive_name(url, None, False) if isinstance(url, str) else url
        return None

    def lines(self, labels, categories, name_to_id):
        for label in labels:
            names = [n for key in ("rectanglelabels", "polygonlabels", "labels")
                     for n in label.get(key) or []]
            for name in names:
                if name not in name_to_id:
                    name_to_id[name] = len(categories)
                    categories.append({"id": len(categories), "name": name})
                values = self.values(label, name_to_id[name])
                if values is not None:
                    yield " ".join(str(v) for v in values) + "\n"

    def values(self, label, class_id):
        if "rectanglelabels" in label or "rectangle" in label or "labels" in label:
            if self.obb:
                corners = obb_corners(label)
                if corners is None:
                    return None
                return [class_id, *(c for corner in corners for c in corner)]
            box = yolo_box(label)
            return None if box is None else [class_id, *box]
        if "polygonlabels" in label or "polygon" in label:
            if "points" not in label:
                return None
            return [class_id, *(c / 100 for point in label["points"] for c in point)]
        return None


class YOLOWithImagesFormat(YOLOFormat):
    name = "YOLO_WITH_IMAGES"
    order = 10
    title = "YOLO with Images"
    description = "YOLO format with images downloaded."
    with_images = True


class YOLOOBBFormat(YOLOFormat):
    name = "YOLO_OBB"
    order = 11
    title = "YOLOv8 OBB"
    description = (
        "Popular TXT format is created for each image file. Each txt file contains annotations for "
        "the corresponding image file. The YOLO OBB format designates bounding boxes by their four "
        "corner points "
        "with coordinates normalized between 0 and 1, so it is possible to export rotated objects."
    )
    tags = ["image segmentation", "object detection"]
    obb = True

    def fits(self, summary):
        if summary.has("Video") and summary.has("TimelineLabels"):
            return False
        return fits_shapes(summary)


class YOLOOBBWithImagesFormat(YOLOOBBFormat):
    name = "YOLO_OBB_WITH_IMAGES"
    order = 12
    title = "YOLOv8 OBB with Images"
    description = "YOLOv8 OBB format with images downloaded."
    with_images = True


def yolo_box(label):
    """(cx, cy, w, h) normalized to 0..1 from LS percents."""
    try:
        x, y, w, h = label["x"], label["y"], label["width"], label["height"]
        if None in (x, y, w, h):
            return None
        return (x + w / 2) / 100, (y + h / 2) / 100, w / 100, h / 100
    except (KeyError, TypeError, ValueError):
        return None


def obb_corners(label):
    """The four corners of a rotated box, normalized, clockwise from LS's anchor corner."""
    keys = ("original_width", "original_height", "x", "y", "width", "height", "rotation")
    if not all(k in label for k in keys):
        return None
    ow, oh = label["original_width"], label["original_height"]
    x, y = label["x"] / 100 * ow, label["y"] / 100 * oh
    w, h = label["width"] / 100 * ow, label["height"] / 100 * oh
    angle = math.radians(label.get("rotation", 0))
    cos, sin = math.cos(angle), math.sin(angle)
    corners = [
        (x, y),
        (x + w * cos, y + w * sin),
        (x + w * cos - h * sin, y + w * sin + h * cos),
        (x - h * sin, y + h * cos),
    ]
    return [(cx / ow, cy / oh) for cx, cy in corners]


def keypoint_categories(parsed):
    """With keypoints, classes are the RectangleLabels labels in config order, each listing the
    keypoints."""
    names = keypoint_labels(parsed)
    boxes = []
    for info in parsed.values():
        if info.get("type") == "RectangleLabels":
            boxes.extend(info.get("labels", []))
    boxes = list(dict.fromkeys(boxes))
    categories = [{"id": i, "name": label, "keypoints": names} for i, label in enumerate(boxes)]
    return categories, {label: i for i, label in enumerate(boxes)}


def keypoint_lines(labels, categories, kp_order):
    """One line per box: class cx cy w h, then (x y v) per keypoint in model_index order."""
    class_of = {c["name"]: c["id"] for c in categories}
    boxes = {}
    for label in labels:
        if label["type"].lower() != "rectanglelabels" or not label.get("rectanglelabels"):
            continue
        class_id = class_of.get(label["rectanglelabels"][0])
        if class_id is None:
            continue
        x, y = label["x"] / 100.0, label["y"] / 100.0
        w, h = label["width"] / 100.0, label["height"] / 100.0
        boxes[label["id"]] = ([class_id, x + w / 2.0, y + h / 2.0, w, h], {})
    for label in labels:
        if label["type"].lower() != "keypointlabels" or label.get("parentID") not in boxes:
            continue
        if label.get("keypointlabels"):
            point = (label["x"] / 100.0, label["y"] / 100.0, 2)
            boxes[label["parentID"]][1][label["keypointlabels"][0]] = point
    lines = []
    for base, points in boxes.values():
        values = list(base)
        for name in kp_order:
            values.extend(points.get(name, (0.0, 0.0, 0)))
        lines.append(" ".join(map(str, values)))
    return "\n".join(lines)


FORMATS = [YOLOFormat(), YOLOWithImagesFormat(), YOLOOBBFormat(), YOLOOBBWithImagesFormat()]
