"""Label configs (the <View>…</View> XML of a project): parsing, validation and what LS derives.

The promise: for any config, the same verdicts and messages Label Studio 1.23 gives — its
`validate_label_config`, `parsed_label_config`, `data_types`, import data checks
(`TaskValidator.check_data`) and config-change checks (`Project.validate_config`) — while
never loading a DTD, expanding an entity, touching the network or parsing more than
MAX_CONFIG_BYTES.

LS reads a config twice, with two parsers, and so do we: expat through ElementTree (defusedxml)
for validation, data types and sample tasks, whose syntax errors read "mismatched tag: line 1,
column 40"; lxml for parsed_label_config. Keeping the split keeps every message and edge case
as LS has it. Functions return messages; callers wrap them in desktop.core.errors.
"""

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from xml.parsers import expat

from lxml import etree

from desktop.labelconfig.schema import schema_error

__all__ = ["MAX_CONFIG_BYTES", "UNDEFINED_KEY", "LabelConfigError", "LabelConfig", "Tag",
           "parse", "validate"]

MAX_CONFIG_BYTES = 1_000_000
# Caps checked while expat reads the config (POST /api/projects/validate needs no token), far
# above real configs: the biggest taxonomies have a few thousand <Choice>s, and no tag has more
# than about 25 attributes. A config over them is refused before anything else looks at it.
MAX_ELEMENTS = 100_000
MAX_ATTRIBUTES = 256  # per element
# Distinct Repeater indexFlag values ("{{idx}}"; real configs nest two or three): each control's
# toName is searched for each of them, so they multiply with the controls.
MAX_INDEX_FLAGS = 32
UNDEFINED_KEY = "$undefined$"  # data key of txt lines and single files, replaced on import

_NOT_CONTROL_TAGS = {"Filter"}
_LABEL_TAGS = {"Label", "Choice", "Relation"}
_DYNAMIC_VALUE = re.compile(r"^\$[A-Za-z_]+$")
_ASSUME = {
    "root": " [assume: item as is = task root with values] ",
    "data": ' [assume: item["data"] = task root with values]',
}
# Python types LS accepts in task data per tag; unlisted tags take str only
_DATA_TYPES = {
    "Text": (str, int, float, list),
    "Header": (str, int, float),
    "HyperText": (str,),
    "Image": (str, list),
    "Paragraphs": (list, str),
    "Chat": (list, str),
    "Table": (dict, list, str),
    "TimeSeries": (dict, list, str),
    "TimeSeriesChannel": (dict, list, str),
    "List": (list, str),
    # control tags with dynamic labels (value="$options") get their options from task data
    **{tag: (str, list) for tag in (
        "Choices", "Labels", "PolygonLabels", "BrushLabels", "EllipseLabels", "HyperTextLabels",
        "KeyPointLabels", "ParagraphLabels", "RectangleLabels", "TimeSeriesLabels", "Taxonomy")},
}
_VIDEO_SPEED_RANGE = (0.05, 10)


class LabelConfigError(ValueError):
    """A config that cannot be parsed at all; `messages` hold what LS would say."""

    def __init__(self, messages, lxml_message=None):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        # LS's per-project /validate/ and PATCH report syntax errors in lxml's words instead
        self.lxml_message = lxml_message or self.messages[0]
        super().__init__(self.messages[0])


# -- parsing ------------------------------------------------------------------------------------

class _Refused(Exception):
    pass


def _refuse_dtd(*_args):
    raise _Refused("DTD is not allowed in a label config (DOCTYPE and entity declarations "
                   "are refused)")


