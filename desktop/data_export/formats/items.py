"""Tasks as LS's converter sees them: one "item" per (task, non-cancelled annotation).

Every non-JSON exporter in LS walks these items (converter `annotation_result_from_task`), so
the quirks live here once: newest annotation first, cancelled ones dropped, a task with an empty
annotation list yields one item with no output, a task whose annotations are all cancelled yields
nothing, and each region's `value` is tagged with its control's type from the config.
"""

import copy
import itertools
import re

import orjson


def iter_items(tasks, parsed, with_region_ids=False):
    """Yield LS converter items for `tasks` (an iterable in LS JSON export shape)."""
    matcher = ControlMatcher(parsed or {})
    for task in tasks:
        yield from task_items(task, matcher, with_region_ids)


def task_items(task, matcher, with_region_ids=False):
    if "annotations" in task:
        annotations = task["annotations"]
    elif "completions" in task:
        annotations = task["completions"]
    else:
        return
    if not annotations:
        yield make_item(task, {}, {})
    annotations = [a for a in annotations if not (a.get("skipped") or a.get("was_cancelled"))]
    annotations.sort(key=lambda a: a.get("created_at") or "", reverse=True)
    for annotation in annotations:
        outputs = {}
        for region in annotation.get("result") or []:
            value = matcher.region_value(region, with_region_ids)
            if value is not None:
                outputs.setdefault(region.get("from_name"), []).append(value)
        item = make_item(task, outputs, annotation)
        if "agreement" in task:
            item["agreement"] = task["agreement"]
        yield item


def make_item(task, outputs, annotation):
    return {
        "id": task["id"],
        "input": task["data"],
        "output": outputs,
        "completed_by": annotation.get("completed_by", {}),
        "annotation_id": annotation.get("id"),
        "created_at": annotation.get("created_at"),
        "updated_at": annotation.get("updated_at"),
        "lead_time": annotation.get("lead_time"),
        "history": annotation.get("history"),
        "was_cancelled": annotation.get("was_cancelled"),
    }


class ControlMatcher:
    """Finds the control tag of a region's from_name, Repeater `{{idx}}` names included."""

    def __init__(self, parsed):
        self.parsed = parsed
        self.patterns = []
        for name, info in parsed.items():
            if info.get("regex"):
                pattern = name
                for variable, regex in info["regex"].items():
                    pattern = pattern.replace(variable, regex)
                self.patterns.append((name, pattern, re.compile(pattern)))

    def control_for(self, from_name):
        if from_name in self.parsed:
            return from_name
        best, best_len = None, 0
        for name, pattern, compiled in self.patterns:
            if compiled.match(from_name) and len(pattern) > best_len:
                best, best_len = name, len(pattern)
        return best

    def region_value(self, region, with_region_ids):
        from_name = region.get("from_name")
        if not from_name:
            return None
        control = self.control_for(from_name)
        if control:
            value = json_copy(region["value"])
            value["type"] = self.parsed[control]["type"]
        elif region.get("type") == "chatmessage":
            value = copy.deepcopy(region.get("value", {}))
            value["type"] = "chatmessage"
            return value
        elif not self.parsed:
            # Custom-interface projects (<View></View>): LS keeps every region.
            value = copy.deepcopy(region.get("value") or {})
            value["type"] = region.get("type") or "unknown"
        else:
            return None
        for key in ("original_width", "original_height"):
            if key in region:
                value[key] = region[key]
        if control and with_region_ids:
            value["id"] = region.get("id")
            value["parentID"] = region.get("parentID")
        return value


def json_copy(value):
    """A deep copy of JSON data (what deepcopy gives, several times faster)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError):
        return copy.deepcopy(value)


def prettify(values):
    """A control's regions as JSON_MIN/CSV show them (LS `prettify_result`).

    A single one-choice Choices region or one-text TextArea region collapses to its string.
    """
    out = []
    tag_type = None
    for value in values:
        value = dict(value)
        tag_type = value.pop("type")
        if tag_type == "Choices" and len(value["choices"]) == 1:
            out.append(value["choices"][0])
        elif tag_type == "TextArea" and len(value["text"]) == 1:
            out.append(value["text"][0])
        elif tag_type in ("Chat", "chatmessage"):
            out.append(value.get("chatmessage", value))
        else:
            out.append(value)
    return out[0] if tag_type in ("Choices", "TextArea") and len(out) == 1 else out


def annotator(item, default=None, int_id=False):
    """The annotation's author as LS prints it: email for user dicts, id as str (or int)."""
    author = item["completed_by"]
    if isinstance(author, dict):
        return author.get("email", default)
    if isinstance(author, int) and int_id:
        return author
    return str(author)


def flat_regions(item):
    """All region values of an item, control after control."""
    return [value for values in item["output"].values() for value in values]


def categories_from_config(parsed):
    """COCO/YOLO categories: every label of every control, alphabetical, `category` pins an id."""
    labels = set()
    categories, name_to_id = [], {}
    for info in parsed.values():
        labels |= set(info.get("labels", []))
        attrs = info.get("labels_attrs", {})
        for label in attrs:
            raw = attrs[label].get("category")
            if raw is None:
                continue
            try:
                category_id = int(raw)
            except (TypeError, ValueError):
                continue
            categories.append({"id": category_id, "name": label})
            name_to_id[label] = category_id
    used = set(name_to_id.values())
    free_ids = (i for i in itertools.count() if i not in used)
    for label, category_id in zip(sorted(labels - set(name_to_id)), free_ids):
        categories.append({"id": category_id, "name": label})
        name_to_id[label] = category_id
    return categories, name_to_id


def keypoint_labels(parsed):
    labels = []
    for info in parsed.values():
        if info.get("type") == "KeyPointLabels":
            labels.extend(info.get("labels", []))
    return list(dict.fromkeys(labels))


def keypoint_order(parsed):
    """KeyPointLabels labels ordered by their `model_index` attribute (labels without one are
    left out)."""
    attrs = {}
    for info in parsed.values():
        if info.get("type") == "KeyPointLabels":
            attrs.update(info.get("labels_attrs", {}))
    pairs, used = [], set()
    for name, label_attrs in attrs.items():
        try:
            index = int(label_attrs.get("model_index"))
        except (TypeError, ValueError):
            continue
        if index not in used:
            pairs.append((index, name))
            used.add(index)
    return [name for _, name in sorted(pairs, key=lambda p: p[0])]
