"""What the assistants share: reading a label config for the tags they fill, and the pieces of
Label Studio's result JSON (region ids, percent geometry) they all write."""

import secrets
import string

from desktop.labelconfig import LabelConfigError, parse

_ID_CHARS = string.ascii_letters + string.digits


def region_id():
    """A region id as Label Studio's editor makes them: 10 letters and digits."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(10))


def config_of(label_config):
    """The parsed config, or None for one that doesn't parse (no assistant fits it)."""
    try:
        return parse(label_config)
    except (LabelConfigError, RecursionError):
        return None


def objects_of(config, tag):
    """(name, data key) of the config's object tags of this kind (`Image`, `Text`), in order;
    the data key is the value's `$key` (`$ocr` -> `ocr`)."""
    found = []
    for name, obj in config.objects.items():
        value = obj.attrs.get("value", "")
        if obj.tag.lower() == tag.lower() and value.startswith("$") and len(value) > 1:
            found.append((name, value[1:]))
    return found


def controls_of(config, tags, to_name):
    """Controls of these kinds (lower-case tag names) pointing at the object `to_name`."""
    return [control for control in config.controls.values()
            if control.tag.lower() in tags and to_name in control.to_names]


def is_true(attrs, name):
    return str(attrs.get(name, "")).strip().lower() == "true"


def pick_label(labels, wanted=()):
    """The first of `labels` whose name is one of `wanted` (case-insensitive), else the first."""
    lowered = {label.lower(): label for label in labels}
    for name in wanted:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return labels[0] if labels else None


def percent(value, total):
    """A pixel coordinate as Label Studio's percent of the image's side, clamped to 0..100."""
    return min(100.0, max(0.0, 100.0 * value / total)) if total else 0.0


def prediction(name, version, result, score=None):
    """One Label Studio prediction."""
    return {"result": result, "score": None if score is None else round(float(score), 4),
            "model_version": f"{name}-{version}"}
