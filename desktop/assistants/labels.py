"""Label configs as the assistants read them, and label maps (a model's PERSON -> the project's
Person). Used by the assistant modules in the worker; imports only desktop.labelconfig."""

from desktop.labelconfig import LabelConfigError, parse

# A result's value key that holds labels, per control type (Label Studio's result format).
VALUE_KEYS = ("labels", "choices", "rectanglelabels", "polygonlabels", "brushlabels",
              "keypointlabels", "ellipselabels", "hypertextlabels", "paragraphlabels",
              "timeserieslabels", "taxonomy")


def controls(label_config):
    """Label Studio's parsed_label_config ({control name: {type, to_name, inputs, labels}}),
    {} for a config that doesn't parse."""
    try:
        return parse(label_config).parsed
    except (LabelConfigError, ValueError, TypeError):
        return {}


def objects(label_config):
    """{object tag name: {"type", "value" (the data key)}} of a config, {} if it doesn't parse."""
    try:
        config = parse(label_config)
    except (LabelConfigError, ValueError, TypeError):
        return {}
    return {name: {"type": tag.tag, "value": (tag.attrs.get("value") or "").lstrip("$")}
            for name, tag in config.objects.items()}


def auto_map(model_labels, project_labels, given=None):
    """{model label: project label}: `given` first, then labels equal but for case and
    punctuation (PERSON -> Person, GPE -> gpe); model labels with no match are left out."""
    def key(label):
        return "".join(c for c in str(label).lower() if c.isalnum())
    mapping = {}
    by_key = {key(p): p for p in project_labels}
    for label in model_labels:
        if key(label) in by_key:
            mapping[label] = by_key[key(label)]
    for model_label, project_label in (given or {}).items():
        if project_label in project_labels:
            mapping[model_label] = project_label
    return mapping


def check_label_map(label_map, project_labels):
    """The problem with a user's label map, or None. Its values must be the project's labels."""
    if label_map is None:
        return None
    if not isinstance(label_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in label_map.items()):
        return "label_map must map model labels to the project's labels (strings)."
    unknown = sorted(v for v in label_map.values() if v not in project_labels)
    if unknown:
        return f"The project has no label {', '.join(unknown)}: its labels are " \
               f"{', '.join(project_labels) or 'none'}."
    return None


def map_results(predictions, label_map):
    """Rename the labels of predictions' results with `label_map`; a result whose labels are all
    unmapped model labels is kept as it is (the project may have them itself)."""
    if not label_map:
        return predictions
    for prediction in predictions:
        for result in prediction.get("result") or []:
            value = result.get("value") if isinstance(result, dict) else None
            if not isinstance(value, dict):
                continue
            for key in VALUE_KEYS:
                if isinstance(value.get(key), list):
                    value[key] = [label_map.get(v, v) if isinstance(v, str) else v
                                  for v in value[key]]
    return predictions
