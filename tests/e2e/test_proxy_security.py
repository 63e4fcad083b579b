"""The dashboard's server guards the researcher's machine: it answers only for names of this
machine (DNS rebinding), takes writes to /api/* only as JSON from its own pages (cross-site request
forgery), refuses bodies over the trainer's limit itself, times out silent connections, and stops
at once with event streams open.

Requests are sent with http.client or raw sockets, so that Host, Origin, Sec-Fetch-Site and
Content-Type are exactly what each case needs. The servers are started once for the module (with
short timeouts); refused writes are checked not to have reached the trainer by reading its state.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ROOT, Server, free_port, start_server, start_trainer

MAX_BODY_BYTES = json.loads(
    (ROOT / "dashboard/src/lib/generated/limits.json").read_text(encoding="utf-8")
)["max_body_bytes"]
HEADER_TIMEOUT_MS = 1_500
REQUEST_TIMEOUT_MS = 3_000
# Short timeouts keep the timeout tests fast (serve.mjs reads them from these variables).
DASHBOARD_ENV = {
    "ACC_UI_HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS),
    "ACC_UI_REQUEST_TIMEOUT_MS": str(REQUEST_TIMEOUT_MS),
    "ACC_ALLOW_HOSTS": "env-name.test, Other.Test",
}
DEFAULT_HOST = object()  # send the Host a browser on this URL would send


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str,
    method: str,
    path: str,
    *,
    host: object = DEFAULT_HOST,
    headers: dict[str, str] | None = None,
    body: bytes | Iterable[bytes] | None = None,
) -> Answer:
    """One request with exactly these headers (no Host when `host` is None). A bytes body is sent
    with Content-Length, an iterable one chunked."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is DEFAULT_HOST:
            host = address.netloc
        if host is not None:
            connection.putheader("Host", str(host))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        chunked = body is not None and not isinstance(body, bytes)
        if isinstance(body, bytes):
            connection.putheader("Content-Length", str(len(body)))
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        if isinstance(body, bytes):
            connection.send(body)
        elif chunked:
            for chunk in body:  # type: ignore[union-attr]
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, response.read())
    finally:
        connection.close()


def port_of(url: str) -> int:
    return int(urlsplit(url).port or 80)


def inspect_state(dashboard: Server) -> dict[str, Any]:
    answer = call(dashboard.url, "GET", "/api/inspect/state")
    assert answer.status == 200, answer
    return answer.json()


def run_id(dashboard: Server) -> str | None:
    """The current (or last) free run's id; None while there was none."""
    answer = call(dashboard.url, "GET", "/api/runs/current")
    assert answer.status == 200, answer
    return answer.json().get("run_id")


def assert_refused(answer: Answer, status: int, error: str, *named: str) -> None:
    assert answer.status == status, (answer.status, answer.body)
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["error"] == error, body
    for text in named:
        assert text in body["detail"], (text, body["detail"])


def start_dashboard(trainer_url: str, *args: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    return start_server(
        ["./run_ui.sh", "--port", str(port), "--trainer", trainer_url, *args],
        f"http://127.0.0.1:{port}",
        "/",
        env or {},
    )


@pytest.fixture(scope="module")
def trainer() -> Iterator[Server]:
    server = start_trainer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dashboard(trainer: Server) -> Iterator[Server]:
    server = start_dashboard(trainer.url, "--allow-host", "flag-name.test", env=DASHBOARD_ENV)
    yield server
    server.stop()


# ---- a fake trainer that reports what reached it -----------------------------------------------


@dataclass
class Upstream:
    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)


