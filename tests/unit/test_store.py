"""The store (desktop.db.Store) on its own: TinyDB API round trips, transactions, compaction,
recovery from torn writes, refusal of damaged files, the single-instance lock, read-only opens,
a full disk, and the in-memory indexes under random operations."""

import errno
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
import zlib

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinydb import Query

from desktop.db import CorruptFile, StoreLocked
from desktop.db.journal import _header_crc, encode_record
from desktop.db.storage import SCHEMA
from paths import ROOT
from storehelp import contents, open_store

Q = Query()


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "db"


def file_bytes(folder):
    return {name: (folder / name).read_bytes() for name in ("snapshot.ldb", "journal.ldb")
            if (folder / name).exists()}


def journal_lines(folder):
    return (folder / "journal.ldb").read_bytes().split(b"\n")


# -- the TinyDB API, across a reopen ---------------------------------------------------------

def test_tinydb_api_round_trip_across_reopen(folder):
    store = open_store(folder)
    items = store.table("items")
    first = items.insert({"name": "a", "n": 1})
    second, third = items.insert_multiple([{"name": "b", "n": 2}, {"name": "c", "n": 3}])
    assert (first, second, third) == (1, 2, 3)
    items.update({"n": 20}, Q.name == "b")
    items.update(lambda doc: doc.update(extra=True), doc_ids=[third])
    items.remove(doc_ids=[first])
    items.upsert({"name": "d", "n": 4}, Q.name == "d")  # inserts
    items.upsert({"name": "c", "n": 30}, Q.name == "c")  # updates
    other = store.table("other")
    other.insert({"x": 1})
    other.insert({"x": 2})
    other.truncate()
    other.insert({"x": 3})
    expected_items = contents(store, "items")
    assert expected_items == {2: {"name": "b", "n": 20},
                              3: {"name": "c", "n": 30, "extra": True},
                              4: {"name": "d", "n": 4}}
    assert [doc["name"] for doc in items.search(Q.n > 10)] == ["b", "c"]
    expected_other = contents(store, "other")
    assert list(expected_other.values()) == [{"x": 3}]
    store.close()

    store = open_store(folder)
    assert contents(store, "items") == expected_items
    assert contents(store, "other") == expected_other
    items = store.table("items")
    assert [doc["name"] for doc in items.search(Q.n > 10)] == ["b", "c"]
    assert items.get(Q.name == "d").doc_id == 4
    assert items.get(doc_id=3)["n"] == 30
    assert items.contains(doc_id=2) and not items.contains(doc_id=1)
    assert items.count(Q.n >= 4) == 3
    # ids keep growing after a reopen; a removed id is not reused
    assert items.insert({"name": "e"}) == 5
    store.close()


def test_next_id_survives_delete_and_compaction(folder):
    store = open_store(folder)
    table = store.table("t")
    for i in range(5):
        table.insert({"i": i})
    table.remove(doc_ids=[5])
    store.compact()
    store.close()
    store = open_store(folder)
    assert store.table("t").insert({"i": "new"}) == 6
    store.close()


def test_unchanged_update_writes_nothing(folder):
    store = open_store(folder)
    table = store.table("t")
    table.insert({"a": 1})
    size = (folder / "journal.ldb").stat().st_size
    table.update({"a": 1}, doc_ids=[1])
    assert (folder / "journal.ldb").stat().st_size == size
    store.close()


def test_drop_table_is_journaled(folder):
    store = open_store(folder)
    store.table("gone").insert({"a": 1})
    store.table("kept").insert({"b": 2})
    store.db.drop_table("gone")
    store.close()
    store = open_store(folder)
    assert contents(store, "gone") == {}
    assert contents(store, "kept") == {1: {"b": 2}}
    store.close()


def test_reads_hand_out_copies_to_updaters(folder):
    store = open_store(folder)
    table = store.table("t")
    table.insert({"tags": ["a"]})

    def mutate(doc):
        doc["tags"].append("b")

    table.update(mutate, doc_ids=[1])
    assert table.get(doc_id=1)["tags"] == ["a", "b"]
    store.close()
    store = open_store(folder)
    assert store.table("t").get(doc_id=1)["tags"] == ["a", "b"]
    store.close()


# -- transactions ----------------------------------------------------------------------------

def test_transaction_commits_as_one_record(folder):
    store = open_store(folder)
    table = store.table("t")
    before = len(journal_lines(folder))
    with store.transaction():
        table.insert({"a": 1})
        table.insert({"a": 2})
        table.update({"a": 3}, doc_ids=[1])
        with store.transaction():  # nested: the outer one commits
            table.insert({"a": 4})
    assert len(journal_lines(folder)) == before + 1
    store.close()
    store = open_store(folder)
    assert contents(store, "t") == {1: {"a": 3}, 2: {"a": 2}, 3: {"a": 4}}
    store.close()


