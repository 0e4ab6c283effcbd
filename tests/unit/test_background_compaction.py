"""Compaction in the background (docs/adr/0015-background-compaction.md): the write that crosses
the threshold only switches journals and copies the tables' references; a thread writes the
snapshot while writes go on into journal-next.ldb. The store opens whole from every state a
crash can leave (snapshot not yet written, written but journals not yet switched, a stale or
torn next journal), and refuses files that don't fit together."""

import os
import shutil
import threading

import pytest

from desktop.core.repair import repair_folder
from desktop.db import CorruptFile
from desktop.db.storage import NEXT_JOURNAL, _Cancelled
from storehelp import contents, open_store


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "db"


def generation(folder, name="snapshot.ldb"):
    from desktop.db.storage import journal_generation
    return journal_generation(folder / name)


def copy_of(folder, tmp_path, name, skip=()):
    """The files as a kill -9 at this moment would leave them (fsync is off: the page cache
    is what a kill leaves)."""
    target = tmp_path / name
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("LOCK", *skip))
    return target


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "LOCK"}


def started(store, rows=200):
    """A store with `rows` documents whose compaction has switched journals but not written
    its snapshot yet; returns (store, job)."""
    table = store.table("t")
    table.insert_multiple({"i": i, "text": "x" * 50} for i in range(rows))
    with store.lock:
        job = store.storage._start_compaction(background=False)
    return job


def test_writes_during_a_compaction_go_to_the_next_journal_and_survive(folder, tmp_path):
    store = open_store(folder)
    before = generation(folder)
    job = started(store)
    assert (folder / NEXT_JOURNAL).exists()
    table = store.table("t")
    table.insert({"i": "during"})
    table.update({"text": "changed"}, doc_ids=[3])
    table.remove(doc_ids=[4])
    job.write()  # what the thread does: the snapshot, then journals switched
    assert not (folder / NEXT_JOURNAL).exists()
    assert generation(folder) == generation(folder, "journal.ldb") == before + 1
    table.insert({"i": "after"})
    expected = contents(store)
    store.close()
    store = open_store(folder)
    assert contents(store) == expected
    assert expected[3]["text"] == "changed" and 4 not in expected
    assert store.storage.recovered == []
    store.close()


def test_killed_before_the_snapshot_is_written_opens_whole(folder, tmp_path):
    """snapshot.ldb (old), journal.ldb (old), journal-next.ldb: all three replayed, and the
    compaction finished at open."""
    store = open_store(folder)
    before = generation(folder)
    job = started(store)
    store.table("t").insert({"i": "during"})
    store.table("t").remove(doc_ids=[1])
    expected = contents(store)
    killed = copy_of(folder, tmp_path, "killed")
    job.write()
    store.close()

    reopened = open_store(killed)
    assert contents(reopened) == expected
    assert "finished a compaction" in " ".join(reopened.storage.recovered)
    assert not (killed / NEXT_JOURNAL).exists()
    assert generation(killed) == generation(killed, "journal.ldb") == before + 1
    reopened.table("t").insert({"i": "next"})
    expected = contents(reopened)
    reopened.close()
    again = open_store(killed)
    assert contents(again) == expected
    again.close()


def test_killed_between_snapshot_and_journal_switch_opens_whole(folder, tmp_path):
    """snapshot.ldb (new), journal.ldb (old, stale), journal-next.ldb: the next journal is
    replayed on the new snapshot and renamed over journal.ldb. (The two renames happen one
    after the other under the lock; the files between them are put together from the states
    before and after.)"""
    store = open_store(folder)
    job = started(store)
    store.table("t").insert({"i": "during"})
    old_journal = (folder / "journal.ldb").read_bytes()
    job.write()
    store.table("t").update({"text": "late"}, doc_ids=[2])
    expected = contents(store)
    killed = copy_of(folder, tmp_path, "killed")
    store.close()
    (killed / NEXT_JOURNAL).write_bytes((killed / "journal.ldb").read_bytes())
    (killed / "journal.ldb").write_bytes(old_journal)

    reopened = open_store(killed)
    assert contents(reopened) == expected
    assert not (killed / NEXT_JOURNAL).exists()
    assert generation(killed) == generation(killed, "journal.ldb")
    assert "finished the switch" in " ".join(reopened.storage.recovered)
    reopened.close()


def test_read_only_open_of_an_unfinished_compaction_changes_nothing(folder, tmp_path):
    store = open_store(folder)
    job = started(store)
    store.table("t").insert({"i": "during"})
    expected = contents(store)
    killed = copy_of(folder, tmp_path, "killed")
    job.write()
    store.close()
    before = files(killed)
    reader = open_store(killed, readonly=True)
    assert contents(reader) == expected
    reader.close()
    assert files(killed) == before


def test_stale_or_torn_next_journal_is_set_aside(folder, tmp_path):
    store = open_store(folder)
    job = started(store)
    store.table("t").insert({"i": "during"})
    stale = (folder / NEXT_JOURNAL).read_bytes()
    job.write()
    store.compact()  # the snapshot is two generations on: the old next journal is stale
    expected = contents(store)
    store.close()
    for name, data in (("stale", stale), ("torn", stale[:7])):
        (folder / NEXT_JOURNAL).write_bytes(data)
        store = open_store(folder)
        assert contents(store) == expected
        said = " ".join(store.storage.recovered)
        assert "journal-next.ldb: set aside" in said, (name, said)
        store.close()
        assert not (folder / NEXT_JOURNAL).exists()
    assert len([p for p in folder.iterdir() if p.name.startswith(NEXT_JOURNAL + ".stale")]) == 2


