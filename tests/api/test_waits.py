"""Requests that wait on training answer as soon as what they wait for can no longer come, hold
no thread while they wait, and leave no work behind when their client goes away."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx2
import orjson

JSON = {"content-type": "application/json"}


def _get(url: str, path: str) -> dict[str, Any]:
    response = httpx2.get(url + path, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _post(url: str, path: str, body: object, timeout: float = 60) -> httpx2.Response:
    return httpx2.post(url + path, content=orjson.dumps(body), headers=JSON, timeout=timeout)


def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


def _paused_run(url: str) -> None:
    started = _post(url, "/runs", {"condition": "bcl-med", "steps": 100_000, "paused": True})
    assert started.status_code == 200, started.text
    _until(lambda: _get(url, "/runs/current")["blocked"])


def test_a_waiting_step_answers_409_when_the_run_is_resumed(live_url: str) -> None:
    _paused_run(live_url)

    async def scenario() -> tuple[httpx2.Response, float]:
        async with httpx2.AsyncClient(base_url=live_url, timeout=120) as client:
            step = asyncio.ensure_future(
                client.post("/debug/step", content=b'{"n": 500}', headers=JSON)
            )
            while (await client.get("/debug/state")).json()["steps_granted"] == 0:
                await asyncio.sleep(0.01)
            resumed = await client.post("/debug/resume", content=b"{}", headers=JSON)
            assert resumed.status_code == 200
            after_resume = time.monotonic()
            answer = await step
            return answer, time.monotonic() - after_resume

    answer, waited = asyncio.run(scenario())
    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert "resumed after" in detail and "of 500 requested steps" in detail
    assert waited < 30  # it answers at the resume, not after the 500 steps or a deadline
    _post(live_url, "/runs/stop", {})


def test_many_waiting_steps_hold_no_thread_and_others_are_answered(live_url: str) -> None:
    """More waiting step requests than the server has worker threads (40): pause, history and
    state still answer, and the resume answers every waiting request."""
    _paused_run(live_url)
    waiting = 45

    async def scenario() -> list[int]:
        limits = httpx2.Limits(max_connections=waiting + 10)
        async with httpx2.AsyncClient(base_url=live_url, timeout=120, limits=limits) as client:
            steps = [
                asyncio.ensure_future(
                    client.post("/debug/step", content=b'{"n": 500}', headers=JSON)
                )
                for _ in range(waiting)
            ]
            while (await client.get("/debug/state")).json()["steps_granted"] < 400 * waiting:
                await asyncio.sleep(0.02)
            for path in ("/runs/history?limit=5", "/debug/state", "/runs/current"):
                assert (await client.get(path, timeout=10)).status_code == 200
            paused = await client.post("/debug/pause", content=b"{}", headers=JSON, timeout=10)
            assert paused.status_code == 200
            await client.post("/debug/resume", content=b"{}", headers=JSON, timeout=10)
            return [(await step).status_code for step in steps]

    assert asyncio.run(scenario()) == [409] * waiting
    _post(live_url, "/runs/stop", {})


def test_a_step_request_whose_client_leaves_withdraws_its_grants(live_url: str) -> None:
    _paused_run(live_url)
    host, port = live_url.removeprefix("http://").split(":")
    body = b'{"n": 500}'
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /debug/step HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        _until(lambda: _get(live_url, "/debug/state")["steps_granted"] > 0)
    # the only waiter left: the grants it asked for are dropped, the run stays paused
    _until(lambda: _get(live_url, "/debug/state")["steps_granted"] == 0)
    state = _get(live_url, "/debug/state")
    assert state["paused"] and state["step"] < 500
    _until(lambda: _get(live_url, "/runs/current")["blocked"])
    _post(live_url, "/runs/stop", {})


def test_inspector_steps_of_a_client_that_left_are_cancelled(live_url: str) -> None:
    assert _post(live_url, "/inspect/setup", {"condition": "bcl-med"}).status_code == 200
    host, port = live_url.removeprefix("http://").split(":")
    body = b'{"n": 500}'
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /inspect/step HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        _until(lambda: _get(live_url, "/inspect/state")["step"] > 0)
    _until(lambda: _get(live_url, "/inspect/state")["pending_steps"] == 0)
    assert _get(live_url, "/inspect/state")["step"] < 500
    _post(live_url, "/inspect/teardown", {})


def test_queued_inspector_steps_are_bounded(live_url: str) -> None:
    assert _post(live_url, "/inspect/setup", {"condition": "bcl-med"}).status_code == 200

    async def scenario() -> list[httpx2.Response]:
        async with httpx2.AsyncClient(base_url=live_url, timeout=300) as client:
            first = [
                asyncio.ensure_future(
                    client.post("/inspect/step", content=b'{"n": 500}', headers=JSON)
                )
                for _ in range(2)
            ]
            while (await client.get("/inspect/state")).json()["pending_steps"] < 1000:
                await asyncio.sleep(0.01)
            refused = await client.post("/inspect/step", content=b'{"n": 1}', headers=JSON)
            torn = await client.post("/inspect/teardown", content=b"{}", headers=JSON)
            assert torn.status_code == 200
            return [refused, *[await request for request in first]]

    refused, *queued = asyncio.run(scenario())
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "too_many_requests" and "1000" in refused.json()["detail"]
    # teardown ended the running request after its current step and dropped the queued one
    assert sorted(response.status_code for response in queued) in ([200, 409], [409, 409])


def test_a_silent_connection_is_closed(live_url: str, monkeypatch: Any) -> None:
    from acc.api.server import BoundedHeadProtocol

    monkeypatch.setattr(BoundedHeadProtocol, "head_timeout_s", 0.5)
    host, port = live_url.removeprefix("http://").split(":")
    for opening in (b"", b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
        with socket.create_connection((host, int(port))) as sock:
            sock.settimeout(20)
            sock.sendall(opening)
            assert sock.recv(1024) == b""  # closed by the server, nothing answered


def test_a_stalled_body_gets_408(live_url: str, monkeypatch: Any) -> None:
    from acc.api import validation

    monkeypatch.setattr(validation, "BODY_TIMEOUT_S", 0.5)
    host, port = live_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(20)
        sock.sendall(
            b"POST /inspect/setup HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        answer = b""
        while b"request_timeout" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"request_timeout" in answer
    assert _get(live_url, "/inspect/state")["active"] is False
