"""Uploads and project zips are streamed and capped (desktop/api/bodies.py,
desktop/data_import/archive.py).

* Bodies of any size up to max_body_bytes work, with flat memory: a raw project zip of several
  MB, multi-file imports of small or big files (they failed past Bottle's 100 KB MEMFILE_MAX);
  a body over the cap is a 413 without being read.
* A malformed multipart body (control characters, invalid UTF-8 or huge part names) is one 400
  in Label Studio's envelope on every route that could read it, never a 500.
* Zip bombs (by ratio, by entry count, overlapping or duplicate entries, huge JSON members) are
  refused with 400/413 and leave nothing behind, with the server's peak RSS under 300 MB.

Memory is read from /proc/<pid>/status (VmHWM, the peak RSS) of the real server subprocess.
"""

import http.client
import io
import json
import os
import re
import time
import zipfile

import pytest
import requests
from label_studio_sdk import Client

from datahelp import LABEL_CONFIG

MB = 1024 * 1024
GOOD = {"manifest.json": json.dumps({"format": "labeldesk-project", "version": 1}),
        "project.json": json.dumps({"id": 1, "settings": {"title": "Bomb target"}}),
        "tasks.jsonl": json.dumps({"id": 1, "data": {"text": "a"}}) + "\n"}
MEDIA_CONFIG = """<View><Image name="image" value="$image"/>
  <Choices name="c" toName="image"><Choice value="A"/></Choices></View>"""
VIDEO_CONFIG = """<View><Video name="video" value="$video"/>
  <Choices name="c" toName="video"><Choice value="A"/></Choices></View>"""


def memory(pid, key="VmHWM"):
    """Peak (VmHWM) or current (VmRSS) resident memory of process `pid`, in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(key)


def reset_peak(pid):
    """Start VmHWM again from the current RSS (Linux: `echo 5 > /proc/PID/clear_refs`)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`labeldesk serve` as a child process: the real server, with the CLI's body cap."""
    from conftest import ServeProcess
    folder = tmp_path_factory.mktemp("streaming") / "data"
    process = ServeProcess(folder)
    process.data_dir = folder
    yield process
    process.stop()


def leftovers(server):
    """Files in the data folder's media and temp folders (nothing may stay after a refusal)."""
    root = server.data_dir
    return sorted(str(p.relative_to(root)) for folder in ("media", "tmp")
                  for p in (root / folder).rglob("*") if p.is_file())


def project_count(api):
    return api.get("/api/projects?page_size=1").json()["count"]


def post_zip(api, data, **params):
    return api.post("/api/projects/archive", data=data, params=params,
                    headers={"Content-Type": "application/zip"}, timeout=120)


def write_multipart(path, files, boundary="labeldesk-test-boundary"):
    """A multipart body in a file: files = [(field, filename, size)] of random bytes, written a
    MB at a time (the test process doesn't hold them either)."""
    with open(path, "wb") as out:
        for field, name, size in files:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                      f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                      .encode())
            left = size
            while left:
                block = os.urandom(min(MB, left))
                out.write(block)
                left -= len(block)
            out.write(b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}"


# -- bodies over Bottle's 100 KB memory limit ----------------------------------------------

def test_raw_archive_body_of_several_mb_imports(server):
    api = server.api
    project = api.project(title="Big media", label_config=MEDIA_CONFIG)
    picture = os.urandom(6 * MB)
    answer = api.post(f"/api/projects/{project['id']}/import",
                      files={"file": ("big.png", picture)})
    assert answer.status_code == 201, answer.text[:300]
    body = api.get(f"/api/projects/{project['id']}/archive").content
    assert len(body) > 6 * MB
    restored = post_zip(api, body)
    assert restored.status_code == 201, restored.text[:300]
    assert restored.json()["counts"]["media"] == 1
    task = api.get(f"/api/tasks?project={restored.json()['id']}").json()["tasks"][0]
    assert api.get(task["data"]["image"]).content == picture


