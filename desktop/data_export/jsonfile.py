"""Writing big JSON documents piece by piece, and spooling lists of dicts to disk.

COCO's result.json holds one list entry per image and per region; they go to temporary
JSON-lines files while the tasks stream by, and are copied into the document at the end.
"""

import tempfile

import orjson

OPTIONS = orjson.OPT_NON_STR_KEYS


class Spool:
    """A list of JSON values kept on disk."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.count = 0

    def append(self, value):
        self.file.write(orjson.dumps(value, option=OPTIONS))
        self.file.write(b"\n")
        self.count += 1

    def __len__(self):
        return self.count

    def __iter__(self):
        self.file.seek(0)
        for line in self.file:
            yield orjson.loads(line)

    def close(self):
        self.file.close()


def write_document(f, fields):
    """Write a JSON object indented by 2 (as `json.dump(indent=2)`); list values may be Spools."""
    f.write(b"{")
    for n, (key, value) in enumerate(fields):
        f.write(b"," if n else b"")
        f.write(b"\n  " + orjson.dumps(key) + b": ")
        if isinstance(value, Spool):
            write_list(f, value)
        else:
            f.write(indent(orjson.dumps(value, option=OPTIONS | orjson.OPT_INDENT_2), 2))
    f.write(b"\n}")


def write_list(f, values):
    empty = True
    for value in values:
        f.write(b"[\n    " if empty else b",\n    ")
        f.write(indent(orjson.dumps(value, option=OPTIONS | orjson.OPT_INDENT_2), 4))
        empty = False
    f.write(b"[]" if empty else b"\n  ]")


def indent(data, spaces):
    return data.replace(b"\n", b"\n" + b" " * spaces)
