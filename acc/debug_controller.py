"""DebugController: pause, step and resume a free-running training loop at step boundaries, and
trajectories of watched features.

It plugs into `Trainer.train` through the existing callbacks: the run's `on_step` calls
`wait_if_paused()` last, so a paused loop blocks after a finished step (its data is complete and
readable) and before the next one starts. When running, that call is one `Event.is_set()` check.

Nobody polls: `step(n)` returns a future that the training thread resolves at the boundary where
the granted steps have run (or fails at once on resume, stop or the end of the run), and
`when_blocked()` a future resolved when the loop waits at a boundary.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from acc.change_signal import ChangeSignal

MAX_WATCHED = 8
T = TypeVar("T")
DEFAULT_MAX_POINTS = 10_000
# What a trajectory point holds besides the step: the weight's cosine to the weight it had when
# the watch began, then the per-feature metrics the run hands in (missing ones stay NaN).
TRAJECTORY_FIELDS = (
    "weight_cos_to_init",
    "win_rate",
    "grad_magnitude",
    "som_magnitude",
    "feature_novelty",
)


class NotPaused(RuntimeError):
    """`step()` was called while the loop runs freely."""


class StepsInterrupted(RuntimeError):
    """Granted steps will not all run: the loop was resumed, stopped or ended first. `done`
    of `asked` steps ran."""

    def __init__(self, reason: str, done: int, asked: int) -> None:
        super().__init__(f"{reason} after {done} of {asked} requested steps")
        self.reason = reason
        self.done = done
        self.asked = asked


def _settle(future: Future[Any], value: Any = None, error: BaseException | None = None) -> None:
    """Resolve `future` unless its waiter has given up on it (cancelled it) already."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
    except InvalidStateError:
        pass


@dataclass
class _Ticket:
    """One `step(n)` request: resolved with the last step once its grants have run and the
    loop is back at a step boundary."""

    target: int  # the total of consumed grants at which this request is complete
    asked: int
    future: Future[int] = dataclass_field(default_factory=Future)


class WatchError(ValueError):
    """A watch list that is too long or names a feature that does not exist."""


class _Trajectory:
    """One feature's points in preallocated arrays. While the run goes freely, a full trajectory
    is thinned (every other point dropped) and later points are kept every `stride` steps; while
    paused, every stepped step is kept."""

    def __init__(self, initial_weight: torch.Tensor, max_points: int) -> None:
        self.initial = initial_weight
        self.max_points = max_points
        self.steps = np.zeros(max_points, dtype=np.int64)
        self.values = np.full((max_points, len(TRAJECTORY_FIELDS)), np.nan, dtype=np.float32)
        self.count = 0
        self.stride = 1

    def add(self, step: int, values: np.ndarray, stepping: bool) -> None:
        if not stepping and step % self.stride:
            return
        if self.count == self.max_points:
            keep = slice(0, self.count, 2)  # every other point, the first one included
            kept = len(range(0, self.count, 2))
            self.steps[:kept] = self.steps[keep].copy()
            self.values[:kept] = self.values[keep].copy()
            self.count = kept
            self.stride *= 2
        self.steps[self.count] = step
        self.values[self.count] = values
        self.count += 1

    def to_dict(self) -> dict[str, Any]:
        points: dict[str, Any] = {"step": self.steps[: self.count].tolist()}
        for index, field in enumerate(TRAJECTORY_FIELDS):
            column = self.values[: self.count, index]
            points[field] = [None if np.isnan(v) else float(v) for v in column]
        return points


@dataclass(frozen=True)
class ControllerState:
    paused: bool
    blocked: bool  # the loop is actually waiting at a step boundary
    stop_requested: bool
    step: int  # the last finished step
    steps_granted: int  # steps released by step(n) that have not run yet
    watched: tuple[int, ...]


# How long a pause request waits for the loop to reach its step boundary before it answers.
PAUSE_WAIT_S = 2.0