@pytest.mark.parametrize("sizes", [[40_000] * 5, [MB] * 3], ids=["5x40KB", "3x1MB"])
def test_multi_file_imports_over_100_kb(server, sizes):
    """Bottle kept at most 100 KB of small parts in memory: 5 x 40 KB files were a 400."""
    api = server.api
    project = api.project(title="Many files")
    line = "x" * 999 + "\n"  # a task per KB: the store stays small
    files = [(f"file{i}", (f"part{i}.txt", (line * (size // 1000)).encode()))
             for i, size in enumerate(sizes)]
    response = api.post(f"/api/projects/{project['id']}/import", files=files)
    assert response.status_code == 201, response.text[:300]
    answer = response.json()
    assert len(answer["file_upload_ids"]) == len(sizes)
    expected = sum(len(f[1][1].splitlines()) for f in files)
    assert answer["task_count"] == expected
    assert not [p for p in leftovers(server) if p.startswith("tmp")]


def test_legacy_sdk_client_imports_a_big_file(server, tmp_path):
    client = Client(url=server.url, api_key=server.token)
    project = client.start_project(title="SDK file", label_config=LABEL_CONFIG)
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"text": f"task {i} " + "x" * 200} for i in range(10_000)]))
    assert path.stat().st_size > 2 * MB
    ids = project.import_tasks(str(path))
    assert len(ids) == 10_000


def upload_from_file(server, project_id, path, kind):
    """POST the multipart body in `path`; (response, seconds, RSS before, peak RSS) in MB."""
    pid = server.proc.pid
    reset_peak(pid)
    before = memory(pid, "VmRSS")
    started = time.monotonic()
    with open(path, "rb") as f:
        response = server.api.post(f"/api/projects/{project_id}/import", data=f, timeout=300,
                                   headers={"Content-Type": kind})
    return response, time.monotonic() - started, before, memory(pid)


def test_200_mb_multi_file_import_and_50_mb_archive_keep_memory_flat(server, tmp_path):
    api, pid = server.api, server.proc.pid
    project = api.project(title="Videos", label_config=VIDEO_CONFIG)
    body = tmp_path / "body"
    kind = write_multipart(body, [(f"f{i}", f"clip{i}.mp4", 50 * MB) for i in range(4)])
    response, seconds, before, peak = upload_from_file(server, project["id"], body, kind)
    assert response.status_code == 201, response.text[:300]
    assert response.json()["task_count"] == 4
    print(f"\n200 MB multi-file import: {seconds:.1f} s, RSS {before:.0f} MB before, "
          f"peak {peak:.0f} MB")
    assert peak - before < 60, (before, peak)
    # a 50 MB project file, as a raw body
    single = api.project(title="One video", label_config=VIDEO_CONFIG)
    kind = write_multipart(body, [("file", "clip.mp4", 50 * MB)])
    assert upload_from_file(server, single["id"], body, kind)[0].status_code == 201
    archive = api.get(f"/api/projects/{single['id']}/archive", timeout=300).content
    assert 50 * MB < len(archive) < 51 * MB
    reset_peak(pid)
    before = memory(pid, "VmRSS")
    started = time.monotonic()
    restored = post_zip(api, archive)
    seconds = time.monotonic() - started
    assert restored.status_code == 201, restored.text[:300]
    peak = memory(pid)
    print(f"50 MB raw archive body: {seconds:.1f} s, RSS {before:.0f} MB before, "
          f"peak {peak:.0f} MB")
    assert peak - before < 60, (before, peak)
    assert not [p for p in leftovers(server) if p.startswith("tmp")]


