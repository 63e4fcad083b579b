"""Server-sent event streams end with their client: no task or generator outlives a disconnect.

A real uvicorn server runs the app in a thread; the test counts the asyncio tasks on the
server's own loop and the live `/runs/events` stream generators, opens many SSE connections at
once, reads the first event of each, drops them all and waits for both counts to come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import threading
import time
import types
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette

from acc.api import runs

CONNECTIONS = 60
TASK_TOLERANCE = 2  # uvicorn may keep a timer or a closing connection for a moment
SETTLE_S = 5.0


@dataclass
class LiveServer:
    url: str
    loop: asyncio.AbstractEventLoop

    def tasks(self) -> int:
        """Tasks on the server's loop, not counting the one that counts them."""

        async def count() -> int:
            return len(asyncio.all_tasks()) - 1

        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(10)


def live_streams() -> int:
    """`/runs/events` stream generators that have started and not finished."""
    gc.collect()
    return sum(
        1
        for obj in gc.get_objects()
        # `type() is`, not isinstance(): some objects (torch's) warn when asked their __class__
        if type(obj) is types.AsyncGeneratorType
        and obj.ag_code.co_filename == runs.__file__
        and obj.ag_frame is not None
    )


@pytest.fixture
def server(app: Starlette) -> Iterator[LiveServer]:
    """The app on a real uvicorn server in a thread; the wrapper notes the server's loop."""
    loops: list[asyncio.AbstractEventLoop] = []

    async def noting_loop(scope: Any, receive: Any, send: Any) -> None:
        if not loops:
            loops.append(asyncio.get_running_loop())
        await app(scope, receive, send)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(noting_loop, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (uv.started and loops):
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", loops[0])
    uv.should_exit = True
    thread.join(20)


def settle(check: Callable[[], bool], timeout: float = SETTLE_S) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


async def open_read_drop(url: str, connections: int, held: Callable[[], None]) -> list[str]:
    """Open `connections` SSE streams at once, read each one's first event, call `held()` while
    all are open, then close them all. Returns the first event's name of each stream."""
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=0)
    async with (
        httpx2.AsyncClient(base_url=url, timeout=30, limits=limits) as http,
        contextlib.AsyncExitStack() as streams,
    ):

        async def first_event() -> str:
            response = await streams.enter_async_context(http.stream("GET", "/runs/events"))
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            # Not `async for ... break`: leaving the loop closes the line iterator, and with it
            # the connection. The iterator is kept (and closed on the way out) instead.
            lines = cast(AsyncGenerator[str, None], response.aiter_lines())
            streams.push_async_callback(lines.aclose)
            while not (line := await anext(lines)).startswith("event: "):
                pass
            return line[len("event: ") :]

        names = await asyncio.gather(*(first_event() for _ in range(connections)))
        held()
    return list(names)


@pytest.mark.parametrize("run", ["no run", "paused run", "running run"])
def test_sse_streams_end_when_their_clients_disconnect(server: LiveServer, run: str) -> None:
    with httpx2.Client(base_url=server.url, timeout=60) as http:
        http.get("/health").raise_for_status()
        if run != "no run":
            paused = run == "paused run"
            body = {"condition": "bcl-med", "steps": 100_000, "paused": paused}
            http.post("/runs", json=body).raise_for_status()
    assert settle(lambda: live_streams() == 0)
    baseline = server.tasks()

    peak: dict[str, int] = {}

    def held() -> None:
        # while every stream is open: each one a task of its own and a live generator
        peak["tasks"], peak["streams"] = server.tasks(), live_streams()

    names = asyncio.run(open_read_drop(server.url, CONNECTIONS, held))

    assert names == ["state"] * CONNECTIONS
    # the count sees the streams (so the checks below can fail)
    assert peak["tasks"] >= baseline + CONNECTIONS
    assert peak["streams"] == CONNECTIONS
    tasks_back = settle(lambda: server.tasks() <= baseline + TASK_TOLERANCE)
    streams_back = settle(lambda: live_streams() == 0)
    assert tasks_back, f"server tasks {server.tasks()} after the disconnects, {baseline} before"
    assert streams_back, f"{live_streams()} /runs/events generators outlived their clients"
