"""Replay one request sequence against a server, normalize its answers, compare two replays.

A step is a request written once for both servers: `{name}` in its path and params, and "@name"
(a whole string) in its JSON body, stand for an id captured from an earlier answer of the same
server (`save={"name": "dotted.path"}`), so each server gets "the same" request.

Normalization makes two fresh servers' answers comparable: ids become <kind#n> (numbered per
kind in the order each server shows them), timestamps <time>, uuids <uuid>, tokens <token>, the
server's own URL <server> and its data folder <data>. Comparison then looks at the status, the
shape (keys and JSON types, recursively; lists element by element up to LIST_LIMIT) and the
values, and classifies each request as identical / value / shape / status.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field

import orjson

LIST_LIMIT = 20
NOBODY = object()


@dataclass
class Step:
    name: str
    method: str
    path: str
    json: object = NOBODY
    params: dict | None = None
    data: bytes | str | None = None  # a raw body (with `headers` for its content type)
    files: dict | None = None  # multipart: {"field": (filename, bytes, content type)}
    headers: dict | None = None
    save: dict = field(default_factory=dict)  # capture name -> dotted path in the answer
    kind: str | None = None  # what "id" means at the top of the answer (default: from path)
    sort: str | None = None  # sort top-level lists (or `results`/`tasks`) by this key first


def step(name, method, path, json=NOBODY, **options):
    return Step(name, method.upper(), path, json, **options)


# -- replay ------------------------------------------------------------------------------------

MISSING_ID = 987654321  # an id a failed capture stands for: the requests using it then differ


class Replay:
    """One server's run: its captured ids and its answers."""

    def __init__(self, session, url, data_dirs=()):
        self.session = session
        self.url = url
        self.data_dirs = [str(d) for d in data_dirs]
        self.captured = {}
        self.answers = {}

    def fill(self, value):
        if isinstance(value, str):
            whole = re.fullmatch(r"@(\w+)", value)
            if whole:
                return self.captured.get(whole.group(1), MISSING_ID)
            return value
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def format(self, text):
        return re.sub(r"\{(\w+)\}", lambda m: str(self.captured.get(m.group(1), MISSING_ID)),
                      text)

    def run(self, steps):
        for s in steps:
            kwargs = {"timeout": 60, "allow_redirects": False}
            if s.json is not NOBODY:
                kwargs["json"] = self.fill(s.json)
            if s.params:
                kwargs["params"] = {k: self.format(str(v)) for k, v in s.params.items()}
            if s.data is not None:
                kwargs["data"] = self.format(s.data) if isinstance(s.data, str) else s.data
            if s.files:
                kwargs["files"] = s.files
            if s.headers:
                kwargs["headers"] = s.headers
            response = self.session.request(s.method, self.url + self.format(s.path), **kwargs)
            body = decode(response)
            for name, path in s.save.items():
                found = dig(body, path)
                if found is not None:
                    self.captured[name] = found
            self.answers[s.name] = (response.status_code, body)


def decode(response):
    """JSON as JSON; a zip as its sorted names; other text as text; bytes by their length."""
    content = response.content
    ctype = response.headers.get("Content-Type", "").split(";")[0].strip()
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {"zip": sorted(archive.namelist())}
    if ctype == "text/html":
        return {"html": True}
    try:
        return {"text": content.decode()}
    except UnicodeDecodeError:
        return {"bytes": len(content)}


def dig(body, path):
    for part in path.split("."):
        if (isinstance(body, list) and part.lstrip("-").isdigit()
                and -len(body) <= int(part) < len(body)):
            body = body[int(part)]
        elif isinstance(body, dict) and part in body:
            body = body[part]
        else:
            return None
    return body


# -- normalization -----------------------------------------------------------------------------

