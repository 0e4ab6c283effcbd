"""The history log (desktop/db/history.py): versions ride in the journal, move to history.ldb and
history.idx in flushes and before every compaction; opening reads only the index's record
headers; an interrupted flush is cut (its versions are still in the journal); damage is refused
or reported with the file and the bytes; nothing is ever duplicated or lost."""

import errno
import os
import shutil

import pytest

from desktop.core import repair
from desktop.db import CorruptFile, Store
from desktop.db import history as history_module
from desktop.db.history import BLOCK, RECORD, HistoryLog


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "db"


def versioned(folder, **kwargs):
    """A store whose every change of table "notes" leaves a version (as core/history.py does
    for annotations): {"annotation_id": id, "text": ..., "deleted": bool}."""
    store = Store(folder, fsync=False, **kwargs)

    def versions(undo, context):
        notes = store.table("notes").docs()
        seen = {}
        for name, doc_id, old in undo:
            if name == "notes":
                seen.setdefault(doc_id, old)
        out = []
        for doc_id, old in sorted(seen.items()):
            new = notes.get(doc_id)
            state = new if new is not None else old
            out.append({"annotation_id": doc_id, "task_id": 7, "project_id": 1,
                        "text": state["text"], "deleted": new is None})
        return out
    store.storage.before_commit.append(versions)
    return store


def everything(store):
    log = store.storage.history
    return log.read(log.ids())


def write_notes(store, count, edits=2):
    table = store.table("notes")
    ids = [table.insert({"text": f"note {i}"}) for i in range(count)]
    for edit in range(edits):
        for doc_id in ids:
            table.update({"text": f"note {doc_id} edit {edit}"}, doc_ids=[doc_id])
    return ids


def test_versions_survive_restarts_flushes_and_compactions_once_each(folder, monkeypatch):
    monkeypatch.setattr(history_module, "FLUSH_BYTES", 2000)  # a flush every few writes
    store = versioned(folder)
    ids = write_notes(store, 30)
    store.table("notes").remove(doc_ids=[ids[0]])
    store.compact()
    write_notes(store, 5)
    expected = everything(store)
    assert len(expected) == 30 * 3 + 1 + 5 * 3
    assert len(store.storage.history.pending) < len(expected)  # most were flushed
    store.close()
    store = versioned(folder)
    assert everything(store) == expected
    versions = store.storage.history.find("annotation_id", ids[0])
    assert [v["text"] for _, v in versions] == ["note 0", "note 1 edit 0", "note 1 edit 1",
                                                 "note 1 edit 1"]
    assert [v["deleted"] for _, v in versions] == [False, False, False, True]
    store.close()


