"""COCO and COCO with Images: result.json (+ images/) in a zip.

Pixel values are percent × the region's original_width/height, as LS computes them, so boxes
match LS's to the last bit. One COCO image per converter item: like LS, a task with two
annotations appears as two images.
"""

import math

from desktop.core.errors import ValidationError
from desktop.data_export.formats import media
from desktop.data_export.formats.base import ExportFormat
from desktop.data_export.formats.items import (
    categories_from_config,
    flat_regions,
    iter_items,
    keypoint_labels,
    keypoint_order,
)
from desktop.data_export.jsonfile import Spool, write_document

TAGS = ["image segmentation", "object detection", "keypoints"]
CATEGORY_KEYS = ("rectanglelabels", "polygonlabels", "keypointlabels", "labels")


def fits_shapes(summary):
    """COCO/YOLO rule: an Image with rectangles, polygons or keypoints, single image per task."""
    s = summary
    shapes = (
        s.has("Image") and s.has("RectangleLabels", "PolygonLabels", "KeyPointLabels")
        or s.has("Rectangle") and s.has("Labels")
        or s.has("PolygonLabels") and s.has("Labels")
        or s.has("KeyPointLabels") and s.has("Labels")
    )
    return shapes and not s.multi_image


def keypoints_without_boxes(summary):
    types = summary.control_types
    return "KeyPointLabels" in types and "RectangleLabels" not in types


class COCOFormat(ExportFormat):
    name = "COCO"
    order = 6
    title = "COCO"
    description = (
        "Popular machine learning format used by the COCO dataset for object detection and image "
        "segmentation tasks with polygons and rectangles."
    )
    link = "https://labelstud.io/guide/export.html#COCO"
    tags = TAGS
    with_images = False

    def fits(self, summary):
        return fits_shapes(summary) and not keypoints_without_boxes(summary)

    def write(self, tasks, out, ctx):
        archive = media.Archive(out, ["images"])
        writer = COCOWriter(ctx, archive, self.with_images)
        try:
            for item in iter_items(tasks, ctx.parsed_label_config):
                writer.add(item)
            with open(archive.path("result.json"), "wb") as f:
                writer.finish(f)
        finally:
            writer.close()
        return archive.close()


class COCOWithImagesFormat(COCOFormat):
    name = "COCO_WITH_IMAGES"
    order = 7
    title = "COCO with Images"
    description = "COCO format with images downloaded."
    with_images = True


