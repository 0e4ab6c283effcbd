"""The damage matrix: every kind of damage a disk, a tool or a person does to a store's files,
at every record, and what LabelDesk makes of it. The goal is 0 silent losses.

A real store is made with LabelDesk's own core (a project, tasks, annotations made, updated,
cancelled and deleted, a prediction: one journal record each), closed as a user closes it or
killed (its LOCK file as a kill leaves it). Then, for each case, a copy is damaged and opened:

* opened  -> it must hold exactly what was acknowledged, else that's a SILENT LOSS;
* refused -> the error must name the file (and, for the journal, the byte range); then
  `labeldesk repair` runs: either it refuses too (a snapshot damaged beyond reading, a newer
  LabelDesk's files: nothing may change), or the repaired store must hold every record whose
  body still passes its checksum (found by its length or its newline), nothing else, with every
  task's counters matching its annotations. Anything less is a SILENT LOSS too.

The counts are printed (`-s`) and reported in docs/reliability.md.
"""

import os
import re
import shutil

import orjson
import pytest

from datahelp import LABEL_CONFIG
from desktop.core import repair
from desktop.core.errors import LabelDeskError
from desktop.core.settings import Settings
from desktop.db import CorruptFile, Store
from desktop.db.history import TABLE as HISTORY
from desktop.db.history import HistoryLog
from desktop.db.journal import SNAPSHOT_VERSION, NewerFormat, encode_record, read_snapshot
from desktop.db.lockfile import acknowledged_in
from desktop.db.scan import JournalScan
from desktop.shell.app import LabelDesk

USER_TABLES = ("users", "tokens", "meta")  # made again at open when a damaged record held them
COUNTERS = ("total_annotations", "cancelled_annotations", "total_predictions", "_gt", "_useful",
            "is_labeled", "completed_at")


def result(label="Positive"):
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": [label]}}]


def make_store(data, compact_midway):
    """A store with a history; returns nothing (everything is in `data`)."""
    app = LabelDesk(Settings(data_dir=data, fsync=False))
    try:
        project = app.projects.create({"title": "Matrix", "label_config": LABEL_CONFIG}, 1)
        tasks = [app.tasks.create(project, {"text": f"text {i}"}) for i in range(6)]
        made = []
        for number, task in enumerate(tasks * 2):
            made.append(app.annotations.create(task, {"result": result()}, 1,
                                               was_cancelled=number == 5))
            if compact_midway and number == 1:
                app.store.compact()
        app.annotations.update(made[1], {"result": result("Negative")}, 1)
        app.annotations.delete(made[2])
        app.annotations.delete(made[6])
        app.predictions.create({"task": tasks[3], "result": result(), "score": 0.5})
        app.tasks.update(tasks[0], {"data": {"text": "changed"}})
    finally:
        app.close()


def state(folder):
    store = Store(folder, fsync=False)
    try:
        return with_history({name: {i: dict(doc) for i, doc in store.storage.tables[name].items()}
                             for name in store.storage.tables}, store.storage.history)
    finally:
        store.close()


def with_history(tables, log):
    """The tables, and the annotation history as if it were one more ({id: version}): the
    journal's history operations replay into it (replay), the files hold the rest."""
    return {**tables, HISTORY: log.read(log.ids())}


def snapshot_tables(folder):
    """What the store held before the journal: the snapshot, and the history files (which the
    matrix never damages)."""
    path = folder / "snapshot.ldb"
    log = HistoryLog(folder, readonly=True)
    try:
        history = log.read(log.ids())
    finally:
        log.close()
    if not path.exists():
        return {HISTORY: history}
    tables = {name: {i: d for i, d in t["docs"]}
              for name, t in read_snapshot(str(path))[1].items()}
    return {**tables, HISTORY: {**tables.get(HISTORY, {}), **history}}


def replay(tables, records):
    tables = {name: dict(docs) for name, docs in tables.items()}
    for ops in records:
        for op in ops:
            table = tables.setdefault(op[0], {})
            if op[1] == "p":
                table[op[2]] = op[3]
            elif op[1] == "d":
                table.pop(op[2], None)
            else:
                table.clear()
    return tables


