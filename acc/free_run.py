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
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import torch

from acc.branches import Branch
from acc.callbacks import Callback
from acc.change_signal import ChangeSignal
from acc.data import MnistData
from acc.debug_controller import PAUSE_WAIT_S, DebugController, StepsInterrupted
from acc.session import DEFAULT_BUDGET, MAX_STATE_EVENTS, Session
from acc.step_capture import Detail
from acc.step_inspector import CaptureBudget, StepData
from acc.trainer import StepInfo

MAX_RUN_STEPS = 1_000_000
MAX_CAPTURE_EVERY = 10_000
DEFAULT_RUN_STEPS = 2000  # a few minutes of a BCL recipe on a laptop CPU
# Full tensors every 50th step while running freely: a full BCL step costs about seven light ones,
# so every 10th cost ~7 % of the run's speed and every 50th ~1.5 %; the page's force view reads the
# newest full step once a second. Paused and stepped steps are always full.
DEFAULT_CAPTURE_EVERY = 50


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
    break_reason: dict[str, Any] | None  # the last breakpoint that fired (BreakReason.to_dict)
    events: tuple[dict[str, Any], ...]  # the newest step events: live edits, breakpoints
    rewindable: tuple[int, ...]  # the steps whose restore point is held (while paused: rewind)
    branches: tuple[dict[str, Any], ...]  # the branches rewinds left (`Branch.summary`)
    # The run's change count (`changes.version`) when this state was read: a state read later
    # never has a lower one, so a reader that gets two (a slow answer, the event stream) keeps
    # the newer.
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "status": self.status.value,
            "retained": list(self.retained) if self.retained else None,
            "events": list(self.events),
            "rewindable": list(self.rewindable),
            "branches": list(self.branches),
        }


