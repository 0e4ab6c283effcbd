"""Label Studio's JSON-schema check of a label config, reproduced without `jsonschema`.

Label Studio turns the config XML into JSON with the BadgerFish convention (xmljson: attributes
as "@name", text as "$", strings that look like numbers or booleans converted), fixes single
<Choice> children into lists, validates the result against `label_config_schema.json` with
`jsonschema.validate`, and reports the error `jsonschema.exceptions.best_match` picks as
"Validation failed on <path>: <message>". Which error is picked decides the message users see,
so the few keywords the schema uses (type, required, properties, items, anyOf, oneOf, $ref) are
evaluated the way jsonschema 4 evaluates them, in the same order, and the same relevance rule
picks the reported one.
"""

import heapq
from collections import OrderedDict

__all__ = ["schema_error", "badgerfish", "SCHEMA"]


def _ref(name):
    return {"$ref": "#/definitions/" + name}


def _one_or_many(name):
    return {"anyOf": [{"type": "array", "items": _ref(name)}, _ref(name)]}


def _tag_with_labels(child):
    """Schema of <Choices>/<Labels>: name + toName + (children | value | nested View)."""
    return {
        "type": "object",
        "anyOf": [
            {"required": ["@name", "@toName", child]},
            {"required": ["@name", "@toName", "@value"]},
            {"required": ["@name", "@toName", "View"]},
        ],
        "properties": {
            "@name": _ref("@name"),
            "@toName": _ref("@toName"),
            "@value": _ref("@value"),
            "$": _ref("$"),
            child: ({"type": "array", "items": _ref(child)} if child == "Choice"
                    else _ref("MaybeMultipleLabel")),
            "View": _ref("MaybeMultipleView"),
        },
    }


# Same content and key order as Label Studio's label_config_schema.json (a test compares them).
SCHEMA = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "title": "LabelConfig",
    "definitions": {
        "$": {"type": "string"},
        "@name": {"type": "string"},
        "@toName": {"type": "string"},
        "@value": {"anyOf": [{"type": "string"}, {"type": "boolean"}, {"type": "number"}]},
        "@valueList": {"anyOf": [{"type": "string"}]},
        "tag_with_value": {
            "type": "object",
            "required": ["@value"],
            "properties": {"@value": _ref("@value"), "$": _ref("$")},
        },
        "tag_with_name_and_toname": {
            "type": "object",
            "oneOf": [{"required": ["@name", "@toName"]}],
            "properties": {"@name": _ref("@name"), "@toName": _ref("@toName"), "$": _ref("$")},
        },
        "tag_with_value_required_name": {
            "type": "object",
            "oneOf": [{"required": ["@name", "@value"]}, {"required": ["@name", "@valueList"]}],
            "properties": {"@value": _ref("@value"), "$": _ref("$")},
        },
        "tags_with_value": {
            "anyOf": [{"type": "array", "items": _ref("tag_with_value")}, _ref("tag_with_value")]
        },
        "tags_with_value_or_object": {
            "anyOf": [
                {"type": "array", "items": _ref("tag_with_value")},
                {"type": "object"},
                _ref("tag_with_value"),
            ]
        },
        "tags_with_value_required_name": _one_or_many("tag_with_value_required_name"),
        "tags_with_name_and_toname": {
            "anyOf": [
                _ref("tag_with_name_and_toname"),
                {"type": "array", "items": _ref("tag_with_name_and_toname")},
            ]
        },
        "View": {
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "Labels": _ref("MaybeMultipleLabels"),
                "Choices": _ref("MaybeMultipleChoices"),
                "Label": _ref("MaybeMultipleLabel"),
                "Choice": _ref("MaybeMultipleChoice"),
                "Image": _ref("tags_with_value_required_name"),
                "Text": _ref("tags_with_value_required_name"),
                "HyperText": _ref("tags_with_value_required_name"),
                "View": _ref("MaybeMultipleView"),
                "TextArea": _ref("MaybeMultipleTextAreas"),
                "Number": _ref("tags_with_name_and_toname"),
            },
        },
        "MaybeMultipleView": _one_or_many("View"),
        "Choice": _ref("tag_with_value"),
        "MaybeMultipleChoice": _one_or_many("Choice"),
        "Label": _ref("tag_with_value"),
        "MaybeMultipleLabel": _one_or_many("Label"),
        "Choices": _tag_with_labels("Choice"),
        "MaybeMultipleChoices": _one_or_many("Choices"),
        "Labels": _tag_with_labels("Label"),
        "MaybeMultipleLabels": _one_or_many("Labels"),
        "TextArea": {
            "type": "object",
            "anyOf": [{"required": ["@name", "@toName"]}],
            "properties": {"@name": _ref("@name"), "@toName": _ref("@toName"), "$": _ref("$")},
        },
        "MaybeMultipleTextAreas": _one_or_many("TextArea"),
    },
    "type": "object",
    "properties": {
        "View": {
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "Choices": _ref("MaybeMultipleChoices"),
                "Labels": _ref("MaybeMultipleLabels"),
                "View": _ref("MaybeMultipleView"),
                "Image": _ref("tags_with_value_required_name"),
                "Text": _ref("tags_with_value_required_name"),
                "HyperText": _ref("tags_with_value_required_name"),
                "TextArea": _ref("MaybeMultipleTextAreas"),
                "Number": _ref("tags_with_name_and_toname"),
            },
        }
    },
}


# -- XML -> BadgerFish JSON ---------------------------------------------------------------------

