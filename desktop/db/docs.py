"""A table's documents kept as their JSON bytes, decoded when read (docs/adr/0016).

A stored document as a Python dict costs three to four times its JSON: a short text task is
~200 bytes of JSON and ~500 bytes of dicts and strings, and the strings a snapshot's parse makes
are not shared (each task's two timestamps, 160 bytes). Kept as bytes, a million tasks take
~230 MB instead of ~650, a snapshot opens by splitting lines instead of parsing every document,
and a compaction writes the bytes as they are.

`Docs` is the mapping the store's tables are: ``{doc_id: document}`` to whoever reads it (each
read decodes a fresh dict, so a reader can't change the stored document by mistake), with the
bytes themselves in `raw`. A write encodes once; a value JSON can't hold fails there, before
anything changed.
"""

from collections.abc import MutableMapping

import orjson

decode = orjson.loads


def encode(doc):
    """A document's JSON bytes, to keep: a copy of orjson's answer, whose buffer is ~4 KB
    whatever its length (a million 200-byte tasks took 4 GB)."""
    return b"%b" % orjson.dumps(doc)


MISSING = object()


class Docs(MutableMapping):
    """{doc_id: document}, each document held as its JSON bytes (`raw`: {doc_id: bytes})."""

    __slots__ = ("raw",)

    def __init__(self, raw=None):
        self.raw = {} if raw is None else raw

    def __getitem__(self, doc_id):
        return decode(self.raw[doc_id])

    def get(self, doc_id, default=None):
        raw = self.raw.get(doc_id)
        return default if raw is None else decode(raw)

    def __setitem__(self, doc_id, doc):
        self.raw[doc_id] = encode(doc)

    def __delitem__(self, doc_id):
        del self.raw[doc_id]

    def pop(self, doc_id, default=MISSING):
        raw = self.raw.pop(doc_id, None)
        if raw is None:
            if default is MISSING:
                raise KeyError(doc_id)
            return default
        return decode(raw)

    def __contains__(self, doc_id):
        return doc_id in self.raw

    def __iter__(self):
        return iter(self.raw)

    def __len__(self):
        return len(self.raw)

    def keys(self):
        return self.raw.keys()

    def items(self):
        for doc_id, raw in self.raw.items():
            yield doc_id, decode(raw)

    def values(self):
        return map(decode, self.raw.values())

    def clear(self):
        self.raw.clear()

    def decoded_chunks(self, size):
        """{doc_id: document} of `size` documents at a time, in storage order: a pass over a
        whole table that decodes each document once (the app's indexes, built at open)."""
        ids = list(self.raw)
        for start in range(0, len(ids), size):
            part = ids[start:start + size]
            yield dict(zip(part, map(decode, map(self.raw.__getitem__, part))))

    def __repr__(self):
        return f"Docs({len(self.raw)} documents)"


def decoded(doc):
    """A document as a dict, whether given as one or as the store's bytes (a captured table)."""
    return decode(doc) if doc.__class__ is bytes else doc