class _RecordingHandler(BaseHTTPRequestHandler):
    """Answers every request with JSON of what it received (headers, body size). /early answers
    without asking for or reading the body and closes, as a trainer refusing a request does;
    /no-continue reads the body without sending "100 Continue" first."""

    protocol_version = "HTTP/1.1"
    upstream: Upstream

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_expect_100(self) -> bool:
        if self.path in ("/early", "/no-continue"):
            return True
        return super().handle_expect_100()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self) -> None:
        record: dict[str, Any] = {
            "method": self.command,
            "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body_bytes": None,
        }
        self.upstream.seen.append(record)
        if self.path == "/early":
            self._send(409, {"error": "conflict", "detail": "refused before reading the body"})
            self.close_connection = True
            return
        record["body_bytes"] = len(self._read_body())
        self._send(200, record)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        text = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    port = free_port()
    record = Upstream(f"http://127.0.0.1:{port}")
    handler = type("Handler", (_RecordingHandler,), {"upstream": record})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield record
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def recorded(upstream: Upstream) -> Iterator[Server]:
    """A dashboard whose /api/* goes to the recording upstream."""
    server = start_dashboard(upstream.url, env=DASHBOARD_ENV)
    yield server
    server.stop()


def own_origin(dashboard: Server, name: str = "127.0.0.1") -> str:
    return f"http://{name}:{port_of(dashboard.url)}"


JSON = {"Content-Type": "application/json"}


# ---- Host (DNS rebinding) -----------------------------------------------------------------------


def test_only_names_of_this_machine_are_answered(dashboard: Server) -> None:
    port = port_of(dashboard.url)
    allowed = [
        f"127.0.0.1:{port}",
        f"localhost:{port}",
        f"[::1]:{port}",
        "LOCALHOST",
        "localhost:1",  # any port
        "flag-name.test",  # --allow-host (through run_ui.sh)
        f"env-name.test:{port}",  # ACC_ALLOW_HOSTS
        "other.test",
    ]
    for host in allowed:
        for path in ("/", "/api/health"):
            answer = call(dashboard.url, "GET", path, host=host)
            assert answer.status == 200, (host, path, answer.status, answer.body[:200])

    refused = [
        "evil.example",
        f"evil.example:{port}",
        f"127.0.0.1.evil.example:{port}",
        "localhost.evil.example",
        f"[::2]:{port}",
        "127.0.0.2",
        f"127.0.0.1@evil.example:{port}",
        "",
    ]
    for host in refused:
        for path in ("/", "/inspect/", "/api/health"):
            answer = call(dashboard.url, "GET", path, host=host)
            assert_refused(answer, 403, "forbidden_host", f"'{host}'", "--allow-host", "localhost")
    assert_refused(call(dashboard.url, "GET", "/", host=None), 403, "forbidden_host", "no Host")

    # A rebinding page's write never reaches the trainer (checked before anything else).
    answer = call(
        dashboard.url,
        "POST",
        "/api/inspect/setup",
        host="evil.example",
        headers={**JSON, "Origin": "http://evil.example"},
        body=b"{}",
    )
    assert_refused(answer, 403, "forbidden_host", "evil.example")
    assert inspect_state(dashboard)["active"] is False


# ---- cross-site writes ----------------------------------------------------------------------------