# keys whose integer value (or object) is an id of this kind
ID_KEYS = {
    "project": "project", "project_id": "project", "task": "task", "task_id": "task",
    "annotation": "annotation", "annotation_id": "annotation", "prediction": "prediction",
    "parent_prediction": "prediction", "parent_annotation": "annotation",
    "completed_by": "user", "created_by": "user", "updated_by": "user", "user": "user",
    "user_id": "user", "owner": "user", "last_annotator": "user", "reviewed_by": "user",
    "view": "view", "storage": "storage", "export": "export", "file_upload": "upload",
    "import": "import", "ml_backend": "ml", "organization": "org", "active_organization": "org",
    "draft_id": "draft", "cancelled_annotations_by": "user",
}
# keys of lists whose integers (or objects) are ids of this kind
LIST_KEYS = {
    "annotations": "annotation", "predictions": "prediction", "tasks": "task",
    "task_ids": "task", "file_upload_ids": "upload", "annotation_ids": "annotation",
    "prediction_ids": "prediction", "annotators": "user", "users": "user", "drafts": "draft",
    "results": None, "ids": None, "included": "task", "excluded": "task",
    "ordering": None, "converted_formats": "converted",
}
KIND_OF_PATH = [
    (r"/api/projects/[^/]+/exports", "export"), (r"/api/projects/[^/]+/tasks", "task"),
    (r"/api/projects/[^/]+/import", "import"), (r"/api/projects/[^/]+/file-uploads", "upload"),
    (r"/api/tasks/[^/]+/annotations", "annotation"), (r"/api/tasks", "task"),
    (r"/api/projects", "project"), (r"/api/annotations", "annotation"),
    (r"/api/predictions", "prediction"), (r"/api/dm/views", "view"), (r"/api/storages", "storage"),
    (r"/api/ml", "ml"), (r"/api/users", "user"), (r"/api/current-user", "user"),
    (r"/api/organizations", "org"), (r"/api/import", "upload"),
]
TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+(\.[\w-]+)?")
HEX_TOKEN = re.compile(r"[0-9a-f]{40}")
UPLOAD_PREFIX = re.compile(r"(?<![0-9a-z-])[0-9a-f]{8}-(?=[^/]+\.\w+$|[^/\s]+\.\w+:)")
HASH_PREFIX = re.compile(r"(?<=/)[0-9a-f]{8}__")
EXPORT_FILE = re.compile(r"project-\d+-at-\d{4}-\d\d-\d\d-\d\d-\d\d-[0-9a-f]{8}")
# values that differ between any two runs: times, durations, versions, checksums of them
VOLATILE_KEYS = {"last_activity", "date_joined", "created_at", "updated_at", "finished_at",
                 "started_at", "last_sync", "last_sync_count_updated_at", "version", "exc_info",
                 "md5", "created_ago", "duration", "time_in_progress", "time_queued",
                 "time_last_ping", "time_failure"}


UNORDERED = {"data_columns"}  # lists in no particular order (a set on the server)
ID_STRINGS = {"annotations_ids", "predictions_ids"}  # "3,2": ids joined in no particular order


def id_order(text):
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


class Normalizer:
    """Per server: the ids it showed, numbered per kind in order of appearance."""

    def __init__(self, url, data_dirs=(), secrets=()):
        self.url = url
        self.host = url.split("://", 1)[1]
        self.data_dirs = sorted((str(d) for d in data_dirs), key=len, reverse=True)
        self.secrets = [s for s in secrets if s]
        self.ids = {}

    def id(self, kind, value):
        if kind is None or isinstance(value, bool) or not isinstance(value, int):
            return self.value(value)
        seen = self.ids.setdefault(kind, {})
        if value not in seen:
            seen[value] = len(seen) + 1
        return f"<{kind}#{seen[value]}>"

    def string(self, text):
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        text = text.replace(self.url, "<server>").replace(self.host, "<server>")
        for folder in self.data_dirs:
            text = text.replace(folder, "<data>")
        text = UUID.sub("<uuid>", text)
        text = JWT.sub("<jwt>", text)
        text = HEX_TOKEN.sub("<token>", text)
        text = EXPORT_FILE.sub("project-<n>-at-<time>", text)
        text = UPLOAD_PREFIX.sub("<h>-", text)
        text = HASH_PREFIX.sub("<h>__", text)
        text = TIME.sub("<time>", text)
        return text

    def value(self, value, key=None, kind=None):
        if key in VOLATILE_KEYS and value is not None and not isinstance(value, (dict, list)):
            return f"<{key}>"
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, dict):
            return {self.string(k): self.field(k, v, kind) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, None, kind) for v in value]
        return value

    def field(self, key, value, kind):
        if key in UNORDERED and isinstance(value, list):
            value = sorted(value, key=str)
        if key in ID_STRINGS and isinstance(value, str) and value:
            separator = ", " if ", " in value else ","
            value = separator.join(sorted(value.replace(" ", "").split(","), key=id_order))
        if key == "id":
            return self.id(kind, value) if isinstance(value, int) else self.value(value, key)
        if key in ID_KEYS:
            sub = ID_KEYS[key]
            if isinstance(value, dict):
                return self.value(value, None, sub)
            if isinstance(value, int) and not isinstance(value, bool):
                return self.id(sub, value)
            return self.value(value, key)
        if key in LIST_KEYS and isinstance(value, list):
            sub = LIST_KEYS[key] or kind
            return [self.id(sub, v) if isinstance(v, int) and not isinstance(v, bool)
                    else self.value(v, None, sub) for v in value]
        if isinstance(value, (dict, list)):
            return self.value(value, None, "item")
        return self.value(value, key)