def test_next_journal_that_does_not_fit_is_refused(folder, tmp_path):
    """A next journal two generations ahead of the snapshot (the snapshot is an old copy), and
    an old journal.ldb cut short at a record boundary while the next journal says how long it
    was: damage, named, nothing changed."""
    store = open_store(folder)
    job = started(store, rows=20)
    store.table("t").insert({"i": "during"})
    old_snapshot = (folder / "snapshot.ldb").read_bytes()
    killed = copy_of(folder, tmp_path, "killed")
    job.write()
    store.compact()
    store.close()

    ahead = copy_of(folder, tmp_path, "ahead")
    (ahead / "snapshot.ldb").write_bytes(old_snapshot)
    (ahead / NEXT_JOURNAL).write_bytes((ahead / "journal.ldb").read_bytes())
    (ahead / "journal.ldb").write_bytes((killed / "journal.ldb").read_bytes())
    with pytest.raises(CorruptFile, match="doesn't follow snapshot.ldb"):
        open_store(ahead)

    journal = (killed / "journal.ldb").read_bytes()
    last = journal.rstrip(b"\n").rfind(b"\n") + 1
    (killed / "journal.ldb").write_bytes(journal[:last])  # its last record gone
    before = files(killed)
    with pytest.raises(CorruptFile, match="records are missing"):
        open_store(killed)
    assert files(killed) == before


def test_a_failed_compaction_is_tried_again_and_loses_nothing(folder, tmp_path):
    """The snapshot can't be written (its temporary name is taken by a folder): writes go on
    into the next journal; the store opens whole meanwhile, and a later compaction succeeds."""
    store = open_store(folder)
    job = started(store)
    (folder / "snapshot.ldb.next.tmp").mkdir()
    job.write()
    assert isinstance(job.error, OSError)
    store.storage._finish(job)  # what the thread does after a failure: reported
    assert (folder / NEXT_JOURNAL).exists() and store.storage.rotating
    store.table("t").insert({"i": "meanwhile"})
    expected = contents(store)
    reader = open_store(copy_of(folder, tmp_path, "meanwhile", skip=("*.tmp",)), readonly=True)
    assert contents(reader) == expected
    reader.close()
    (folder / "snapshot.ldb.next.tmp").rmdir()
    with store.lock:
        job = store.storage._start_compaction(background=False)
    job.write()
    assert job.error is None
    assert not (folder / NEXT_JOURNAL).exists() and store.storage.rotating is None
    store.close()
    store = open_store(folder)
    assert contents(store) == expected
    store.close()


def test_threshold_starts_a_compaction_in_the_background(folder, monkeypatch):
    """Past the threshold a write starts a compaction in a thread; writes from other threads
    go on meanwhile and all of them are there after the store is closed and opened again."""
    from desktop.db.storage import JournalStorage
    monkeypatch.setattr(JournalStorage, "COMPACT_MIN_BYTES", 64 * 1024)
    store = open_store(folder)
    table = store.table("t")
    table.insert_multiple({"i": i, "text": "y" * 200} for i in range(2000))
    start = generation(folder)
    errors = []

    def writer(tag):
        try:
            for n in range(300):
                table.insert({"tag": tag, "n": n, "text": "z" * 300})
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.storage.settle()
    assert not errors, errors
    assert generation(folder) > start  # compactions ran
    expected = contents(store)
    assert len(expected) == 2600
    store.close()
    assert not (folder / NEXT_JOURNAL).exists()
    store = open_store(folder)
    assert contents(store) == expected
    store.close()


def test_a_compaction_in_the_foreground_replaces_one_in_the_background(folder, tmp_path):
    """compact() while a compaction writes in the background (or holding the lock, as close
    does): the background one stops at its next chunk and never puts its file in place."""
    store = open_store(folder)
    job = started(store, rows=5000)
    chunks = job.tables()["t"]["docs"].chunks(100)
    next(chunks)  # it has begun reading
    store.table("t").insert({"i": "during"})
    with store.lock:
        store.compact()
    with pytest.raises(_Cancelled):
        next(chunks)
    job.write()
    assert job.error is not None and store.storage.rotating is None
    assert not (folder / NEXT_JOURNAL).exists()
    expected = contents(store)
    store.close()
    store = open_store(folder)
    assert contents(store) == expected and len(expected) == 5001
    store.close()


def test_closing_while_holding_the_lock_finishes_the_compaction_in_the_foreground(folder):
    store = open_store(folder)
    job = started(store, rows=3000)
    store.table("t").insert({"i": "during"})
    expected = contents(store)
    with store.lock:
        store.close()  # a background compaction can't get the lock to go on: stopped, redone
    job.write()
    assert job.error is not None
    assert not (folder / NEXT_JOURNAL).exists()
    store = open_store(folder)
    assert contents(store) == expected and store.storage.recovered == []
    store.close()


def test_repair_keeps_the_writes_of_the_next_journal(folder, tmp_path):
    """A compaction was writing its snapshot when LabelDesk ended, and a record of journal.ldb
    was damaged since: repair keeps the other records of both journals."""
    store = open_store(folder)
    store.table("t").insert({"i": "damaged"})
    job = started(store, rows=30)
    store.table("t").insert({"i": "during"})
    expected = contents(store)
    killed = copy_of(folder, tmp_path, "killed")
    job.write()
    store.close()
    journal = (killed / "journal.ldb").read_bytes()
    at = journal.index(b'"damaged"')
    (killed / "journal.ldb").write_bytes(journal[:at] + b'"DAMAGED"' + journal[at + 9:])
    report = repair_folder(str(killed), fsync=False)
    del expected[1]  # the damaged record's document
    assert report.kept_records >= 2, report.lines()
    assert not (killed / NEXT_JOURNAL).exists()
    store = open_store(killed)
    assert contents(store) == expected
    store.close()
    assert os.path.exists(os.path.join(report.aside, NEXT_JOURNAL))
