"""LabelDesk benchmarks: `python -m bench [store|api|ui ...]` (see docs/bench.md).

Each topic module has ``run(args) -> Report``. A report is a list of rows, each one figure:
what was measured, its value, the target it must meet (if any) and a comparison figure (stock
TinyDB, Label Studio 1.23.2). The rows are printed as a table and written as JSON to bench/out/.
Everything runs on loopback and temp folders, and every step has a time bound.
"""

import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"


# -- measuring ------------------------------------------------------------------------------

def now():
    return time.perf_counter()


def percentile(values, p):
    """The p-th percentile (nearest rank, 0..100) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds):
    """{"n", "p50", "p95", "mean", "max"} of a list of durations in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95),
            "mean": statistics.fmean(ms) if ms else float("nan"), "max": max(ms, default=0)}


def proc_status(pid="self"):
    """{"rss_mb", "hwm_mb"} of a process from /proc/<pid>/status (VmRSS, VmHWM: peak RSS)."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) / 1024  # kB -> MB
    except OSError:
        pass
    if pid == "self" and "VmHWM" not in fields:  # not Linux: peak RSS from getrusage
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fields["VmHWM"] = peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return {"rss_mb": fields.get("VmRSS"), "hwm_mb": fields.get("VmHWM")}


class Deadline:
    """A time budget: `left()` seconds remain, `over()` once spent."""

    def __init__(self, seconds):
        self.end = now() + seconds

    def left(self):
        return self.end - now()

    def over(self):
        return now() >= self.end


# -- reporting ------------------------------------------------------------------------------

class Report:
    """The figures of one topic, in the order measured."""

    def __init__(self, topic, params=None):
        self.topic = topic
        self.params = dict(params or {})
        self.rows = []
        self.notes = []
        self.started = time.time()

    def add(self, key, what, value, unit, target=None, compare=None, op="<=", detail=None):
        """One figure. `target` is a bound the value must meet (`op` "<=" or ">="); `compare`
        a free-text figure of another system, for the table only."""
        if value is None:
            verdict = "n/a"
        elif target is None:
            verdict = ""
        elif op == "<=":
            verdict = "PASS" if value <= target else "FAIL"
        else:
            verdict = "PASS" if value >= target else "FAIL"
        row = {"key": key, "what": what, "value": value, "unit": unit, "target": target,
               "op": op, "verdict": verdict, "compare": compare}
        if detail is not None:
            row["detail"] = detail
        self.rows.append(row)
        print(f"  {what}: {fmt(value)} {unit}  {verdict}", flush=True)
        return row

    def skip(self, key, what, reason, target=None, unit="", op="<="):
        """A figure that could not be measured (e.g. the endpoint is not implemented yet)."""
        row = {"key": key, "what": what, "value": None, "unit": unit, "target": target,
               "op": op, "verdict": "SKIP", "compare": None, "detail": reason}
        self.rows.append(row)
        print(f"  {what}: SKIPPED - {reason}", flush=True)
        return row

    def fail(self, key, what, reason, target=None, unit="", op="<="):
        """A figure that could not be measured because what it measures broke (a page that
        never got there in time): it fails its target."""
        row = {"key": key, "what": what, "value": None, "unit": unit, "target": target,
               "op": op, "verdict": "FAIL", "compare": None, "detail": reason}
        self.rows.append(row)
        print(f"  {what}: FAILED - {reason}", flush=True)
        return row

    def note(self, text):
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def failed(self):
        return [r for r in self.rows if r["verdict"] == "FAIL"]

    def as_json(self):
        return {"topic": self.topic, "params": self.params, "rows": self.rows,
                "notes": self.notes, "started": self.started,
                "seconds": round(time.time() - self.started, 2), "machine": machine()}

    def table(self):
        headers = ("what", "value", "target", "result", "compare")
        lines = []
        for r in self.rows:
            value = "-" if r["value"] is None else f"{fmt(r['value'])} {r['unit']}"
            target = "" if r["target"] is None else f"{r['op']} {fmt(r['target'])} {r['unit']}"
            result = r["verdict"]
            if r["verdict"] == "SKIP" or (r["verdict"] == "FAIL" and r["value"] is None):
                result += f": {r.get('detail', '')}"
            lines.append((r["what"], value, target, result, r["compare"] or ""))
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
                  for i, h in enumerate(headers)]
        out = [f"== {self.topic} " + " ".join(f"{k}={v}" for k, v in self.params.items())]
        out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        out.append("  ".join("-" * w for w in widths))
        for line in lines:
            out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        for n in self.notes:
            out.append(f"note: {n}")
        return "\n".join(out)

    def write(self, out_dir=OUT_DIR):
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.started))
        suffix = "-".join(f"{k}{v}" for k, v in self.params.items() if k == "tasks")
        name = f"{self.topic}{'-' + suffix if suffix else ''}"
        data = json.dumps(self.as_json(), indent=1, default=str)
        path = out_dir / f"{name}-{stamp}.json"
        path.write_text(data)
        (out_dir / f"{name}-latest.json").write_text(data)
        return path


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 0.1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine():
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "loadavg": load()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def load():
    """The 1-minute load average, or None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def warn_if_busy(report):
    """Other work on the machine skews every figure (fsync ones most): say so in the report."""
    avg, cpus = load(), os.cpu_count() or 1
    if avg is not None and avg > cpus * 0.5:
        report.note(f"the machine is busy (load average {avg} on {cpus} CPUs): "
                    "figures are pessimistic; rerun on an idle machine")
