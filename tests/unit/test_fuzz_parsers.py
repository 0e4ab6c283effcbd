"""Hypothesis fuzzing of what reads untrusted input: the label-config parser, every task
importer (.csv .tsv .json .jsonl .txt .html, as files and as JSON bodies) and the whole-project
zip importer. The only exceptions allowed out are the documented refusals (LabelConfigError,
ValidationError and the other LabelDeskErrors); a refused archive leaves the store unchanged.

tests/corpus/<target>/ keeps inputs that once crashed (and a few valid seeds); each is replayed
here as a regression test. LABELDESK_FUZZ_PARSER_EXAMPLES raises the examples per target
(`make fuzz`); the default keeps `make test` quick. scripts/fuzz_atheris.py runs the same
targets under atheris (coverage-guided), also from `make fuzz`.
"""

import io
import json
import os
import zipfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fuzz_targets import (
    ARCHIVE_SEED,
    IMPORT_EXTENSIONS,
    TEMPLATES,
    archive_target,
    config_target,
    import_body_target,
    import_file_target,
    open_core,
)
from paths import CORPUS

EXAMPLES = int(os.environ.get("LABELDESK_FUZZ_PARSER_EXAMPLES", "150"))

FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    app = open_core(tmp_path_factory.mktemp("fuzz-parsers"))
    yield app
    app.close()


# -- strategies -----------------------------------------------------------------------------

TAGS = ["View", "Text", "Choices", "Choice", "Labels", "Label", "Image", "RectangleLabels",
        "Header", "TextArea", "Rating", "Taxonomy", "Relations", "Relation", "Audio",
        "Video", "Paragraphs", "Table", "TimeSeries", "Channel", "Repeater", "Filter", "Style",
        "HyperText", "Number", "DateTime", "Pairwise", "Ranker", "List", "Bucket", "Brush",
        "KeyPointLabels", "PolygonLabels", "Ellipse", "Chat", "Collapse", "Panel", "x"]
ATTRS = ["name", "toName", "value", "choice", "showInline", "valueType", "perRegion",
         "whenTagName", "visibleWhen", "required", "maxUsages", "background", "speed",
         "defaultValue", "inputs", "indexFlag", "alias", "hotkey", "size", "idx"]
ATTR_VALUES = st.one_of(st.sampled_from(["text", "$text", "image", "$image", "$x", "t",
                                         "label", "0", "-1", "10", "true", "{{idx}}",
                                         "$items[{{idx}}].text", "", "$", "$$", "&amp;"]),
                        st.text(max_size=12))


def _attr_text(pairs):
    return "".join(f' {k}="{v.replace(chr(34), "&quot;").replace("<", "&lt;")}"'
                   for k, v in pairs)


def _element(children):
    return st.builds(lambda tag, attrs, kids, close: (
        f"<{tag}{_attr_text(attrs)}>{''.join(kids)}</{tag}>" if close or kids
        else f"<{tag}{_attr_text(attrs)}/>"),
        st.sampled_from(TAGS), st.lists(st.tuples(st.sampled_from(ATTRS), ATTR_VALUES),
                                        max_size=4),
        st.lists(children, max_size=4), st.booleans())


XMLISH = st.recursive(st.one_of(st.text(max_size=8), _element(st.just(""))), _element,
                      max_leaves=12)


