"""Awaiting work that runs on another thread, for as long as the client still waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import Future
from typing import TypeVar

from starlette.requests import Request

from acc.api.errors import ClientGone

T = TypeVar("T")


async def result_while_connected(
    request: Request, future: Future[T], on_disconnect: Callable[[], None]
) -> T:
    """The result of `future`; if the client disconnects first, `on_disconnect()` is called (to
    drop work nobody will read) and `ClientGone` is raised. A cancelled `future` raises
    `concurrent.futures.CancelledError` (not asyncio's, which would end the request task). The request body must have been
    read already: what `receive` gives after it is the disconnect."""
    result = asyncio.wrap_future(future)
    disconnect = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait((result, disconnect), return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnect.cancel()
    if result.done():
        if result.cancelled():  # the work was dropped (e.g. its session torn down)
            raise FutureCancelled("the work this request waited for was cancelled")
        return result.result()
    result.cancel()
    on_disconnect()
    raise ClientGone("the client closed the connection before the answer was ready")


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