def kind_of(path):
    for pattern, kind in KIND_OF_PATH:
        if re.match(pattern, path):
            return kind
    return "item"


def normalize(normalizer, s, body):
    if s.sort and body is not None:
        body = sort_lists(body, s.sort)
    return normalizer.value(body, None, s.kind or kind_of(s.path))


def sort_lists(body, key):
    def keyed(items):
        return sorted(items, key=lambda x: str(x.get(key)) if isinstance(x, dict) else str(x))
    if isinstance(body, list):
        return keyed(body)
    if isinstance(body, dict):
        return {k: keyed(v) if k in ("results", "tasks") and isinstance(v, list) else v
                for k, v in body.items()}
    return body


# -- comparison --------------------------------------------------------------------------------

def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:LIST_LIMIT]]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def differences(ls, ld, where="", limit=8):
    """(path, Label Studio's, LabelDesk's) where the two normalized answers differ."""
    found = []

    def walk(a, b, path):
        if len(found) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in a:
                if k not in b:
                    found.append((f"{path}.{k}", short(a[k]), "(missing)"))
                else:
                    walk(a[k], b[k], f"{path}.{k}")
            for k in b:
                if k not in a:
                    found.append((f"{path}.{k}", "(missing)", short(b[k])))
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                found.append((f"{path}[len]", len(a), len(b)))
            for n, (x, y) in enumerate(zip(a[:LIST_LIMIT], b[:LIST_LIMIT])):
                walk(x, y, f"{path}[{n}]")
        elif a != b or type(a) is not type(b) and not {type(a), type(b)} <= {int, float}:
            found.append((path or ".", short(a), short(b)))

    walk(ls, ld, where)
    return found[:limit]


def short(value, size=90):
    text = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= size else text[:size] + "…"


@dataclass
class Outcome:
    name: str
    kind: str  # identical / value / shape / status
    ls_status: int
    ld_status: int
    diffs: list
    ls_body: object = None  # the normalized answers, for the report
    ld_body: object = None

    def describe(self):
        if self.kind == "status":
            return f"status {self.ls_status} (LS) vs {self.ld_status} (LabelDesk)"
        return "; ".join(f"{p}: {a} vs {b}" for p, a, b in self.diffs[:4])


def compare(steps, ls, ld, ls_norm, ld_norm):
    outcomes = []
    for s in steps:
        (ls_status, ls_body), (ld_status, ld_body) = ls.answers[s.name], ld.answers[s.name]
        a, b = normalize(ls_norm, s, ls_body), normalize(ld_norm, s, ld_body)
        if ls_status != ld_status:
            kind = "status"
        elif shape(a) != shape(b):
            kind = "shape"
        elif a != b:
            kind = "value"
        else:
            kind = "identical"
        diffs = differences(a, b) if kind != "identical" else []
        outcomes.append(Outcome(s.name, kind, ls_status, ld_status, diffs, a, b))
    return outcomes