@st.composite
def mutated(draw, seeds):
    """A seed with a few random cuts, insertions and replacements."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 6))
        text = text[:at] + draw(st.text(max_size=6)) + text[at + cut:]
    return text


CONFIGS = st.one_of(st.text(max_size=200), XMLISH.map(lambda x: f"<View>{x}</View>"),
                    XMLISH, mutated(TEMPLATES))

# what orjson can parse (JSON bodies arrive through it: no NaN, 64-bit integers)
INTS = st.integers(-2 ** 63, 2 ** 63 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(st.none() | st.booleans() | INTS | FLOATS
                    | st.text(max_size=10),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(max_size=6), kids, max_size=4), max_leaves=15)
TASK_KEYS = st.sampled_from(["data", "text", "annotations", "predictions", "result", "id",
                             "meta", "value", "from_name", "to_name", "type", "choices",
                             "completions", "score", "model_version", "was_cancelled", "x"])
TASKISH = st.recursive(st.none() | st.booleans() | INTS | st.text(max_size=8),
                       lambda kids: st.lists(kids, max_size=3)
                       | st.dictionaries(TASK_KEYS, kids, max_size=4), max_leaves=20)
CELLS = st.text(alphabet=st.sampled_from(list('ab,;\t"\n\r 1\\\x00é')), max_size=8)
CSVISH = st.lists(st.lists(CELLS, max_size=4), max_size=5).map(
    lambda rows: "\n".join(",".join(row) for row in rows))


def _dumps(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def file_bytes(ext):
    big = st.recursive(st.integers() | st.floats() | st.text(max_size=5),
                       lambda kids: st.lists(kids, max_size=3), max_leaves=5)
    structured = {
        ".json": st.one_of(JSON, TASKISH, big).map(_dumps),
        ".jsonl": st.lists(st.one_of(JSON, TASKISH, big), max_size=4).map(
            lambda items: b"\n".join(_dumps(i) for i in items)),
        ".csv": CSVISH.map(str.encode), ".tsv": CSVISH.map(lambda t: t.replace(",", "\t").encode()),
    }.get(ext, st.text(max_size=100).map(str.encode))
    return st.one_of(st.binary(max_size=200), structured,
                     st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")))


# -- the fuzzers ----------------------------------------------------------------------------

@FUZZ
@given(CONFIGS)
@example("<View><Text name='t' value='$t'/></View>")
def test_fuzz_label_config(text):
    config_target(text)


@pytest.mark.parametrize("ext", IMPORT_EXTENSIONS)
def test_fuzz_import_files(core, ext):
    @FUZZ
    @given(file_bytes(ext))
    def run(data):
        import_file_target(core, "fuzz" + ext, data)
    run()


@FUZZ
@given(st.one_of(TASKISH, JSON))
def test_fuzz_import_bodies(core, body):
    import_body_target(core, body)


@st.composite
def archives(draw):
    """A valid project zip, damaged: bytes flipped, entries replaced or dropped."""
    kind = draw(st.sampled_from(["flip", "entries", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "flip":
        data = bytearray(ARCHIVE_SEED)
        for _ in range(draw(st.integers(1, 6))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        return bytes(data)
    import orjson
    with zipfile.ZipFile(io.BytesIO(ARCHIVE_SEED)) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    for name in draw(st.lists(st.sampled_from(sorted(entries)), max_size=3, unique=True)):
        choice = draw(st.sampled_from(["drop", "json", "taskish", "bytes"]))
        if choice == "drop":
            entries.pop(name)
        elif choice == "json":
            entries[name] = orjson.dumps(draw(JSON))
        elif choice == "taskish":
            entries[name] = b"\n".join(orjson.dumps(t) for t in draw(
                st.lists(TASKISH, min_size=1, max_size=3)))
        else:
            entries[name] = draw(st.binary(max_size=100))
    if draw(st.booleans()):
        entries[draw(st.sampled_from(["media/../x", "media/a/b.png", "../evil", "/abs",
                                      "media/ok.png", "tasks.jsonl"]))] = b"x"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


@FUZZ
@given(archives())
def test_fuzz_archive_import(core, data):
    archive_target(core, data)


# -- the crash corpus, replayed -------------------------------------------------------------

def corpus(target):
    folder = CORPUS / target
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name != "README.md") \
        if folder.is_dir() else []


@pytest.mark.parametrize("path", corpus("labelconfig"), ids=lambda p: p.name)
def test_corpus_label_config(path):
    config_target(path.read_bytes().decode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("path", corpus("importers"), ids=lambda p: p.name)
def test_corpus_importers(core, path):
    if path.suffix == ".body":
        import orjson
        import_body_target(core, orjson.loads(path.read_bytes()))
    else:
        import_file_target(core, path.name, path.read_bytes())


@pytest.mark.parametrize("path", corpus("archive"), ids=lambda p: p.name)
def test_corpus_archive(core, path):
    archive_target(core, path.read_bytes())


def test_corpus_is_there():
    for target in ("labelconfig", "importers", "archive"):
        assert corpus(target), target
