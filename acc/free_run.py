"""A free-running training run that can be paused, stepped one batch at a time and resumed.

A `FreeRun` is a `Session` (model, worker thread, capture pipeline, inspector) running one long
`Trainer.train` call, with a `DebugController` hooked into its callbacks: scalars and [D]/[B]
vectors are kept every step, full captures every `capture_every` steps and on every step taken
while paused. It ends `completed`, `stopped` or `failed` (with the error), never silently.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import torch

from acc.data import MnistData
from acc.debug_controller import DebugController, NotPaused
from acc.model_owner import ModelOwnership
from acc.session import DEFAULT_BUDGET, Session
from acc.step_inspector import CaptureBudget, StepData
from acc.trainer import StepInfo

MAX_RUN_STEPS = 1_000_000
MAX_CAPTURE_EVERY = 10_000
PAUSE_WAIT_S = 2.0  # how long a pause request waits for the loop to reach the step boundary


class RunFinished(RuntimeError):
    """The run has already ended; it cannot be stepped or paused."""


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"


FINISHED = (RunStatus.COMPLETED, RunStatus.STOPPED, RunStatus.FAILED)


@dataclass(frozen=True)
class RunState:
    run_id: str
    recipe: str
    condition: str
    seed: int
    steps: int  # the steps asked for
    capture_every: int
    status: RunStatus
    step: int  # the last finished step
    blocked: bool  # paused and waiting at a step boundary
    last_full_step: int | None  # the latest step with a full capture
    retained: tuple[int, int] | None
    model_dim: int
    error: str | None
    traceback: str | None
    started_at: float
    finished_at: float | None
    steps_per_second: float  # over the time spent training (pauses excluded)
    first_nonfinite: dict[str, int | str] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "status": self.status.value,
            "retained": list(self.retained) if self.retained else None,
        }


class FreeRun:
    """Starts training at once on its own worker thread; control it through `controller`."""

    def __init__(
        self,
        recipe: str,
        condition: str,
        steps: int,
        *,
        data: MnistData,
        seed: int = 0,
        capture_every: int = 10,
        device: torch.device | str = "cpu",
        ownership: ModelOwnership | None = None,
        paused: bool = False,
        recipe_options: dict[str, Any] | None = None,
        budget: CaptureBudget = DEFAULT_BUDGET,
    ) -> None:
        if not 1 <= steps <= MAX_RUN_STEPS:
            raise ValueError(f"steps must be an integer in 1..{MAX_RUN_STEPS}, got {steps!r}")
        if not 1 <= capture_every <= MAX_CAPTURE_EVERY:
            raise ValueError(
                f"capture_every must be an integer in 1..{MAX_CAPTURE_EVERY}, got {capture_every!r}"
            )
        self.run_id = uuid.uuid4().hex[:12]
        self.steps = steps
        self.capture_every = capture_every
        self.controller = DebugController()
        if paused:
            self.controller.pause()
        self.session = Session(
            recipe,
            condition,
            data=data,
            seed=seed,
            device=device,
            ownership=ownership,
            owner_name=f"the free run {self.run_id}",
            capture_every=capture_every,
            force_full=lambda: self.controller.stepping,
            recipe_options=recipe_options,
            budget=budget,
        )
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._status = RunStatus.RUNNING
        self._error: str | None = None
        self._traceback: str | None = None
        self._last_full: int | None = None
        self._started = time.time()
        self._finished_at: float | None = None
        self._paused_seconds = 0.0
        self._blocked_since: float | None = None
        self._future: Future[int] = self.session.submit_train(
            steps, before_capture=self._begin_step, after_commit=self._end_step
        )
        self._future.add_done_callback(self._on_done)

    # -- the training thread -----------------------------------------------------------------------

    def _begin_step(self, info: StepInfo) -> None:
        self.controller.begin_step(info.step)

    def _end_step(self, info: StepInfo, data: StepData) -> None:
        controller = self.controller
        if self.session.capture.full:
            self._last_full = data.step
            for key, array in data.arrays.items():  # references, not copies: StepData is frozen
                controller.capture_step_data(key, array)
        layer = self.session.run_layer
        if controller.watched() and layer is not None:
            controller.record_watches(info.step, layer.weight, data.arrays)
        controller.end_step(info.step)
        started = time.perf_counter()
        self._blocked_since = started
        going_on = controller.wait_if_paused()
        self._blocked_since = None
        waited = time.perf_counter() - started
        if waited > 0.0005:  # a pause, not the one-check fast path: not training time
            self._paused_seconds += waited
        if not going_on:
            self.session.stop_training()

    def _on_done(self, future: Future[int]) -> None:
        error = future.exception()
        with self._lock:
            if error is not None:
                self._status = RunStatus.FAILED
                self._error = f"{type(error).__name__}: {error}"
                frames = traceback.format_exception(
                    type(error), error, error.__traceback__, limit=-3
                )
                self._traceback = "".join(frames)[-2000:]
            elif self.controller.stop_requested:
                self._status = RunStatus.STOPPED
            else:
                self._status = RunStatus.COMPLETED
            self._finished_at = time.time()
        self.session.release_model()  # the captures stay browsable; the model is free to take
        self._finished.set()

    # -- control (any thread) ----------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run has ended; False on timeout."""
        return self._finished.wait(timeout)

    def step(self, n: int = 1, timeout: float = 600.0) -> StepData:
        """Run exactly `n` more steps of a paused run and wait until it blocks again; returns the
        last step's full data. `NotPaused` when running, `RunFinished` when it has ended."""
        if self.finished:
            raise RunFinished(f"the run has ended ({self.status().value}); start a new one")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if not self.controller.is_paused:
            raise NotPaused("the run is not paused; pause it before stepping")
        deadline = time.monotonic() + timeout
        # The loop may still be finishing the step it was in when the pause came: wait for the
        # boundary so that "n more steps" counts from a settled step number.
        self._wait_for(lambda: self.controller.state().blocked, deadline)
        target = (self.session.inspector.last_step or 0) + n
        self.controller.step(n)
        self._wait_for(
            lambda: (
                (self.session.inspector.last_step or 0) >= target
                and self.controller.state().blocked
            ),
            deadline,
        )
        last = self.session.inspector.last_step
        if last is None:
            raise RunFinished(f"the run ended ({self.status().value}) before any step")
        return self.session.inspector.get_step(last)

    def pause(self, wait: float = PAUSE_WAIT_S) -> bool:
        """Pause at the next step boundary and wait up to `wait` seconds for the loop to get
        there; True once it waits there (an answer that says so cannot be overtaken by an older
        "not blocked yet" state). False when the current step takes longer (it still pauses)."""
        self.controller.pause()
        try:
            self._wait_for(lambda: self.controller.state().blocked, time.monotonic() + wait)
        except TimeoutError:
            return False
        return self.controller.state().blocked

    def _wait_for(self, condition: Callable[[], bool], deadline: float) -> None:
        while not condition():
            if self.finished:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the run did not reach the step boundary in time")
            time.sleep(0.001)

    def stop(self) -> None:
        """End the run after the current step, also while paused."""
        self.controller.request_stop()
        self.session.stop_training()

    def status(self) -> RunStatus:
        with self._lock:
            if self._status in FINISHED:
                return self._status
        return RunStatus.PAUSED if self.controller.is_paused else RunStatus.RUNNING

    def state(self) -> RunState:
        controller = self.controller.state()
        status = self.status()
        with self._lock:
            error, trace, finished_at = self._error, self._traceback, self._finished_at
        step = self.session.inspector.last_step or 0
        blocked_since = self._blocked_since
        paused = self._paused_seconds + (
            time.perf_counter() - blocked_since if blocked_since is not None else 0.0
        )
        # Training time only: the time spent paused does not count against the rate.
        elapsed = (finished_at or time.time()) - self._started - paused
        return RunState(
            run_id=self.run_id,
            recipe=self.session.recipe.name,
            condition=self.session.condition,
            seed=self.session.seed,
            steps=self.steps,
            capture_every=self.capture_every,
            status=status,
            step=step,
            blocked=controller.blocked,
            last_full_step=self._last_full,
            retained=self.session.inspector.retained_range,
            model_dim=self.session.model_dim,
            error=error,
            traceback=trace,
            started_at=self._started,
            finished_at=finished_at,
            steps_per_second=step / elapsed if elapsed > 0 else 0.0,
            first_nonfinite=self.session.inspector.first_nonfinite,
        )

    def close(self) -> None:
        """Stop the run if it goes on, then free everything. Idempotent."""
        self.stop()
        self._finished.wait()
        self.session.close()
