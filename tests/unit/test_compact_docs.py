"""The store keeps documents as their JSON bytes and writes snapshots as lines (ADR 0016)."""

import orjson
import pytest

from desktop.db import CorruptFile
from desktop.db.docs import Docs
from desktop.db.journal import (
    HEADER_ROOM,
    SCHEMA,
    SNAPSHOT_VERSION,
    _header_crc,
    encode_record,
    read_snapshot,
    write_snapshot,
)
from storehelp import contents, open_store


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "db"


def snapshot_header(folder):
    return orjson.loads((folder / "snapshot.ldb").read_bytes()[:HEADER_ROOM])


def test_a_read_document_is_a_copy_and_the_store_keeps_bytes(folder):
    store = open_store(folder)
    table = store.table("t")
    doc_id = table.insert({"a": 1, "nested": {"b": [1, 2]}})
    doc = table.doc(doc_id)
    doc["a"] = 2
    doc["nested"]["b"].append(3)
    assert table.doc(doc_id) == {"a": 1, "nested": {"b": [1, 2]}}
    raw = store.storage.tables["t"].raw[doc_id]
    assert raw == b'{"a":1,"nested":{"b":[1,2]}}'
    store.close()


def test_a_value_json_cannot_hold_changes_nothing(folder):
    store = open_store(folder)
    table = store.table("t")
    doc_id = table.insert({"a": 1})
    with pytest.raises(TypeError):
        table.update({"a": object()}, doc_ids=[doc_id])
    with pytest.raises(TypeError):
        table.insert({"b": {1, 2}})
    assert contents(store) == {doc_id: {"a": 1}}
    store.close()
    again = open_store(folder)
    assert contents(again) == {doc_id: {"a": 1}}
    again.close()


def test_snapshots_are_lines_and_open_to_the_same_documents(folder):
    store = open_store(folder)
    table = store.table("t")
    docs = {table.insert({"i": i, "text": f"line\n{i}"}): {"i": i, "text": f"line\n{i}"}
            for i in range(5000)}  # more than a chunk of 2,000: three chunks
    table.remove(doc_ids=[3])
    del docs[3]
    empty = store.table("empty")
    empty.remove(doc_ids=[empty.insert({"x": 1})])
    store.compact()
    store.close()
    assert snapshot_header(folder)["version"] == SNAPSHOT_VERSION == 3
    body = (folder / "snapshot.ldb").read_bytes()[HEADER_ROOM + 1:]
    lines = body.split(b"\n")
    assert orjson.loads(lines[0])["table"] in ("t", "empty")
    again = open_store(folder)
    assert contents(again) == docs
    assert len(again.storage.tables["empty"]) == 0
    again.close()
    _, tables = read_snapshot(str(folder / "snapshot.ldb"))
    assert dict(map(tuple, tables["t"]["docs"])) == docs


def test_a_store_with_a_version_2_snapshot_opens_and_is_written_anew(folder):
    """An old store: its one-JSON-document snapshot opens (each document encoded) and is
    rewritten as lines at the first writable open; a read-only open changes nothing."""
    folder.mkdir()
    docs = {i: {"i": i, "s": "é" * i} for i in range(1, 50)}
    write_snapshot(str(folder / "snapshot.ldb"), {"t": {"next_id": 50, "docs": docs}},
                   SCHEMA, 1, version=2)
    (folder / "journal.ldb").write_bytes(
        encode_record({"format": "labeldesk-journal", "version": 2, "schema": 1,
                       "generation": 1})
        + encode_record([["t", "p", 50, {"i": 50}], ["t", "d", 2]]))
    expected = {**docs, 50: {"i": 50}}
    del expected[2]
    reader = open_store(folder, readonly=True)
    assert contents(reader) == expected
    reader.close()
    assert snapshot_header(folder)["version"] == 2
    store = open_store(folder)
    assert contents(store) == expected
    assert store.table("t").insert({"new": True}) == 51
    store.close()
    assert snapshot_header(folder)["version"] == 3
    again = open_store(folder)
    assert contents(again) == {**expected, 51: {"new": True}}
    again.close()


