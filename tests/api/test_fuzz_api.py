"""Schemathesis against the live server, driven by LabelDesk's own OpenAPI description.

Every operation of /api/schema gets generated requests, valid and invalid (a fixed seed, a
bounded number per operation: LABELDESK_FUZZ_EXAMPLES, small here, large in `make fuzz`).
Checks on each answer:
  - never a 5xx (not_a_server_error);
  - a documented answer matches its declared schema (response_schema_conformance);
  - nothing changes data that should not: the store's digest is the same after any GET (except
    the few that write on purpose, listed) and after any refused (4xx) request.
"""

import hashlib
import os

import orjson
import pytest
import schemathesis
from conftest import LiveServer  # noqa: E402
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from desktop.api.schema import build  # noqa: E402

EXAMPLES = int(os.environ.get("LABELDESK_FUZZ_EXAMPLES", "6"))
SEED = int(os.environ.get("LABELDESK_FUZZ_SEED", "20251123"))

# Operations that reach outside the machine (an ML backend's URL, S3, a Label Studio server):
# their handling of garbage is covered by test_errors.py's sweep and test_handovers.py;
# fuzzing them would make network calls.
NETWORK = {("POST", "/api/ml"), ("PATCH", "/api/ml/{backend_id}"), ("PUT", "/api/ml/{backend_id}"),
           ("POST", "/api/ui/handovers")}
# GETs that write on purpose: the label stream locks the task it hands out (0.x too).
WRITING_GETS = {"/api/projects/{project_id}/next", "/api/project/next"}
# The 0.x current-project pointer: any 0.x call sets it on first use (docs/legacy-api.md).
IGNORED_TABLES = {"legacy"}
# 0.x GETs that create the default project when there is none (the fuzzer may have deleted
# every project before): their only change then is that project.
DEFAULT_PROJECT_GETS = {"/api/tasks", "/api/project", "/api/project/next", "/api/completions",
                        "/api/import-example"}

def store_digest(server):
    """{table: sha256 of its documents}: what a request changed, table by table."""
    storage = server.app.store.storage
    with storage.lock:
        return {name: hashlib.sha256(orjson.dumps(dict(docs), option=orjson.OPT_SORT_KEYS
                                                  | orjson.OPT_NON_STR_KEYS)).hexdigest()
                for name, docs in storage.tables.items()
                if docs and name not in IGNORED_TABLES}


def changed(before, after):
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-files")
    server = LiveServer(tmp_path_factory.mktemp("fuzz-data"), fsync=False,
                        local_files_root=root)
    api = server.api
    # id 1 of everything, so generated ids of 1 reach past the lookups
    project = api.project(title="Fuzz")
    api.post(f"/api/projects/{project['id']}/import",
             json=[{"text": "a"}, {"text": "b"}, {"text": "c"}]).raise_for_status()
    task = api.get(f"/api/projects/{project['id']}/tasks").json()[0]["id"]
    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
               "value": {"choices": ["Pos"]}}]
    api.post(f"/api/tasks/{task}/annotations", json={"result": result}).raise_for_status()
    api.post("/api/predictions", json={"task": task, "result": result}).raise_for_status()
    api.post("/api/dm/views", json={"project": project["id"]}).raise_for_status()
    api.post(f"/api/projects/{project['id']}/exports", json={}).raise_for_status()
    (root / "files").mkdir()
    (root / "files" / "a.txt").write_text("a file")
    storage = api.post("/api/storages/localfiles", json={"project": project["id"],
                                                         "path": str(root / "files")})
    assert storage.status_code == 201, storage.text
    yield server
    server.close()


CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "suppress-health-check": ["all"],
    "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True,
                   "database": "none"},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
# Built at import (the spec is data; it needs no server): one test per operation, so xdist
# spreads them. The server's URL is given per call.
schema = schemathesis.openapi.from_dict(build(), config=CONFIG)
for _method, _path in sorted(NETWORK):  # these would call out: test_ml.py etc. cover them
    schema = schema.exclude(method=_method, path=_path)


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_fuzz(case, fuzz_server):
    if case.path_parameters and case.path_parameters.get("kind_type") == "s3" \
            and case.method.upper() in ("POST", "PATCH", "PUT"):
        return  # S3 storages talk to AWS (test_storages_s3.py covers them with moto)
    server = fuzz_server
    headers = {"Authorization": f"Token {server.app.users.get(1)['token']}"}
    if case.headers and "Authorization" in case.headers:
        headers = {}  # the case tries credentials of its own: let it
    before = store_digest(server)
    response = case.call(base_url=server.url, headers=headers, timeout=60,
                         allow_redirects=False)
    after = store_digest(server)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance],
                           headers=headers)
    what = f"{case.method} {response.request.url} ({response.status_code})"
    if case.method.upper() == "GET" and case.path not in WRITING_GETS:
        if case.path in DEFAULT_PROJECT_GETS and "projects" not in before:
            before = {**before, "projects": after.get("projects")}
        assert after == before, f"{what} changed {changed(before, after)}"
    if 400 <= response.status_code < 500:
        assert after == before, (f"{what} was refused but changed {changed(before, after)}: "
                                 f"{response.text[:300]}")


# -- what the fuzzer found, kept as plain regression tests ---------------------------------

def test_non_ascii_credentials_are_401_not_500(make_live):
    import requests
    url = make_live(fsync=False).url  # its own: the fuzzer may have switched auth off
    for headers in ({"Authorization": "Token caf\xe9".encode("latin-1")},  # not UTF-8
                    {"Authorization": "Token café".encode()},  # UTF-8, not ASCII
                    {"X-Api-Key": b"\xe9\xe9"}):
        assert requests.get(url + "/api/projects", headers=headers).status_code == 401
    login = requests.post(url + "/user/login", data={"token": "\U00038ead"},
                          allow_redirects=False)
    assert login.status_code == 303 and "error=token" in login.headers["Location"]


def test_non_ascii_digits_in_id_lists(make_live):
    api = make_live(fsync=False).api
    api.project()
    for path in ("/api/projects?ids=\u00b9,1", "/api/projects/counts?ids=\u00b9",
                 "/api/projects/1/export?ids[]=\u00b9", "/api/models/predictions?task_ids=\u00b9"):
        assert api.get(path).status_code < 500, path


def test_garbled_multipart_archive_upload_is_400(make_live):
    import requests
    server = make_live(fsync=False)
    body = (b'--xx\r\nContent-Disposition: form-data; name="\xc2\x99\x00X\x7f"\r\n\r\n{}'
            b"\r\n--xx--\r\n")
    response = requests.post(server.url + "/api/projects/archive", data=body, headers={
        "Authorization": f"Token {server.token}",
        "Content-Type": "multipart/form-data; boundary=xx"})
    assert response.status_code == 400, response.text