def test_300_mb_body_is_413_without_being_read(server):
    host, port = re.match(r"http://([^:]+):(\d+)", server.url).groups()
    pid = server.proc.pid
    reset_peak(pid)
    before = memory(pid, "VmRSS")
    total = 300 * MB
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/api/projects/archive")
    conn.putheader("Authorization", f"Token {server.token}")
    conn.putheader("Content-Type", "application/zip")
    conn.putheader("Content-Length", str(total))
    conn.endheaders()
    sent, block = 0, b"\0" * MB
    try:
        while sent < total:
            conn.send(block)
            sent += len(block)
    except OSError:  # the server answered and closed: it won't read 300 MB
        pass
    response = conn.getresponse()
    assert response.status == 413
    assert sent < total
    conn.close()
    assert memory(server.proc.pid) - before < 20


# -- malformed multipart part names: a 400, never a 500, on every route ---------------------

def part(name, filename=None, data=b"x"):
    disposition = b'form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    return b"Content-Disposition: " + disposition + b"\r\n\r\n" + data


BAD_PARTS = {
    **{f"name-{c:#04x}": part(b"a" + bytes([c]) + b"b") for c in (0, 1, 8, 0x1b, 0x1f, 0x7f)},
    **{f"filename-{c:#04x}": part(b"file", b"a" + bytes([c]) + b".txt")
       for c in (0, 1, 0x1f, 0x7f)},
    "name-cr-lf": part(b"a\r\nb"), "filename-lf": part(b"file", b"a\nb.txt"),
    "name-not-utf8": part(b"\xff\xfe"), "filename-not-utf8": part(b"file", b"\xc3(.txt"),
    "filename-star-nul": b"Content-Disposition: form-data; name=\"file\"; "
                         b"filename*=UTF-8''a%00b.txt\r\n\r\nx",
    "name-100k": part(b"n" * 100_000), "filename-100k": part(b"file", b"f" * 100_000),
    "no-disposition": b"Content-Type: text/plain\r\n\r\nx",
    "no-headers": b"\r\nx",
}


def multipart(raw_part, boundary=b"xyzzy"):
    return (b"--" + boundary + b"\r\n" + raw_part + b"\r\n--" + boundary + b"--\r\n",
            "multipart/form-data; boundary=" + boundary.decode())


def route_table(live):
    return [(route.method, route.rule) for route in live.app.wsgi.app.routes]


def concrete(rule, project_id):
    return re.sub(r"<([^>:]+)(:[^>]*)?>", lambda m: str(project_id) if m.group(1).endswith(
        "id") else "x", rule)


def test_malformed_part_names_are_400_on_every_route(live):
    """Every route with a body method gets every bad part: 400 in the envelope (the body is
    parsed before any route runs), and nothing changes."""
    project = live.api.project(title="Names")
    before = live.api.get(f"/api/projects/{project['id']}").json()
    routes = [(m, r) for m, r in route_table(live) if m in ("POST", "PUT", "PATCH", "DELETE")]
    multipart_routes = {(method.upper(), path) for path, item in
                        live.api.get("/api/schema").json()["paths"].items()
                        for method, op in item.items()
                        if "multipart/form-data" in op.get("requestBody", {}).get("content", {})}
    assert multipart_routes, "the schema lists the routes taking files"
    rules = {(m, re.sub(r"<([^>:]+)(:[^>]*)?>", r"{\1}", r)) for m, r in routes}
    assert multipart_routes <= rules, multipart_routes - rules
    session = requests.Session()
    session.headers["Authorization"] = f"Token {live.token}"
    checked = 0
    for label, raw in BAD_PARTS.items():
        body, kind = multipart(raw)
        for method, rule in routes:
            url = live.url + concrete(rule, project["id"])
            response = session.request(method, url, data=body, timeout=10,
                                       headers={"Content-Type": kind})
            assert response.status_code == 400, (label, method, rule, response.status_code,
                                                 response.text[:200])
            assert "Malformed multipart body" in response.text, (label, rule, response.text)
            assert response.json()["status_code"] == 400
            checked += 1
    assert checked > 1000, checked
    assert live.api.get(f"/api/projects/{project['id']}").json() == before


def parts(*raw_parts, boundary=b"xyzzy"):
    return b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in raw_parts) + \
        b"--" + boundary + b"--\r\n"


