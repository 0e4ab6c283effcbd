"""Shared by several tests (moved out of the test modules that first had them)."""

import os
import subprocess
import threading
from contextlib import contextmanager

import pytest
import requests


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


UNCLEAN = "ended without closing the store"


def recovery_log(process):
    """What the child logged while opening its data (printed before it starts serving)."""
    return "".join(line for line in process.lines if "store recovery" in line)


def post_json(url, token, path, body, timeout=60):
    return requests.post(url + path, data=body, timeout=timeout,
                         headers={"Authorization": f"Token {token}",
                                  "Content-Type": "application/json"})


@contextmanager
def tmpfs(mountpoint, size):
    """A small file system at `mountpoint` (made here) for the length of the block."""
    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs: run it as root (CI does)")
    mountpoint.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "labeldesk-full",
                             str(mountpoint)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"can't mount a tmpfs (the test needs root): {result.stderr}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def fill(mountpoint, leave):
    """Fill the file system, then give back about `leave` bytes; returns the filler file."""
    filler = mountpoint / "filler"
    top_up(filler)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def top_up(filler):
    """Append to `filler` until the file system is full."""
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 20, 65536, 4096, 512):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


