"""What keeps other machines and web pages out: loopback-only socket, Host and Origin checks."""

import http.client
import os
import socket

import pytest


def raw_request(live, method, path, headers, body=b""):
    """A request with exactly these headers (requests would fill in Host itself)."""
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers.items():
        connection.putheader(key, value)
    if body:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body or None)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


@pytest.mark.parametrize("host", ["evil.com", "127.0.0.1.evil.com", "evil.com:80",
                                  "localhost.evil.com", "127.0.0.2", "0.0.0.0", "[::2]",
                                  "192.168.1.1:8080", ""])
def test_foreign_host_is_refused(live, host):
    for path in ("/api/projects", "/api/version", "/health"):
        status, data = raw_request(live, "GET", path, {"Host": host,
                                                       "Authorization": f"Token {live.token}"})
        assert status == 403, (host, path, data)
        assert b"Host" in data


def test_missing_host_is_refused(live):
    status, _ = raw_request(live, "GET", "/api/version", {})
    assert status == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_loopback_hosts_pass(live, host):
    for value in (host, f"{host}:{live.port}"):
        status, data = raw_request(live, "GET", "/api/version", {"Host": value})
        assert status == 200, (value, data)


def test_host_check_covers_writes(live):
    status, _ = raw_request(live, "POST", "/api/projects",
                            {"Host": "evil.com", "Authorization": f"Token {live.token}",
                             "Content-Type": "application/json"}, b'{"title": "rebound"}')
    assert status == 403
    titles = [p["title"] for p in live.api.get("/api/projects?page_size=100").json()["results"]]
    assert "rebound" not in titles


@pytest.mark.parametrize("origin", ["http://evil.com", "https://127.0.0.1", "null",
                                    "http://127.0.0.1.evil.com", "http://localhost:1",
                                    "file://", "http://evil.com:{port}"])
def test_cross_site_origin_is_refused(live, origin):
    origin = origin.format(port=live.port)
    before = live.api.get("/api/projects").json()["count"]
    response = live.api.post("/api/projects", json={"title": "csrf"},
                             headers={"Origin": origin})
    assert response.status_code == 403, response.text
    assert response.json()["status_code"] == 403
    assert live.api.get("/api/projects").json()["count"] == before
    # the unauthenticated endpoint and reads are guarded too
    assert live.anonymous.post("/api/projects/validate", json={"label_config": "<View/>"},
                               headers={"Origin": origin}).status_code == 403
    assert live.api.get("/api/current-user/token",
                        headers={"Origin": origin}).status_code == 403


def test_same_origin_passes(live):
    for origin in (f"http://127.0.0.1:{live.port}", f"http://localhost:{live.port}"):
        response = live.api.post("/api/projects", json={"title": "same origin"},
                                 headers={"Origin": origin})
        assert response.status_code == 201, (origin, response.text)


def test_socket_is_bound_to_loopback_only(live):
    assert live.server.server.socket.getsockname()[0] == "127.0.0.1"
    if not os.path.exists("/proc/net/tcp"):
        return  # not Linux: the socket's own answer above has to do
    # the kernel's view: the listening socket's local address is 127.0.0.1
    wanted = f":{int(live.port):04X}"
    with open("/proc/net/tcp") as table:
        listening = [line.split() for line in table if " 0A " in line]
    mine = [row[1] for row in listening if row[1].endswith(wanted)]
    assert mine == ["0100007F" + wanted]
    try:
        with open("/proc/net/tcp6") as table:
            assert not any(line.split()[1].endswith(wanted) and " 0A " in line for line in table)
    except FileNotFoundError:
        pass


def non_loopback_address():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.123", 9))  # no packet is sent: this only picks a route
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_not_reachable_on_other_addresses(live):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    with pytest.raises(OSError):
        socket.create_connection((address, live.port), timeout=3).close()
    socket.create_connection(("127.0.0.1", live.port), timeout=3).close()


def test_child_server_is_loopback_only(serve_process, tmp_path):
    process = serve_process(tmp_path / "data")
    port = int(process.url.rsplit(":", 1)[1])
    assert process.url.startswith("http://127.0.0.1:")
    address = non_loopback_address()
    if address is not None:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=3).close()
    assert process.api.get("/api/version").status_code == 200


def test_error_pages_leak_no_traceback(live):
    response = live.api.get("/api/projects/abc")
    assert "Traceback" not in response.text and "File \"" not in response.text


def test_tokens_are_not_in_project_answers(live):
    project = live.api.project()
    assert live.token not in live.api.get(f"/api/projects/{project['id']}").text
    assert live.token not in live.api.get("/api/users").text
    assert live.token not in live.api.get("/api/current-user/whoami").text