def test_opening_reads_the_index_headers_only(folder, monkeypatch):
    monkeypatch.setattr(history_module, "FLUSH_BYTES", 5000)
    store = versioned(folder)
    write_notes(store, 2000, edits=2)
    store.compact()
    data = os.path.getsize(folder / "history.ldb")
    index = os.path.getsize(folder / "history.idx")
    store.close()
    read = []
    real = os.pread

    def counting(fd, size, offset):
        out = real(fd, size, offset)
        if "history." in os.readlink(f"/proc/self/fd/{fd}"):
            read.append(len(out))
        return out
    monkeypatch.setattr(os, "pread", counting)
    store = versioned(folder)
    monkeypatch.setattr(os, "pread", real)
    log = store.storage.history
    assert log.versions == 6000 and log.index is None and not log.pending
    blocks = -(-6000 // 256) + 2  # a block per 256 versions, flushes end blocks early
    assert sum(read) < 2 * 512 + RECORD.size * (blocks + 30) + index // 10
    assert sum(read) < (data + index) / 5
    assert len(log.find("annotation_id", 5)) == 3  # the index is read at the first lookup
    assert log.index is not None
    store.close()


def test_a_flush_killed_before_its_index_record_is_cut_and_its_versions_come_from_the_journal(
        folder):
    store = versioned(folder)
    write_notes(store, 10)
    log = store.storage.history
    pending = list(log.pending)
    expected = everything(store)
    # the blocks of a flush reach history.ldb, the process dies before the index record
    log._create()
    data = history_module.encode_block([(vid, raw) for vid, _keys, raw in pending])
    history_module._append(log.data_fd, data, True)
    store.close()
    store = versioned(folder)
    assert everything(store) == expected
    notes = [n for n in store.recovered if n.startswith("history.ldb")]
    assert len(notes) == 1 and "flush that never completed" in notes[0]
    assert list(folder.glob("history.ldb.torn-*"))
    store.compact()
    store.close()
    store = versioned(folder)
    assert everything(store) == expected and not store.recovered
    store.close()


def test_a_torn_index_record_is_cut(folder):
    store = versioned(folder)
    write_notes(store, 10)
    expected = everything(store)
    store.storage.history.flush()
    store.close()
    with open(folder / "history.idx", "ab") as f:
        f.write(RECORD.pack(b"LDHI", 3, 999, 10, 10, 0)[:15])
    store = versioned(folder)
    assert everything(store) == expected
    assert any(n.startswith("history.idx") and "set aside 15 bytes" in n
               for n in store.recovered)
    store.close()


def test_a_flush_before_a_compaction_that_died_is_not_read_twice(folder):
    store = versioned(folder)
    write_notes(store, 20)
    expected = everything(store)
    store.storage.history.flush()  # then the compaction dies: the journal still holds them
    store.close()
    store = versioned(folder)
    assert everything(store) == expected
    assert not store.storage.history.pending
    store.table("notes").insert({"text": "later"})
    assert max(everything(store)) == max(expected) + 1  # ids go on from the files' last one
    store.close()


def test_a_flush_on_a_full_disk_keeps_the_versions_pending_and_the_write_succeeds(
        folder, monkeypatch):
    monkeypatch.setattr(history_module, "FLUSH_BYTES", 500)
    store = versioned(folder)
    write_notes(store, 5)
    sizes = (os.path.getsize(folder / "history.ldb"), os.path.getsize(folder / "history.idx"))
    real = history_module._append
    calls = {"n": 0}

    def full(fd, data, fsync):
        calls["n"] += 1
        if calls["n"] == 2:  # the blocks went in, the index doesn't fit
            real(fd, data[:7], fsync)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data, fsync)
    monkeypatch.setattr(history_module, "_append", full)
    store.table("notes").insert({"text": "x" * 600})  # past the threshold: a flush fails
    monkeypatch.setattr(history_module, "_append", real)
    assert calls["n"] == 2
    assert (os.path.getsize(folder / "history.ldb"), os.path.getsize(folder / "history.idx")) \
        == sizes  # both cut back
    expected = everything(store)
    assert len(expected) == 16 and store.storage.history.pending
    store.compact()  # flushes them
    store.close()
    store = versioned(folder)
    assert everything(store) == expected
    store.close()


def damage(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x40]))


def flushed_twice(folder):
    """A store whose history files hold two index records (two flushes)."""
    store = versioned(folder)
    write_notes(store, 10, edits=0)
    store.compact()
    write_notes(store, 10, edits=0)
    store.compact()
    store.close()
    header = (folder / "history.idx").read_bytes().index(b"\n") + 1
    return header


def test_a_damaged_index_record_is_refused_or_reported_naming_its_bytes(folder):
    header = flushed_twice(folder)
    damage(folder / "history.idx", header)  # the first record's marker
    with pytest.raises(CorruptFile) as refused:
        versioned(folder)
    assert refused.value.path.endswith("history.idx") and refused.value.record == 1
    assert refused.value.offset == header and "labeldesk repair" in refused.value.reason
    damage(folder / "history.idx", header)  # back as it was
    damage(folder / "history.idx", header + RECORD.size + 3)  # inside the first record's body
    store = versioned(folder)  # opening doesn't read that record's body
    with pytest.raises(CorruptFile) as reported:
        store.storage.history.find("annotation_id", 1)
    assert f"index record 1, bytes {header}-" in reported.value.reason
    assert "fails its checksum" in reported.value.reason
    with pytest.raises(CorruptFile):
        store.storage.history.verify()
    store.close()


def test_a_damaged_block_is_reported_when_read_and_by_the_check(folder):
    flushed_twice(folder)
    raw = (folder / "history.ldb").read_bytes()
    second = raw.index(b"LDHB", raw.index(b"LDHB") + 1)
    damage(folder / "history.ldb", second + BLOCK.size + 5)
    store = versioned(folder)
    assert len(store.storage.history.find("annotation_id", 1)) == 1  # the first block reads
    with pytest.raises(CorruptFile) as reported:
        store.storage.history.find("annotation_id", 15)
    assert reported.value.path.endswith("history.ldb") and reported.value.record == 2
    assert f"block 2, bytes {second}-" in reported.value.reason
    with pytest.raises(CorruptFile):
        store.storage.history.verify()
    store.close()
    assert history_module.problem(str(folder)) is not None
    lines = history_module.rebuild(str(folder), fsync=False)
    assert "kept 10 version(s) in 1 block(s)" in lines[0] and "skipped damaged bytes" in lines[1]
    assert history_module.problem(str(folder)) is None


