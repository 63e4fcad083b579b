"""A Session: one training setup, its capture pipeline and inspector, driven from one worker thread.

All torch work of a session (building the model, every training step, teardown) runs on a single
dedicated thread, so callers on other threads (the API's event loop, tests) never touch the model
and two requests can never interleave their steps: they queue on the worker and run in order.
"""

from __future__ import annotations

import gc
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import torch

from acc.branches import Branch, Branches, branch_label
from acc.breakpoints import Breakpoints, BreakReason, feature_key_owner
from acc.callbacks import Callback
from acc.data import MnistData
from acc.host_memory import release_freed_memory
from acc.live_edits import LiveEdits
from acc.recipes import TrainingSetup, get_recipe
from acc.restore_points import KnobValues, RestorePoints, RestorePointTaker, Stateful, restore
from acc.step_capture import Capture, DetailPlan, always_full
from acc.step_events import MAX_STATE_EVENTS
from acc.step_inspector import (
    CaptureBudget,
    FailedStep,
    History,
    StepData,
    StepInspector,
    StepNotRetained,
)
from acc.trainer import StepInfo, Trainer

MAX_STEPS_PER_CALL = 500
# Steps queued on one session at most: a few full requests; more means clients pile up faster
# than the model trains, and teardown would have to wait for all of them.
MAX_PENDING_STEPS = 2 * MAX_STEPS_PER_CALL
DEFAULT_BUDGET = CaptureBudget()
T = TypeVar("T")


class SessionClosed(RuntimeError):
    """The session was torn down; start a new one."""


class TooManyPendingSteps(RuntimeError):
    """Queuing more steps would pass `MAX_PENDING_STEPS`."""