def _as_text(xml):
    """The config as str, checked for type, emptiness, size and encodability, before parsing."""
    if isinstance(xml, (bytes, bytearray)):
        if len(xml) > MAX_CONFIG_BYTES:
            raise LabelConfigError(_too_large(len(xml)))
        try:
            xml = bytes(xml).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LabelConfigError(f"Label config is not valid UTF-8 text: byte "
                                   f"0x{exc.object[exc.start]:02x} at position {exc.start}")
    if not isinstance(xml, str):
        raise LabelConfigError(f"Label config must be a string, not {type(xml).__name__}")
    if not xml:
        raise LabelConfigError("Label config is not set or is empty")
    # characters never outnumber UTF-8 bytes, so this refuses a 50 MB string without encoding it
    if len(xml) > MAX_CONFIG_BYTES:
        raise LabelConfigError(_too_large(len(xml), at_least=True))
    try:
        size = len(xml.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise LabelConfigError(f"Label config contains a character that is not valid in UTF-8 "
                               f"text at position {exc.start}")
    if size > MAX_CONFIG_BYTES:
        raise LabelConfigError(_too_large(size))
    return xml


def _too_large(size, at_least=False):
    return (f"Label config is too large: {'more than ' if at_least else ''}{size:,} bytes, "
            f"the limit is {MAX_CONFIG_BYTES:,} bytes")


def _fixname(name):
    return "{" + name if "}" in name else name


def _elementtree(text):
    """Parse like LS's defusedxml.ElementTree.fromstring(text, forbid_dtd=True)."""
    parser = expat.ParserCreate(None, "}")  # ElementTree's namespace handling
    parser.buffer_text = True
    parser.ordered_attributes = True
    builder = ElementTree.TreeBuilder()
    elements = 0

    def start(tag, attrs):
        nonlocal elements
        elements += 1
        if elements > MAX_ELEMENTS:
            raise _Refused(f"Label config has too many tags: more than {MAX_ELEMENTS:,}")
        if len(attrs) > 2 * MAX_ATTRIBUTES:
            raise _Refused(f"Label config tag <{tag[:50]}> has too many attributes: "
                           f"{len(attrs) // 2:,}, the limit is {MAX_ATTRIBUTES:,}")
        builder.start(_fixname(tag), {_fixname(k): v for k, v in zip(attrs[::2], attrs[1::2])})

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(_fixname(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    try:
        parser.Parse(text, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise LabelConfigError(str(exc), _lxml_message(text))
    except _Refused as exc:
        raise LabelConfigError(str(exc))
    return builder.close()


def _lxml_parser():
    return etree.XMLParser(
        resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
        # the str may carry an <?xml encoding=…?> declaration; the bytes we hand over are UTF-8
        encoding="utf-8")


def _lxml_tree(text):
    root = etree.fromstring(text.encode("utf-8"), _lxml_parser())
    if root.getroottree().docinfo.doctype:
        raise _Refused("DTD is not allowed in a label config")
    return root


def _lxml_message(text):
    try:
        _lxml_tree(text)
    except (etree.XMLSyntaxError, _Refused) as exc:
        return str(exc)
    return None


def parse(xml):
    """A LabelConfig for `xml`; LabelConfigError if it is empty, too large, not XML or has a DTD."""
    return LabelConfig(xml)


# -- validation ---------------------------------------------------------------------------------

def validate(xml):
    """LS's messages for an invalid config ([] when valid). Never raises."""
    try:
        return LabelConfig(xml).problems()
    except LabelConfigError as exc:
        return exc.messages
    except RecursionError:  # ~200 nested Views pass libxml2's depth limit but not Python's
        return ["Label config is too deeply nested"]


def _video_speed_problems(tag):
    """The SDK's Video playback-speed checks (LabelInterface._tag_attribute_validation)."""
    low, high = _VIDEO_SPEED_RANGE
    speeds, errors = {}, []
    for attr in ("defaultPlaybackSpeed", "minPlaybackSpeed"):
        raw = tag.attrs.get(attr)
        if raw is None:
            raw = tag.attrs.get(attr.lower())
        if raw is None or not raw.strip():
            continue
        try:
            speeds[attr] = float(raw)
        except ValueError:
            errors.append(f'Video tag "{tag.name}": {attr} must be a number, got "{raw}"')
    default, minimum = speeds.get("defaultPlaybackSpeed"), speeds.get("minPlaybackSpeed")
    for attr, speed in (("defaultPlaybackSpeed", default), ("minPlaybackSpeed", minimum)):
        if speed is not None and not low <= speed <= high:
            errors.append(f'Video tag "{tag.name}": {attr} must be between {low} and {high}, '
                          f"got {speed}")
    if default is not None and minimum is not None and minimum > default:
        errors.append(f'Video tag "{tag.name}": minPlaybackSpeed ({minimum}) must not exceed '
                      f"defaultPlaybackSpeed ({default})")
    return errors


# -- the config ---------------------------------------------------------------------------------

@dataclass
class Tag:
    """An object tag (name + value/valueList) or a control tag (name + toName)."""

    name: str
    tag: str
    attrs: dict
    to_names: list = field(default_factory=list)  # controls only
    labels: list = field(default_factory=list)  # controls only: Label/Choice alias or value


class LabelConfig:
    """A parsed config and everything LS derives from it. Build with parse()."""

    def __init__(self, xml):
        text = _as_text(xml)
        # ElementTree root as LS validates, types and samples it (comments dropped)
        self.tree = _elementtree(text)
        try:
            lxml_root = _lxml_tree(text)
        except (etree.XMLSyntaxError, _Refused) as exc:  # e.g. too deep for libxml2
            raise LabelConfigError(str(exc))
        self.xml = text
        self.parsed, self.controls, self.objects = _parse_controls(lxml_root)
        self.control_weights = {
            name: {"overall": 1.0, "type": info["type"],
                   "labels": {label: 1.0 for label in info["labels"]}}
            for name, info in self.parsed.items()}
        self.data_types = _data_types(self.tree)
        self.data_keys = list(self.data_types)
        self._checks = tuple(_data_check(key, tag) for key, tag in self.data_types.items())

    def __repr__(self):
        return f"<LabelConfig controls={list(self.parsed)} data_keys={self.data_keys}>"

    def problems(self):
        """LS's validation messages for this (well-formed) config, [] when valid."""
        message = schema_error(self.tree)
        if message:
            return [message]
        cleaned = ElementTree.tostring(self.tree, encoding="unicode")
        # LS runs these regexes over the re-serialized XML, so "filename=" counts as a name too
        names = re.findall(r'name="([^"]*)"', cleaned)
        if len(set(names)) != len(names):
            return ["Label config contains non-unique names"]
        known = set(names)
        for to_names in re.findall(r'toName="([^"]*)"', cleaned):
            for to_name in to_names.split(","):
                if to_name not in known:
                    return [f'toName="{to_name}" not found in names: {sorted(known)}']
        videos = [obj for obj in self.objects.values() if obj.tag.lower() == "video"]
        errors = [error for video in videos for error in _video_speed_problems(video)]
        return ["\n".join(errors)] if errors else []

    # -- import ---------------------------------------------------------------------------------

    def validate_task_data(self, data, root_hint=""):
        """LS's message for task data that misses a key or has a wrong type, else None.

        Like LS, a "$undefined$" key (txt lines, single files) is first renamed to the
        config's first data key, in place. `root_hint` "root" or "data" appends LS's
        "[assume: …]" note; the caller adds "Error at item N: … :: {item}".
        """
        if data is None:
            return "Task is empty (None)" + _ASSUME.get(root_hint, root_hint)
        if not isinstance(data, dict):
            data = {}
        if UNDEFINED_KEY in data and self.data_keys:
            data[self.data_keys[0]] = data.pop(UNDEFINED_KEY)
        for key, parts, types, tag in self._checks:
            if parts is None:
                if key not in data:
                    return _missing(key, root_hint)
                value = data[key]
            else:
                value = data
                try:
                    for part in parts:
                        value = value[part]
                except (KeyError, TypeError, IndexError):
                    return _missing(key, root_hint)
            if not isinstance(value, types):
                return (f"data['{key}']={value} is of type '{type(value).__name__}', but the "
                        f"object tag {tag} expects the following types: "
                        f"{[t.__name__ for t in types]}" + _ASSUME.get(root_hint, root_hint))
        return None

    # -- config changes -------------------------------------------------------------------------

    def incompatibilities(self, summary, strict, custom_labels=()):
        """Why this config can't replace the current one of a project with these annotations.

        `summary` is the project summary: "created_annotations" {"from|to|type": n},
        "created_labels" {control: {label: n}}, optional "created_labels_drafts". Returns LS's
        first complaint as a one-item list, [] when the change is allowed. `strict` (the
        /validate/ endpoints) also refuses removing labels that annotations use; PATCH is not
        strict. `custom_labels` are a Taxonomy's user-added labels, which always count as present.
        """
        if not self.data_types or not self.parsed:
            return []
        created = summary.get("created_annotations") or {}
        message = self._annotation_problem(created)
        if message:
            return [message]
        return self._label_problems(summary, strict, set(custom_labels))

    def _patterns(self):
        """(control name pattern, [to_name patterns]) per control; Repeater's {{idx}} -> .*"""
        out = {}
        for name, info in self.parsed.items():
            variables = info.get("regex", {})
            to_names = [_pattern(to_name, variables) for to_name in info["to_name"]]
            out[name] = (_pattern(name, variables), to_names)
        return out

    def _annotation_problem(self, created):
        tuples = {f"{name}|{','.join(info['to_name'])}|{info['type'].lower()}"
                  for name, info in self.parsed.items()}
        types = {info["type"].lower() for info in self.parsed.values()}
        patterns = self._patterns().values()
        found = []
        for key, count in created.items():
            if key in tuples:
                continue
            from_name, to_name, kind = (key.split("|") + ["", ""])[:3]
            # TextArea results may point anywhere (LS DEV-1598); ChatMessage points at itself
            if kind.lower() == "textarea":
                continue
            if kind.lower() == "chatmessage" and from_name == to_name:
                continue
            if (not any(name.fullmatch(from_name) for name, _ in patterns)
                    or not any(p.fullmatch(to_name) for _, tos in patterns for p in tos)
                    or kind not in types):
                found.append(f"{count} with from_name={from_name}, to_name={to_name}, type={kind}")
        if found:
            return ("Created annotations are incompatible with provided labeling schema, "
                    "we found:\n" + "\n".join(found))
        return None

    def _label_problems(self, summary, strict, custom_labels):
        annotated = summary.get("created_labels") or {}
        drafted = summary.get("created_labels_drafts") or {}
        labels = {name: info["labels"] for name, info in self.parsed.items() if info["labels"]}
        dynamic = {name for name, info in self.parsed.items() if info.get("dynamic_labels")}
        patterns = self._patterns()
        types = {info["type"] for info in self.parsed.values()}
        for control, used in _merge_counts(annotated, drafted).items():
            matching = [name for name, (p, _) in patterns.items() if p.fullmatch(control)]
            if used and control not in labels and control not in dynamic and not matching:
                return [f"There are {sum(used.values(), 0)} annotation(s) created with tag "
                        f"\"{control}\", you can't remove it"]
            present = set(labels.get(matching[0] if matching else control, ()))
            if "VideoRectangle" in types:  # its labels live in a sibling Labels tag
                present.update(label for names in labels.values() for label in names)
            if "Taxonomy" in types:
                present |= custom_labels
            missing = [label for label in used if label not in present]
            if not missing or not strict:
                continue
            if control in dynamic or any(patterns[name][0].fullmatch(control) for name in dynamic):
                continue
            lines = ""
            for label in missing:
                shown = [_plural(annotated.get(control, {}).get(label, 0), "annotation"),
                         _plural(drafted.get(control, {}).get(label, 0), "draft")]
                shown = [each for each in shown if each]
                if shown:
                    lines += f"{label} ({', '.join(shown)})\n"
            return [f"These labels still exist in annotations or drafts:\n{lines}"
                    f'Please add labels to tag with name="{control}".']
        return []


# -- helpers ------------------------------------------------------------------------------------

def _parse_controls(root):
    """LS's parsed_label_config (label_studio_tools parse_config) plus Tag views of it."""
    inputs, outputs, labels, variables = {}, {}, {}, []
    controls, objects = {}, {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        attrs = element.attrib
        if "indexFlag" in attrs and attrs["indexFlag"] not in variables:
            if len(variables) == MAX_INDEX_FLAGS:
                raise LabelConfigError(f"Label config has too many distinct indexFlag values: "
                                       f"more than {MAX_INDEX_FLAGS}")
            variables.append(attrs["indexFlag"])
        name = attrs.get("name")
        if name and attrs.get("toName") and element.tag not in _NOT_CONTROL_TAGS:
            outputs[name] = _control_info(element.tag, attrs, variables)
            controls[name] = Tag(name, element.tag, _attributes(element),
                                 list(outputs[name]["to_name"]))
        elif name and (attrs.get("value") or attrs.get("valueList")):
            info = {"type": element.tag, "valueType": attrs.get("valueType")}
            if "value" in attrs:
                info["value"] = attrs["value"].lstrip("$")
            else:
                info["valueList"] = attrs["valueList"].lstrip("$")
            inputs[name] = info
            objects[name] = Tag(name, element.tag, _attributes(element))
        if element.tag in _LABEL_TAGS:
            parent = _parent_control(element, outputs)
            value = attrs.get("alias") or attrs.get("value") or attrs.get("valueList")
            if parent is not None and value:
                labels.setdefault(parent, {})[value] = _attributes(element)
    for name, info in outputs.items():
        info["inputs"] = [inputs[to_name] for to_name in info["to_name"] if to_name in inputs]
        info["labels"] = list(labels.get(name, {}))
        info["labels_attrs"] = labels.get(name, {})
        controls[name].labels = list(info["labels"])
    return outputs, controls, objects


def _attributes(element):
    """element.attrib as a dict. dict(attrib) looks each value up by name, a walk along the
    element's attribute list: quadratic (60,000 attributes took 15 s). XPath's @* reads each
    attribute once."""
    attrib = element.attrib
    if len(attrib) <= 16:
        return dict(attrib)
    return {attr.attrname: str(attr) for attr in element.xpath("@*")}


def _control_info(tag, attrs, variables):
    info = {"type": tag, "to_name": attrs["toName"].split(",")}
    for variable in variables:
        for to_name in info["to_name"]:
            if variable in to_name:
                info.setdefault("regex", {})[variable] = ".*"
    if attrs.get("perRegion") == "true":
        for attr, kind in (("whenTagName", "tag"), ("whenLabelValue", "label"),
                           ("whenChoiceValue", "choice")):
            if attrs.get(attr):
                info["conditionals"] = {"type": kind, "name": attrs[attr]}
                break
    if _DYNAMIC_VALUE.fullmatch(attrs.get("value", "")) or attrs.get("apiUrl"):
        info["dynamic_labels"] = True
    return info


def _parent_control(element, outputs):
    parent = element.getparent()
    while parent is not None:
        name = parent.attrib.get("name")
        if name in outputs:
            return name
        parent = parent.getparent()
    return None


def _data_types(root):
    """LS's project.data_types: {data key: tag} for named descendants with a value attribute."""
    types = {}
    for element in root.iterfind(".//*[@value]"):
        if not element.get("name"):
            continue
        value = element.get("value")
        if len(value) > 1 and value[0] == "$":
            key = value[1:]
        else:  # e.g. value="Title: $title" -> title
            found = re.search(r"\$\w+", value)
            key = found.group()[1:] if found else ""
            if not key:
                continue
        if types.get(key) != "Video":  # Video wins: <Video value="$url"/><Audio value="$url"/>
            types[key] = element.tag
    return types


def _data_check(key, tag):
    """(key, dotted parts or None, accepted types, tag), precomputed for validate_task_data."""
    is_array = "[" in key  # Repeater: images[{{idx}}].url needs a list under "images"
    key = key.split("[")[0]
    parts = tuple(key.split(".")) if "." in key else None
    return key, parts, (list,) if is_array else _DATA_TYPES.get(tag, (str,)), tag


def _missing(key, root_hint):
    return f'"{key}" key is expected in task data' + _ASSUME.get(root_hint, root_hint)


def _pattern(text, variables):
    # LS compiles names as raw regexes; escaping keeps names like "a(b" from crashing
    pattern = re.escape(text)
    for variable, replacement in variables.items():
        pattern = pattern.replace(re.escape(variable), replacement)
    return re.compile(pattern)


def _merge_counts(first, second):
    merged = {control: dict(counts) for control, counts in first.items()}
    for control, counts in second.items():
        target = merged.setdefault(control, {})
        for label, count in counts.items():
            target[label] = target.get(label, 0) + count
    return merged


def _plural(count, noun):
    return f"{count} {noun}{'s' if count > 1 else ''}" if count else None