def test_failed_transaction_leaves_nothing_in_memory_indexes_or_disk(folder):
    store = open_store(folder)
    table = store.table("tasks")
    by_project = store.index("tasks", "project")
    totals = store.totals("tasks", "project", lambda doc: (1, doc.get("n", 0)), 2)
    table.insert({"project": 1, "n": 5})
    table.insert({"project": 2, "n": 7})
    disk_before = file_bytes(folder)
    memory_before = contents(store, "tasks")

    with pytest.raises(RuntimeError):
        with store.transaction():
            table.insert({"project": 1, "n": 1})
            table.update({"project": 3, "n": 100}, doc_ids=[1])
            table.remove(doc_ids=[2])
            store.table("other").insert({"x": 1})
            table.truncate()
            table.insert({"project": 9})
            raise RuntimeError("boom")

    assert contents(store, "tasks") == memory_before
    assert contents(store, "other") == {}
    assert file_bytes(folder) == disk_before
    assert by_project.ids(1) == [1] and by_project.ids(2) == [2]
    assert 3 not in by_project and 9 not in by_project
    assert totals.get(1) == (1, 5) and totals.get(2) == (1, 7)
    assert totals.get(3) == (0, 0) and totals.get(9) == (0, 0)
    store.close()
    store = open_store(folder)
    assert contents(store, "tasks") == memory_before
    assert contents(store, "other") == {}
    store.close()


def test_query_cache_does_not_survive_a_rollback(folder):
    store = open_store(folder)
    table = store.table("t")
    table.insert({"kind": "old"})
    with pytest.raises(RuntimeError):
        with store.transaction():
            table.insert({"kind": "new"})
            assert len(table.search(Q.kind == "new")) == 1  # fills TinyDB's query cache
            raise RuntimeError("boom")
    assert table.search(Q.kind == "new") == []
    assert table.count(Q.kind == "new") == 0
    store.close()


# -- compaction ------------------------------------------------------------------------------

def test_compaction_then_reopen(folder):
    store = open_store(folder)
    table = store.table("t")
    for i in range(50):
        table.insert({"i": i, "text": "x" * i})
    table.remove(Q.i < 10)
    store.compact()
    assert len(journal_lines(folder)) == 2  # the header and the empty line after it
    table.insert({"i": "after"})
    table.update({"text": "changed"}, Q.i == 20)
    expected = contents(store, "t")
    store.compact()
    store.compact()
    table.insert({"i": "last"})
    expected = contents(store, "t")
    store.close()

    store = open_store(folder)
    assert contents(store, "t") == expected
    assert len(expected) == 42
    store.close()


def test_stale_journal_of_a_finished_compaction_is_discarded(folder):
    """A crash between the snapshot rename and the journal removal leaves the old journal:
    its records are all in the snapshot, so it is replaced, not replayed twice."""
    store = open_store(folder)
    table = store.table("t")
    table.insert({"a": 1})
    table.insert({"a": 2})
    old_journal = (folder / "journal.ldb").read_bytes()
    table.remove(doc_ids=[1])
    store.compact()
    store.close()
    (folder / "journal.ldb").write_bytes(old_journal)  # older generation than the snapshot
    store = open_store(folder)
    assert contents(store, "t") == {2: {"a": 2}}
    store.close()


def test_leftover_snapshot_tmp_is_ignored(folder):
    store = open_store(folder)
    store.table("t").insert({"a": 1})
    store.compact()
    store.close()
    (folder / "snapshot.ldb.tmp").write_bytes(b"half a snapshot")
    store = open_store(folder)
    assert contents(store, "t") == {1: {"a": 1}}
    assert not (folder / "snapshot.ldb.tmp").exists()
    store.close()


# -- torn writes and damaged files -----------------------------------------------------------

def torn_write(doc_id=3, cut=-7):
    """The start of a record a process died while appending: it ends before its length."""
    return encode_record([["t", "p", doc_id, {"a": doc_id, "pad": "x" * 40}]])[:cut]