MALFORMED_BODIES = {
    # the `multipart` library's checks and caps (desktop/api/bodies.py)
    "1001-parts": (parts(*[part(b"f", b"a.txt")] * 1001), 400, "at most 1000 parts"),
    "9-header-lines": (parts(part(b"f").replace(b"\r\n\r\n", b"\r\n" + b"X-A: b\r\n" * 8
                                                + b"\r\n")), 400, "header count"),
    "truncated": (parts(part(b"f", b"a.txt"))[:-12], 400, "end of multipart stream"),
    "part-length-lie": (parts(part(b"f", b"a.txt").replace(b"\r\n\r\n", b"\r\nContent-Length:"
                                                           b" 9\r\n\r\n")), 400, "Length"),
    # ours, around it: names it decodes to control characters, text fields over the cap
    "name-percent-lf": (parts(part(b"a%0Ab")), 400, "control characters"),
    "filename-percent-cr": (parts(part(b"f", b"a%0D.txt")), 400, "control characters"),
    "33MB-of-text": (parts(part(b"f", None, b"x" * (33 * MB))), 413, "Form fields too large"),
}


@pytest.mark.parametrize("label", list(MALFORMED_BODIES))
def test_malformed_bodies_are_refused_and_leave_nothing(live, label):
    body, status, message = MALFORMED_BODIES[label]
    project = live.api.project(title=f"Malformed {label}")
    response = live.api.post(f"/api/projects/{project['id']}/import", data=body, timeout=60,
                             headers={"Content-Type": "multipart/form-data; boundary=xyzzy"})
    assert response.status_code == status, response.text[:300]
    assert response.json()["status_code"] == status
    assert message in response.text, response.text[:300]
    assert status == 413 or "Malformed multipart body" in response.text
    assert live.api.get(f"/api/tasks?project={project['id']}").json()["total"] == 0
    assert list((live.settings.data_dir / "tmp").iterdir()) == []


def test_unusual_but_valid_names_import_cleanly(live):
    project = live.api.project(title="Unicode names")
    for raw in (part(b"file", "caf\u00e9 \U0001f600.txt".encode(), b"hello\n"),
                b"Content-Disposition: form-data; name=\"file\"; "
                b"filename*=UTF-8''na%C3%AFve.txt\r\n\r\nhello\n",
                part("f\u00eald".encode(), b"tab\there.txt", b"hello\n")):
        body, kind = multipart(raw)
        response = live.api.post(f"/api/projects/{project['id']}/import", data=body,
                                 headers={"Content-Type": kind})
        assert response.status_code == 201, response.text[:300]
    uploads = live.api.get(f"/api/projects/{project['id']}/file-uploads?all=true").json()
    names = sorted(u["file"].split("-", 1)[1] for u in uploads)
    assert names == ["caf_ _.txt", "na_ve.txt", "tab_here.txt"]


# -- project zip bombs ----------------------------------------------------------------------

def ratio_bomb(member="media/zeros.png", size=1024 * MB):
    """About 1 MiB of zip that inflates to `size` bytes of zeros, written in blocks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in GOOD.items():
            if name != member:
                zf.writestr(name, data)
        with zf.open(member, "w", force_zip64=True) as f:
            # tasks: valid JSON lines padded with spaces (they inflate as well as zeros)
            block = b"\0" * (4 * MB) if not member.endswith("jsonl") else \
                (json.dumps({"data": {"text": "a"}}) + " " * (4 * MB - 24) + "\n").encode()
            for _ in range(size // len(block)):
                f.write(block)
    return out.getvalue()


def overlapping_zip():
    """media/a.png's data *is* media/b.png's local header and data: two names, one set of bytes
    (the building block of non-recursive zip bombs)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("media/b.png", os.urandom(1000))
    raw = inner.getvalue()
    b_info = zipfile.ZipFile(io.BytesIO(raw)).getinfo("media/b.png")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in GOOD.items():
            zf.writestr(name, data)
        a_info = zipfile.ZipInfo("media/a.png")
        zf.writestr(a_info, raw[:raw.index(b"PK\x01\x02")])
        b_info.header_offset = a_info.header_offset + 30 + len(a_info.filename)
        zf.filelist.append(b_info)
    return out.getvalue()


