"""The mapping file: local <-> remote ids of one hand-over, in <data dir>/pushpull/<hash>.json."""

import hashlib
from pathlib import Path

import orjson

from desktop.core.files import atomic_write


class Mapping:
    """local <-> remote ids for one (data folder, server, project); JSON, written atomically."""

    def __init__(self, path, doc):
        self.path = path
        self.doc = doc

    @classmethod
    def open(cls, data_dir, kind, url, project_id):
        key = f"{kind}|{url}|{project_id}"
        path = Path(data_dir) / "pushpull" / (hashlib.sha256(key.encode()).hexdigest()[:20]
                                               + ".json")
        try:
            doc = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            doc = None
        except (OSError, orjson.JSONDecodeError):
            doc = None  # a damaged mapping is rebuilt from the server / the store
        mapping = cls(path, doc or {})
        mapping.doc.setdefault("kind", kind)
        mapping.doc.setdefault("url", url)
        mapping.doc.setdefault("project", project_id)
        mapping.reset(keep_target=True)
        return mapping

    def reset(self, keep_target=False):
        d = self.doc
        if not keep_target:
            d["target"] = None
        d.setdefault("target", None)
        for name in ("tasks", "annotations", "predictions", "files"):
            if not keep_target or not isinstance(d.get(name), dict):
                d[name] = {}
        if not keep_target:
            d["pending"] = None
        d.setdefault("pending", None)

    def table(self, name):
        return self.doc[name]

    def save(self):
        atomic_write(self.path, orjson.dumps(self.doc), private=True)

    def ids(self, name):
        """{local or remote id (int): the other id (int)} of one table."""
        return {int(k): (v[0] if isinstance(v, list) else v)
                for k, v in self.doc[name].items()}