def without_counters(tables):
    return {name: {i: {k: v for k, v in d.items() if name != "tasks" or k not in COUNTERS}
                   for i, d in docs.items()}
            for name, docs in tables.items() if docs}


class Journal:
    """The original journal's records and where each part of each one is."""

    def __init__(self, raw):
        self.raw = raw
        self.records = []  # (start, crc_start, body_start, end incl. newline, ops)
        for _, start, end, ops in JournalScan(raw).good:
            length_end = raw.index(b" ", start)
            self.records.append((start, length_end + 1, length_end + 10, end, ops))

    def kept_by_repair(self, damaged):
        """The records a repair must keep: those whose checksum and body are intact, and whose
        length field or newline still frames them; none after bytes cut off."""
        kept = []
        for start, crc_start, _body_start, end, ops in self.records[1:]:
            def hit(a, b):
                return any(x < b and a < y for x, y in damaged)
            if hit(crc_start, end - 1):
                continue
            if hit(start, crc_start - 1) and hit(end - 1, end):
                continue
            kept.append(ops)
        return kept


# -- the cases: (name, which file, damage(raw, journal) -> (new bytes, damaged ranges)) ---------

def flip(offset):
    def damage(raw, _):
        data = bytearray(raw)
        data[offset] ^= 0x04
        return bytes(data), [(offset, offset + 1)]
    return damage


def put(offset, value):
    def damage(raw, _):
        data = bytearray(raw)
        data[offset:offset + len(value)] = value
        return bytes(data), [(offset, offset + len(value))]
    return damage


def zero(start, end):
    def damage(raw, _):
        a, b = start if start >= 0 else len(raw) + start, end if end > 0 else len(raw) + end
        return raw[:a] + b"\0" * (b - a) + raw[b:], [(a, b)]
    return damage


def cut(at):
    def damage(raw, _):
        return raw[:at], [(at, len(raw))]
    return damage