def duplicate_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in GOOD.items():
            zf.writestr(name, data)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zf.writestr("media/x.png", b"one")
            zf.writestr("media/x.png", b"two")
    return out.getvalue()


def many_entries_zip(count):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in GOOD.items():
            zf.writestr(name, data)
        for i in range(count):
            zf.writestr(f"media/{i:x}", b"")
    return out.getvalue()


def big_json_zip():
    """project.json of 40 MB that doesn't compress: refused by its size before parsing."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in GOOD.items():
            if name != "project.json":
                zf.writestr(name, data)
        padding = os.urandom(30 * MB).hex()[:40 * MB]
        zf.writestr("project.json", '{"id": 1, "settings": {}, "x": "' + padding + '"}')
    return out.getvalue()


BOMBS = {
    "media-1GB-of-zeros": (lambda: ratio_bomb(), 413, "inflates more than"),
    "tasks-1GB-of-lines": (lambda: ratio_bomb("tasks.jsonl"), 413, "inflates more than"),
    "project-json-1GB": (lambda: ratio_bomb("project.json"), 413, "inflates more than"),
    "overlapping-entries": (overlapping_zip, 400, "overlaps"),
    "duplicate-entries": (duplicate_zip, 400, "twice"),
    "200k-entries": (lambda: many_entries_zip(200_001), 413, "entries"),
    "json-member-40MB": (big_json_zip, 413, "larger than"),
}


@pytest.mark.parametrize("kind", list(BOMBS))
def test_zip_bombs_are_refused_with_flat_memory(server, kind):
    make, status, message = BOMBS[kind]
    body = make()
    api, pid = server.api, server.proc.pid
    if kind.endswith("zeros") or kind.endswith("lines"):
        assert len(body) < 1.1 * MB, len(body)
    projects = project_count(api)
    before_files = leftovers(server)
    reset_peak(pid)
    started = time.monotonic()
    response = post_zip(api, body)
    seconds = time.monotonic() - started
    peak = memory(pid)
    print(f"\n{kind}: {len(body) / MB:.1f} MB zip, {response.status_code} in {seconds:.2f} s,"
          f" server peak RSS {peak:.0f} MB")
    assert response.status_code == status, response.text[:300]
    assert response.json()["status_code"] == status
    assert message in response.text, response.text[:300]
    assert peak < 300, peak
    assert project_count(api) == projects
    assert leftovers(server) == before_files


def test_zip_bombs_through_the_core_too(live, tmp_path):
    """The CLI's path (a file, no body cap): the same caps, the same refusals, nothing left."""
    from desktop.core.errors import TooLarge
    from desktop.data_import import archive
    path = tmp_path / "bomb.zip"
    path.write_bytes(ratio_bomb())
    before = live.app.projects.ids()
    with pytest.raises(TooLarge) as refused:
        archive.import_archive(live.app, path, 1)
    assert "inflates more than" in str(refused.value.errors)
    assert live.app.projects.ids() == before


