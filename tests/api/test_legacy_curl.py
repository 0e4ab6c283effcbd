"""The curl lines of the 0.8/0.9 API docs (the seed documents), run as written against
`labeldesk serve`: with --no-auth as they are, and with auth on plus a token header.

Lines are taken from the documents, not copied here, so a doc change shows up as a test change.
Only the host:port is rewritten. They are split into words as a POSIX shell does (shlex) and run
with the real curl binary; `> file` is done by the test. (Typed unquoted into an interactive shell,
`...?page=1&page_size=10&order=-completed_at` would put curl in the background at the first `&`:
the docs mean the whole URL as one argument, which is how it is run here.) Each run also gets
`-D <file>` to read the status code without touching what the line prints.
"""

import io
import json
import re
import shlex
import shutil
import subprocess
import zipfile

import pytest

from paths import REFERENCE

SEEDS = REFERENCE / "seeds"
DOC_HOST = "http://localhost:8080"
CONFIG_XML = """<View>
  <Text name="text" value="$my_key"/>
  <Choices name="choice" toName="text">
    <Choice value="Good"/><Choice value="Bad"/>
  </Choices>
</View>
"""
BROKEN_XML = """<View>
  <Text name="text" value="$my_key"/>
  <Choices name="choice" toName="missing"><Choice value="Good"/></Choices>
</View>
"""
# a 1x1 JPEG
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b"
    "0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e3334"
    "32ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708"
    "090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114"
    "328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2"
    "a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9"
    "eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9")

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")


def seed_curl_lines():
    """Every `curl ... http://localhost:8080...` command of seeds 000 and 002, continuation
    lines joined, in document order, without duplicates."""
    commands = []
    for path in sorted(SEEDS.glob("000_*.txt")) + sorted(SEEDS.glob("002_*.txt")):
        text = path.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("curl ") and DOC_HOST in line:
                line = re.sub(r"\s+", " ", line)
                if line not in commands:
                    commands.append(line)
    return commands


def find(commands, *needles):
    matches = [c for c in commands if all(n in c for n in needles)]
    assert matches, f"no curl line with {needles} in the seed documents"
    return matches[0]


class Curl:
    def __init__(self, url, workdir, token=None):
        self.url, self.workdir, self.token = url, workdir, token

    def run(self, line):
        """(status, body bytes, headers text) of one documented line."""
        words = shlex.split(line.replace(DOC_HOST, self.url))
        assert words[0] == "curl"
        output = None
        if ">" in words:
            at = words.index(">")
            output, words = self.workdir / words[at + 1], words[:at]
        if self.token:
            words += ["-H", f"Authorization: Token {self.token}"]
        headers = self.workdir / "headers.txt"
        words += ["-D", str(headers)]
        done = subprocess.run(words, cwd=self.workdir, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr.decode()
        if output is not None:
            output.write_bytes(done.stdout)
        head = headers.read_text()
        status = int(head.split()[1])
        return status, done.stdout, head


@pytest.fixture
def workdir(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "config.xml").write_text(CONFIG_XML)
    (folder / "test.jpg").write_bytes(JPEG)
    return folder


def test_seed_documents_have_the_curl_lines():
    commands = seed_curl_lines()
    for needles in (("api/project/config", "application/json"),
                    ("api/project/config", "@config.xml"),
                    ("api/project/import", "my_value_1"), ("FileUpload=@test.jpg",),
                    ("api/project/",), ("page_size=10", "order=-completed_at"),
                    ("api/project/export?format=JSON",)):
        find(commands, *needles)


def run_documented_session(curl, workdir):
    commands = seed_curl_lines()

    status, body, _ = curl.run(find(commands, "api/project/config", "application/json"))
    assert status == 201, body
    status, body, _ = curl.run(find(commands, "api/project/config", "@config.xml"))
    assert status == 201, body

    status, body, _ = curl.run(find(commands, "api/project/import", "my_value_1"))
    assert status == 201, body
    answer = json.loads(body)
    assert answer["task_count"] == 2 and len(answer["new_task_ids"]) == 2
    status, body, _ = curl.run(find(commands, "FileUpload=@test.jpg"))
    assert status == 201, body
    assert json.loads(body)["task_count"] == 1

    status, body, _ = curl.run(find(commands, "curl http://localhost:8080/api/project/"))
    assert status == 200
    project = json.loads(body)
    assert project["task_count"] == 3  # the documented response example
    assert "$my_key" in project["label_config_line"]

    # label one task the 0.x way, so the list and the export have a completion to show
    first = json.loads(curl.run(
        "curl http://localhost:8080/api/tasks?page=1&page_size=100&order=id")[1])
    task_id = first[0]["id"]
    result = [{"from_name": "choice", "to_name": "text", "type": "choices",
               "value": {"choices": ["Good"]}}]
    status, body, _ = curl.run(
        "curl -X POST -H Content-Type:application/json "
        f"http://localhost:8080/api/tasks/{task_id}/completions "
        f"--data '{json.dumps({'result': result, 'lead_time': 4.0})}'")
    assert status == 201, body
    completion_id = json.loads(body)["id"]

    status, body, _ = curl.run(find(commands, "page_size=10", "order=-completed_at"))
    assert status == 200
    tasks = json.loads(body)
    assert isinstance(tasks, list) and len(tasks) == 3 == len(first)
    top = tasks[0]
    assert top["id"] == task_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", top["completed_at"])
    (completion,) = top["completions"]
    assert completion["id"] == completion_id and isinstance(completion["created_at"], int)
    assert completion["lead_time"] == 4.0 and completion["result"] == result
    assert {"data", "predictions"} <= set(top) and top["data"] == {"my_key": "my_value_1"}

    status, _, head = curl.run(find(commands, "api/project/export?format=JSON"))
    assert status == 200 and "application/zip" in head
    archive = zipfile.ZipFile(io.BytesIO((workdir / "exported_results.json").read_bytes()))
    exported = json.loads(archive.read("result.json"))
    assert [t["id"] for t in exported] == [task_id]
    assert exported[0]["completions"][0]["result"] == result

    # the same documented line with a broken config.xml: 400 {"label_config": [...]}
    (workdir / "config.xml").write_text(BROKEN_XML)
    status, body, _ = curl.run(find(commands, "api/project/config", "@config.xml"))
    assert status == 400
    errors = json.loads(body)
    assert list(errors) == ["label_config"] and all(isinstance(e, str)
                                                    for e in errors["label_config"])


def test_curl_lines_without_auth(tmp_path, workdir, serve_process):
    server = serve_process(tmp_path / "data", "--no-auth")
    run_documented_session(Curl(server.url, workdir), workdir)


def test_curl_lines_with_a_token(tmp_path, workdir, serve_process):
    server = serve_process(tmp_path / "data")
    assert server.token
    status, _, _ = Curl(server.url, workdir).run("curl http://localhost:8080/api/project/")
    assert status == 401
    run_documented_session(Curl(server.url, workdir, server.token), workdir)