class StepJob:
    """`n` queued steps of a session: `future` gives the last step's data; `cancel()` drops them
    if they have not started, or ends them after the step in progress."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.future: Future[StepData] = Future()
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()
        self.future.cancel()  # succeeds only while the steps wait in the queue

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class _StepOutcome(Callback):
    """Marks a step that raised in the inspector's history (and remembers its number); an
    interrupt (not an `Exception`) drops the half-captured step instead."""

    def __init__(self, inspector: StepInspector) -> None:
        self.inspector = inspector
        self.failed_step: int | None = None

    def on_exception(self, step: int, error: BaseException) -> None:
        if isinstance(error, Exception):
            self.inspector.mark_failed(step, error)
            self.failed_step = step
        else:
            self.inspector.discard()


class _StopWhen(Callback):
    """Ends the loop after the current step once `condition()` holds."""

    def __init__(self, condition: Callable[[], bool], trainer: Trainer) -> None:
        self.condition = condition
        self.trainer = trainer

    def on_step_end(self, info: StepInfo) -> None:
        if self.condition():
            self.trainer.stop()


class StepFailed(RuntimeError):
    """An exception inside a training step. The session stays usable; what was captured before
    is kept. `summary` holds the last frames of the traceback."""

    def __init__(self, step: int, error: BaseException) -> None:
        self.step = step
        self.error_type = type(error).__name__
        self.message = str(error)
        frames = traceback.format_exception(type(error), error, error.__traceback__, limit=-3)
        self.summary = "".join(frames)[-2000:]
        super().__init__(f"step {step} failed: {self.error_type}: {self.message}")


@dataclass(frozen=True)
class SessionState:
    """A snapshot of where a session stands (safe to read from any thread)."""

    session_id: str
    recipe: str
    condition: str
    conditions: tuple[str, ...]
    seed: int
    device: str
    model_dim: int
    image_shape: tuple[int, ...]
    batch_size: int
    step: int  # steps completed (the global step of the last finished step)
    history_steps: int  # steps committed (the history holds the most recent of them)
    max_history_steps: int  # scalars are kept for this many recent steps
    max_vector_history: int  # [D], [B] and [L] vectors are kept for this many recent steps
    history_bytes: int  # what the history arrays take now
    retained: tuple[int, int] | None  # first and last step whose full data is held
    max_full_snapshots: int
    snapshot_bytes: int
    max_snapshot_bytes: int
    pending_steps: int  # steps requested and not yet finished
    failed_steps: tuple[FailedStep, ...]  # the most recent failed step attempts
    first_nonfinite: dict[str, int | str] | None  # {step, key, count} of the first NaN/Inf
    break_reason: dict[str, Any] | None  # the last breakpoint that fired (BreakReason.to_dict)
    events: tuple[dict[str, Any], ...]  # the step events: live edits, breakpoints (StepEvent)
    rewindable: tuple[int, ...]  # the steps whose restore point is held (rewind targets)
    restore_bytes: int  # what the restore points take now
    max_restore_bytes: int
    branches: tuple[dict[str, Any], ...]  # the branches rewinds left (`Branch.summary`)

    def to_dict(self) -> dict[str, Any]:
        state = asdict(self)
        state["retained"] = list(self.retained) if self.retained else None
        state["rewindable"] = list(self.rewindable)
        state["branches"] = list(self.branches)
        return state


class Session:
    """Owns a recipe's model, optimizer, batches, BCL hooks and a `StepInspector`.

    `step(n)` runs `n` steps through the real `Trainer.train` on the worker thread, capturing every
    step in full (or as `plan` says: a free run keeps less of most steps), and returns the last
    step's `StepData`. `submit_step(n)` is the same without waiting; `submit_train` runs a long
    stretch with extra callbacks (a free run). `close()` ends the session and frees the model.
    """

    def __init__(
        self,
        recipe: str,
        condition: str,
        *,
        data: MnistData,
        seed: int = 0,
        device: torch.device | str = "cpu",
        budget: CaptureBudget = DEFAULT_BUDGET,
        recipe_options: dict[str, Any] | None = None,
        plan: DetailPlan = always_full,
        watchers: Sequence[Callable[[Session], Callback]] = (),
        session_id: str | None = None,
        on_break: Callable[[BreakReason], None] | None = None,
        restore_when: Callable[[int], bool] | None = None,
    ) -> None:
        self.recipe = get_recipe(recipe)
        self.recipe.check_condition(condition)
        self.session_id = session_id if session_id is not None else uuid.uuid4().hex[:12]
        self._condition = condition
        self._plan = plan
        self.inspector = StepInspector.within(budget)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"acc-session-{self.session_id}")
        self._state_lock = threading.Lock()
        self._pending = 0
        self._jobs: set[StepJob] = set()
        self._closed = False
        try:
            # The model is built on the worker: it is the only thread that ever touches it.
            self._setup, self._capture = self._executor.submit(
                self._build, condition, seed, data, device, recipe_options or {}
            ).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise
        self._image_shape = tuple(int(n) for n in data.train.images.shape[1:])
        self._seed = seed
        self._model_dim = int(self._setup.num_features)
        # Edits wait for the next step's start; a breakpoint that fires ends the train() call
        # after its step (or does what `on_break` says: a free run pauses).
        self.edits = LiveEdits(self._setup, self.recipe.knobs, self.inspector.events)
        self.breakpoints = Breakpoints(self.inspector.events)
        self._loop_callbacks: tuple[Callback, ...] = (
            self.edits.callback(),
            self._capture,
        )
        self._breaks = self.breakpoints.callback(
            self._setup.model,
            lambda: self._capture.last_committed,
            on_break if on_break is not None else lambda reason: self.stop_training(),
            feature_key_owner(self._setup),
        )
        # Restore points of step 0 and of every step captured in full: what `rewind` goes to.
        self.restore_points = RestorePoints(budget.max_restore_bytes)
        self.branches = Branches(budget.max_snapshot_bytes)
        self._line_events = 0  # the step events before this count belong to earlier branches
        self._forks: list[int] = []  # the step of each rewind so far (readers keep a cursor)
        self._restore_when = restore_when
        self._restore_taker = RestorePointTaker(
            self.restore_points,
            self._stateful_parts(),
            self._setup.device,
            self._wants_restore_point,
        )
        self.run_on_worker(lambda setup: self._restore_taker.take_now(setup.trainer.global_step))
        # Each watcher is made once the setup exists and watches every step after the capture
        # committed it (e.g. a recorder); they are closed with the session.
        self._callbacks = tuple(make(self) for make in watchers)

    def _build(
        self,
        condition: str,
        seed: int,
        data: MnistData,
        device: torch.device | str,
        options: dict[str, Any],
    ) -> tuple[TrainingSetup, Capture]:
        setup = self.recipe.build(condition, seed, data, device, **options)
        capture = setup.make_capture(self.inspector, self._plan)
        return setup, capture

    # -- stepping ----------------------------------------------------------------------------------

    def submit_step(self, n: int = 1) -> StepJob:
        """Queue `n` steps (1..500) on the worker; the job's future gives the last step's data.
        `TooManyPendingSteps` when the queue would hold more than `MAX_PENDING_STEPS`."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STEPS_PER_CALL:
            raise ValueError(f"n must be an integer in 1..{MAX_STEPS_PER_CALL}, got {n!r}")
        job = StepJob(n)
        with self._state_lock:
            if self._closed:
                raise SessionClosed("the session was torn down; set up a new one")
            if self._pending + n > MAX_PENDING_STEPS:
                raise TooManyPendingSteps(
                    f"{self._pending} steps are already queued on this session; at most "
                    f"{MAX_PENDING_STEPS} may be, so {n} more cannot be; wait for them"
                )
            self._pending += n
            self._jobs.add(job)
            queued = self._executor.submit(self._run_job, job)
        # A job cancelled before it started never runs: its count leaves the queue here.
        job.future.add_done_callback(lambda _: self._job_done(job))
        queued.add_done_callback(lambda done: done.cancelled() and job.future.cancel())
        return job

    def _job_done(self, job: StepJob) -> None:
        with self._state_lock:
            if job in self._jobs:
                self._jobs.discard(job)
                self._pending -= job.n

    def step(self, n: int = 1) -> StepData:
        """Run `n` steps (1..500) and return the last step's captured data."""
        return self.submit_step(n).future.result()

    def _run_job(self, job: StepJob) -> None:
        if not job.future.set_running_or_notify_cancel():
            return  # cancelled while it waited in the queue
        try:
            job.future.set_result(self._run_steps(job))
        except BaseException as error:
            job.future.set_exception(error)

    def _run_steps(self, job: StepJob) -> StepData:
        setup = self._setup
        outcome = _StepOutcome(self.inspector)
        # The job's client went away or the session closes: end after the step in progress.
        cancel = _StopWhen(lambda: job.cancelled, setup.trainer)
        try:
            setup.trainer.train(
                job.n,
                callbacks=[
                    *self._loop_callbacks,
                    outcome,
                    self._breaks,
                    self._restore_taker,
                    *self._callbacks,
                    cancel,
                ],
            )
        except Exception as error:
            assert outcome.failed_step is not None
            raise StepFailed(outcome.failed_step, error) from error
        last = self.inspector.last_step
        assert last is not None
        return self.inspector.get_step(last)

    def submit_train(self, steps: int, callbacks: Sequence[Callback] = ()) -> Future[int]:
        """Queue `steps` steps with the capture, then `callbacks` (a free run's pause gate runs
        after the capture committed the step). The future gives the last finished step."""
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps!r}")
        with self._state_lock:
            if self._closed:
                raise SessionClosed("the session was torn down; set up a new one")
            return self._executor.submit(self._train, steps, tuple(callbacks))

    def _train(self, steps: int, callbacks: tuple[Callback, ...]) -> int:
        outcome = _StepOutcome(self.inspector)
        # The capture keeps what a run needs; per-step results would grow without bound.
        self._setup.trainer.train(
            steps,
            callbacks=[
                *self._loop_callbacks,
                outcome,
                self._breaks,
                self._restore_taker,
                *self._callbacks,
                *callbacks,
            ],
            keep_results=False,
        )
        return self._setup.trainer.global_step

    def run_on_worker(self, fn: Callable[[TrainingSetup], T]) -> T:
        """Run `fn(setup)` on the worker thread, between steps, and return its result (for tools
        and tests that need to look at or change the live model)."""
        with self._state_lock:
            if self._closed:
                raise SessionClosed("the session was torn down; set up a new one")
            future = self._executor.submit(lambda: fn(self._setup))
        return future.result()

    # -- rewinding ---------------------------------------------------------------------------------

    def _wants_restore_point(self, step: int) -> bool:
        """A restore point at every step captured in full, or those of them `restore_when`
        picks, and always at a step where a breakpoint fired (a loop stops there)."""
        if not self._capture.full:
            return False
        if self._restore_when is None or self._restore_when(step):
            return True
        reason = self.breakpoints.reason
        return reason is not None and reason.step == step

    def _stateful_parts(self) -> dict[str, Stateful]:
        return {
            "setup": self._setup,
            "capture": self._capture,
            "knobs": KnobValues(self.edits.knobs, self._setup),
            "breakpoints": self._breaks,
        }

    def rewind(self, step: int) -> Branch | None:
        """Go back to the end of step `step` (0: before the first), on the worker once the queued
        steps have run: model, optimizer (state and hyper-parameters), the other knobs, batch
        position, step counter, the capture's state and the random generators as they were then.
        Stepping on replays the same steps bit for bit (on the CPU) unless something is edited.
        The steps after `step` become a `Branch` (returned; None when there were none).
        `RewindUnavailable` when no restore point of `step` is held (`restore_points.steps`
        are)."""
        return self.run_on_worker(lambda _: self.rewind_here(step))

    def rewind_here(self, step: int) -> Branch | None:
        """`rewind` on the calling thread: only for a caller that holds the loop at a step
        boundary (a paused free run), where nothing else touches the model."""
        point = self.restore_points.get(step)
        history, snapshots = self.inspector.split_after(step)
        branch = None
        if history.steps.size:
            events = [e for e in self.inspector.events.after(self._line_events) if e.step > step]
            branch = self.branches.add(step, history, snapshots, branch_label(step, events))
        self._line_events = self.inspector.events.count
        self.inspector.events.abandon_after(step)
        restore(point, self._stateful_parts(), self._setup.device)
        self._forks.append(step)
        self.restore_points.drop_after(step)
        try:
            self._capture.last_committed = self.inspector.get_step(step)
        except StepNotRetained:
            self._capture.last_committed = None
        return branch

    def rewound_since(self, seen: int) -> tuple[int, int | None]:
        """For a reader that has seen the first `seen` rewinds: how many there are now, and the
        lowest step the newer ones went back to (None when there were none): a reader that
        follows the steps (an event stream) goes on after that step."""
        forks = self._forks[seen:]
        return seen + len(forks), min(forks, default=None)

    # -- reading (any thread) ----------------------------------------------------------------------

    def state(self) -> SessionState:
        if self._closed:
            raise SessionClosed("the session was torn down; set up a new one")
        setup = self._setup
        inspector = self.inspector
        with self._state_lock:
            pending = self._pending
        return SessionState(
            session_id=self.session_id,
            recipe=self.recipe.name,
            condition=setup.condition,
            conditions=self.recipe.conditions,
            seed=setup.seed,
            device=str(setup.device),
            model_dim=self._model_dim,
            image_shape=self._image_shape,
            batch_size=int(setup.batches.batch_size),
            step=setup.trainer.global_step,
            history_steps=inspector.step_count,
            max_history_steps=inspector.max_history_steps,
            max_vector_history=inspector.max_vector_history,
            history_bytes=inspector.history_bytes,
            retained=inspector.retained_range,
            max_full_snapshots=inspector.max_full_snapshots,
            snapshot_bytes=inspector.snapshot_bytes,
            max_snapshot_bytes=inspector.max_snapshot_bytes,
            pending_steps=pending,
            failed_steps=inspector.failed_steps,
            first_nonfinite=inspector.first_nonfinite,
            break_reason=self.breakpoints.reason_dict(),
            events=inspector.events.recent(MAX_STATE_EVENTS),
            rewindable=self.restore_points.steps,
            restore_bytes=self.restore_points.nbytes,
            max_restore_bytes=self.restore_points.max_bytes,
            branches=tuple(self.branches.summaries()),
        )

    def history(
        self, since: int = 0, *, keys: Iterable[str] | None = None, limit: int | None = None
    ) -> History:
        """See `StepInspector.history`."""
        return self.inspector.history(since, keys=keys, limit=limit)

    def get_step(self, step: int) -> StepData:
        return self.inspector.get_step(step)

    @property
    def condition(self) -> str:
        return self._condition

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def image_shape(self) -> tuple[int, ...]:
        """The shape of one input image, `[C, H, W]`."""
        return self._image_shape

    @property
    def model_dim(self) -> int:
        return self._model_dim

    @property
    def run_layer(self) -> torch.nn.Linear | None:
        """The per-feature layer, if the recipe has one. Touch it only from the worker thread."""
        return self._setup.feature_layer

    @property
    def setup_options(self) -> dict[str, Any]:
        """The options the recipe built the setup with (plain values)."""
        return dict(self._setup.options)

    @property
    def capture(self) -> Capture:
        """The capture pipeline (recipe-specific: e.g. the VQ capture holds codebook health)."""
        return self._capture

    def stop_training(self) -> None:
        """Ask the running `train()` to end after its current step (any thread)."""
        if not self._closed:
            self._setup.trainer.stop()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- ending ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Drop queued work, free the model and the captures. Idempotent."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            jobs = list(self._jobs)
        # Queued steps are dropped and the running ones end after their current step, so
        # teardown waits for one step at most.
        for job in jobs:
            job.cancel()
        try:
            self._executor.submit(self._teardown).result()
        finally:
            self._executor.shutdown(wait=True)

    def _teardown(self) -> None:
        # Before the inspector is cleared: a recorder may still save the steps it holds.
        for callback in self._callbacks:
            callback.close()
        self._breaks.close()
        self._capture.close()
        self._setup.close()
        self.inspector.clear()
        self.restore_points.clear()
        self.branches.clear()
        del self._restore_taker  # it holds the setup and the capture
        self._setup.optimizer.state.clear()
        device = self._setup.device
        # Drop every reference to the model so its memory can go back now, not at the next GC.
        del self._capture, self._setup, self._loop_callbacks, self._breaks, self.edits
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        release_freed_memory()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