def rewrite_body(folder, change):
    """The snapshot with its body changed and both checksums made right again: damage only
    the format's own checks can find."""
    path = folder / "snapshot.ldb"
    raw = path.read_bytes()
    header, body = orjson.loads(raw[:HEADER_ROOM]), change(raw[HEADER_ROOM + 1:])
    import zlib
    header.update(length=len(body), crc=zlib.crc32(body))
    header["header_crc"] = _header_crc(header)
    path.write_bytes(orjson.dumps(header).ljust(HEADER_ROOM) + b"\n" + body)


@pytest.mark.parametrize("change", [
    lambda b: b.replace(b'{"table":"t"', b'{"tabel":"t"', 1),   # not a table's line
    lambda b: b.replace(b"[1,2,3", b'["1",2,3', 1),             # an id that isn't a number
    lambda b: b.replace(b"[1,2,3", b"[1,1,3", 1),               # an id twice
    lambda b: b[:-1],                                           # no last newline
    lambda b: b.rsplit(b"\n", 3)[0] + b"\n",                    # a chunk's last documents cut
    lambda b: b + b'{"table":"t","next_id":9}\n',               # a table twice
], ids=["table-line", "id-type", "id-twice", "no-newline", "cut", "table-twice"])
def test_a_body_of_the_wrong_shape_is_refused_naming_the_snapshot(folder, change):
    store = open_store(folder)
    store.table("t").insert_multiple({"i": i} for i in range(10))
    store.compact()
    store.close()
    rewrite_body(folder, change)
    with pytest.raises(CorruptFile) as refused:
        open_store(folder)
    assert refused.value.path.endswith("snapshot.ldb")
    assert "not a LabelDesk snapshot" in refused.value.reason


def test_docs_mapping_reads_like_a_dict():
    docs = Docs()
    docs[2], docs[1] = {"b": 2}, {"a": 1}
    assert dict(docs) == {2: {"b": 2}, 1: {"a": 1}} and docs == {1: {"a": 1}, 2: {"b": 2}}
    assert 1 in docs and 3 not in docs and len(docs) == 2 and list(docs) == [2, 1]
    assert docs.get(3) is None and docs.get(3, "x") == "x" and docs.pop(3, None) is None
    assert dict(docs.items()) == {2: {"b": 2}, 1: {"a": 1}}
    assert [part for part in docs.decoded_chunks(1)] == [{2: {"b": 2}}, {1: {"a": 1}}]
    assert docs.pop(2) == {"b": 2} and list(docs.values()) == [{"a": 1}]
    with pytest.raises(KeyError):
        docs.pop(2)


@pytest.mark.parametrize("piece", [1, 5, 64, 1 << 20])
def test_a_snapshot_reads_alike_whatever_the_pieces_it_is_read_in(folder, monkeypatch, piece):
    """Read a few MB at a time: a line across pieces, a document longer than a piece."""
    from desktop.db import journal
    store = open_store(folder)
    table = store.table("t")
    docs = {table.insert({"i": i, "long": "x" * (300 * i)}): {"i": i, "long": "x" * (300 * i)}
            for i in range(20)}
    store.compact()
    store.close()
    monkeypatch.setattr(journal, "READ_PIECE", piece)
    _, tables = read_snapshot(str(folder / "snapshot.ldb"))
    assert dict(map(tuple, tables["t"]["docs"])) == docs


def test_a_write_that_fails_after_new_documents_leaves_the_indexes_as_they_were(folder):
    """New documents reach the indexes together, after the others of their write: a later
    document that can't be stored rolls the write back, and the indexes with it."""
    store = open_store(folder)
    with store.building():
        by_project = store.index("t", "project")
        totals = store.totals("t", "project", lambda doc: (1, doc.get("n", 0)), 2)
    table = store.table("t")
    table.insert_multiple([{"project": 1, "n": 2}, {"project": 2, "n": 3}])
    def state():
        return ({k: by_project.ids(k) for k in (1, 2, 3)}, [totals.get(k) for k in (1, 2, 3)])
    before = state()
    with pytest.raises(TypeError):
        table.adopt_multiple([{"project": 1, "n": 5}, {"project": 3, "n": 7},
                              {"project": 1, "bad": {1, 2}}])
    assert state() == before
    assert len(table) == 2
    store.close()
