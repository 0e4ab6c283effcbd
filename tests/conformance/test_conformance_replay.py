"""The conformance suite's normalization and comparison, on canned answers (no servers)."""

from conformance_replay import Normalizer, compare, differences, shape, step


class Run:
    def __init__(self, answers):
        self.answers = answers


def outcome(ls_answer, ld_answer, path="/api/tasks/{t1}/"):
    steps = [step("one", "get", path)]
    ls = Normalizer("http://127.0.0.1:1111", ["/tmp/ls-data"], ["ls-secret"])
    ld = Normalizer("http://127.0.0.1:2222", ["/tmp/ld-data"], ["ld-secret"])
    return compare(steps, Run({"one": ls_answer}), Run({"one": ld_answer}), ls, ld)[0]


def test_ids_are_numbered_per_kind_in_order_of_appearance():
    ls = {"id": 7, "project": 3, "annotations": [{"id": 40, "task": 7, "completed_by": 1}]}
    ld = {"id": 2, "project": 1, "annotations": [{"id": 5, "task": 2, "completed_by": 9}]}
    result = outcome((200, ls), (200, ld))
    assert result.kind == "identical"
    assert result.ls_body == {"id": "<task#1>", "project": "<project#1>", "annotations": [
        {"id": "<annotation#1>", "task": "<task#1>", "completed_by": "<user#1>"}]}


def test_times_uuids_tokens_urls_and_folders_are_placeholders():
    ls = {"created_at": "2026-12-07T12:00:00.123Z", "url": "http://127.0.0.1:1111/data/x",
          "token": "ls-secret", "uid": "3ad42bf4-ad57-444f-8491-a04229576841",
          "path": "/tmp/ls-data/media/upload/1/0a1b2c3d-file.csv", "note": "at 2026-01-01 10:00"}
    ld = {"created_at": "2025-01-01T00:00:00Z", "url": "http://127.0.0.1:2222/data/x",
          "token": "ld-secret", "uid": "b4fb4931-0798-4364-89d2-24d86d88103c",
          "path": "/tmp/ld-data/media/upload/1/ffee0011-file.csv", "note": "at 2025-02-02 11:11"}
    result = outcome((200, ls), (200, ld))
    assert result.kind == "identical", result.diffs
    assert result.ls_body["path"] == "<data>/media/upload/1/<h>-file.csv"


def test_classification_status_shape_value():
    assert outcome((404, None), (400, None)).kind == "status"
    assert outcome((200, {"a": 1}), (200, {"a": "1"})).kind == "shape"
    assert outcome((200, {"a": 1}), (200, {"a": 1, "b": 2})).kind == "shape"
    assert outcome((200, {"a": 1}), (200, {"a": 2})).kind == "value"
    assert outcome((200, {"a": 1}), (200, {"a": 1.0})).kind == "identical"


def test_shapes_and_differences():
    assert shape({"a": [1, "x", None, True]}) == {"a": ["number", "string", "null", "bool"]}
    found = differences({"a": 1, "b": [1, 2]}, {"a": 2, "c": 3, "b": [1]})
    assert (".a", "1", "2") in found
    assert (".b[len]", 2, 1) in found
    assert (".c", "(missing)", "3") in found