@pytest.mark.parametrize("cut", [2, 8, 12, 30, -1])
def test_torn_last_journal_line_is_dropped_and_reported(folder, cut):
    """Cut anywhere: inside the length, the checksum, the body, or just before the newline."""
    store = open_store(folder)
    table = store.table("t")
    table.insert({"a": 1})
    table.insert({"a": 2})
    store.close()
    path = folder / "journal.ldb"
    good = path.read_bytes()
    torn = torn_write(cut=cut)  # a write the process died inside
    path.write_bytes(good + torn)

    store = open_store(folder)
    assert contents(store, "t") == {1: {"a": 1}, 2: {"a": 2}}
    assert len(store.recovered) == 1 and "journal.ldb" in store.recovered[0]
    assert "never acknowledged" in store.recovered[0]
    assert path.read_bytes() == good  # cut back to the last acknowledged write
    # the cut bytes are kept beside the journal, 0600, and named in the report
    kept = list(folder.glob("journal.ldb.torn-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == torn
    assert kept[0].name in store.recovered[0]
    assert kept[0].stat().st_mode & 0o777 == 0o600
    store.table("t").insert({"a": 3})
    store.close()
    store = open_store(folder)
    assert contents(store, "t") == {1: {"a": 1}, 2: {"a": 2}, 3: {"a": 3}}
    assert store.recovered == []
    store.close()


def test_torn_write_of_zeros_is_dropped(folder):
    """A power cut can leave the file grown but the record's bytes zero: never written."""
    make_history(folder)
    path = folder / "journal.ldb"
    good = path.read_bytes()
    path.write_bytes(good + torn_write(cut=10) + b"\0" * 100)
    store = open_store(folder)
    assert len(contents(store, "t")) == 4 and store.recovered
    assert path.read_bytes() == good
    store.close()


def test_damaged_last_journal_record_is_refused(folder):
    """It used to be taken for a torn write and dropped; it is whole, so it was acknowledged."""
    store = open_store(folder)
    store.table("t").insert({"a": 1})
    store.table("t").insert({"a": 2})
    store.close()
    path = folder / "journal.ldb"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # inside the last record, its newline intact
    path.write_bytes(bytes(data))
    error = assert_refused(folder, "journal.ldb")
    lines = data.split(b"\n")
    assert error.record == len(lines) - 1
    assert error.offset == len(data) - len(lines[-2]) - 1
    assert f"record {error.record} " in str(error) and f"bytes {error.offset}-" in str(error)
    assert "labeldesk repair" in str(error)


@pytest.mark.parametrize("damage", ["newline", "shorter", "longer", "garbage"])
def test_damaged_last_record_is_not_taken_for_a_torn_write(folder, damage):
    """Whole records whose end or length was damaged are refused, not dropped as torn."""
    make_history(folder)
    path = folder / "journal.ldb"
    data = bytearray(path.read_bytes())
    last = data.rindex(b"\n", 0, len(data) - 1) + 1
    length_end = data.index(b" ", last)
    if damage == "newline":
        data[-1:] = b"x"  # all of its declared length is there
    elif damage in ("shorter", "longer"):
        data[last:length_end] = b"1" if damage == "shorter" else b"fff"
    else:
        data += b"not a record\n"[:-1]
    path.write_bytes(bytes(data))
    assert_refused(folder, "journal.ldb")


def test_journal_with_torn_header_only_starts_empty(folder):
    folder.mkdir()
    (folder / "journal.ldb").write_bytes(b'0000')
    store = open_store(folder)
    assert contents(store, "t") == {}
    store.table("t").insert({"a": 1})
    store.close()
    store = open_store(folder)
    assert contents(store, "t") == {1: {"a": 1}}
    store.close()


def make_history(folder, compact=False):
    store = open_store(folder)
    table = store.table("t")
    for i in range(4):
        table.insert({"i": i})
    if compact:
        store.compact()
        for i in range(4, 8):
            table.insert({"i": i})
    store.close()


def assert_refused(folder, damaged_name):
    before = file_bytes(folder)
    with pytest.raises(CorruptFile) as caught:
        open_store(folder)
    assert caught.value.path.endswith(damaged_name)
    assert damaged_name in str(caught.value)
    assert file_bytes(folder) == before  # nothing repaired, replaced or emptied
    # and it keeps refusing: a second try doesn't find an empty database
    with pytest.raises(CorruptFile):
        open_store(folder)
    with pytest.raises(CorruptFile):
        open_store(folder, readonly=True)
    assert file_bytes(folder) == before
    return caught.value


def test_damaged_middle_journal_line_is_refused(folder):
    make_history(folder)
    path = folder / "journal.ldb"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"i":1', b'"i":7')
    path.write_bytes(b"\n".join(lines))
    error = assert_refused(folder, "journal.ldb")
    assert "checksum" in error.reason


def test_journal_header_damage_is_refused(folder):
    make_history(folder)
    path = folder / "journal.ldb"
    data = path.read_bytes()
    path.write_bytes(b"garbage line\n" + data.split(b"\n", 1)[1])
    assert_refused(folder, "journal.ldb")


@pytest.mark.parametrize("damage", ["truncated", "garbled-body", "garbled-header", "empty"])
def test_damaged_snapshot_is_refused(folder, damage):
    make_history(folder, compact=True)
    path = folder / "snapshot.ldb"
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[:len(data) - 10]
    elif damage == "garbled-body":
        data[-5] ^= 0x20
    elif damage == "garbled-header":
        data[2] = ord("#")
    else:
        data = b""
    path.write_bytes(bytes(data))
    assert_refused(folder, "snapshot.ldb")


def test_journal_newer_than_snapshot_is_refused(folder):
    store = open_store(folder)
    table = store.table("t")
    table.insert({"a": 1})
    store.compact()
    old_snapshot = (folder / "snapshot.ldb").read_bytes()
    table.insert({"a": 2})
    store.compact()
    table.insert({"a": 3})
    store.close()
    (folder / "snapshot.ldb").write_bytes(old_snapshot)  # e.g. restored from an old backup
    error = assert_refused(folder, "journal.ldb")
    assert "newer" in error.reason


def test_missing_snapshot_with_a_later_journal_is_refused(folder):
    make_history(folder, compact=True)
    os.remove(folder / "snapshot.ldb")
    error = assert_refused(folder, "snapshot.ldb")
    assert "missing" in error.reason


def test_missing_journal_after_compaction_is_refused(folder):
    make_history(folder, compact=True)
    os.remove(folder / "journal.ldb")
    assert_refused(folder, "journal.ldb")


def test_snapshot_from_a_newer_schema_is_refused(folder):
    make_history(folder, compact=True)
    path = folder / "snapshot.ldb"
    header, body = path.read_bytes().split(b"\n", 1)
    meta = orjson.loads(header)
    meta["schema"] = SCHEMA + 1
    meta["header_crc"] = _header_crc(meta)
    path.write_bytes(orjson.dumps(meta) + b"\n" + body)
    error = assert_refused(folder, "snapshot.ldb")
    assert "newer" in error.reason


# -- the snapshot's header, the first formats ------------------------------------------------

def rewrite_snapshot_header(folder, change, recompute=True):
    path = folder / "snapshot.ldb"
    header, body = path.read_bytes().split(b"\n", 1)
    meta = orjson.loads(header)
    change(meta)
    if recompute:
        meta["header_crc"] = _header_crc(meta)
    path.write_bytes(orjson.dumps(meta) + b"\n" + body)


@pytest.mark.parametrize("field", ["generation", "schema", "length", "crc"])
def test_snapshot_header_digit_changed_is_refused(folder, field):
    """One digit of the header changed: refused, the journal untouched (it used to be deleted
    as stale when the generation went up, or the store crashed)."""
    make_history(folder, compact=True)

    def bump(meta):
        meta[field] += 1
    rewrite_snapshot_header(folder, bump, recompute=False)
    error = assert_refused(folder, "snapshot.ldb")
    assert "header" in error.reason and "checksum" in error.reason


@pytest.mark.parametrize("change", [
    lambda m: m.pop("generation"), lambda m: m.pop("length"), lambda m: m.pop("crc"),
    lambda m: m.update(generation="7"), lambda m: m.update(length=None),
    lambda m: m.update(schema=True), lambda m: m.update(generation=-1)])
@pytest.mark.parametrize("checksummed", [True, False])
def test_snapshot_header_with_missing_or_wrong_fields_is_refused(folder, change, checksummed):
    """Never a KeyError or TypeError: a clear CorruptFile, with or without the header CRC."""
    make_history(folder, compact=True)

    def damage(meta):
        change(meta)
        if not checksummed:
            meta.pop("header_crc", None)
    rewrite_snapshot_header(folder, damage, recompute=checksummed)
    assert_refused(folder, "snapshot.ldb")


def test_snapshot_body_of_the_wrong_shape_is_refused(folder):
    folder.mkdir()
    from desktop.db.journal import write_snapshot
    for tables in ({"t": {"next_id": 1, "docs": [["x", {}]]}}, {"t": {"docs": []}}, {"t": 5}):
        write_snapshot(str(folder / "snapshot.ldb"), tables, SCHEMA, 1, version=2)
        (folder / "journal.ldb").write_bytes(encode_record(
            {"format": "labeldesk-journal", "version": 2, "schema": 1, "generation": 1}))
        assert_refused(folder, "snapshot.ldb")


def v1_line(ops):
    body = orjson.dumps(ops)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def write_first_format_store(folder, snapshot_docs=None, torn=b""):
    """A store as LabelDesk wrote it before record lengths and header checksums."""
    folder.mkdir(parents=True)
    generation = 1
    if snapshot_docs is not None:
        generation = 2
        body = orjson.dumps({"tables": {"t": {"next_id": max(snapshot_docs) + 1,
                                              "docs": sorted(snapshot_docs.items())}}})
        header = {"format": "labeldesk-snapshot", "schema": 1, "generation": generation,
                  "length": len(body), "crc": zlib.crc32(body)}
        (folder / "snapshot.ldb").write_bytes(orjson.dumps(header) + b"\n" + body)
    lines = [v1_line({"format": "labeldesk-journal", "schema": 1, "generation": generation})]
    lines += [v1_line([["t", "p", i, {"i": i}]]) for i in (10, 11)]
    (folder / "journal.ldb").write_bytes(b"".join(lines) + torn)


@pytest.mark.parametrize("with_snapshot", [False, True])
def test_stores_of_the_first_format_still_open_and_are_rewritten(folder, with_snapshot):
    docs = {1: {"i": 1}, 2: {"i": 2}} if with_snapshot else None
    write_first_format_store(folder, docs, torn=b'0badf00d [["t","p",12')
    expected = {**(docs or {}), 10: {"i": 10}, 11: {"i": 11}}
    reader = open_store(folder, readonly=True)
    assert contents(reader, "t") == expected
    reader.close()
    store = open_store(folder)
    assert contents(store, "t") == expected
    assert any("incomplete last write" in note for note in store.recovered)
    store.table("t").insert({"i": 12})
    store.close()
    # now in today's format: a checksummed snapshot header, records with their length
    header = orjson.loads((folder / "snapshot.ldb").read_bytes().split(b"\n")[0])
    assert header["header_crc"] == _header_crc(header)
    assert journal_lines(folder)[0].split(b" ")[0] != b"%08x" % 0  # length, crc, body
    store = open_store(folder)
    assert contents(store, "t") == {**expected, 12: {"i": 12}}
    assert store.recovered == []
    store.close()


def test_first_format_damaged_last_line_is_refused(folder):
    write_first_format_store(folder)
    path = folder / "journal.ldb"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    assert_refused(folder, "journal.ldb")


# -- which files a store has: every combination ----------------------------------------------

HEADER_ONLY = "header only"


def make_files(folder, snapshot, journal):
    """snapshot: None/"yes"; journal: None (missing), "0 bytes", "torn header", HEADER_ONLY,
    "records"."""
    if snapshot:
        make_history(folder, compact=True)
        data = {i: {"i": i - 1} for i in range(1, 5)}  # the 4 after it were in the journal
    else:
        folder.mkdir()
        data = {}
    path = folder / "journal.ldb"
    # files put together by hand: no LOCK saying what a LabelDesk acknowledged in them
    (folder / "LOCK").unlink(missing_ok=True)
    generation = orjson.loads((folder / "snapshot.ldb").read_bytes().split(b"\n")[0])[
        "generation"] if snapshot else 1
    header = encode_record({"format": "labeldesk-journal", "version": 2, "schema": SCHEMA,
                            "generation": generation})
    if journal is None:
        path.unlink(missing_ok=True)
    elif journal == "0 bytes":
        path.write_bytes(b"")
    elif journal == "torn header":
        path.write_bytes(header[:15])
    elif journal == HEADER_ONLY:
        path.write_bytes(header)
    else:
        path.write_bytes(header + encode_record([["t", "p", 20, {"i": 20}]]))
        data[20] = {"i": 20}
    return data


@pytest.mark.parametrize("journal", [None, "0 bytes", "torn header", HEADER_ONLY, "records"])
def test_no_snapshot_opens_what_the_journal_holds(folder, journal):
    """No snapshot: a new store, or one cut short while being created, or of an older
    LabelDesk (journal only): it opens, and gets its first snapshot."""
    data = make_files(folder, None, journal)
    store = open_store(folder)
    assert contents(store, "t") == data
    store.table("t").insert({"i": "new"})
    store.close()
    assert (folder / "snapshot.ldb").exists()
    store = open_store(folder)
    assert len(contents(store, "t")) == len(data) + 1
    store.close()


@pytest.mark.parametrize("journal", [None, "0 bytes", "torn header"])
def test_snapshot_without_its_journal_is_refused(folder, journal):
    """A store with data whose journal is gone, empty or headless: refused, not opened empty."""
    make_files(folder, "yes", journal)
    error = assert_refused(folder, "journal.ldb")
    assert "labeldesk repair" in error.reason
    if journal is None:
        assert "missing" in error.reason
    elif journal == "0 bytes":
        assert "empty" in error.reason


@pytest.mark.parametrize("journal", [HEADER_ONLY, "records"])
def test_snapshot_with_its_journal_opens(folder, journal):
    data = make_files(folder, "yes", journal)
    store = open_store(folder)
    assert contents(store, "t") == data and store.recovered == []
    store.close()


def test_new_store_has_its_snapshot_at_once(folder):
    store = open_store(folder)
    assert (folder / "snapshot.ldb").exists() and (folder / "journal.ldb").exists()
    store.close()
    # then losing the journal is noticed, even before the first write
    (folder / "journal.ldb").write_bytes(b"")
    assert_refused(folder, "journal.ldb")


def test_stale_journal_of_a_first_format_snapshot_is_kept_aside(folder):
    """A first-format snapshot's generation has no checksum: a journal that seems stale is
    replaced, but kept beside it, never deleted."""
    write_first_format_store(folder, {1: {"i": 1}})
    path = folder / "snapshot.ldb"
    header, body = path.read_bytes().split(b"\n", 1)
    meta = orjson.loads(header)
    meta["generation"] = 3  # one digit changed: the journal (generation 2) looks stale
    path.write_bytes(orjson.dumps(meta) + b"\n" + body)
    journal = (folder / "journal.ldb").read_bytes()
    store = open_store(folder)
    kept = list(folder.glob("journal.ldb.stale-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == journal
    assert any(kept[0].name in note for note in store.recovered)
    store.close()


# -- any failure in a write leaves everything as it was (issue 13) ---------------------------

class Unencodable:
    pass


def deep(levels):
    value = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("bad", ["object", "big int", "nesting", "interrupt", "index fails"])
@pytest.mark.parametrize("in_transaction", [True, False])
def test_any_failure_in_a_write_rolls_everything_back(folder, bad, in_transaction):
    store = open_store(folder)
    table = store.table("tasks")
    failing = {"on": False}

    def key(doc):
        if failing["on"] and doc.get("project") == 99:
            raise ValueError("an index's key function failed")
        return doc.get("project")
    by_project = store.index("tasks", key)
    table.insert({"project": 1})
    table.insert({"project": 2})
    memory, disk = contents(store, "tasks"), file_bytes(folder)
    value = {"object": Unencodable(), "big int": 1 << 70, "nesting": deep(1000),
             "interrupt": "fine", "index fails": "fine"}[bad]
    if bad == "interrupt":
        def append(ops, real=store.storage.journal.append):
            raise KeyboardInterrupt  # e.g. Ctrl+C while the record is being written
        store.storage.journal.append = append
    failing["on"] = bad == "index fails"

    def write():
        table.update({"project": 3}, doc_ids=[1])
        table.insert({"project": 99, "value": value})
    with pytest.raises(BaseException) as caught:
        if in_transaction:
            with store.transaction():
                write()
        else:
            table.update({"project": 99, "value": value}, doc_ids=[1])
    assert not isinstance(caught.value, pytest.fail.Exception)
    failing["on"] = False
    store.storage.journal.__dict__.pop("append", None)
    assert contents(store, "tasks") == memory
    assert by_project.ids(1) == [1] and by_project.ids(2) == [2]
    assert 3 not in by_project and 99 not in by_project
    assert file_bytes(folder) == disk
    new_id = table.insert({"project": 5})  # and the store goes on
    store.close()
    store = open_store(folder)
    assert contents(store, "tasks") == {**memory, new_id: {"project": 5}}
    store.close()


# -- file modes (issue 13) -------------------------------------------------------------------

def modes(folder):
    return {p.name: p.stat().st_mode & 0o777 for p in [folder, *folder.iterdir()]}


def test_store_files_are_private_even_with_a_permissive_umask(folder, monkeypatch):
    created = {}
    real_replace = os.replace

    def replace(source, target):  # the temp file's mode, at the moment it is renamed
        created[os.path.basename(str(source))] = os.stat(source).st_mode & 0o777
        return real_replace(source, target)
    old = os.umask(0)
    try:
        monkeypatch.setattr("desktop.db.journal.os.replace", replace)
        monkeypatch.setattr("desktop.db.storage.os.replace", replace)
        store = open_store(folder)
        store.table("t").insert({"a": 1})
        store.compact()
        store.close()
        (folder / "journal.ldb").write_bytes((folder / "journal.ldb").read_bytes()
                                             + torn_write())
        store = open_store(folder)  # sets the torn write aside, in a file of its own
        store.close()
    finally:
        os.umask(old)
    assert created and set(created.values()) == {0o600}, created
    found = modes(folder)
    assert found.pop("db") == 0o700
    assert any(name.startswith("journal.ldb.torn-") for name in found)
    assert set(found.values()) == {0o600}, found


def test_looser_modes_of_an_older_store_are_fixed_at_open(folder):
    make_history(folder, compact=True)
    folder.chmod(0o755)
    for name in ("snapshot.ldb", "journal.ldb", "LOCK"):
        (folder / name).chmod(0o644)
    store = open_store(folder)
    store.close()
    found = modes(folder)
    assert found.pop("db") == 0o700
    assert set(found.values()) == {0o600}, found


# -- the folder deleted while the store is open ----------------------------------------------

@pytest.mark.parametrize("how", ["deleted", "moved", "journal deleted", "journal cut"])
def test_writes_after_the_folder_went_away_lose_nothing(folder, how, tmp_path):
    store = open_store(folder)
    table = store.table("t")
    index = store.index("t", "g")
    for i in range(5):
        table.insert({"i": i, "g": i % 2})
    if how == "deleted":
        shutil.rmtree(folder)
    elif how == "moved":
        folder.rename(tmp_path / "elsewhere")
    elif how == "journal deleted":
        (folder / "journal.ldb").unlink()
    else:
        os.truncate(folder / "journal.ldb", 10)
    with store.transaction():
        table.insert({"i": 5, "g": 1})
        table.update({"g": 0}, doc_ids=[2])
    table.insert({"i": 6, "g": 0})
    assert len(store.warnings) == 1 and "from memory" in store.warnings[0]
    assert index.ids(0) == [1, 2, 3, 5, 7] and index.ids(1) == [4, 6]
    expected = contents(store, "t")
    assert len(expected) == 7
    # the recreated folder is locked by this store
    with pytest.raises(StoreLocked):
        open_store(folder)
    store.close()
    store = open_store(folder)
    assert contents(store, "t") == expected
    store.close()
    if how == "journal cut":
        aside = list(folder.glob("replaced-*"))
        assert len(aside) == 1 and (aside[0] / "journal.ldb").exists()


# -- headers, lock, read-only ----------------------------------------------------------------

def test_schema_version_in_both_headers(folder):
    make_history(folder, compact=True)
    snapshot_header = orjson.loads((folder / "snapshot.ldb").read_bytes().split(b"\n")[0])
    assert snapshot_header["schema"] == SCHEMA
    assert snapshot_header["format"] == "labeldesk-snapshot"
    first_line = journal_lines(folder)[0]
    journal_header = orjson.loads(first_line.split(b" ", 2)[2])
    assert journal_header["schema"] == SCHEMA
    assert journal_header["format"] == "labeldesk-journal"
    assert journal_header["generation"] == snapshot_header["generation"]


def test_second_store_on_the_same_folder_is_locked(folder):
    store = open_store(folder)
    store.table("t").insert({"a": 1})
    with pytest.raises(StoreLocked) as caught:
        open_store(folder)
    assert str(os.getpid()) in str(caught.value)
    # the refused open changed nothing
    assert contents(store, "t") == {1: {"a": 1}}
    store.close()
    again = open_store(folder)  # the lock goes with the close
    assert contents(again, "t") == {1: {"a": 1}}
    again.close()


def test_lock_is_held_against_another_process(folder):
    store = open_store(folder)
    code = textwrap.dedent(f"""
        import sys
        from desktop.db import Store, StoreLocked
        try:
            Store({str(folder)!r})
        except StoreLocked as e:
            print("locked:", e)
            sys.exit(3)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=str(ROOT), timeout=30)
    assert result.returncode == 3, result.stderr
    assert "locked" in result.stdout
    store.close()


def test_readonly_open_sees_data_and_cannot_write(folder):
    store = open_store(folder)
    table = store.table("t")
    table.insert({"a": 1})
    table.insert({"a": 2})
    reader = open_store(folder, readonly=True)  # while the writer holds the lock
    assert contents(reader, "t") == {1: {"a": 1}, 2: {"a": 2}}
    before = file_bytes(folder)
    with pytest.raises(OSError) as refused:
        reader.table("t").insert({"a": 3})
    assert refused.value.errno == errno.EROFS and "read-only" in str(refused.value)
    with pytest.raises(OSError):
        reader.table("t").update({"a": 9}, doc_ids=[1])
    with pytest.raises(OSError):
        reader.table("t").remove(doc_ids=[1])
    assert contents(reader, "t") == {1: {"a": 1}, 2: {"a": 2}}
    assert file_bytes(folder) == before
    reader.close()
    table.insert({"a": 3})  # the writer is unaffected
    store.close()


def test_readonly_open_does_not_repair_a_torn_tail(folder):
    make_history(folder)
    path = folder / "journal.ldb"
    torn = path.read_bytes() + torn_write()
    path.write_bytes(torn)
    reader = open_store(folder, readonly=True)
    assert len(contents(reader, "t")) == 4
    reader.close()
    assert path.read_bytes() == torn


# -- a full disk -----------------------------------------------------------------------------

DISK_FULL_SCENARIO = textwrap.dedent("""
    import errno, os, sys
    from desktop.db import Store

    def check(condition, message):
        if not condition:
            print("FAILED:", message)
            sys.exit(1)

    def run(folder):
        store = Store(folder, fsync=True)
        table = store.table("t")
        index = store.index("t", "group")
        acknowledged = {}
        failure = None
        for i in range(10000):
            doc = {"group": i % 3, "blob": "%05d" % i + "x" * 4000}
            try:
                doc_id = table.insert(doc)
            except OSError as e:
                failure = e
                break
            acknowledged[doc_id] = doc
        check(failure is not None, "the disk never filled")
        check(failure.errno in (errno.ENOSPC, errno.EFBIG), f"unexpected error {failure!r}")
        memory = {d.doc_id: dict(d) for d in table.all()}
        check(memory == acknowledged, "memory changed by a failed insert")
        groups = {g: [i for i in sorted(acknowledged) if acknowledged[i]["group"] == g]
                  for g in range(3)}
        check(all(index.ids(g) == groups[g] for g in range(3)), "index changed by a failed write")

        # a failed update and a failed transaction change nothing either
        first = min(acknowledged)
        try:
            table.update({"blob": "y" * 200000}, doc_ids=[first])
            check(False, "a huge update fitted on a full disk")
        except OSError:
            pass
        try:
            with store.transaction():
                table.update({"group": 99}, doc_ids=[first])
                table.insert({"group": 5, "blob": "z" * 200000})
            check(False, "a huge transaction fitted on a full disk")
        except OSError:
            pass
        memory = {d.doc_id: dict(d) for d in table.all()}
        check(memory == acknowledged, "memory changed by a failed update or transaction")
        check(99 not in index and 5 not in index, "index kept a failed transaction")
        check(all(index.ids(g) == groups[g] for g in range(3)), "index damaged")

        # small writes that fit still work, and the journal has no torn line in the middle
        store.close()
        again = Store(folder, fsync=True)
        reread = {d.doc_id: dict(d) for d in again.table("t").all()}
        check(reread == acknowledged, "the journal lost or gained writes")
        check(again.recovered == [], f"the journal had a torn tail: {again.recovered}")
        again.close()
        print("OK", len(acknowledged))

    if __name__ == "__main__":
        if len(sys.argv) > 2:
            import resource, signal
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            limit = int(sys.argv[2])
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        run(sys.argv[1])
""")


def _try_tmpfs(mountpoint):
    if os.geteuid() != 0:
        return False
    mountpoint.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "labeldesk-test",
                             str(mountpoint)], capture_output=True)
    return result.returncode == 0


@pytest.mark.parametrize("how", ["tmpfs", "rlimit"])
def test_disk_full_fails_cleanly(tmp_path, how):
    script = tmp_path / "scenario.py"
    script.write_text(DISK_FULL_SCENARIO)
    root = str(ROOT)
    env = {**os.environ, "PYTHONPATH": root}
    if how == "tmpfs":
        mountpoint = tmp_path / "small"
        if not _try_tmpfs(mountpoint):
            pytest.skip("can't mount a tmpfs here (not root); the rlimit variant covers it")
        try:
            result = subprocess.run([sys.executable, str(script), str(mountpoint / "db")],
                                    capture_output=True, text=True, env=env, timeout=60)
        finally:
            subprocess.run(["umount", str(mountpoint)], capture_output=True)
    else:
        result = subprocess.run([sys.executable, str(script), str(tmp_path / "db"),
                                 str(200 * 1024)],
                                capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK"), result.stdout
    assert int(result.stdout.split()[1]) > 10


# -- indexes and totals under random operations ----------------------------------------------

def recount(store):
    docs = contents(store, "tasks")
    groups, sums = {}, {}
    for doc_id in sorted(docs):
        doc = docs[doc_id]
        groups.setdefault(doc["project"], []).append(doc_id)
        count, weight = sums.get(doc["project"], (0, 0))
        sums[doc["project"]] = (count + 1, weight + doc["weight"])
    return docs, groups, sums


def weight_keys(doc):
    """Keys a document "holds", as a task holds its data keys: some shared, some not."""
    weight = doc["weight"]
    return ("any", f"mod{weight % 3}") + (("negative",) if weight < 0 else ())


def check_derived(store, index, totals, counts=None):
    docs, groups, sums = recount(store)
    assert {k: index.ids(k) for k in index.groups} == groups
    for key in set(groups) | set(index.groups) | set(totals.sums):
        assert index.count(key) == len(groups.get(key, []))
        assert totals.get(key) == sums.get(key, (0, 0)), key
    if counts is not None:
        expected = {}
        for doc in docs.values():
            group = expected.setdefault(doc["project"], {})
            for item in weight_keys(doc):
                group[item] = group.get(item, 0) + 1
        assert counts.counts == expected
    return docs


op = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 4), st.integers(-5, 5)),
    st.tuples(st.just("update"), st.integers(0, 30), st.integers(0, 4), st.integers(-5, 5)),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("truncate")),
)
step = st.one_of(
    op.map(lambda o: ("op", o)),
    st.tuples(st.just("txn"), st.lists(op, max_size=6), st.booleans()),
    st.tuples(st.just("compact")),
)


def apply_op(table, o, model):
    if o[0] == "insert":
        doc = {"project": o[1], "weight": o[2]}
        model[table.insert(doc)] = doc
    elif o[0] == "update":
        ids = sorted(model)
        if ids:
            doc_id = ids[o[1] % len(ids)]
            table.update({"project": o[2], "weight": o[3]}, doc_ids=[doc_id])
            model[doc_id] = {"project": o[2], "weight": o[3]}
    elif o[0] == "delete":
        ids = sorted(model)
        if ids:
            doc_id = ids[o[1] % len(ids)]
            table.remove(doc_ids=[doc_id])
            del model[doc_id]
    else:
        table.truncate()
        model.clear()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(step, max_size=25))
def test_indexes_totals_and_counts_match_a_recount(tmp_path_factory, steps):
    folder = tmp_path_factory.mktemp("hyp") / uuid.uuid4().hex
    store = open_store(folder)
    table = store.table("tasks")
    index = store.index("tasks", "project")
    totals = store.totals("tasks", "project", lambda d: (1, d["weight"]), 2)
    counts = store.counts("tasks", "project", weight_keys)
    model = {}
    for kind, *rest in steps:
        if kind == "op":
            apply_op(table, rest[0], model)
        elif kind == "txn":
            ops, fail = rest
            saved = {k: dict(v) for k, v in model.items()}
            try:
                with store.transaction():
                    for o in ops:
                        apply_op(table, o, model)
                        check_derived(store, index, totals, counts)  # consistent inside
                    if fail:
                        raise KeyboardInterrupt  # a BaseException rolls back as well
            except KeyboardInterrupt:
                model = saved
        else:
            store.compact()
        docs = check_derived(store, index, totals, counts)
        assert docs == model
    store.close()

    reopened = open_store(folder)
    fresh_index = reopened.index("tasks", "project")
    fresh_totals = reopened.totals("tasks", "project", lambda d: (1, d["weight"]), 2)
    fresh_counts = reopened.counts("tasks", "project", weight_keys)
    assert check_derived(reopened, fresh_index, fresh_totals, fresh_counts) == model
    assert {k: fresh_index.ids(k) for k in fresh_index.groups} == \
        {k: index.ids(k) for k in index.groups}
    reopened.close()


def test_indexes_built_at_open_equal_ones_kept_by_each_write(folder):
    """The app's indexes are built in bulk at every start (storage.observe's `build`), sums
    a column at a time in chunks of 4096: the same as what each insert adds one by one."""
    store = open_store(folder)
    table = store.table("tasks")
    live = (store.index("tasks", "project"),
            store.totals("tasks", "project", lambda d: (1, d["weight"], d["weight"] % 7), 3),
            store.counts("tasks", "project", weight_keys))
    with store.transaction():
        for i in range(10_000):
            table.insert({"project": i % 3 if i < 9000 else None, "weight": i * 7919 % 101})
    table.remove(doc_ids=[5, 6, 7])
    store.close()
    store = open_store(folder)
    built = (store.index("tasks", "project"),
             store.totals("tasks", "project", lambda d: (1, d["weight"], d["weight"] % 7), 3),
             store.counts("tasks", "project", weight_keys))
    assert {k: built[0].ids(k) for k in built[0].groups} == \
        {k: live[0].ids(k) for k in live[0].groups}
    assert built[1].sums == {k: v for k, v in live[1].sums.items() if v[0]}
    assert built[2].counts == live[2].counts
    assert built[1].get(0)[0] == 3000 - 1  # ids 5, 6, 7 (i = 4, 5, 6): groups 1, 2 and 0
    store.close()


def test_a_clean_close_folds_a_long_journal_into_the_snapshot(folder):
    """At least CLOSE_COMPACT_MIN_BYTES of journal (and a quarter of the snapshot) at a clean
    close: a new snapshot, so the next start reads lines instead of replaying records; a short
    journal stays as it is."""
    store = open_store(folder)
    table = store.table("t")
    table.insert({"i": "small"})
    store.close()
    assert len(journal_lines(folder)) > 2  # a short journal: kept, replayed at the next start

    store = open_store(folder)
    table = store.table("t")
    table.insert_multiple({"i": i, "text": "x" * 100} for i in range(50_000))  # ~6 MB
    expected = contents(store, "t")
    assert store.storage.journal.size >= store.storage.CLOSE_COMPACT_MIN_BYTES
    store.close()
    assert len(journal_lines(folder)) == 2  # the header and the empty line after it

    store = open_store(folder)
    assert contents(store, "t") == expected
    store.close()


def test_a_watermark_falls_for_documents_put_back_below_it(folder):
    """Documents new to a table take the watermark's bulk path (Watermark._added): new ids
    above every mark leave it; documents put back under ids below it (as a restore from the
    trash puts them back under their own ids), in one write, lower it to the first that fails."""
    from tinydb.table import Document

    store = open_store(folder)
    table = store.table("t")
    mark = store.watermark("t", "g", lambda doc: doc["done"])
    ids = table.adopt_multiple([{"g": 1, "done": True} for _ in range(10)])
    mark.advance(1, ids[-1] + 1)
    table.adopt_multiple([{"g": 1, "done": False}, {"g": 1, "done": False}])  # new, above it
    assert mark.get(1) == ids[-1] + 1
    table.remove(doc_ids=ids[3:5])
    table.insert_multiple([Document({"g": 1, "done": True}, doc_id=ids[3]),
                           Document({"g": 1, "done": False}, doc_id=ids[4])])
    assert mark.get(1) == ids[4]
    store.close()