def _scalar(text):
    """xmljson's string conversion: booleans, ints and finite floats become JSON scalars."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if float("-inf") < number < float("inf") else text


def badgerfish(element):
    """{tag: {"@attr": …, "$": text, Child: {…} | [{…}, …]}} for an ElementTree element."""
    value = OrderedDict()
    children = [child for child in element if isinstance(child.tag, str)]
    for attr, text in element.attrib.items():
        value["@" + attr] = _scalar(text)
    if element.text and element.text.strip():
        value["$"] = _scalar(element.text)
    counts = {}
    for child in children:
        counts[child.tag] = counts.get(child.tag, 0) + 1
    for child in children:
        if counts[child.tag] == 1:
            value.update(badgerfish(child))
        else:
            value.setdefault(child.tag, []).extend(badgerfish(child).values())
    return OrderedDict([(element.tag, value)])


def _fix_choices(config):
    """LS wraps a lone <Choice> in a list (issue 1259), but only for Choices directly in Views."""
    choices = config.get("Choices")
    if choices is not None:
        if isinstance(choices, dict) and "Choice" in choices:
            if not isinstance(choices["Choice"], list):
                choices["Choice"] = [choices["Choice"]]
        elif isinstance(choices, list) and all("Choice" in each for each in choices):
            for each in choices:
                if not isinstance(each["Choice"], list):
                    each["Choice"] = [each["Choice"]]
    if "View" in config:
        if isinstance(config["View"], OrderedDict):
            config["View"] = _fix_choices(config["View"])
        else:
            config["View"] = [_fix_choices(view) for view in config["View"]]
    return config


# -- a jsonschema-4 compatible evaluator for the keywords above ---------------------------------

class _Error:
    __slots__ = ("message", "keyword", "path", "context", "schema", "instance")

    def __init__(self, message, keyword, schema, instance, context=()):
        self.message = message
        self.keyword = keyword
        self.schema = schema
        self.instance = instance
        self.context = list(context)
        self.path = []  # relative to the parent error's instance, like jsonschema's .path


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _type(instance, expected, schema):
    names = [expected] if isinstance(expected, str) else expected
    if not any(_TYPES[name](instance) for name in names):
        wanted = ", ".join(repr(name) for name in names)
        yield _Error(f"{instance!r} is not of type {wanted}", "type", schema, instance)


def _required(instance, required, schema):
    if isinstance(instance, dict):
        for prop in required:
            if prop not in instance:
                yield _Error(f"{prop!r} is a required property", "required", schema, instance)


def _properties(instance, properties, schema):
    if isinstance(instance, dict):
        for prop, subschema in properties.items():
            if prop in instance:
                yield from _descend(instance[prop], subschema, prop)


def _items(instance, items, schema):
    if isinstance(instance, list):
        for index, item in enumerate(instance):
            yield from _descend(item, items, index)


def _any_of(instance, subschemas, schema):
    collected = []
    for subschema in subschemas:
        errors = list(_descend(instance, subschema))
        if not errors:
            return
        collected.extend(errors)
    yield _Error(f"{instance!r} is not valid under any of the given schemas", "anyOf", schema,
                 instance, collected)


def _one_of(instance, subschemas, schema):
    collected, first_valid, rest = [], None, iter(subschemas)
    for subschema in rest:
        errors = list(_descend(instance, subschema))
        if not errors:
            first_valid = subschema
            break
        collected.extend(errors)
    else:
        yield _Error(f"{instance!r} is not valid under any of the given schemas", "oneOf", schema,
                     instance, collected)
    more_valid = [each for each in rest if not any(True for _ in _iter_errors(instance, each))]
    if more_valid:
        more_valid.append(first_valid)
        listed = ", ".join(repr(each) for each in more_valid)
        yield _Error(f"{instance!r} is valid under each of {listed}", "oneOf", schema, instance)


_KEYWORDS = {
    "type": _type,
    "required": _required,
    "properties": _properties,
    "items": _items,
    "anyOf": _any_of,
    "oneOf": _one_of,
}


def _iter_errors(instance, schema):
    if "$ref" in schema:  # draft 6: a $ref replaces its siblings
        yield from _iter_errors(instance, SCHEMA["definitions"][schema["$ref"].rsplit("/", 1)[1]])
        return
    for keyword, value in schema.items():
        check = _KEYWORDS.get(keyword)
        if check is not None:
            yield from check(instance, value, schema)


def _descend(instance, schema, path=None):
    for error in _iter_errors(instance, schema):
        if path is not None:
            error.path.insert(0, path)
        yield error


def _relevance(error):
    expected = error.schema.get("type")
    if expected is None:
        matches_type = False
    else:
        names = [expected] if isinstance(expected, str) else expected
        matches_type = any(_TYPES[name](error.instance) for name in names)
    # jsonschema compares raw paths; typed pairs keep that order and never mix int with str
    path = [(isinstance(part, str), part) for part in error.path]
    weak = error.keyword in ("anyOf", "oneOf")
    return (-len(error.path), path, not weak, False, not matches_type)


def _best_match(errors):
    best = max(errors, key=_relevance, default=None)
    if best is None:
        return None
    while best.context:
        smallest = heapq.nsmallest(2, best.context, key=_relevance)
        if len(smallest) == 2 and _relevance(smallest[0]) == _relevance(smallest[1]):
            return best
        best = smallest[0]
    return best


def schema_error(root):
    """LS's "Validation failed on …" message for an ElementTree root, or None when it passes."""
    config = _fix_choices(badgerfish(root))
    error = _best_match(_iter_errors(config, SCHEMA))
    if error is None:
        return None
    # LS shows the first sub-error of an anyOf/oneOf, and drops BadgerFish's "@"
    message = error.context[0].message if error.context else error.message
    return "Validation failed on {}: {}".format("/".join(map(str, error.path)),
                                                 message.replace("@", ""))
