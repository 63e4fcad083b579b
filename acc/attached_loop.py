"""`AttachedLoop`: pause, step and inspect a training loop that the user's own code drives.

The user's loop is the training thread and `end_step(scalars)` is its step boundary: it commits
what the step captured, then blocks there while paused (the `DebugController` of free runs,
unchanged). Any other thread (the API) pauses, grants steps, resumes, stops and reads the
captures. `acc.attach` wraps this object with a server; tests drive it directly.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from torch import nn

from acc.breakpoints import Breakpoints
from acc.callbacks import Callback, CallbackList
from acc.change_signal import ChangeSignal
from acc.debug_controller import PAUSE_WAIT_S, DebugController
from acc.distributed import NotDistributed
from acc.model_capture import (
    ACT,
    ACTIVATION_FIELDS,
    HIST,
    PARAM_FIELDS,
    SCALAR,
    STATS,
    ModelCapture,
    NamedStepInspector,
    UnknownTensor,
    hist_edges,
)
from acc.step_events import MAX_STATE_EVENTS
from acc.step_inspector import CaptureBudget, StepData, StepNotRetained
from acc.tensor_grid import reduce_grid

if TYPE_CHECKING:
    from acc.distributed import Lockstep
    from acc.trainer import StepInfo

# Statistics every 50th step while running freely (Lightning's `log_every_n_steps` default): a
# statistics step costs about one more step of a small model, so 1 in 50 stays within ~1 %.
DEFAULT_CAPTURE_EVERY = 50
MAX_CAPTURE_EVERY = 10_000
MAX_SCALAR_NAME = 200
# A held step's tensors are ~3x the model's parameters (weight, gradient, update): the default
# keeps a few held steps of a small model and one of an 11M-parameter one.
DEFAULT_ATTACH_BUDGET = CaptureBudget(
    max_full_snapshots=8,
    max_snapshot_bytes=512 * 2**20,
    max_history_steps=1_000_000,
    max_vector_history=10_000,
)


class LoopClosed(RuntimeError):
    """The attached loop was closed: it takes no more steps and answers no more requests."""


class LoopStopped(RuntimeError):
    """Stop was requested: the loop takes no more steps."""


@dataclass
class AttachInfo:
    """What a callback's `on_step_end(info)` sees in an attached loop. It has the fields of the
    built-in loop's `StepInfo` that an attached loop knows: `step`, `loss` and `losses` (the
    scalars given to `dbg.step`, as 0-d tensors; `loss` is the one named "loss", else NaN),
    `model` and `optimizer`; `batch` and `output` stay with the user's loop (None). A callback
    written for `StepInfo` that reads those fields works unchanged. `record(name, tensor)` adds a
    named tensor to the step (`tensor/<name>`)."""

    step: int
    loss: torch.Tensor
    losses: dict[str, torch.Tensor]
    model: nn.Module
    optimizer: torch.optim.Optimizer | None
    capture: ModelCapture = field(repr=False)
    batch: None = None
    output: None = None

    def record(self, name: str, value: torch.Tensor | np.ndarray | float) -> None:
        self.capture.record(name, value)


@dataclass(frozen=True)
class AttachedState:
    step: int  # the last finished step (0 before the first)
    paused: bool
    blocked: bool  # waiting at a step boundary
    stop_requested: bool
    closed: bool
    steps_granted: int
    capture_every: int
    last_full_step: int | None
    retained: tuple[int, int] | None
    first_nonfinite: dict[str, int | str] | None  # the first step and name holding a NaN/Inf
    model: str
    parameters: int  # trainable parameter tensors
    parameter_count: int  # their elements
    steps_per_second: float  # over the time spent running (pauses excluded)
    # Every rank of a distributed job (`acc.distributed`): rank, step, paused, loss, ...; None
    # for a loop in one process.
    ranks: list[dict[str, Any]] | None = None
    break_reason: dict[str, Any] | None = None  # the last breakpoint that fired
    events: tuple[dict[str, Any], ...] = ()  # the newest step events (breakpoints)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "retained": list(self.retained) if self.retained else None,
        }


def _scalar(name: str, value: Any) -> np.ndarray:
    """`value` as a float32 host scalar; a tensor must hold one element."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_SCALAR_NAME:
        raise ValueError(f"a scalar name must be 1..{MAX_SCALAR_NAME} characters, got {name!r}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"scalar {name!r} must be a number or a one-element tensor, "
                f"got a tensor of shape {list(value.shape)}"
            )
        return np.array(value.item(), dtype=np.float32)
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return np.array(value, dtype=np.float32)
    raise ValueError(
        f"scalar {name!r} must be a number or a one-element tensor, got {type(value).__name__}"
    )