def test_a_lying_entry_leaves_nothing(live):
    """An entry whose headers say 1000 bytes but which holds 3 MB: zipfile stops at the
    declared size and the CRC fails mid-copy: a 400, no project, no media file left."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in GOOD.items():
            zf.writestr(name, data)
        zf.writestr("media/lie.png", os.urandom(3 * MB))
    raw = bytearray(out.getvalue())
    local = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("media/lie.png").header_offset
    central = bytes(raw).rindex(b"PK\x01\x02")  # the last central record: media/lie.png
    raw[central + 24:central + 28] = (1000).to_bytes(4, "little")
    raw[local + 22:local + 26] = (1000).to_bytes(4, "little")
    media = live.settings.media_dir
    files_before = sorted(media.rglob("*"))
    projects = project_count(live.api)
    response = live.api.post("/api/projects/archive", data=bytes(raw),
                             headers={"Content-Type": "application/zip"})
    assert response.status_code == 400, response.text[:300]
    assert "damaged" in response.text
    # the upload root itself may be new (the first upload of this server); nothing in it is
    assert [p for p in sorted(media.rglob("*")) if p != media / "upload"] == \
        [p for p in files_before if p != media / "upload"]
    assert project_count(live.api) == projects


def test_streaming_counters_stop_at_the_cap(tmp_path):
    """What is inflated is counted as it is read, against the total cap: reading stops a block
    past it, whatever the entry's size."""
    from desktop.core.errors import TooLarge
    from desktop.data_import import archive
    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("media/zeros.png", b"\0" * (100 * MB))
    budget = archive.Budget(5 * MB)
    read = 0
    with zipfile.ZipFile(path) as zf, pytest.raises(TooLarge) as refused:
        with budget.open(zf, "media/zeros.png") as entry:
            while block := entry.read(MB):
                read += len(block)
    assert read <= 5 * MB and "larger than" in str(refused.value.errors)
    with zipfile.ZipFile(path) as zf, pytest.raises(TooLarge) as refused:
        archive.Budget(archive.MAX_BYTES).read(zf, "media/zeros.png", 1000)
    assert "larger than 1000 bytes" in str(refused.value.errors)


def test_spooled_bodies_are_private_unnamed_files_in_the_data_folder(tmp_path):
    """Past 1 MB a body (and each uploaded file) is on disk in <data>/tmp, 0600, with no name
    (nothing to leave behind, even after a crash); the request's end closes them."""
    import stat

    from desktop.api import bodies
    raw = part(b"file", b"big.bin", os.urandom(3 * MB)) + b"\r\n--xyzzy\r\n" + part(b"title",
                                                                                 None, b"Hi")
    body, kind = multipart(raw)
    environ = {"CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": kind,
               "wsgi.input": io.BytesIO(body)}
    bodies.prepare(environ, tmp_path, 10 * MB)
    form = environ["bottle.request.post"]
    assert form["title"] == "Hi"
    files = [form["file"].file, environ["bottle.request.body"]]
    for f in files:
        assert f._rolled  # on disk, not in memory
        assert stat.S_IMODE(os.fstat(f.fileno()).st_mode) == 0o600
        assert os.readlink(f"/proc/self/fd/{f.fileno()}").startswith(str(tmp_path / "tmp"))
    assert form["file"].file.read() == raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n--xyzzy")[0]
    assert list((tmp_path / "tmp").iterdir()) == []
    bodies.release(environ)
    assert all(f.closed for f in files)


def test_deeply_nested_task_in_a_project_zip_is_a_400_and_leaves_nothing(server):
    """The zip's tasks.jsonl goes through the same nesting cap as request bodies (100 levels)."""
    api = server.api
    project = api.project(title="Nested", label_config=LABEL_CONFIG)
    assert api.post(f"/api/projects/{project['id']}/import",
                    json=[{"text": "fine"}]).status_code == 201
    original = api.get(f"/api/projects/{project['id']}/archive").content
    before = [p["id"] for p in api.get("/api/projects").json()["results"]]
    source, changed = zipfile.ZipFile(io.BytesIO(original)), io.BytesIO()
    with zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("tasks.jsonl"):
                task = json.loads(data.splitlines()[0])
                task["data"]["deep"] = "[" * 300 + "]" * 300
                data = (json.dumps(task).replace('"' + "[" * 300 + "]" * 300 + '"',
                                                 "[" * 300 + "]" * 300) + "\n").encode()
            target.writestr(item, data)
    refused = post_zip(api, changed.getvalue())
    assert refused.status_code == 400, refused.text[:300]
    assert "nested deeper than 100" in refused.text
    assert [p["id"] for p in api.get("/api/projects").json()["results"]] == before
