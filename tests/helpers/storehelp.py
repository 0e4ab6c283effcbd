"""Shared by several tests (moved out of the test modules that first had them)."""

from desktop.db import Store


def open_store(folder, **kwargs):
    """A store in `folder`, fsync off unless asked (the tests copy files, not power cuts)."""
    kwargs.setdefault("fsync", False)
    return Store(folder, **kwargs)


def contents(store, name="t"):
    return {doc.doc_id: dict(doc) for doc in store.table(name).all()}



def journal_records(data):
    raw = (data / "db" / "journal.ldb").read_bytes()
    lines = raw.split(b"\n")[:-1]
    starts, position = [], 0
    for line in lines:
        starts.append(position)
        position += len(line) + 1
    return raw, lines, starts


def damage_record(data, containing):
    """Flip one byte inside the body of the journal record that holds `containing`; returns its
    record number (from 1, the header) and byte offset."""
    raw, lines, starts = journal_records(data)
    number = next(i for i, line in enumerate(lines) if containing in line)
    at = starts[number] + lines[number].index(containing) + 1
    damaged = bytearray(raw)
    damaged[at] ^= 0x04
    (data / "db" / "journal.ldb").write_bytes(bytes(damaged))
    return number + 1, starts[number]


