"""The data manager at N tasks (issue 23): the project summary and the task list's filters and
sorts, one page of 30 as Label Studio's web app asks for it, beside Label Studio's figures.

A project of its own: N tasks `{"text": "Review i: …", "n": 0..999}`, every other one
imported with an annotation (50% labeled) and every one with a prediction (a score), so that
the annotation and prediction columns have values. Each figure is the p50 of repeated identical
requests (what a user paging or re-sorting sees), and a few are measured again right after a
write to the project (an annotation created between two requests: what the page costs once
the data changed under it).
"""

import orjson

from bench import Deadline, now, summary_ms

RESULT = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
           "value": {"choices": ["Pos"]}}]
PAGE_SIZE = 30
BATCH = 250_000


def number(i):
    return (i * 7919) % 1000


def make_tasks(n):
    tasks = []
    for i in range(1, n + 1):
        task = {"data": {"text": f"Review {i}: the delivery was quick and the product works "
                         "as described.", "n": number(i)},
                "predictions": [{"result": RESULT, "score": ((i * 104729) % 997) / 997}]}
        if i % 2 == 0:
            task["annotations"] = [{"result": RESULT}]
        tasks.append(task)
    return tasks


def item(column, operator, kind, value):
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind,
            "value": value}


def query(items=(), ordering=()):
    return {"filters": {"conjunction": "and", "items": list(items)},
            "ordering": list(ordering), "selectedItems": {"all": True, "excluded": []}}


# (key, what, query or None for the summary, page, target ms, Label Studio 1.23.2 at 100k)
FIGURES = (
    ("dm_summary", "GET /api/projects/{id}/summary, 50% labeled", None, 1, 5, "52 ms"),
    ("dm_id_equal", "search by id (filter id equal)", query([item("id", "equal", "Number",
                                                                  "ID")]), 1, 5, "64 ms"),
    ("dm_has_annotations", 'filter "has annotations" (total_annotations > 0)',
     query([item("total_annotations", "greater", "Number", 0)]), 1, 11, "112 ms"),
    ("dm_sort_data", "sort by a data field (data.text)", query(ordering=["tasks:data.text"]),
     1, 16, "160 ms"),
    ("dm_sort_score", "sort by predictions_score", query(ordering=["-tasks:predictions_score"]),
     1, 25, "256 ms"),
    ("dm_number_greater", "filter number greater (data.n > 500)",
     query([item("data.n", "greater", "Number", 500)]), 1, 20, "192 ms"),
    ("dm_text_contains", 'filter text contains (data.text contains "review 12")',
     query([item("data.text", "contains", "String", "review 12")]), 1, 20, "208 ms"),
    ("dm_both_filters", "both filters", query([item("data.n", "greater", "Number", 500),
                                               item("data.text", "contains", "String",
                                                    "review 12")]), 1, 20, "228 ms"),
    ("dm_sort_total_annotations", "sort by total_annotations",
     query(ordering=["-tasks:total_annotations"]), 1, 12, "116 ms"),
    ("dm_sort_completed_at", "sort by completed_at", query(ordering=["-tasks:completed_at"]),
     1, 12, "112 ms"),
    ("dm_sort_deep_page", "sort by data.text, deep page 3000", query(ordering=["tasks:data.text"]),
     3000, 12, "288 ms"),
)
# measured again with an annotation created before each request
AFTER_WRITE = ("dm_summary", "dm_has_annotations", "dm_sort_data", "dm_text_contains",
               "dm_sort_score")


