"""JSON, JSON_MIN, CSV and TSV against LS's converter, and JSON streaming at scale."""

import json
import tracemalloc

import orjson
import pytest

from desktop.data_export.formats import ExportContext, get_format

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Text name="text" value="$text"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Cat"/><Label value="Dog"/>
  </RectangleLabels>
  <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
  <Choices name="tags" toName="text" choice="multiple">
    <Choice value="a"/><Choice value="b"/>
  </Choices>
  <TextArea name="text_note" toName="text"/>
</View>"""


def choice(name, values, region_id="c1"):
    return {"id": region_id, "type": "choices", "from_name": name, "to_name": "text",
            "value": {"choices": values}}


def textarea(texts, region_id="t1"):
    return {"id": region_id, "type": "textarea", "from_name": "text_note", "to_name": "text",
            "value": {"text": texts}}


@pytest.fixture
def project(make_project, h):
    p = make_project(CONFIG)
    cat = p.image("ab12cd34-cat.png")
    a = h.annotation
    tasks = [
        h.task(1, {"image": cat, "text": "ünïcode, \"quoted\"\nline", "score": 3, "ratio": 0.5,
                   "meta": {"k": [1, 2]}},
               [a(10, [h.rect("r1", 10, 20, 50, 40, "Cat", 40, 30), choice("sentiment", ["Pos"]),
                       choice("tags", ["a", "b"], "c2"), textarea(["one"])]),
                a(11, [choice("sentiment", ["Neg"]), textarea(["x", "y"])], completed_by=2,
                  created_at="2026-11-24T00:00:00Z"),
                a(12, [], was_cancelled=True)]),
        h.task(2, {"image": cat, "text": "no annotations", "score": 4, "ratio": 1.5, "meta": {}}),
        h.task(3, {"image": cat, "text": "only cancelled", "score": 5, "ratio": 2.0, "meta": {}},
               [a(13, [choice("sentiment", ["Pos"])], was_cancelled=True)]),
        # a data key that is also a control name gets renamed "_data_sentiment" in CSV
        h.task(4, {"image": cat, "text": "collide", "score": 6, "ratio": 2.5, "meta": {},
                   "sentiment": "raw"},
               [a(14, [choice("sentiment", ["Neg"]),
                       {"id": "x", "type": "choices", "from_name": "ghost", "to_name": "text",
                        "value": {"choices": ["z"]}}],
                  completed_by={"email": "a@b.c", "id": 3})]),
    ]
    return p, tasks


def test_json_is_the_tasks_themselves(project):
    p, tasks = project
    ext, content_type, data = p.ours("JSON", tasks)
    assert (ext, content_type) == (".json", "application/.json")
    assert orjson.loads(data) == tasks
    ls = p.oracle_dir("JSON", tasks)
    assert json.loads((ls / "result.json").read_text()) == orjson.loads(data)


def test_json_min_matches_ls(project):
    p, tasks = project
    ext, content_type, data = p.ours("JSON_MIN", tasks)
    assert (ext, content_type) == (".json", "application/.json")
    ls = p.oracle_dir("JSON_MIN", tasks)
    expected = json.loads((ls / "result.json").read_text())
    assert orjson.loads(data) == expected
    assert [r["annotation_id"] for r in expected] == [11, 10, None, 14]


@pytest.mark.parametrize("fmt", ["CSV", "TSV"])
def test_csv_and_tsv_match_ls_byte_for_byte(project, fmt):
    p, tasks = project
    ext, content_type, data = p.ours(fmt, tasks)
    assert (ext, content_type) == (".csv", "application/.csv")
    ls = p.oracle_dir(fmt, tasks)
    assert data == (ls / "result.csv").read_bytes()


def test_empty_export(project):
    p, _ = project
    assert orjson.loads(p.ours("JSON", [])[2]) == []
    assert orjson.loads(p.ours("JSON_MIN", [])[2]) == []
    assert p.ours("CSV", [])[2].decode() == (
        '"annotation_id","annotator","created_at","lead_time","updated_at"\r\n')


def many_tasks(n, h):
    result = [h.rect("r1", 10, 20, 30, 40, "Cat", 640, 480)]
    for i in range(n):
        yield h.task(i + 1, {"image": f"/data/upload/1/{i:08x}-img.png", "text": "t" * 50},
                     [h.annotation(i + 1, result)])


@pytest.mark.parametrize("fmt, count", [("JSON", 100_000), ("JSON_MIN", 20_000), ("CSV", 20_000)])
def test_streams_tasks_in_flat_memory(tmp_path, h, fmt, count):
    ctx = ExportContext(project_id=1, parsed_label_config=h.parse(CONFIG))
    path = tmp_path / "out"
    tracemalloc.start()
    try:
        with open(path, "wb") as out:
            get_format(fmt).write(many_tasks(count, h), out, ctx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 100k tasks are ~100 MB as Python objects; a streaming writer holds one task at a time.
    assert peak < 5 * 1024 * 1024, peak
    if fmt == "CSV":
        assert sum(1 for _ in open(path, encoding="utf8")) == count + 1
    else:
        data = orjson.loads(path.read_bytes())
        assert len(data) == count
        assert data[-1]["id"] == count
