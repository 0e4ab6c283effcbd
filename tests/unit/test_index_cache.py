"""The indexes a clean close saves for the next start (db/index_cache.py): taken only beside
exactly the files they were saved with, equal to a build from the documents."""

import shutil
import zlib

import orjson
import pytest

from desktop.db import index_cache
from storehelp import open_store


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "db"


def task_values(doc):
    return (1, doc.get("n", 0))


def task_items(doc):
    return tuple(doc.get("data", {}))


def indexes(store):
    with store.building():
        made = (store.index("tasks", "project"),
                store.totals("tasks", "project", task_values, 2),
                store.counts("tasks", "project", task_items))
    return made


def states(made):
    index, totals, counts = made
    return ({k: index.ids(k) for k in index.groups}, dict(totals.sums),
            {k: list(c.items()) for k, c in counts.counts.items()})


def fill(store):
    tasks = store.table("tasks")
    tasks.insert_multiple({"project": i % 3, "n": i, "data": {"text": "t", f"k{i % 2}": 1}}
                          for i in range(200))
    tasks.remove(doc_ids=[5, 6])


def built_afresh(folder):
    """The indexes built from the documents, in a copy without the cache."""
    copy = folder.parent / "afresh"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(folder, copy)
    index_cache.remove(str(copy))
    store = open_store(copy)
    try:
        return states(indexes(store))
    finally:
        store.close()


def test_a_clean_close_saves_them_and_the_next_start_takes_them(folder):
    store = open_store(folder)
    fill(store)
    made = indexes(store)
    store.table("tasks").update({"n": 1000}, doc_ids=[7])  # kept current by the writes
    before = states(made)
    store.close()
    assert (folder / index_cache.NAME).exists()
    again = open_store(folder)
    made = indexes(again)
    assert again.storage.index_cache_used
    assert states(made) == before == built_afresh(folder)
    again.table("tasks").insert({"project": 1, "n": 5})  # and they go on from there
    after = states(made)
    again.close()
    assert after == built_afresh(folder)


def test_files_changed_since_are_built_from_the_documents(folder):
    """A write after the save (the session that made it was killed: no save at its end) or the
    files copied elsewhere: the saved indexes are not taken."""
    store = open_store(folder)
    fill(store)
    indexes(store)
    store.close()
    cache = (folder / index_cache.NAME).read_bytes()
    store = open_store(folder)
    indexes(store)
    store.table("tasks").insert({"project": 2, "n": 1})
    store.close()
    (folder / index_cache.NAME).write_bytes(cache)  # as if the session had ended by a kill
    again = open_store(folder)
    made = indexes(again)
    assert not again.storage.index_cache_used
    assert 2 in made[0].groups and states(made) == built_afresh(folder)
    again.close()
    copy = folder.parent / "copy"
    shutil.copytree(folder, copy)  # other inodes: not the files it was saved beside
    moved = open_store(copy)
    indexes(moved)
    assert not moved.storage.index_cache_used
    moved.close()


def test_a_damaged_or_foreign_cache_is_not_taken(folder):
    store = open_store(folder)
    fill(store)
    indexes(store)
    store.close()
    path = folder / index_cache.NAME
    good = path.read_bytes()
    header, body = good.split(b"\n", 1)
    meta = orjson.loads(header)
    for damaged in (good[:-5], good[:-3] + b"xyz", b"nonsense",
                    orjson.dumps({**meta, "by": "0.0.1"}) + b"\n" + body,
                    header + b"\n" + orjson.dumps({k: 5 for k in orjson.loads(body)}),
                    header + b"\n" + body.replace(b"totals", b"tutals")):
        if damaged.startswith(header + b"\n") and damaged != good:
            # made to pass the checksum: the content itself is wrong
            body2 = damaged[len(header) + 1:]
            meta2 = {**meta, "length": len(body2), "crc": zlib.crc32(body2)}
            damaged = orjson.dumps(meta2) + b"\n" + body2
        path.write_bytes(damaged)
        again = open_store(folder)
        made = indexes(again)
        assert states(made) == built_afresh(folder), damaged[:80]
        again.close()


def test_an_index_built_by_other_code_is_not_taken(folder):
    store = open_store(folder)
    fill(store)
    indexes(store)
    store.close()
    again = open_store(folder)
    with again.building():
        totals = again.totals("tasks", "project", lambda doc: (2, 0), 2)
    assert totals.sums == {0: (134, 0), 1: (132, 0), 2: (130, 0)}  # built: 2 a task
    again.close()
