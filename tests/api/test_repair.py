"""`labeldesk repair`, end to end: a real server writes the data, the files are damaged as a disk
or a person would damage them, `labeldesk repair` runs as a user runs it, and a real server then
opens the repaired folder and serves what was kept."""

import subprocess
import sys

import orjson
import pytest

from desktop.db.journal import SNAPSHOT_VERSION, read_snapshot
from paths import ROOT
from storehelp import damage_record, journal_records  # noqa: F401

PROJECTS = 6


def labeldesk(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def repair(data):
    return labeldesk("repair", "--data-dir", str(data))


def make_data(serve_process, data, env=None, kill=False):
    """Six projects (Pro1..Pro6), each made by its own write, then Pro2 renamed (the last
    write): the journal holds each of them as its own record. Returns the titles by project id.
    `kill`: the server ends by kill -9 instead of a clean stop."""
    process = serve_process(data, env=env)
    titles = {}
    for number in range(1, PROJECTS + 1):
        project = process.api.project(title=f"Pro{number}", description=f"d{number}")
        titles[project["id"]] = f"Pro{number}"
    renamed = process.api.patch(f"/api/projects/{min(titles) + 1}",
                                json={"title": "Pro2 renamed"})
    assert renamed.status_code == 200, renamed.text
    titles[min(titles) + 1] = "Pro2 renamed"
    process.kill() if kill else process.stop()
    return titles


def served_titles(serve_process, data):
    process = serve_process(data)
    response = process.api.get("/api/projects?page_size=100")
    assert response.status_code == 200, response.text
    titles = {p["id"]: p["title"] for p in response.json()["results"]}
    # the repaired store takes writes, and keeps them
    assert process.api.project(title="after repair")["id"] not in titles
    process.stop()
    return titles


def files(data):
    db = data / "db"
    return {name: (db / name).read_bytes() for name in ("snapshot.ldb", "journal.ldb")
            if (db / name).exists()}


def refused_to_start(data):
    """`labeldesk serve` on the damaged folder: a clear refusal that names repair."""
    result = labeldesk("serve", "--data-dir", str(data), "--port", "0", timeout=60)
    assert result.returncode != 0
    assert "labeldesk repair" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr






def check_moved_aside(data, originals, report):
    aside = [p for p in (data / "db").iterdir() if p.name.startswith("damaged-")]
    assert len(aside) == 1, aside
    assert str(aside[0]) in report
    kept = {p.name: p.read_bytes() for p in aside[0].iterdir()}
    assert kept == originals  # the damaged files, byte for byte
    assert aside[0].stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("where", ["middle", "last"])
def test_repair_keeps_every_good_record_around_a_damaged_one(serve_process, tmp_path, where):
    data = tmp_path / "data"
    titles = make_data(serve_process, data)
    damaged_title = b'"title":"Pro3"' if where == "middle" else b'"title":"Pro2 renamed"'
    number, offset = damage_record(data, damaged_title)
    if where == "last":
        assert number == len(journal_records(data)[1])
    originals = files(data)
    refused_to_start(data)
    assert files(data) == originals  # the refusal changed nothing

    result = repair(data)
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    assert f"record {number}, bytes {offset}-" in report, report
    assert "Skipped 1 record" in report
    check_moved_aside(data, originals, report)

    expected = dict(titles)
    if where == "middle":
        del expected[min(titles) + 2]  # Pro3's creation was damaged; Pro4..Pro6 are kept
    else:
        expected[min(titles) + 1] = "Pro2"  # the rename was the damaged record
    assert served_titles(serve_process, data) == expected
    # and it opens cleanly from now on: a second repair finds nothing to do
    again = repair(data)
    assert again.returncode == 0 and "nothing to repair" in again.stdout


def test_repair_of_a_snapshot_whose_header_digit_changed(serve_process, tmp_path):
    env = {"LABELDESK_COMPACT_MIN_BYTES": "2048"}  # compactions happen: the snapshot has data
    data = tmp_path / "data"
    titles = make_data(serve_process, data, env=env)
    path = data / "db" / "snapshot.ldb"
    header, body = path.read_bytes().split(b"\n", 1)
    meta = orjson.loads(header)
    assert meta["generation"] > 2, "no compaction happened"
    damaged = header.replace(b'"generation":%d' % meta["generation"],
                             b'"generation":%d' % (meta["generation"] + 1))
    path.write_bytes(damaged + b"\n" + body)
    originals = files(data)
    refused_to_start(data)

    result = repair(data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "snapshot.ldb: its header was damaged" in result.stdout
    assert "passes its checksum" in result.stdout
    check_moved_aside(data, originals, result.stdout)
    assert served_titles(serve_process, data) == titles  # nothing lost at all


def test_snapshot_damaged_beyond_reading_is_said_and_nothing_changes(serve_process, tmp_path):
    data = tmp_path / "data"
    make_data(serve_process, data, env={"LABELDESK_COMPACT_MIN_BYTES": "2048"})
    path = data / "db" / "snapshot.ldb"
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0x04  # in the body: its checksum fails
    path.write_bytes(bytes(raw))
    originals = files(data)
    result = repair(data)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "damaged beyond reading" in result.stderr and "Nothing was changed" in result.stderr
    assert files(data) == originals
    assert not list((data / "db").glob("damaged-*"))


def test_repair_of_an_empty_journal_keeps_the_snapshot(serve_process, tmp_path):
    data = tmp_path / "data"
    make_data(serve_process, data, env={"LABELDESK_COMPACT_MIN_BYTES": "2048"})
    _, tables = read_snapshot(str(data / "db" / "snapshot.ldb"))
    in_snapshot = {i: doc["title"] for i, doc in tables["projects"]["docs"]}
    assert in_snapshot
    (data / "db" / "journal.ldb").write_bytes(b"")
    originals = files(data)
    refused_to_start(data)
    result = repair(data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "journal.ldb is empty" in result.stdout
    check_moved_aside(data, originals, result.stdout)
    assert served_titles(serve_process, data) == in_snapshot


def test_repair_with_nothing_to_repair_changes_nothing(serve_process, tmp_path):
    data = tmp_path / "data"
    make_data(serve_process, data)
    before = files(data)
    result = repair(data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing to repair" in result.stdout
    assert files(data) == before
    assert not list((data / "db").glob("damaged-*"))
    empty = labeldesk("repair", "--data-dir", str(tmp_path / "none"))
    assert empty.returncode == 0 and "nothing to repair" in empty.stdout


def test_repair_refuses_while_labeldesk_runs(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data)
    process.api.project(title="running")
    result = repair(data)
    assert result.returncode == 1
    assert "LabelDesk is running" in result.stderr and "Close it" in result.stderr
    assert process.api.get("/api/projects").status_code == 200
    process.stop()


def test_repair_help_documents_the_exit_status():
    result = labeldesk("repair", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "Exit status: 0 repaired, or nothing to repair" in text
    assert "1 LabelDesk is running" in text and "2 the store can't be repaired" in text


# -- damage that looked like an unfinished write (issue 21) ------------------------------------

@pytest.mark.parametrize("ending", ["stopped", "killed"])
@pytest.mark.parametrize("damage", ["last 300 bytes zeroed", "final newline -> NUL",
                                    "cut at a record boundary", "last record zeroed"])
def test_acknowledged_records_that_look_unfinished_are_refused_not_dropped(
        serve_process, tmp_path, damage, ending):
    """Each of these used to open silently without the acknowledged records at the end (the
    start-up said 'never acknowledged'); now each is refused, and repair keeps what reads."""
    data = tmp_path / "data"
    titles = make_data(serve_process, data, kill=ending == "killed")
    raw, lines, starts = journal_records(data)
    path = data / "db" / "journal.ldb"
    if damage == "last 300 bytes zeroed":
        path.write_bytes(raw[:-300] + b"\0" * 300)
    elif damage == "final newline -> NUL":
        path.write_bytes(raw[:-1] + b"\0")
    elif damage == "cut at a record boundary":
        path.write_bytes(raw[:starts[-2]])  # the last two records gone, newline and all
    else:
        path.write_bytes(raw[:starts[-1]] + b"\0" * (len(raw) - starts[-1]))
    originals = files(data)
    result = labeldesk("serve", "--data-dir", str(data), "--port", "0")
    assert result.returncode != 0 and "labeldesk repair" in result.stderr, result.stderr
    assert "bytes " in result.stderr and "never acknowledged" not in result.stderr
    assert files(data) == originals

    fixed = repair(data)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    expected = dict(titles)
    if damage == "final newline -> NUL":
        assert "Skipped: no record." in fixed.stdout  # its body passes its checksum: kept
    elif damage == "cut at a record boundary":
        assert "are missing" in fixed.stdout
        expected[min(titles) + 1] = "Pro2"  # the rename and Pro6 were in the records cut off
        del expected[max(titles)]
    else:
        expected[min(titles) + 1] = "Pro2"  # the rename was the record zeroed
    assert served_titles(serve_process, data) == expected


def newer_labeldesk_wrote(data, what):
    """The store as a later LabelDesk would leave it: a header saying a newer format/schema."""
    from desktop.db.journal import _header_crc, encode_record
    db = data / "db"
    if what == "journal":
        raw = (db / "journal.ldb").read_bytes()
        first = raw.index(b"\n") + 1
        header = orjson.loads(raw[:first].split(b" ", 2)[2])
        header.update(version=3, by="9.1.0")
        (db / "journal.ldb").write_bytes(encode_record(header) + raw[first:])
    else:
        head, body = (db / "snapshot.ldb").read_bytes().split(b"\n", 1)
        meta = orjson.loads(head)
        meta.update(schema=2, by="9.1.0")
        meta["header_crc"] = _header_crc(meta)
        (db / "snapshot.ldb").write_bytes(orjson.dumps(meta) + b"\n" + body)


@pytest.mark.parametrize("what", ["journal", "snapshot"])
def test_a_newer_labeldesks_store_is_refused_as_newer_everywhere(serve_process, tmp_path, what):
    """Not damage: serve, repair and restore each say 'upgrade' and change nothing (repair
    used to rewrite it in the old format, skipping every record)."""
    data = tmp_path / "data"
    make_data(serve_process, data)
    assert labeldesk("backup", "--data-dir", str(data)).returncode == 0
    backup = next(p.name for p in (data / "backups").glob("*.ldb"))
    newer_labeldesk_wrote(data, what)
    originals = files(data)
    for args in (["serve", "--port", "0"], ["repair"], ["restore", backup]):
        result = labeldesk(*args, "--data-dir", str(data))
        assert result.returncode != 0, result.stdout + result.stderr
        said = result.stdout + result.stderr
        assert "LabelDesk 9.1.0 or newer" in said and "upgrade LabelDesk" in said, said
        assert "run `labeldesk repair`" not in said and "Traceback" not in said, said
        assert files(data) == originals


def test_a_backup_a_newer_labeldesk_wrote_is_refused_as_newer(serve_process, tmp_path):
    data = tmp_path / "data"
    make_data(serve_process, data)
    assert labeldesk("backup", "--data-dir", str(data)).returncode == 0
    backup = next((data / "backups").glob("*.ldb"))
    head, body = backup.read_bytes().split(b"\n", 1)
    from desktop.db.journal import _header_crc
    meta = orjson.loads(head)
    meta.update(version=SNAPSHOT_VERSION + 1, by="9.1.0")
    meta["header_crc"] = _header_crc(meta)
    backup.write_bytes(orjson.dumps(meta) + b"\n" + body)
    originals = files(data)
    result = labeldesk("restore", backup.name, "--data-dir", str(data))
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "LabelDesk 9.1.0 or newer" in said, said
    assert "damaged" not in said and files(data) == originals