class AttachedLoop:
    """One user loop, its capture and its pause gate. The loop's thread calls `end_step`; any
    thread calls the rest."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None = None,
        *,
        capture_every: int = DEFAULT_CAPTURE_EVERY,
        budget: CaptureBudget = DEFAULT_ATTACH_BUDGET,
        callbacks: Sequence[Callback] = (),
        paused: bool = False,
        lockstep: Lockstep | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}"
            )
        if isinstance(capture_every, bool) or not isinstance(capture_every, int):
            raise ValueError(f"capture_every must be an integer, got {capture_every!r}")
        if not 1 <= capture_every <= MAX_CAPTURE_EVERY:
            raise ValueError(
                f"capture_every must be an integer in 1..{MAX_CAPTURE_EVERY}, got {capture_every}"
            )
        self.model = model
        self.optimizer = optimizer
        self.capture_every = capture_every
        self.inspector = NamedStepInspector.within(budget)
        self.capture = ModelCapture(model, self.inspector)  # NoParameters for an empty model
        self.changes = ChangeSignal()  # bumped at every step and change of state
        # One rank of several: the lockstep gates the boundary and its controller is the one
        # the API drives (on rank 0).
        self.lockstep = lockstep
        self.controller = (
            lockstep.make_controller(self.changes)
            if lockstep is not None
            else DebugController(changes=self.changes)
        )
        # Breakpoints are checked at each boundary; while armed every step is held in full, so
        # the step where one fires (and the loop pauses) is kept whole.
        self.breakpoints = Breakpoints(self.inspector.events)
        breaks = self.breakpoints.callback(model, lambda: None, lambda _: self.controller.pause())
        self.callbacks = CallbackList([*callbacks, breaks])
        self._lock = threading.Lock()
        self._step = 0
        self._last_full: int | None = None
        self._last_stats: int | None = None
        self._closed = False
        self._started = time.perf_counter()
        self._paused_seconds = 0.0
        self._blocked_since: float | None = None
        if paused:
            self.controller.pause()
        self._full_next = False
        self._plan(1, force_stats=False)
        self.callbacks.on_train_start()
        self.callbacks.on_step_start(1)

    # -- the loop's thread -------------------------------------------------------------------------

    def end_step(self, scalars: Mapping[str, Any]) -> bool:
        """The step boundary: record `scalars` and what the step was planned to capture, commit
        it, then wait here while paused. False: stop was requested, take no more steps.
        `LoopClosed` after `close()`; `ValueError` (nothing recorded) for a bad scalar."""
        if self._closed:
            raise LoopClosed("this attached loop was closed; attach again to go on watching")
        host = {name: _scalar(name, value) for name, value in scalars.items()}
        step = self._step + 1
        full = self._full_next
        values = {name: float(value) for name, value in host.items()}
        if self.callbacks.callbacks:
            # Views of the host scalars: no copies on the boundary's fast path.
            losses = {name: torch.from_numpy(array) for name, array in host.items()}
            loss = losses.get("loss")
            info = AttachInfo(
                step,
                torch.tensor(math.nan) if loss is None else loss,
                losses,
                self.model,
                self.optimizer,
                self.capture,
            )
            # Callbacks take a StepInfo; AttachInfo has the fields an attached loop knows.
            self.callbacks.on_step_end(cast("StepInfo", info))
        self.capture.capture(host, full=full)
        found = self.capture.nonfinite_found()
        if found is not None and self._source_unknown():
            # A scalar seen non-finite on an earlier light step keeps its step as `first_seen`.
            earlier = self.inspector.first_nonfinite
            self.inspector.first_nonfinite = {
                "step": step,
                **found,
                **({"first_seen": earlier["step"]} if earlier is not None else {}),
            }
        self.inspector.commit(step, full=full)
        scalar_bad = any(not math.isfinite(value) for value in values.values())
        with self._lock:
            self._step = step
            if full:
                self._last_full = step
            if self.capture.watching:
                self._last_stats = step
        controller = self.controller
        controller.end_step(step)
        self.changes.bump()
        started = time.perf_counter()
        self._blocked_since = started
        if self.lockstep is not None:
            going_on = self.lockstep.wait(step, values)
        else:
            going_on = controller.wait_if_paused(full=full)
        self._blocked_since = None
        waited = time.perf_counter() - started
        if waited > 0.0005:  # a pause, not the one-check fast path: not training time
            self._paused_seconds += waited
        if not going_on:
            return False
        # A non-finite scalar on a light step: the next step finds which layer holds it.
        self._plan(step + 1, force_stats=scalar_bad and self._source_unknown())
        self.callbacks.on_step_start(step + 1)
        return True

    def _source_unknown(self) -> bool:
        record = self.inspector.first_nonfinite
        return record is None or not ("module" in record or "parameter" in record)

    def _plan(self, step: int, force_stats: bool) -> None:
        # While paused or stepping, every step is held in full; otherwise statistics every
        # `capture_every` steps.
        full = self.controller.stepping or self.breakpoints.armed
        self._full_next = full
        self.capture.plan(full or force_stats or step % self.capture_every == 0)

    def fail(self, error: BaseException) -> None:
        """The user's loop raised `error` in the step after the last boundary."""
        self.inspector.mark_failed(self._step + 1, error)
        self.callbacks.on_exception(self._step + 1, error)

    # -- control (any thread) ----------------------------------------------------------------------

    def pause(self, wait: float = PAUSE_WAIT_S) -> bool:
        """Pause at the next boundary whose step was held in full; True once the loop waits
        there, False when it has not come there within `wait` seconds (it still pauses)."""
        self._require_open()
        self.controller.pause()
        try:
            return self.controller.when_blocked().result(wait)
        except FutureTimeout:
            return False

    def resume(self) -> None:
        self._require_open()
        self.controller.resume()

    def submit_step(self, n: int = 1) -> Future[int]:
        """Release exactly `n` more steps of the paused loop; the future gives the last of them
        once the loop waits at its boundary again (`StepsInterrupted` if resumed, stopped or
        closed first; `NotPaused` while it runs freely)."""
        self._require_open()
        if self.controller.stop_requested:
            raise LoopStopped("stop was requested: the loop takes no more steps")
        return self.controller.step(n)

    def stop(self) -> None:
        """End the loop at its next boundary, also while paused: `dbg.step` raises
        `StopTraining` (or `dbg.should_stop` turns true)."""
        self._require_open()
        self.controller.request_stop()

    def close(self) -> None:
        """Release a paused loop for good, remove the hooks, free the captures. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.controller.end("the loop was closed")
        self.controller.request_stop()
        if self.lockstep is not None:
            self.lockstep.close()
        self.callbacks.on_train_end()
        for callback in self.callbacks.callbacks:
            callback.close()
        self.capture.close()
        self.inspector.clear()
        self.changes.bump()

    @property
    def closed(self) -> bool:
        return self._closed

    def _require_open(self) -> None:
        if self._closed:
            raise LoopClosed("this attached loop was closed")

    # -- reading (any thread) ----------------------------------------------------------------------

    def state(self) -> AttachedState:
        controller = self.controller.state()
        with self._lock:
            step, last_full = self._step, self._last_full
        blocked_since = self._blocked_since
        paused = self._paused_seconds + (
            time.perf_counter() - blocked_since if blocked_since is not None else 0.0
        )
        elapsed = time.perf_counter() - self._started - paused
        return AttachedState(
            step=step,
            paused=controller.paused,
            blocked=controller.blocked,
            stop_requested=controller.stop_requested,
            closed=self._closed,
            steps_granted=controller.steps_granted,
            capture_every=self.capture_every,
            last_full_step=last_full,
            retained=self.inspector.retained_range,
            first_nonfinite=self.inspector.first_nonfinite,
            break_reason=self.breakpoints.reason_dict(),
            events=self.inspector.events.recent(MAX_STATE_EVENTS),
            model=type(self.model).__name__,
            parameters=len(self.capture.params),
            parameter_count=sum(param.numel() for _, param in self.capture.params),
            steps_per_second=step / elapsed if elapsed > 0 else 0.0,
            ranks=self.lockstep.ranks() if self.lockstep is not None else None,
        )

    def step_data(self, step: int | None = None) -> StepData:
        """The full data of `step` (default: the newest held step); `StepNotRetained` if it is
        not held."""
        if step is None:
            with self._lock:
                step = self._last_full
            if step is None:
                raise StepNotRetained(0, "has not run", self.inspector.retained_range)
        return self.inspector.get_step(step)

    def keys(self) -> tuple[int | None, list[str]]:
        """The newest held step and the names it holds (no step yet: None and [])."""
        try:
            data = self.step_data()
        except StepNotRetained:
            return None, []
        return data.step, sorted(data.arrays)

    def tensor(self, key: str, step: int | None = None) -> tuple[int, np.ndarray]:
        """One named array of a held step; `UnknownTensor` names the ones it has."""
        data = self.step_data(step)
        if key not in data.arrays:
            names = sorted(data.arrays)
            shown = ", ".join(names[:20]) + (
                f" and {len(names) - 20} more" if len(names) > 20 else ""
            )
            raise UnknownTensor(f"step {data.step} holds no {key!r}; it holds {shown}")
        return data.step, data.arrays[key]

    def heatmap(
        self,
        key: str,
        rows: int,
        cols: int,
        window: tuple[int, int, int, int] | None = None,
        step: int | None = None,
    ) -> dict[str, Any]:
        """A held tensor reduced to at most `rows` x `cols` cells (min/max/mean each)."""
        held, array = self.tensor(key, step)
        return {"step": held, "key": key, **reduce_grid(array, rows, cols, window)}

    def layers(self) -> dict[str, Any]:
        """The per-layer table of the newest step with statistics: every parameter (shape and
        PARAM_FIELDS) and every leaf module (ACTIVATION_FIELDS)."""
        with self._lock:
            step = self._last_stats
        parameters: list[dict[str, Any]] = []
        modules: list[dict[str, Any]] = []
        if step is not None:
            names = [STATS + info.name for info in self.capture.param_info]
            names += [ACT + name for name in self.capture.modules]
            history = self.inspector.history(step, keys=names, limit=1)
            held = history.steps.size and int(history.steps[0]) == step
            columns = history.columns if held else {}
            for info in self.capture.param_info:
                row = columns.get(STATS + info.name)
                values = row[-1] if row is not None and len(row) else None
                parameters.append(
                    {
                        "name": info.name,
                        "module": info.name.rpartition(".")[0],
                        "shape": list(info.shape),
                        "numel": int(np.prod(info.shape)),
                        **_fields(PARAM_FIELDS, values),
                    }
                )
            for name, kind in self.capture.modules.items():
                row = columns.get(ACT + name)
                values = row[-1] if row is not None and len(row) else None
                modules.append({"name": name, "kind": kind, **_fields(ACTIVATION_FIELDS, values)})
        return {
            "step": step,
            "parameter_fields": list(PARAM_FIELDS),
            "activation_fields": list(ACTIVATION_FIELDS),
            "parameters": parameters,
            "modules": modules,
            "first_nonfinite": self.inspector.first_nonfinite,
        }

    def history(
        self, names: Iterable[str] | None = None, since: int = 0, limit: int | None = None
    ) -> dict[str, Any]:
        """Scalars (all by default) and named statistics over the steps numbered >= `since`:
        `steps` and one column per name (null where a step did not capture it)."""
        wanted = None if names is None else list(names)
        if wanted is None:
            wanted = self.scalar_names()
        history = self.inspector.history(since, keys=wanted, limit=limit)
        return {
            "steps": history.steps,
            "columns": {name: history.aligned(name) for name in history.columns},
            "more": history.more,
        }

    def rank_history(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        """Per-rank series of a distributed loop (`Lockstep.history`); `NotDistributed` for a
        loop in one process."""
        if self.lockstep is None:
            raise NotDistributed("this loop runs in one process: there are no ranks to compare")
        return self.lockstep.history(since, limit)

    def rank_batch(self, rank: int) -> dict[str, Any]:
        """One rank's batch of the newest held step (`Lockstep.batch_view`); `NotDistributed`
        for a loop in one process."""
        if self.lockstep is None:
            raise NotDistributed("this loop runs in one process: there are no ranks to compare")
        return self.lockstep.batch_view(rank)

    def scalar_names(self) -> list[str]:
        """The history names of the scalars the loop has given so far."""
        keys = self.inspector.history(self._step, limit=1).columns
        return sorted(name for name in keys if name.startswith(SCALAR))

    def histograms(
        self, parameter: str, since: int = 0, limit: int | None = None
    ) -> dict[str, Any]:
        """The |weight| histogram of `parameter` at every step that kept statistics."""
        if parameter not in {info.name for info in self.capture.param_info}:
            raise UnknownTensor(f"{type(self.model).__name__} has no parameter {parameter!r}")
        history = self.inspector.history(since, keys=[HIST + parameter], limit=limit)
        column = history.aligned(HIST + parameter)
        steps: list[int] = []
        counts: list[Any] = []
        for step, row in zip(history.steps.tolist(), column, strict=True):
            if row is not None and not np.isnan(row).all():
                steps.append(step)
                counts.append(row)
        return {
            "parameter": parameter,
            "edges": hist_edges(),
            "steps": steps,
            "counts": counts,
            "more": history.more,
        }


def _fields(names: Sequence[str], values: np.ndarray | None) -> dict[str, float | None]:
    if values is None:
        return dict.fromkeys(names)
    return {
        name: (float(value) if math.isfinite(float(value)) else None)
        for name, value in zip(names, values, strict=True)
    }
