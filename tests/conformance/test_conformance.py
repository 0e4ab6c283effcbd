"""The differential suite (issue 19): the same request sequence against a fresh Label Studio
1.23.2 and a fresh LabelDesk, answers compared after normalization (conformance_replay.py).

Every request is classified identical / value / shape / status. Those that differ must be listed
in differences.toml, as `deliberate` (a row of docs/compatibility.md) or `open` (to be fixed):
a difference not listed fails the test, and so does a listed one that no longer occurs. The
counts are printed at the end of the run (tests/conftest.py's terminal summary).

It is one test, so that under xdist one worker starts both servers, once.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own dependency
    import tomli as tomllib

import sdk_scenario
from conformance_replay import Normalizer, Replay, compare
from conformance_scenarios import sequence
from conftest import LiveServer

from datahelp import png
from desktop.core.users import DEFAULT_EMAIL
from lshelp import LabelStudioServer
from paths import ROOT

HERE = Path(__file__).parent
DIFFERENCES = HERE / "differences.toml"
COMPATIBILITY = ROOT / "docs" / "compatibility.md"
KINDS = ("identical", "value", "shape", "status")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]




@pytest.fixture(scope="session")
def conformance_servers(tmp_path_factory):
    """(Label Studio, LabelDesk, the local-files folder both may read), fresh, once a session."""
    base = tmp_path_factory.mktemp("conformance")
    files = base / "files"
    (files / "out").mkdir(parents=True)
    (files / "a.txt").write_text("hello from a file\n")
    for n in range(3):
        (files / f"pic_{n}.png").write_bytes(png((n * 7, n * 7 + 1, n * 7 + 2), size=2))
    (files / "skipped.bin").write_bytes(b"\x00\x01")
    ls = LabelStudioServer(base, email=DEFAULT_EMAIL,
                           env={"LOCAL_FILES_SERVING_ENABLED": "true",
                                "LOCAL_FILES_DOCUMENT_ROOT": str(base)})
    try:
        desk = LiveServer(base / "labeldesk", local_files_root=base)
    except BaseException:
        ls.stop()
        raise
    yield ls, desk, files
    desk.close()
    ls.stop()


def load_differences():
    entries = tomllib.loads(DIFFERENCES.read_text())["difference"]
    compatibility = COMPATIBILITY.read_text()
    listed = {}
    for entry in entries:
        assert entry["kind"] in KINDS[1:], entry
        assert entry["status"] in ("deliberate", "open"), entry
        if entry["status"] == "deliberate":
            assert entry.get("why") and entry.get("doc"), entry
            assert entry["doc"] in compatibility, f"{entry['doc']!r} is not in {COMPATIBILITY}"
        assert entry["request"] not in listed, f"{entry['request']} is listed twice"
        listed[entry["request"]] = entry
    return listed


def replay(conformance_servers):
    ls, desk, files = conformance_servers
    steps = sequence(files)
    names = [s.name for s in steps]
    assert len(names) == len(set(names)), "request names must be unique"
    ls_run = Replay(ls.api, ls.url)
    ld_run = Replay(desk.api.session, desk.url)
    ls_run.run(steps)
    ld_run.run(steps)
    base = files.parent  # both data folders and the local files are in it
    ls_norm = Normalizer(ls.url, [ls.data, base], [ls.token])
    ld_norm = Normalizer(desk.url, [desk.settings.data_dir, base], [desk.token])
    return compare(steps, ls_run, ld_run, ls_norm, ld_norm)


def test_label_studio_and_labeldesk_answer_alike(conformance_servers, record_property,
                                                 tmp_path_factory):
    outcomes = replay(conformance_servers)
    listed = load_differences()
    counts = Counter(o.kind for o in outcomes)
    differing = {o.name: o for o in outcomes if o.kind != "identical"}
    statuses = Counter(listed[name]["status"] for name in differing if name in listed)

    report = tmp_path_factory.getbasetemp() / "conformance-report.json"
    report.write_text(json.dumps([{"request": o.name, "kind": o.kind, "ls": o.ls_status,
                                   "labeldesk": o.ld_status, "diffs": o.diffs,
                                   "ls_body": o.ls_body, "ld_body": o.ld_body}
                                  for o in outcomes], indent=1, default=str))
    record_property("conformance", {
        "requests": len(outcomes), **{k: counts[k] for k in KINDS},
        "deliberate": statuses["deliberate"], "open": statuses["open"],
        "unlisted": sum(1 for name in differing if name not in listed),
        "report": str(report)})

    problems = []
    for name, outcome in differing.items():
        entry = listed.get(name)
        if entry is None:
            problems.append(f"new difference {name} ({outcome.kind}): {outcome.describe()}")
        elif entry["kind"] != outcome.kind:
            problems.append(f"{name} is listed as {entry['kind']} but differs in {outcome.kind}"
                            f": {outcome.describe()}")
    known = {o.name for o in outcomes}
    for name in listed:
        if name not in known:
            problems.append(f"{name} is listed in differences.toml but is no request")
        elif name not in differing:
            problems.append(f"{name} is listed in differences.toml but now answers alike: "
                            "take it off the list")
    assert not problems, "\n".join(problems)


def test_sdk_calls_raise_alike(conformance_servers):
    """The same label-studio-sdk 2.1.2 script (tests/conformance/sdk_scenario.py: the
    `LabelStudio` client's projects, tasks, annotations, predictions, views, actions, exports,
    ML and storages, and the legacy `Client`'s shortcuts) raises on exactly the same calls on
    Label Studio and on LabelDesk."""
    ls, desk, _ = conformance_servers
    on_ls = sdk_scenario.scenario(ls.url, ls.token)
    on_desk = sdk_scenario.scenario(desk.url, desk.token)
    assert [name for name, _ in on_desk] == [name for name, _ in on_ls]
    differ = [(name, a, b) for (name, a), (_, b) in zip(on_ls, on_desk) if a != b]
    assert not differ, f"(call, Label Studio, LabelDesk): {differ}"
    print(f"\nSDK calls: {len(on_ls)}, each raising alike "
          f"({sum(r != 'ok' for _, r in on_ls)} raise on both)")
