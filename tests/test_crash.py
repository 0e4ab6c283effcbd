"""kill -9 at random moments: every write the client saw acknowledged (2xx) survives, and the
store always opens again."""

import random
import threading
import time
import warnings

import pytest
import requests

KILLS = 20
BUDGET_SECONDS = 50


class Writer(threading.Thread):
    """Sends project creates and patches as fast as the server answers, and records what was
    acknowledged and what was in flight when the connection died."""

    def __init__(self, url, token, rng, known):
        super().__init__(daemon=True)
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.rng = rng
        self.known = known  # project id -> acknowledged {"title", "description"}
        self.in_flight = None
        self.acknowledged = 0
        self.error = None

    def run(self):
        counter = 0
        while True:
            counter += 1
            ids = list(self.known)
            if not ids or self.rng.random() < 0.4:
                fields = {"title": f"Crash {counter:05d}", "description": f"d{counter}"}
                self.in_flight = ("create", None, fields)
                request = ("POST", "/api/projects", fields)
            else:
                project_id = self.rng.choice(ids)
                fields = {"title": f"Patched {counter:05d}"}
                if self.rng.random() < 0.5:
                    fields["description"] = "x" * self.rng.randrange(0, 3000)
                self.in_flight = ("patch", project_id, fields)
                request = ("PATCH", f"/api/projects/{project_id}", fields)
            try:
                response = self.session.request(request[0], self.url + request[1],
                                                json=request[2], timeout=10)
            except requests.RequestException:
                return  # the server died under us: in_flight may or may not have landed
            if response.status_code >= 300:
                self.error = f"{request} -> {response.status_code} {response.text[:200]}"
                return
            body = response.json()
            if request[0] == "POST":
                self.known[body["id"]] = dict(fields)
            else:
                self.known[project_id].update(fields)
            self.in_flight = None
            self.acknowledged += 1


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_acknowledged_writes_survive_sigkill(serve_process, tmp_path):
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    data = tmp_path / "data"
    known = {}
    started = time.time()
    total_acknowledged = 0
    pending = None
    for round_number in range(KILLS):
        process = serve_process(data)
        # the one request in flight at the last kill may or may not have landed: learn which
        resolve_in_flight(process, known, pending)
        check_survivors(process, known, seed, round_number)
        writer = Writer(process.url, process.token, rng, known)
        writer.start()
        time.sleep(rng.uniform(0.05, 0.6))
        process.kill()  # SIGKILL
        writer.join(timeout=15)
        assert not writer.is_alive()
        assert writer.error is None, writer.error
        total_acknowledged += writer.acknowledged
        pending = writer.in_flight
    process = serve_process(data)
    resolve_in_flight(process, known, pending)
    check_survivors(process, known, seed, KILLS)
    process.stop()
    assert process.proc.returncode == 0
    assert total_acknowledged > KILLS, "the server hardly got to write anything"
    # a target, not a limit: a loaded machine may be slower (pytest-timeout has the last word)
    elapsed = time.time() - started
    if elapsed > BUDGET_SECONDS:
        warnings.warn(f"crash test took {elapsed:.0f}s")


def all_projects(process):
    projects, page = {}, 1
    while True:
        response = process.api.get(f"/api/projects?page={page}&page_size=100&ordering=id")
        if response.status_code == 404:
            return projects
        assert response.status_code == 200, response.text
        for project in response.json()["results"]:
            projects[project["id"]] = project
        if not response.json()["next"]:
            return projects
        page += 1


def check_survivors(process, known, seed, round_number):
    stored = all_projects(process)
    assert set(stored) == set(known), f"seed {seed}, round {round_number}"
    for project_id, fields in known.items():
        for key, value in fields.items():
            assert stored[project_id][key] == value, (seed, round_number, project_id, key)


def resolve_in_flight(process, known, pending):
    stored = all_projects(process)
    extra = set(stored) - set(known)
    if pending is None:
        assert not extra
    elif pending[0] == "create":
        assert len(extra) <= 1
        for project_id in extra:  # it landed: it must be exactly what was sent
            for key, value in pending[2].items():
                assert stored[project_id][key] == value
            known[project_id] = dict(pending[2])
    else:
        assert not extra
        project_id, fields = pending[1], pending[2]
        now = {key: stored[project_id][key] for key in fields}
        before = {key: known[project_id].get(key, stored[project_id][key]) for key in fields}
        # all of the patch or none of it: never half
        assert now in (fields, before), (now, fields, before)
        if now == fields:
            known[project_id].update(fields)