class _PauseGate(Callback):
    """The run's hook into the loop: after the capture has committed a step, it records the
    watches and waits at the boundary while the run is paused."""

    def __init__(self, run: FreeRun) -> None:
        self.run = run

    def on_train_start(self) -> None:
        # The rate counts training time only: not the model's build before it.
        self.run._training_since = time.time()

    def on_step_end(self, info: StepInfo) -> None:
        self.run._end_step(info)


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
        capture_every: int = DEFAULT_CAPTURE_EVERY,
        device: torch.device | str = "cpu",
        paused: bool = False,
        recipe_options: dict[str, Any] | None = None,
        budget: CaptureBudget = DEFAULT_BUDGET,
        changes: ChangeSignal | None = None,
        watchers: Sequence[Callable[[FreeRun], Callback]] = (),
        run_id: str | None = None,
    ) -> None:
        if not 1 <= steps <= MAX_RUN_STEPS:
            raise ValueError(f"steps must be an integer in 1..{MAX_RUN_STEPS}, got {steps!r}")
        if not 1 <= capture_every <= MAX_CAPTURE_EVERY:
            raise ValueError(
                f"capture_every must be an integer in 1..{MAX_CAPTURE_EVERY}, got {capture_every!r}"
            )
        self.run_id = run_id if run_id is not None else uuid.uuid4().hex[:12]
        self.steps = steps
        self.capture_every = capture_every
        # Bumped at every committed step and every change of state: what event streams wait on.
        self.changes = changes if changes is not None else ChangeSignal()
        self.controller = DebugController(changes=self.changes)
        if paused:
            self.controller.pause()
        self.session = Session(
            recipe,
            condition,
            data=data,
            seed=seed,
            device=device,
            plan=self._plan,
            recipe_options=recipe_options,
            budget=budget,
            # A breakpoint pauses the run at the step where it fired (captured in full: _plan).
            on_break=lambda reason: self.controller.pause(),
            # Not at every full step while breakpoints are armed (each would cost a copy of the
            # model and optimizer): every `capture_every`-th, every stepped one, and a break's.
            restore_when=lambda step: step % self.capture_every == 0 or self.controller.stepping,
        )
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._status = RunStatus.RUNNING
        self._error: str | None = None
        self._traceback: str | None = None
        self._last_full: int | None = None
        self._started = time.time()
        self._training_since: float | None = None  # when the loop began (after the build)
        self._finished_at: float | None = None
        self._paused_seconds = 0.0
        self._blocked_since: float | None = None
        # Made once the session exists; each watches every step after the capture committed it
        # and before a pause blocks (e.g. a recorder), and is closed with the run.
        self._watchers = tuple(make(self) for make in watchers)
        self._future: Future[int] = self.session.submit_train(
            steps, [*self._watchers, _PauseGate(self)]
        )
        self._future.add_done_callback(self._on_done)

    # -- the training thread -----------------------------------------------------------------------

    def _plan(self, step: int) -> Detail:
        """How much step `step` keeps: in full every `capture_every`-th step and every step
        taken while paused or while breakpoints are armed (a step where one fires is then kept
        whole); the history keys while a feature is watched (its trajectory reads them);
        otherwise the scalars the live charts draw."""
        if (
            self.controller.stepping
            or step % self.capture_every == 0
            or self.session.breakpoints.armed
        ):
            return Detail.FULL
        return Detail.HISTORY if self.controller.watched() else Detail.SCALARS

    def _end_step(self, info: StepInfo) -> None:
        """Once the capture committed the step: note it, record the watches, then wait at the
        boundary while paused."""
        controller = self.controller
        capture = self.session.capture
        if capture.full and capture.last_committed is not None:
            self._last_full = capture.last_committed.step
        layer = self.session.run_layer
        if controller.watched() and layer is not None and capture.last_committed is not None:
            controller.record_watches(info.step, layer.weight, capture.last_committed.arrays)
        controller.end_step(info.step)
        self.changes.bump()
        started = time.perf_counter()
        self._blocked_since = started
        going_on = controller.wait_if_paused(full=capture.full)
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
            status = self._status
        self.controller.end(f"the run has ended ({status.value})")
        self._finished.set()

    # -- control (any thread) ----------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run has ended; False on timeout."""
        return self._finished.wait(timeout)

    def submit_step(self, n: int = 1) -> Future[int]:
        """Release exactly `n` more steps of a paused run. The future gives the last of them once
        the loop waits at the boundary after it; it fails with `StepsInterrupted` when the run is
        resumed, stopped or ends first (withdraw it with `controller.withdraw`). `NotPaused`
        when the run goes freely, `RunFinished` when it has ended. Counts from the boundary the
        loop waits at (or is about to reach, when the pause has just come)."""
        if self.finished:
            raise RunFinished(f"the run has ended ({self.status().value}); start a new one")
        try:
            return self.controller.step(n)
        except StepsInterrupted as error:  # ended between the check and the grant
            raise RunFinished(str(error)) from None

    def step(self, n: int = 1, timeout: float = 600.0) -> StepData:
        """`submit_step(n)` and wait for it; returns the last step's full data."""
        return self.session.inspector.get_step(self.submit_step(n).result(timeout))

    def pause(self, wait: float = PAUSE_WAIT_S) -> bool:
        """Pause at the next step boundary and wait up to `wait` seconds for the loop to get
        there; True once it waits there (an answer that says so cannot be overtaken by an older
        "not blocked yet" state). False when the current step takes longer (it still pauses)."""
        self.controller.pause()
        try:
            return self.controller.when_blocked().result(wait)
        except FutureTimeout:
            return False

    def rewind(self, step: int) -> Branch | None:
        """Go back to the end of step `step` while the run is paused and held at a boundary
        (`Session.rewind`): stepping or resuming then goes on from step `step + 1`, and the run
        ends after as many steps as it still had to run. `NotPaused` when the loop is not held,
        `RunFinished` when it has ended, `RewindUnavailable` when `step` has no restore point."""
        if self.finished:
            raise RunFinished(f"the run has ended ({self.status().value}); start a new one")

        def go_back() -> Branch | None:
            branch = self.session.rewind_here(step)
            committed = self.session.capture.last_committed
            self._last_full = committed.step if committed is not None else None
            self.controller.end_step(step)
            return branch

        branch = self.controller.while_held(go_back)
        self.changes.bump()
        return branch

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
        version = self.changes.version  # first: everything below is at least this new
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
        since = self._training_since if self._training_since is not None else time.time()
        elapsed = (finished_at or time.time()) - since - paused
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
            break_reason=self.session.breakpoints.reason_dict(),
            events=self.session.inspector.events.recent(MAX_STATE_EVENTS),
            rewindable=self.session.restore_points.steps,
            branches=tuple(self.session.branches.summaries()),
            version=version,
        )

    def close(self) -> None:
        """Stop the run if it goes on, then free everything. Idempotent."""
        self.stop()
        self._finished.wait()
        for watcher in self._watchers:
            watcher.close()
        self.session.close()
