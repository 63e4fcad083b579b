"""Awaiting work that runs on another thread, for as long as the client still waits for it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from typing import TypeVar

from starlette.requests import Request

from acc.change_signal import ChangeSignal

T = TypeVar("T")


class ClientGone(Exception):
    """The client closed the connection before its answer was ready; nobody reads the answer."""


class WorkCancelled(Exception):
    """The work a request waited for was dropped (e.g. its session was torn down first)."""


async def result_while_connected(
    request: Request, future: Future[T], on_disconnect: Callable[[], None]
) -> T:
    """The result of `future`; if the client disconnects first, `on_disconnect()` is called (to
    drop work nobody will read) and `ClientGone` is raised. A cancelled `future` raises
    `WorkCancelled` (not asyncio's `CancelledError`, which would end the request task). The request body must have been
    read already: what `receive` gives after it is the disconnect."""
    result = asyncio.wrap_future(future)
    disconnect = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait((result, disconnect), return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnect.cancel()
    if result.done():
        if result.cancelled():  # the work was dropped (e.g. its session torn down)
            raise WorkCancelled("the steps were dropped: the session was torn down first")
        return result.result()
    result.cancel()
    on_disconnect()
    raise ClientGone("the client closed the connection before the answer was ready")


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def changed_within(
    signal: ChangeSignal, version: int, shutdown: asyncio.Event, timeout: float
) -> bool:
    """Wait until `signal` passes `version` (True), `timeout` seconds pass or the server shuts
    down (False either way; `shutdown.is_set()` tells which)."""
    change = asyncio.wrap_future(signal.after(version))
    stop = asyncio.ensure_future(shutdown.wait())
    try:
        await asyncio.wait((change, stop), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        changed = change.done() and not change.cancelled()
        change.cancel()  # also drops the waiter from the signal
    return changed and not shutdown.is_set()


async def paced_changes(
    signal: ChangeSignal, shutdown: asyncio.Event, *, interval: float, heartbeat: float
) -> AsyncIterator[bool]:
    """What an event stream waits on: True at once and after each change of `signal` (what
    comes within `interval` of a change is gathered into one), False after each `heartbeat`
    seconds without one (time for a keep-alive); it ends when the server shuts down. A paused
    or idle source wakes nobody. The version is read before each True, so a change made while
    the stream answers it is never missed."""
    version = signal.version
    yield True
    while True:
        if not await changed_within(signal, version, shutdown, heartbeat):
            if shutdown.is_set():
                return
            yield False
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shutdown.wait(), interval)
        if shutdown.is_set():
            return
        version = signal.version
        yield True