class COCOWriter:
    def __init__(self, ctx, archive, with_images):
        self.ctx = ctx
        self.archive = archive
        self.with_images = with_images
        parsed = ctx.parsed_label_config
        self.categories, self.name_to_id = merge_keypoint_category(
            *categories_from_config(parsed), parsed)
        self.kp_order = keypoint_order(parsed)
        self.images = Spool()
        self.annotations = Spool()

    def add_image(self, width, height, image_id, file_name):
        self.images.append({"width": width, "height": height, "id": image_id,
                            "file_name": file_name})

    def add(self, item):
        url = item["input"].get(self.ctx.data_key)
        image_id = len(self.images)
        width = height = None
        path = media.resolve(self.ctx, url)
        file_name = self.locate(url, path)
        info = media.image_info(path) if path else None
        if info:
            width, height = info[0], info[1]
            self.add_image(width, height, image_id, file_name)
        if not item["output"]:
            if not width:
                self.add_image(width, height, image_id, file_name)
            return
        keypoints = []
        for label in flat_regions(item):
            category = next((label[k][0] for k in CATEGORY_KEYS if label.get(k)), None)
            if category is None:
                continue
            if not height or not width:
                if "original_width" not in label or "original_height" not in label:
                    continue
                width, height = label["original_width"], label["original_height"]
                self.add_image(width, height, image_id, file_name)
            if category not in self.name_to_id:
                self.name_to_id[category] = len(self.categories)
                self.categories.append({"id": len(self.categories), "name": category})
            category_id = self.name_to_id[category]
            if "rectanglelabels" in label or "labels" in label:
                self.add_box(label, image_id, category_id, width, height)
            elif "polygonlabels" in label:
                self.add_polygon(label, image_id, category_id, width, height)
            elif "keypointlabels" in label:
                keypoints.append(label)
        if keypoints:
            self.annotations.append(self.keypoint_annotation(keypoints, image_id))

    def locate(self, url, path):
        """COCO file_name: "images/<name>" for a readable file, else the URL itself.

        LS >= 1.16 writes a path relative to its temp folder here (LS issue #7294); we keep the
        older, usable "images/<name>", which is where COCO_WITH_IMAGES puts the file.
        """
        if path is None:
            return url
        name = "images/" + media.archive_name(url, path, self.with_images)
        if self.with_images:
            self.archive.add_media(name, path)
        return name

    def add_box(self, label, image_id, category_id, width, height):
        xywh = rotated_rectangle(label)
        if xywh is None:
            return
        # LS requires the region's own size; falling back to the image's is our addition.
        ow, oh = label.get("original_width", width), label.get("original_height", height)
        x, y, w, h = xywh
        x, y, w, h = x * ow / 100, y * oh / 100, w * ow / 100, h * oh / 100
        self.annotations.append({
            "id": len(self.annotations), "image_id": image_id, "category_id": category_id,
            "segmentation": [], "bbox": [x, y, w, h], "ignore": 0, "iscrowd": 0, "area": w * h,
        })

    def add_polygon(self, label, image_id, category_id, width, height):
        points = [(x / 100 * width, y / 100 * height) for x, y in label["points"]]
        xs, ys = zip(*points)
        self.annotations.append({
            "id": len(self.annotations), "image_id": image_id, "category_id": category_id,
            "segmentation": [[c for point in points for c in point]],
            "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
            "ignore": 0, "iscrowd": 0, "area": polygon_area(xs, ys),
        })

    def keypoint_annotation(self, labels, image_id):
        order = self.kp_order
        if not order:
            raise ValidationError(
                "No keypoint order found. Please ensure that KeyPointLabels in your label config "
                "have 'model_index' attributes defined."
            )
        values = [0] * (len(order) * 3)
        for kp in labels:
            x = kp["x"] / 100 * kp["original_width"]
            y = kp["y"] / 100 * kp["original_height"]
            names = kp.get("keypointlabels", [])
            for name in names:
                if name in order:
                    i = order.index(name)
                    values[3 * i: 3 * i + 3] = [int(round(x)), int(round(y)), 2]
        visible = [i for i in range(len(order)) if values[3 * i + 2] > 0]
        if visible:
            xs = [values[3 * i] for i in visible]
            ys = [values[3 * i + 1] for i in visible]
            bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        else:
            bbox = [0, 0, 0, 0]
        return {
            "id": len(self.annotations), "image_id": image_id,
            "category_id": self.name_to_id.get(order[0], 0), "keypoints": values,
            "num_keypoints": len(visible), "bbox": bbox, "iscrowd": 0,
        }

    def finish(self, f):
        now = self.ctx.now
        info = {
            "year": now.year, "version": "1.0", "description": "", "contributor": "Label Studio",
            "url": "", "date_created": str(now),
        }
        write_document(f, [
            ("images", self.images), ("categories", self.categories),
            ("annotations", self.annotations), ("info", info),
        ])

    def close(self):
        self.images.close()
        self.annotations.close()


def merge_keypoint_category(categories, name_to_id, parsed):
    """Keypoint labels become one "default" category listing them, as in LS."""
    names = keypoint_labels(parsed)
    if not names:
        return categories, name_to_id
    kept = [dict(c) for c in categories if c["name"] not in names]
    mapping = {c["name"]: c["id"] for c in kept}
    ids = [c["id"] for c in kept if isinstance(c["id"], int)]
    merged_id = max(ids) + 1 if ids else 0
    kept.append({"id": merged_id, "name": "default", "supercategory": "default",
                 "keypoints": names, "skeleton": []})
    mapping.update({name: merged_id for name in names})
    return kept, mapping


def polygon_area(xs, ys):
    """Shoelace formula, in LS's order of terms."""
    n = len(xs)
    a = sum(xs[i] * ys[i - 1] for i in range(n))
    b = sum(ys[i] * xs[i - 1] for i in range(n))
    return float(0.5 * abs(a - b))


def rotated_rectangle(label):
    """(x, y, w, h) in percent of the axis-aligned box around a rotated rectangle."""
    if not all(k in label for k in ("x", "y", "width", "height")):
        return None
    x, y, w, h = label["x"], label["y"], label["width"], label["height"]
    r = label.get("rotation", 0.0)
    if abs(r) > 0:
        # LS stores the top-left corner after rotation; the angle is towards the vertical axis.
        alpha = math.atan(h / w)
        beta = math.pi * (r / 180)
        radius = math.sqrt((w / 2) ** 2 + (h / 2) ** 2)
        x0 = x - radius * (math.cos(math.pi - alpha - beta) - math.cos(math.pi - alpha)) + w / 2
        y0 = y + radius * (math.sin(math.pi - alpha - beta) - math.sin(math.pi - alpha)) + h / 2
        thetas = [alpha + beta, math.pi - alpha + beta, math.pi + alpha + beta,
                  2 * math.pi - alpha + beta]
        xs = [x0 + radius * math.cos(t) for t in thetas]
        ys = [y0 + radius * math.sin(t) for t in thetas]
        x, y = min(xs), min(ys)
        w, h = max(xs) - x, max(ys) - y
    return x, y, w, h


FORMATS = [COCOFormat(), COCOWithImagesFormat()]
