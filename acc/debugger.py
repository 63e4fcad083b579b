"""`acc.attach(model, optimizer)`: watch and steer your own training loop from the dashboard.

    dbg = acc.attach(model, optimizer, port=8787)   # serves the API from this process
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        dbg.step(loss=loss)          # the step boundary: records scalars, blocks while paused
    dbg.close()

The server runs on a background thread of the calling process (a script or a notebook); the loop
stays on the caller's thread. Stop from the dashboard or `POST /runs/stop` makes `dbg.step` raise
`StopTraining`, which the `with acc.attach(...) as dbg:` block swallows, so the loop ends cleanly.
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import torch
from torch import nn

from acc.api.attached import create_attached_app
from acc.api.dashboard_site import BUILD_HINT, find_dashboard
from acc.api.server import AccServer, server_config
from acc.archive.cli import default_runs_dir
from acc.archive.recorder import RunRecorder
from acc.archive.store import RunArchive
from acc.archive.vocabulary import RunKind
from acc.attached_loop import (
    DEFAULT_ATTACH_BUDGET,
    DEFAULT_CAPTURE_EVERY,
    AttachedLoop,
    LoopClosed,
)
from acc.callbacks import Callback
from acc.distributed import DEFAULT_RANK_TIMEOUT_S, Lockstep, active_world
from acc.settings import Settings
from acc.step_inspector import CaptureBudget

DEFAULT_PORT = 8787
SERVER_START_S = 10.0  # how long attach() waits for its server to answer
SERVER_STOP_S = 5.0  # how long close() waits for it to end


class StopTraining(Exception):  # noqa: N818 (a signal to the loop, as StopIteration)
    """Raised by `dbg.step()` once Stop was asked for (dashboard, `POST /runs/stop`,
    `dbg.stop()`): end the loop. `with acc.attach(...) as dbg:` swallows it."""


class AttachError(RuntimeError):
    """The server could not start: the port is taken (another attach or another server) or the
    host cannot be bound."""


class _ThreadServer(AccServer):
    """The API server on a background thread: tells `attach` when it listens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); `AttachError` says why not."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer in 0..65535 (0: a free port), got {port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise AttachError(f"cannot resolve host {host!r}: {error}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise AttachError(
                f"port {port} on {host} is in use (another acc.attach in this process, or "
                "another server); close it first or pass port=0 for a free port"
            ) from None
        raise AttachError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


