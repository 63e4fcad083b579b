"""Serving the app with uvicorn, with the timeouts a long-lived local server needs.

uvicorn times out idle keep-alive connections but not a connection that never finishes its
request head (one silent socket per slowloris client stays open forever), and at shutdown it
waits without limit for open responses, so one server-sent-event stream keeps the process up
after Ctrl+C. `serve` bounds both.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

# A client has this long to send a request's head (line and headers) after it connects or
# after the previous answer; then the connection is closed.
HEAD_TIMEOUT_S = 10.0
# A connection idle between requests is closed after this long.
KEEP_ALIVE_TIMEOUT_S = 5
# At shutdown, open responses (event streams) get this long to end before they are cut.
SHUTDOWN_GRACE_S = 1


class BoundedHeadProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request head does not arrive in time."""

    head_timeout_s = HEAD_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._expect_head()

    def data_received(self, data: bytes) -> None:
        self._expect_head()
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._cancel_head_timer()  # a request head arrived: the app has it now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._expect_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _expect_head(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and self._head_timer is None and not self.transport.is_closing():
            cycle = self.cycle
            self._head_timer = self.loop.call_later(
                self.head_timeout_s, self._head_timed_out, cycle
            )

    def _head_timed_out(self, cycle: object) -> None:
        self._head_timer = None
        if self.cycle is cycle and not self.transport.is_closing():
            self.transport.close()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None


def server_config(app: ASGIApp, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    """The uvicorn configuration acc serves with."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=BoundedHeadProtocol,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


class AccServer(uvicorn.Server):
    """uvicorn's server, telling the app when shutdown begins (so that its event streams end
    at once instead of being cut after the grace period) and ending the process normally
    after a graceful shutdown on SIGINT/SIGTERM."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            yield
            # uvicorn raises a caught signal again once it has shut down, which kills the
            # process by SIGTERM (or a KeyboardInterrupt traceback); the shutdown was clean.
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()


def serve(app: Starlette, host: str, port: int, log_level: str = "warning") -> None:
    """Serve `app` (made by `create_app`) until SIGINT or SIGTERM; returns once it has shut
    down."""
    AccServer(server_config(app, host, port, log_level), app.state.shutdown.set).run()