class DebugController:
    """Pause/step/resume at step boundaries, plus the watches. Thread-safe: the training thread
    calls `end_step`, `record_watches` and `wait_if_paused`; any other thread controls it."""

    def __init__(
        self, max_points: int = DEFAULT_MAX_POINTS, changes: ChangeSignal | None = None
    ) -> None:
        # Bumped whenever the state() answer changes (pause, resume, stop, end, blocked).
        self.changes = changes if changes is not None else ChangeSignal()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._granted = 0  # grants not consumed yet
        self._consumed = 0  # grants consumed over the run (each released one step)
        self._tickets: list[_Ticket] = []
        self._block_waiters: list[Future[bool]] = []
        self._ended: str | None = None  # why the loop will never reach another boundary
        self._stop = False
        self._blocked = False
        self._stepping = False  # the current step was released by step(n)
        self._step = 0
        self._max_points = max_points
        self._watched: list[int] = []
        self._trajectories: dict[int, _Trajectory] = {}
        # cosine matrix of the watched features' weights at the last recorded step, and its order
        self._similarity: tuple[list[int], np.ndarray] | None = None

    # -- control (any thread) ----------------------------------------------------------------------

    @property
    def is_paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        """Block the loop at the next step boundary whose step was captured in full (a step in
        flight when the pause comes may have been a light one: the loop then runs one more, full,
        step and blocks after it)."""
        with self._lock:
            if not self._stop:
                self._running.clear()
        self.changes.bump()

    def resume(self) -> None:
        """Let the loop run freely again; unused step grants are dropped and every pending
        `step(n)` fails with `StepsInterrupted`."""
        with self._lock:
            self._granted = 0
            self._running.set()
            self._interrupt("the run was resumed")
            self._wake.notify_all()
        self.changes.bump()

    def step(self, n: int = 1) -> Future[int]:
        """Release exactly `n` more steps of a paused loop. The future gives the last step once
        they have run and the loop waits at the boundary again; it fails with `StepsInterrupted`
        when the loop is resumed, stopped or ends first."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        with self._lock:
            if self._running.is_set():
                raise NotPaused("the run is not paused; pause it before stepping")
            if self._ended is not None:
                raise StepsInterrupted(self._ended, 0, n)
            self._granted += n
            ticket = _Ticket(self._consumed + self._granted, n)
            self._tickets.append(ticket)
            self._wake.notify_all()
        return ticket.future

    def withdraw(self, future: Future[int]) -> None:
        """The caller of `step(n)` no longer waits for `future`: when no other request waits, the
        grants not yet consumed are dropped (the loop stays paused where it is)."""
        with self._lock:
            self._tickets = [ticket for ticket in self._tickets if ticket.future is not future]
            if not self._tickets:
                self._granted = 0
        future.cancel()

    def when_blocked(self) -> Future[bool]:
        """A future that gives True once the loop waits at a step boundary (at once if it does
        now), False when the loop will never block again (stopped or ended)."""
        future: Future[bool] = Future()
        with self._lock:
            if self._blocked or self._ended is not None or self._stop:
                future.set_result(self._blocked)
            else:
                self._block_waiters.append(future)
        return future

    def request_stop(self) -> None:
        """End the loop: overrides a pause (a blocked loop wakes and is told to stop)."""
        with self._lock:
            self._stop = True
            self._running.set()
            self._interrupt("the run was stopped")
            self._wake.notify_all()
        self.changes.bump()

    def end(self, reason: str) -> None:
        """The loop has ended (finished, failed or stopped): nothing waits for it any more."""
        with self._lock:
            self._ended = reason
            self._interrupt(reason)
        self.changes.bump()

    def _interrupt(self, reason: str) -> None:
        # Called with the lock held.
        consumed = self._consumed
        for ticket in self._tickets:
            done = ticket.asked - max(0, ticket.target - consumed)
            _settle(ticket.future, error=StepsInterrupted(reason, max(done, 0), ticket.asked))
        self._tickets = []
        for waiter in self._block_waiters:
            _settle(waiter, self._blocked)
        self._block_waiters = []

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def while_held(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the calling thread while the loop waits at a step boundary, keeping it
        there until `fn` returns (e.g. a rewind: nothing else touches the model meanwhile).
        `NotPaused` when the loop does not wait at a boundary now."""
        with self._lock:
            if self._running.is_set() or not self._blocked or self._granted or self._stop:
                raise NotPaused(
                    "the run is not held at a step boundary; pause it and wait until it is "
                    "blocked (its state says blocked: true)"
                )
            return fn()

    def state(self) -> ControllerState:
        with self._lock:
            return ControllerState(
                paused=not self._running.is_set(),
                blocked=self._blocked,
                stop_requested=self._stop,
                step=self._step,
                steps_granted=self._granted,
                watched=tuple(self._watched),
            )

    # -- the training thread -----------------------------------------------------------------------

    def wait_if_paused(self, full: bool = True) -> bool:
        """Called at each step boundary; `full` says whether the step just finished was captured
        in full. Returns at once while running; while paused, blocks until a step is granted,
        the run resumes or a stop is requested. False means: stop now. A paused loop whose last
        step was not full runs one more step (which a paused loop captures in full) first, so
        the step it waits at is always fully captured."""
        if self._running.is_set():
            self._stepping = False
            return not self._stop
        with self._wake:
            self._settle_tickets()
            if not full and not self._stop and not self._running.is_set():
                self._stepping = True
                return True
            while not self._running.is_set() and self._granted == 0 and not self._stop:
                if not self._blocked:
                    self._blocked = True
                    for waiter in self._block_waiters:
                        _settle(waiter, True)
                    self._block_waiters = []
                    self.changes.bump()
                self._wake.wait()
            if self._blocked:
                self._blocked = False
                self.changes.bump()
            if self._stop:
                return False
            self._stepping = not self._running.is_set()
            if self._stepping:
                self._granted -= 1
                self._consumed += 1
            return True

    def _settle_tickets(self) -> None:
        # Called with the lock held, at a boundary: every ticket whose grants were all consumed
        # has seen its last step finish.
        waiting = []
        for ticket in self._tickets:
            if ticket.target <= self._consumed:
                _settle(ticket.future, self._step)
            else:
                waiting.append(ticket)
        self._tickets = waiting

    @property
    def stepping(self) -> bool:
        """True while the loop runs a step released by `step(n)` (it is then captured in full)."""
        return self._stepping or not self._running.is_set()

    def end_step(self, step: int) -> None:
        """A step finished (called before `wait_if_paused`)."""
        self._step = step

    # -- watches and trajectories ------------------------------------------------------------------

    def set_watch(self, features: list[int], num_features: int) -> None:
        """Watch these features (replaces the list; at most 8). Trajectories of features no longer
        watched are kept until `clear_trajectories`; a newly watched one starts at the next step,
        measured against its weight at that step."""
        if len(features) > MAX_WATCHED:
            raise WatchError(f"at most {MAX_WATCHED} features can be watched, got {len(features)}")
        for feature in features:
            if isinstance(feature, bool) or not isinstance(feature, int):
                raise WatchError(f"feature ids must be integers, got {feature!r}")
            if not 0 <= feature < num_features:
                raise WatchError(f"feature {feature} does not exist; valid: 0..{num_features - 1}")
        unique = list(dict.fromkeys(features))
        with self._lock:
            self._watched = unique

    def watched(self) -> list[int]:
        return list(self._watched)

    def clear_trajectories(self) -> None:
        """Forget every trajectory; watched features start again at the next step."""
        with self._lock:
            self._trajectories = {}
            self._similarity = None

    def record_watches(
        self, step: int, weights: torch.Tensor, metrics: Mapping[str, torch.Tensor | np.ndarray]
    ) -> None:
        """Add a point for every watched feature: cosine of its weight row to the row it had when
        the watch began, and its value of each per-feature metric ([D] tensors) given."""
        with self._lock:
            watched = list(self._watched)
        if not watched:
            return
        index = torch.tensor(watched, device=weights.device)
        rows = weights.detach()[index].float().cpu()  # [W, P]: only the watched rows leave
        columns = {
            name: np.asarray(
                value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
            )
            for name, value in metrics.items()
        }
        stepping = self.stepping
        with self._lock:
            for position, feature in enumerate(watched):
                row = rows[position]
                trajectory = self._trajectories.get(feature)
                if trajectory is None:
                    trajectory = _Trajectory(row.clone(), self._max_points)
                    self._trajectories[feature] = trajectory
                values = np.full(len(TRAJECTORY_FIELDS), np.nan, dtype=np.float32)
                values[0] = float(F.cosine_similarity(row, trajectory.initial, dim=0))
                for field_index, field in enumerate(TRAJECTORY_FIELDS[1:], start=1):
                    column = columns.get(field)
                    if column is not None:
                        values[field_index] = float(column[feature])
                trajectory.add(step, values, stepping)
            unit = F.normalize(rows, dim=1)
            self._similarity = (watched, (unit @ unit.T).numpy())

    def trajectories(self) -> dict[str, Any]:
        """`{"fields", "watched", "features": {id: {step: [...], field: [...]}}, "similarity"}`;
        `similarity` is the cosine matrix of the watched features' weights at the last recorded
        step, in the order of `similarity_features`."""
        with self._lock:
            similarity = self._similarity
            return {
                "fields": list(TRAJECTORY_FIELDS),
                "watched": list(self._watched),
                "features": {
                    str(feature): trajectory.to_dict()
                    for feature, trajectory in sorted(self._trajectories.items())
                },
                "similarity_features": similarity[0] if similarity else [],
                "similarity": similarity[1].tolist() if similarity else None,
                "max_points": self._max_points,
            }