class Debugger:
    """The handle `acc.attach` returns: `step(**scalars)` at each step boundary, `close()` at
    the end (or use it as a context manager). `url` is where the API answers."""

    def __init__(
        self,
        loop: AttachedLoop,
        host: str,
        port: int,
        *,
        raise_on_stop: bool = True,
        dashboard: Path | None = None,
        archive: RunArchive | None = None,
        serve: bool = True,
    ) -> None:
        self._closed = True  # until the server answers
        self.loop = loop
        self.archive = archive  # where the loop is recorded (closed after the loop)
        self.raise_on_stop = raise_on_stop
        self.host, self.port = host, port
        self._thread: threading.Thread | None = None
        if not serve:  # a rank of a distributed job other than 0: rank 0 serves every rank
            self._closed = False
            return
        self._sock = _bind(host, port)
        self.host = host
        self.port = int(self._sock.getsockname()[1])
        settings = Settings(host=host, port=self.port, device=_device_of(loop.model))
        self.app = create_attached_app(settings=settings, loop=loop, dashboard=dashboard)
        self._server = _ThreadServer(
            server_config(self.app, host, self.port), self.app.state.shutdown.set
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True, name="acc-api"
        )
        self._thread.start()
        if not self._server.ready.wait(SERVER_START_S) or not self._thread.is_alive():
            self._shutdown()
            raise AttachError(f"the API server did not start on {host}:{self.port}")
        self._closed = False

    @property
    def url(self) -> str:
        """Where the API (and dashboard) answers, e.g. http://127.0.0.1:8787."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def should_stop(self) -> bool:
        """True once Stop was asked for: a loop that does not want `StopTraining` checks this."""
        return self.loop.controller.stop_requested

    def step(self, **scalars: torch.Tensor | float) -> None:
        """The step boundary: records `scalars` (numbers or one-element tensors, any names) and
        what this step captured; blocks here while paused. Raises `StopTraining` once Stop was
        asked for (unless attached with `raise_on_stop=False`), `LoopClosed` after `close()`."""
        if self._closed:
            raise LoopClosed("dbg.step() after dbg.close(); attach again to go on watching")
        if not self.loop.end_step(scalars) and self.raise_on_stop:
            raise StopTraining("stop was requested from acc")

    def record(self, name: str, value: torch.Tensor | float) -> None:
        """Add a named tensor to the current step (`tensor/<name>` in the step data)."""
        self.loop.capture.record(name, value)

    def pause(self) -> None:
        """Pause at the next step boundary (as the dashboard's Pause)."""
        self.loop.controller.pause()

    def stop(self) -> None:
        """Make the next `step()` raise `StopTraining` (as the dashboard's Stop)."""
        self.loop.stop()

    def close(self) -> None:
        """Stop the server, remove the hooks, free the captures. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.loop.close()
        if self.archive is not None:
            self.archive.close()  # everything recorded is written before close() returns
        self._shutdown()

    def record_batch(self, batch: torch.Tensor | Sequence[Any]) -> None:
        """The batch of the current step (a tensor, or a tuple whose first item is the inputs).
        In a distributed job its fingerprint (mean, std, size) joins this rank's report, so a
        rank that trains on other data than the rest shows in the per-rank comparison."""
        if self.loop.lockstep is not None:
            self.loop.lockstep.note_batch(batch)

    def _shutdown(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(SERVER_STOP_S)
        self._sock.close()

    def __enter__(self) -> Debugger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool:
        if error is not None and not isinstance(error, StopTraining):
            self.loop.fail(error)
        self.close()
        return isinstance(error, StopTraining)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"step {self.loop.state().step}"
        return f"<acc.Debugger {self.url} {state}>"


def _device_of(model: nn.Module) -> str:
    parameter = next(model.parameters(), None)
    return str(parameter.device) if parameter is not None else "cpu"


def attach(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    capture_every: int = DEFAULT_CAPTURE_EVERY,
    budget: CaptureBudget = DEFAULT_ATTACH_BUDGET,
    callbacks: Sequence[Callback] = (),
    paused: bool = False,
    raise_on_stop: bool = True,
    dashboard: bool | Path = True,
    runs_dir: Path | str | None = None,
    record: bool = True,
    quiet: bool = False,
    out: TextIO | None = None,
    rank_timeout: float = DEFAULT_RANK_TIMEOUT_S,
) -> Debugger:
    """Serve the acc API for `model` from a background thread of this process and return the
    `Debugger` whose `step(**scalars)` the loop calls at each step boundary.

    `port=0` picks a free port (`dbg.url` says which). Statistics of every parameter and layer
    are kept every `capture_every` steps while running freely; every step taken while paused is
    held in full (weights, gradients, updates) within `budget`. `callbacks` (`acc.Callback`) see
    each step's `on_step_end(info)` and may `info.record(name, tensor)`. `paused=True` waits at
    the first boundary. The built dashboard is served beside the API (`dashboard=True`: the one
    `find_dashboard()` finds, if any; a folder: that one; False: the API only). The loop is
    recorded in the runs archive (`runs_dir`, default `$ACC_RUNS_DIR` or ./acc-runs; its
    scalars, and how it ended) unless `record=False`. The URL of the model page (or of the
    API) is printed to `out` (default stdout) unless `quiet`.

    In a torch.distributed job (the default process group initialised, two or more ranks) every
    rank calls `attach` at the same point: the ranks pause, step and stop in lockstep, rank 0
    serves (and records) every rank, the others serve nothing; a rank silent for `rank_timeout`
    seconds makes the others stop with `acc.RankLost` (see docs/distributed.md)."""
    site: Path | None
    if dashboard is True:
        site, why = find_dashboard(), f"no built dashboard found; {BUILD_HINT}"
    elif dashboard is False:
        site, why = None, "dashboard=False"
    else:
        site, why = dashboard, ""
    world = active_world()
    lockstep = Lockstep(model, rank_timeout=rank_timeout) if world is not None else None
    leader = lockstep is None or lockstep.leader
    archive = (
        RunArchive(runs_dir if runs_dir is not None else default_runs_dir())
        if record and leader
        else None
    )
    watchers: list[Callback] = []
    if archive is not None:  # a damaged runs directory records nothing; the loop goes on
        watchers.append(
            RunRecorder(
                archive,
                recipe=type(model).__name__,
                kind=RunKind.ATTACHED,
                options={"capture_every": capture_every},
            )
        )
    loop = AttachedLoop(
        model,
        optimizer,
        capture_every=capture_every,
        budget=budget,
        callbacks=[*watchers, *callbacks],
        paused=paused,
        lockstep=lockstep,
    )
    try:
        debugger = Debugger(
            loop,
            host,
            port,
            raise_on_stop=raise_on_stop,
            dashboard=site,
            archive=archive,
            serve=leader,
        )
    except BaseException:
        loop.close()
        if archive is not None:
            archive.close()
        raise
    if not quiet and leader:
        stream = out or sys.stdout
        where = f"{debugger.url}/model" if site is not None else f"{debugger.url} (API only: {why})"
        ranks = f" (all {world[1]} ranks)" if world is not None else ""
        print(f"acc: watching {type(model).__name__}{ranks} at {where}", file=stream, flush=True)
    return debugger