def journal_cases(journal):
    cases = []
    for number, (start, crc_start, body_start, end, _) in enumerate(journal.records):
        name = f"record {number + 1}"
        cases += [(f"{name}: body bit flip", flip((body_start + end) // 2)),
                  (f"{name}: checksum digit", put(crc_start, b"g")),
                  (f"{name}: length digit", flip(start)),
                  (f"{name}: newline -> x", put(end - 1, b"x")),
                  (f"{name}: newline -> NUL", put(end - 1, b"\0"))]
    size = len(journal.raw)
    last_starts = [r[0] for r in journal.records[-5:]]
    cases += [(f"last {n} bytes zeroed", zero(-n, 0)) for n in (1, 7, 64, 512, 4096)
              if n < size - journal.records[0][3]]
    cases += [(f"last {5 - i} records zeroed", zero(at, 0)) for i, at in enumerate(last_starts)]
    cases += [(f"cut at the start of record {len(journal.records) - 4 + i}", cut(at))
              for i, at in enumerate(last_starts)]
    cases += [(f"cut {n} bytes into the last record", cut(last_starts[-1] + n)) for n in (3, 30)]
    middle = journal.records[len(journal.records) // 2]
    cases += [("middle record zeroed", zero(middle[0], middle[3])),
              ("100 bytes zeroed across a boundary", zero(middle[3] - 50, middle[3] + 50)),
              ("middle newline removed", lambda raw, _: (raw[:middle[3] - 1] + raw[middle[3]:],
                                                         [(middle[3] - 1, middle[3])]))]
    return cases


def unknown_operation(raw, journal):
    """A record that passes its checksum but holds an operation no LabelDesk writes."""
    start = journal.records[2][0]
    record = encode_record([["tasks", "x", 1]])
    end = journal.records[2][3]
    return raw[:start] + record + raw[end:], [(start, end)]


def snapshot_cases(size):
    return [("snapshot: header generation digit", lambda raw, _: (
                raw.replace(b'"generation":', b'"generation":9', 1), [])),
            ("snapshot: body bit flip", flip(size - 40)),
            ("snapshot: cut short", cut(size - 100)),
            ("snapshot: removed", None)]


def newer(kind):
    def damage(folder):
        if kind.startswith("journal"):
            path = folder / "journal.ldb"
            raw = path.read_bytes()
            first = raw.index(b"\n") + 1
            header = JournalScan(raw).header
            header.update({"version": 3} if kind == "journal format" else {"schema": 2})
            header["by"] = "9.0.0"
            path.write_bytes(encode_record(header) + raw[first:])
        else:
            from desktop.db.journal import _header_crc
            path = folder / "snapshot.ldb"
            head, body = path.read_bytes().split(b"\n", 1)
            meta = orjson.loads(head)
            meta.update({"version": SNAPSHOT_VERSION + 1} if kind == "snapshot format"
                        else {"schema": 2})
            meta["by"] = "9.0.0"
            meta["header_crc"] = _header_crc(meta)
            path.write_bytes(orjson.dumps(meta) + b"\n" + body)
    return damage


# Without the LOCK file's acknowledged line, a journal cut at a record boundary (or zeroed from
# one to its end) looks like a store that ended there, and one cut inside its last record like
# an unfinished write (set aside and reported as one).
BOUNDARY = re.compile(r"^(cut at the start of record|last \d records zeroed|cut \d+ bytes into)")


# -- running one case -------------------------------------------------------------------------

class Tally:
    def __init__(self):
        self.counts = {"cases": 0, "opened intact": 0, "refused clearly": 0,
                       "repaired, every valid record kept": 0, "repair refused, unchanged": 0,
                       "newer format refused": 0, "silent losses": 0}
        self.losses = []

    def loss(self, name, why):
        self.counts["silent losses"] += 1
        self.losses.append(f"{name}: {why}")


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix == ".ldb"}


def run_case(tally, name, base, work, acknowledged_state, damage, target):
    tally.counts["cases"] += 1
    data = work / "data"
    if data.exists():
        shutil.rmtree(data)
    shutil.copytree(base, data)
    folder = data / "db"
    journal = Journal((folder / "journal.ldb").read_bytes())
    base_tables = snapshot_tables(folder)
    damaged = []
    if target == "folder":
        damage(folder)
    elif damage is None:
        os.remove(folder / target)
    else:
        path = folder / target
        raw, damaged = damage(path.read_bytes(), journal)
        path.write_bytes(raw)
    try:
        opened = state(folder)
    except CorruptFile as error:
        refused = error
    else:
        if opened != acknowledged_state:
            tally.loss(name, "opened without a word, but not with what was acknowledged")
        else:
            tally.counts["opened intact"] += 1
        return
    if not str(folder / refused.path.split("/")[-1]) == refused.path:
        tally.loss(name, f"the refusal doesn't name the file: {refused}")
        return
    if isinstance(refused, NewerFormat):
        tally.counts["newer format refused"] += 1
        before = files(folder)
        with pytest.raises(repair.CannotRepair, match="upgrade"):
            repair.repair_locked(folder, fsync=False)
        if files(folder) != before:
            tally.loss(name, "repair changed a newer LabelDesk's files")
        return
    if target == "journal.ldb" and damage is not None and "bytes " not in refused.reason:
        tally.loss(name, f"the refusal doesn't say where: {refused.reason}")
        return
    tally.counts["refused clearly"] += 1
    before = files(folder)
    try:
        repair.repair_locked(folder, fsync=False)
    except repair.CannotRepair:
        if files(folder) != before:
            tally.loss(name, "a refused repair changed the files")
        else:
            tally.counts["repair refused, unchanged"] += 1
        return
    check_repaired(tally, name, data, folder, base_tables, journal, damaged, target)


def check_repaired(tally, name, data, folder, base_tables, journal, damaged, target):
    if target == "journal.ldb":
        # every record whose checksum still passes; none at all when the journal is gone
        expected = replay(base_tables, journal.kept_by_repair(damaged) if damaged else [])
    else:  # the snapshot's header, or the snapshot of a store whose journal holds everything
        expected = replay(base_tables, [ops for *_, ops in journal.records[1:]])
    app = LabelDesk(Settings(data_dir=data, fsync=False))
    try:
        got = with_history({name_: {i: dict(d) for i, d in docs.items()}
                            for name_, docs in app.store.storage.tables.items()},
                           app.store.storage.history)
        before = {i: dict(d) for i, d in got.get("tasks", {}).items()}
        with app.records.transaction():
            for task_id in before:
                try:
                    app.tasks.recount(task_id)
                except LabelDeskError:
                    pass  # its project was in a skipped record (the report says so)
        recounted = {i: dict(d) for i, d in app.store.storage.tables["tasks"].items()}
    finally:
        app.close()
    # the local user and its token are made again at open when a damaged record held them
    mine = {k: v for k, v in without_counters(got).items() if k not in USER_TABLES}
    wanted = {k: v for k, v in without_counters(expected).items() if k not in USER_TABLES}
    if mine != wanted:
        missing = {k: sorted(set(wanted.get(k, {})) ^ set(mine.get(k, {}))) for k in
                   set(wanted) | set(mine) if wanted.get(k) != mine.get(k)}
        tally.loss(name, f"the repaired store differs from every valid record: {missing}")
    elif recounted != before:
        tally.loss(name, "the repaired counters don't match the annotations")
    else:
        tally.counts["repaired, every valid record kept"] += 1


@pytest.mark.parametrize("history", ["journal only", "after a compaction"])
@pytest.mark.parametrize("ending", ["closed", "killed", "no LOCK"])
def test_damage_matrix(tmp_path, history, ending):
    base = tmp_path / "base"
    make_store(base, compact_midway=history == "after a compaction")
    lock = base / "db" / "LOCK"
    assert acknowledged_in(lock.read_text()) is not None
    if ending == "killed":  # what kill -9 leaves: the pid line, and the acknowledged line
        lock.write_text(lock.read_text().replace("closed", "pid 999999", 1))
    if ending == "no LOCK":  # the files copied without it: only their own structure speaks
        lock.unlink()
    acknowledged_state = state_of_copy(base, tmp_path / "look")
    journal = Journal((base / "db" / "journal.ldb").read_bytes())
    snapshot_size = (base / "db" / "snapshot.ldb").stat().st_size
    tally = Tally()
    work = tmp_path / "work"
    work.mkdir()
    for name, damage in journal_cases(journal) + [("unknown operation", unknown_operation)]:
        if ending == "no LOCK" and BOUNDARY.search(name):
            continue  # the known limit (docs/reliability.md): nothing else says where it ended
        run_case(tally, name, base, work, acknowledged_state, damage, "journal.ldb")
    for name, damage in snapshot_cases(snapshot_size):
        run_case(tally, name, base, work, acknowledged_state, damage, "snapshot.ldb")
    run_case(tally, "journal removed", base, work, acknowledged_state, None, "journal.ldb")
    for kind in ("journal format", "journal schema", "snapshot format", "snapshot schema"):
        run_case(tally, f"newer {kind}", base, work, acknowledged_state, newer(kind), "folder")
    print(f"\ndamage matrix ({history}, {ending}): " +
          ", ".join(f"{k} {v}" for k, v in tally.counts.items()))
    assert tally.losses == [], "\n".join(tally.losses)
    assert tally.counts["newer format refused"] == 4
    assert tally.counts["cases"] > 90


def state_of_copy(base, look):
    shutil.copytree(base, look)
    try:
        return state(look / "db")
    finally:
        shutil.rmtree(look)


def test_a_store_whose_snapshot_is_gone_is_rebuilt_from_a_journal_since_creation(tmp_path):
    """The journal's header says the snapshot below it was empty: it holds everything."""
    data = tmp_path / "data"
    make_store(data, compact_midway=False)
    everything = state_of_copy(data, tmp_path / "look")
    os.remove(data / "db" / "snapshot.ldb")
    with pytest.raises(CorruptFile):
        state(data / "db")
    report = repair.repair_locked(data / "db", fsync=False)
    assert report.changed and not report.skipped
    assert any("rebuilt from it alone" in line for line in report.lines())
    assert without_counters(state(data / "db")) == without_counters(everything)