SETUP = b'{"condition": "bcl-nan-demo"}'
# (headers, body, what the 415's detail names)
NOT_JSON: list[tuple[dict[str, str], bytes, str]] = [
    ({"Content-Type": "text/plain"}, SETUP, "'text/plain'"),
    ({"Content-Type": "text/plain;charset=UTF-8"}, SETUP, "'text/plain;charset=UTF-8'"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=b", "x-www-form-urlencoded"),
    ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--\r\n", "multipart/form-data"),
    ({"Content-Type": "application/jsonx"}, SETUP, "'application/jsonx'"),
    ({}, SETUP, "no Content-Type"),
    ({}, b"", "no Content-Type"),  # a bodiless form POST
]
WRITE_PATHS = ("/api/inspect/setup", "/api/runs", "/api/runs/stop")


def foreign_origins(dashboard: Server) -> list[str]:
    port = port_of(dashboard.url)
    return [
        "http://evil.example",
        f"http://evil.example:{port}",
        "null",  # sandboxed frames, file: pages
        f"http://127.0.0.1:{port + 1}",  # another local server (same site, other origin)
        f"http://localhost:{port + 1}",
        f"https://127.0.0.1:{port}",
        f"http://127.0.0.1:{port}/path",
    ]


def test_writes_must_be_json(dashboard: Server) -> None:
    runs_before = run_id(dashboard)
    for path in WRITE_PATHS:
        for headers, body, named in NOT_JSON:
            answer = call(dashboard.url, "POST", path, headers=headers, body=body)
            assert_refused(answer, 415, "unsupported_media_type", named, "application/json")
    answer = call(dashboard.url, "PUT", "/api/runs", body=b"")
    assert_refused(answer, 415, "unsupported_media_type", "PUT")
    assert inspect_state(dashboard)["active"] is False
    assert run_id(dashboard) == runs_before


def test_writes_must_come_from_the_dashboards_own_pages(dashboard: Server) -> None:
    for origin in foreign_origins(dashboard):
        answer = call(
            dashboard.url,
            "POST",
            "/api/inspect/setup",
            headers={**JSON, "Origin": origin},
            body=b"{}",
        )
        assert_refused(answer, 403, "forbidden_origin", f"'{origin}'")
    cross_site = {**JSON, "Sec-Fetch-Site": "cross-site"}
    answer = call(dashboard.url, "POST", "/api/runs", headers=cross_site, body=b"{}")
    assert_refused(answer, 403, "forbidden_origin", "cross-site")
    assert inspect_state(dashboard)["active"] is False


def test_refused_requests_never_reach_the_trainer(recorded: Server, upstream: Upstream) -> None:
    # The same refusals with a trainer that records what reaches it: it must see none of them
    # (whatever the trainer would answer itself).
    upstream.seen.clear()
    for path in WRITE_PATHS:
        for headers, body, _ in NOT_JSON:
            answer = call(recorded.url, "POST", path, headers=headers, body=body)
            assert_refused(answer, 415, "unsupported_media_type")
        for origin in foreign_origins(recorded):
            headers = {**JSON, "Origin": origin}
            answer = call(recorded.url, "POST", path, headers=headers, body=b"{}")
            assert_refused(answer, 403, "forbidden_origin")
        headers = {**JSON, "Sec-Fetch-Site": "cross-site"}
        answer = call(recorded.url, "DELETE", path, headers=headers, body=b"{}")
        assert_refused(answer, 403, "forbidden_origin")
        for method in ("GET", "POST"):
            answer = call(recorded.url, method, path, host="evil.example", headers=JSON, body=b"{}")
            assert_refused(answer, 403, "forbidden_host")
    assert upstream.seen == []
    # ... while the dashboard's own requests do.
    assert call(recorded.url, "POST", "/api/runs", headers=JSON, body=b"{}").status == 200
    assert [seen["path"] for seen in upstream.seen] == ["/runs"]


def test_checks_come_in_order_host_origin_type_size(dashboard: Server) -> None:
    big = b" " * (MAX_BODY_BYTES + 1)
    evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    answer = call(dashboard.url, "POST", "/api/runs", host="evil.example", headers=evil, body=big)
    assert_refused(answer, 403, "forbidden_host")
    answer = call(dashboard.url, "POST", "/api/runs", headers=evil, body=big)
    assert_refused(answer, 403, "forbidden_origin")
    answer = call(
        dashboard.url, "POST", "/api/runs", headers={"Content-Type": "text/plain"}, body=big
    )
    assert_refused(answer, 415, "unsupported_media_type")
    answer = call(dashboard.url, "POST", "/api/runs", headers=JSON, body=big)
    assert_refused(answer, 413, "payload_too_large")


def test_the_dashboards_own_writes_reach_the_trainer(dashboard: Server) -> None:
    # Media type in any case, with parameters; Origin of a page of this dashboard under any of
    # its names. The trainer then answers (409: there is no run to stop), not the proxy.
    for name in ("127.0.0.1", "localhost", "flag-name.test"):
        answer = call(
            dashboard.url,
            "POST",
            "/api/runs/stop",
            host=f"{name}:{port_of(dashboard.url)}",
            headers={
                "Content-Type": "Application/JSON; charset=utf-8",
                "Origin": own_origin(dashboard, name),
                "Sec-Fetch-Site": "same-origin",
            },
            body=b"{}",
        )
        if run_id(dashboard) is None:
            assert answer.status == 409 and answer.json()["error"] == "conflict", answer


def test_forwarded_writes_carry_the_trainers_host_and_no_origin(
    recorded: Server, upstream: Upstream
) -> None:
    origin = own_origin(recorded, "localhost")
    answer = call(
        recorded.url,
        "POST",
        "/api/echo?x=1",
        host=f"localhost:{port_of(recorded.url)}",
        headers={**JSON, "Origin": origin},
        body=b'{"n": 1}',
    )
    assert answer.status == 200, answer
    seen = answer.json()
    assert seen["path"] == "/echo?x=1" and seen["body_bytes"] == len(b'{"n": 1}')
    assert seen["headers"]["host"] == urlsplit(upstream.url).netloc
    assert "origin" not in seen["headers"]
    assert seen["headers"]["x-forwarded-host"] == f"localhost:{port_of(recorded.url)}"

    # A read keeps a foreign Origin (the trainer may judge it); the proxy checks only writes.
    answer = call(recorded.url, "GET", "/api/echo", headers={"Origin": "http://evil.example"})
    assert answer.status == 200 and answer.json()["headers"]["origin"] == "http://evil.example"


# ---- body limit ----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_by_the_proxy(dashboard: Server) -> None:
    body = b" " * 2_000_000
    answer = call(dashboard.url, "POST", "/api/inspect/setup", headers=JSON, body=body)
    assert_refused(
        answer,
        413,
        "payload_too_large",
        f"the body is 2,000,000 bytes; at most {MAX_BODY_BYTES:,} allowed",
    )
    # The trainer is still there (no 502 marked it down) and did not act on it.
    assert call(dashboard.url, "GET", "/api/health").status == 200
    assert inspect_state(dashboard)["active"] is False


def test_the_limit_holds_without_asking_the_trainer(recorded: Server, upstream: Upstream) -> None:
    upstream.seen.clear()
    answer = call(
        recorded.url, "POST", "/api/declared", headers=JSON, body=b" " * (MAX_BODY_BYTES + 1)
    )
    assert_refused(answer, 413, "payload_too_large", f"{MAX_BODY_BYTES + 1:,} bytes")
    assert upstream.seen == []  # not contacted at all

    # A chunked body declares no size: it is counted on the way and cut once over.
    chunk = b" " * 65_536
    over = (MAX_BODY_BYTES // len(chunk) + 4) * [chunk]
    answer = call(recorded.url, "POST", "/api/chunked", headers=JSON, body=over)
    assert_refused(answer, 413, "payload_too_large", f"over {MAX_BODY_BYTES:,} bytes")
    assert all(seen["body_bytes"] is None for seen in upstream.seen), upstream.seen

    # Exactly the limit passes, declared or chunked.
    answer = call(recorded.url, "POST", "/api/exact", headers=JSON, body=b" " * MAX_BODY_BYTES)
    assert answer.status == 200 and answer.json()["body_bytes"] == MAX_BODY_BYTES
    pieces = [b" " * 100_000] * (MAX_BODY_BYTES // 100_000)
    answer = call(recorded.url, "POST", "/api/exact-chunked", headers=JSON, body=pieces)
    assert answer.status == 200 and answer.json()["body_bytes"] == MAX_BODY_BYTES


def test_an_early_answer_of_the_trainer_is_passed_through(
    recorded: Server, upstream: Upstream
) -> None:
    # The trainer answers without reading the body and closes its connection; the body still
    # being sent must not turn its answer into a 502.
    for _ in range(5):
        answer = call(recorded.url, "POST", "/api/early", headers=JSON, body=b" " * 900_000)
        assert answer.status == 409, (answer.status, answer.body)
        assert answer.json()["detail"] == "refused before reading the body"
    # A trainer that never says "100 Continue" still gets the body (after a short wait).
    answer = call(recorded.url, "POST", "/api/no-continue", headers=JSON, body=b" " * 300_000)
    assert answer.status == 200 and answer.json()["body_bytes"] == 300_000


# ---- timeouts -----------------------------------------------------------------------------------


def _seconds_until_closed(url: str, send: Iterable[tuple[float, bytes]], limit: float) -> float:
    """Connect, send each piece after its delay, and return when the server closed the
    connection (fails if it is still open after `limit` seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=limit) as sock:
        for delay, data in send:
            time.sleep(delay)
            try:
                sock.sendall(data)
            except OSError:
                return time.monotonic() - started
        sock.settimeout(max(0.1, limit - (time.monotonic() - started)))
        try:
            while sock.recv(4096):
                pass
        except TimeoutError:
            pytest.fail(f"the connection was still open after {limit} s")
        except ConnectionResetError:
            pass
    return time.monotonic() - started


def test_silent_and_slow_connections_are_closed(dashboard: Server) -> None:
    header_s = HEADER_TIMEOUT_MS / 1000
    bound = header_s + 3.5  # Node checks timeouts once a second
    silent = _seconds_until_closed(dashboard.url, [], bound)
    half_line = _seconds_until_closed(dashboard.url, [(0, b"GET / HT")], bound)
    # A header line every 0.4 s: never idle, but the head is not complete in time.
    drip = [(0, b"GET / HTTP/1.1\r\n")] + [(0.4, b"X-Slow: 1\r\n")] * 20
    slow_head = _seconds_until_closed(dashboard.url, drip, bound + 2)
    for took in (silent, half_line, slow_head):
        assert header_s * 0.9 <= took < bound + 0.5, (silent, half_line, slow_head)


def test_event_streams_outlast_the_request_timeouts(dashboard: Server) -> None:
    address = urlsplit(dashboard.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request("GET", "/api/runs/events", headers={"Accept": "text/event-stream"})
        events = connection.getresponse()
        assert events.status == 200
        assert events.getheader("Content-Type", "").startswith("text/event-stream")
        first = _next_event(events)
        assert first["event"] == "state"
        time.sleep((REQUEST_TIMEOUT_MS + 1_500) / 1000)  # past both timeouts and a check

        # Still open: a new run shows up on the stream.
        answer = call(
            dashboard.url, "POST", "/api/runs", headers=JSON, body=b'{"paused": true, "steps": 5}'
        )
        assert answer.status == 200, answer
        started = answer.json()["run_id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            event = _next_event(events)
            if event["event"] == "state" and event["data"].get("run_id") == started:
                break
        else:
            pytest.fail("the stream did not report the new run")
    finally:
        connection.close()
        call(dashboard.url, "POST", "/api/runs/stop", headers=JSON, body=b"")


def _next_event(stream: http.client.HTTPResponse) -> dict[str, Any]:
    """The next event of a server-sent event stream (comments skipped)."""
    event: dict[str, Any] = {}
    while True:
        line = stream.readline()
        assert line, "the event stream ended"
        line = line.rstrip(b"\r\n")
        if not line:
            if "event" in event:
                return event
            continue
        name, _, value = line.decode().partition(":")
        if name == "event":
            event["event"] = value.strip()
        elif name == "data":
            event["data"] = json.loads(value)


# ---- shutdown -----------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stops_at_once_with_an_event_stream_open(trainer: Server, signum: int) -> None:
    server = start_dashboard(trainer.url)
    try:
        address = urlsplit(server.url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        connection.request("GET", "/api/runs/events")
        events = connection.getresponse()
        assert _next_event(events)["event"] == "state"

        started = time.monotonic()
        os.kill(server.process.pid, signum)  # run_ui.sh execs node: this is the server
        try:
            server.process.wait(3)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the dashboard still ran 3 s after {signal.Signals(signum).name}")
        assert time.monotonic() - started < 3
        assert server.process.returncode == 0
        connection.close()
    finally:
        server.stop()