@pytest.mark.parametrize("how", ["data cut inside a block", "index from an older state"])
def test_history_files_holding_less_than_was_written_are_refused(folder, tmp_path, how):
    store = versioned(folder)
    write_notes(store, 10, edits=0)
    store.compact()
    if how == "index from an older state":
        for name in ("history.ldb", "history.idx"):
            shutil.copy(folder / name, tmp_path / name)
    write_notes(store, 10, edits=0)
    store.compact()  # the snapshot says: versions up to 20 are in the files
    store.close()
    if how == "data cut inside a block":
        os.truncate(folder / "history.ldb", os.path.getsize(folder / "history.ldb") - 3)
        words = "was cut short"
    else:
        for name in ("history.ldb", "history.idx"):
            shutil.copy(tmp_path / name, folder / name)
        words = "holds versions up to 10, but versions up to 20 were written"
    with pytest.raises(CorruptFile) as refused:
        versioned(folder)
    assert words in refused.value.reason and "Nothing was changed" in refused.value.reason
    # `labeldesk repair` says what was found, keeps what reads, and the store opens again
    report = repair.repair_folder(str(folder), fsync=False)
    found = [line for line in report.lines() if line.startswith("Found:")]
    assert words in found[0] and len(found) == (2 if how == "data cut inside a block" else 1)
    store = versioned(folder)
    assert sorted(everything(store)) == list(range(1, 11))  # the second block is lost
    assert len(store.table("notes").docs()) == 20
    store.close()


def test_a_missing_index_is_rebuilt_from_the_blocks(folder):
    flushed_twice(folder)
    store = versioned(folder)
    expected = everything(store)
    store.close()
    os.remove(folder / "history.idx")
    store = versioned(folder)
    assert everything(store) == expected
    assert any("history.idx was missing: rebuilt" in n for n in store.recovered)
    store.close()


def test_a_read_only_look_beside_a_running_store_sees_the_versions(folder):
    store = versioned(folder)
    write_notes(store, 10)
    store.storage.history.flush()
    write_notes(store, 2, edits=0)
    look = Store(folder, readonly=True)
    assert look.storage.history.read(look.storage.history.ids()) == everything(store)
    look.close()
    store.close()


def test_the_history_is_written_again_when_the_folder_goes_away(folder, tmp_path):
    store = versioned(folder)
    write_notes(store, 10)
    store.compact()
    write_notes(store, 3, edits=0)
    expected = everything(store)
    folder.rename(tmp_path / "elsewhere")
    store.table("notes").insert({"text": "after"})
    assert len(store.warnings) == 1
    expected = everything(store)
    assert len(expected) == 10 * 3 + 3 + 1
    store.close()
    store = versioned(folder)
    assert everything(store) == expected
    store.close()


def test_a_new_history_file_is_not_taken_for_a_newer_one(folder):
    store = versioned(folder)
    write_notes(store, 2)
    store.compact()
    store.close()
    raw = (folder / "history.ldb").read_bytes()
    (folder / "history.ldb").write_bytes(raw.replace(b'"version":1', b'"version":9', 1))
    with pytest.raises(CorruptFile) as refused:
        HistoryLog(folder, readonly=True)
    assert "newer LabelDesk" in refused.value.reason


def test_history_files_that_cant_be_made_are_made_at_the_next_flush(folder, monkeypatch):
    """A full disk when the history files are first made: neither is left half made."""
    store = versioned(folder)
    write_notes(store, 3)
    real = history_module._append

    def full(fd, data, fsync):
        if b"labeldesk-history-index" in data:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data, fsync)
    monkeypatch.setattr(history_module, "_append", full)
    with pytest.raises(OSError):
        store.compact()  # the compaction waits: its flush failed
    assert not (folder / "history.ldb").exists() and not (folder / "history.idx").exists()
    monkeypatch.setattr(history_module, "_append", real)
    expected = everything(store)
    store.compact()
    store.close()
    store = versioned(folder)
    assert everything(store) == expected and len(expected) == 9
    store.close()