class DataManagerBench:
    def __init__(self, bench, client):
        self.bench, self.client, self.report = bench, client, bench.report
        self.n = bench.n
        self.project = None
        self.first_id = None
        self.writes = 0

    def ls(self, figure):
        return f"LS 1.23.2: {figure}" if self.n == 100_000 else None

    def setup(self, label_config):
        client = self.client
        project, _ = client.json("POST", "/api/projects", {"title": "bench data manager",
                                                           "label_config": label_config},
                                 expect=(201,))
        self.project = project["id"]
        # in POSTs of at most BATCH tasks: 1M of them with annotations and predictions is
        # ~400 MB of JSON, over the 250 MB a request body may have (Label Studio's limit too)
        tasks, seconds = make_tasks(self.n), 0.0
        for start in range(0, self.n, BATCH):
            body = orjson.dumps(tasks[start:start + BATCH])
            _, took = client.json("POST", f"/api/projects/{self.project}/import", body,
                                  expect=(201, 200), timeout=300 + BATCH / 500)
            seconds += took
        del tasks
        self.report.note(f"data manager project: {self.n:,} tasks, 50% with an annotation, "
                         f"each with a prediction, imported in {seconds:.1f} s (not a figure)")
        page, _ = client.json("GET", f"/api/tasks?project={self.project}&page=1&page_size=1")
        self.first_id = page["tasks"][0]["id"]

    def path(self, q, page):
        if q is None:
            return f"/api/projects/{self.project}/summary"
        text = orjson.dumps(q).decode().replace('"ID"', str(self.first_id + self.n // 23))
        page = min(page, -(-self.n // PAGE_SIZE))  # page 3000 of 30, or the last one
        return (f"/api/tasks?project={self.project}&page={page}&page_size={PAGE_SIZE}"
                f"&query={quote(text)}")

    def write(self):
        """One annotation on an unlabeled task of the project (what labeling does between two
        pages)."""
        task_id = self.first_id + 2 * self.writes  # tasks 1, 3, 5, ... have no annotation
        self.writes += 1
        self.client.json("POST", f"/api/tasks/{task_id}/annotations/",
                         {"result": RESULT, "lead_time": 1.0}, expect=(201,))

    def measure(self, key, what, q, page, target, ls, reps, after_write=False):
        deadline = Deadline(self.bench.args.step_seconds / 3)
        seconds, first = [], None
        for _ in range(reps):
            if after_write:
                self.write()
            data, took = self.client.json("GET", self.path(q, page))
            if first is None:
                first = took
                if q is not None and not data["tasks"]:
                    raise ValueError(f"{what}: the page is empty")
            seconds.append(took)
            if deadline.over():
                break
        lat = summary_ms(seconds)
        lat["first_ms"] = first * 1000
        suffix = ", right after a write" if after_write else ""
        self.report.add(key + ("_after_write" if after_write else "") + "_p50_ms",
                        f"{what}{suffix}, p50 (n={lat['n']}; first {lat['first_ms']:.0f} ms)",
                        lat["p50"], "ms", target, self.ls(ls), detail=lat)

    def rss(self, server, key, when):
        """The server's RSS, without the 300 MB target: it holds three projects by now (this
        one alone has N tasks, N predictions and N/2 annotations)."""
        mem = server.rss()
        if mem["rss_mb"] is not None:
            self.report.add(key, f"server RSS {when} the data-manager figures (3 projects)",
                            mem["rss_mb"], "MB", detail=mem)

    def run(self, label_config, server):
        self.setup(label_config)
        self.rss(server, "rss_before_dm_mb", "before")
        reps = self.bench.args.page_reps
        for key, what, q, page, target, ls in FIGURES:
            self.measure(key, what, q, page, target, ls, reps)
        for key, what, q, page, _target, ls in FIGURES:
            if key in AFTER_WRITE:
                self.measure(key, what, q, page, None, ls, max(5, reps // 2), after_write=True)
        self.rss(server, "rss_after_dm_mb", "after")


def quote(text):
    from urllib.parse import quote as url_quote
    return url_quote(text, safe="")


def run(bench, client, label_config, server):
    started = now()
    DataManagerBench(bench, client).run(label_config, server)
    bench.report.note(f"data-manager figures took {now() - started:.0f} s")
