"""Recorders of the model seat's runs: callbacks that a `Session` or a `FreeRun` makes once it
exists (its `watchers`) and that write it into a `RunArchive`, when `ModelSeat` has one.

Each records every step as it ends (after the capture committed it, before a pause blocks): the
committed scalars. A free run also records pause and resume as events, and when its training ends
its status and the full data of the steps its inspector still keeps. An inspector session records
its failed steps, and its kept steps when it is torn down.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch

from acc.archive.recorder import RunRecorder, committed_scalars
from acc.archive.store import RunArchive
from acc.archive.vocabulary import RunKind, RunStatus
from acc.free_run import FreeRun
from acc.session import Session
from acc.step_events import StepEvents
from acc.step_inspector import StepData, StepInspector, StepNotRetained, StepTensorKey
from acc.trainer import StepInfo

SCALAR_KEYS = tuple(key.value for key in StepTensorKey if key.meta.history and not key.meta.shape)
# The kept steps a run saves at its end, at most: the newest ones the inspector still holds (a
# BCL step is a few MB; the size cap, `--runs-max-mb`, bounds the directory on top).
MAX_SAVED_STEPS = 10


def kept_steps(inspector: StepInspector, limit: int = MAX_SAVED_STEPS) -> list[StepData]:
    """The full data of the newest steps `inspector` holds (at most `limit`), oldest first."""
    held = inspector.retained_range
    if held is None:
        return []
    found: list[StepData] = []
    for step in range(held[1], held[0] - 1, -1):
        try:
            found.append(inspector.get_step(step))
        except StepNotRetained:
            continue
        if len(found) == limit:
            break
    return found[::-1]


def record_step_events(recorder: RunRecorder, events: StepEvents, seen: int) -> int:
    """Record the step events (live edits, breakpoints) added after the first `seen`; returns
    how many have been seen now."""
    for event in events.after(seen):
        recorder.record_event(event.kind, event.step, name=event.name, old=event.old, new=event.new)
    return events.count


class FreeRunRecorder(RunRecorder):
    """Records one `FreeRun` (its archive id is its run id)."""

    def __init__(self, archive: RunArchive, run: FreeRun) -> None:
        session = run.session
        super().__init__(
            archive,
            run_id=run.run_id,
            kind=RunKind.FREE_RUN,
            recipe=session.recipe.name,
            condition=session.condition,
            options={
                **session.setup_options,
                "steps": run.steps,
                "capture_every": run.capture_every,
                "threads": torch.get_num_threads(),  # CPU results may differ between counts
            },
            seed=session.seed,
            scalars=lambda info: committed_scalars(session.capture.last_committed),
        )
        self.run = run
        self._was_paused = run.controller.is_paused
        self._events_seen = session.inspector.events.count

    def on_step_end(self, info: StepInfo) -> None:
        super().on_step_end(info)
        events = self.run.session.inspector.events
        self._events_seen = record_step_events(self, events, self._events_seen)
        paused = self.run.controller.is_paused
        if paused != self._was_paused:
            self.record_event("pause" if paused else "resume", info.step)
            self._was_paused = paused

    def on_exception(self, step: int, error: BaseException) -> None:
        # Any exception ends a free run as failed (as FreeRun itself says).
        if isinstance(error, Exception):
            self.record_failure(step, error)
        self._save_kept_steps()
        self.finish(RunStatus.FAILED, f"{type(error).__name__}: {error}")

    def on_train_end(self) -> None:
        # Recorded on the training thread, before the run says it has ended, so whoever waits
        # for the end finds it in the archive's queue.
        if not self.finished:
            self._save_kept_steps()
            stopped = self.run.controller.stop_requested
            self.finish(RunStatus.STOPPED if stopped else RunStatus.COMPLETED)

    def _save_kept_steps(self) -> None:
        for data in kept_steps(self.run.session.inspector):
            self.record_tensors(data.step, data.arrays)


class SessionRecorder(RunRecorder):
    """Records one inspector `Session` (its archive id is its session id)."""

    def __init__(self, archive: RunArchive, session: Session) -> None:
        super().__init__(
            archive,
            run_id=session.session_id,
            kind=RunKind.INSPECTOR,
            recipe=session.recipe.name,
            condition=session.condition,
            options=session.setup_options,
            seed=session.seed,
            scalars=lambda info: committed_scalars(session.capture.last_committed),
        )
        self.session = session
        self._events_seen = session.inspector.events.count
        self.start()  # a session exists from its setup on, stepped or not

    def on_step_end(self, info: StepInfo) -> None:
        super().on_step_end(info)
        events = self.session.inspector.events
        self._events_seen = record_step_events(self, events, self._events_seen)

    def close(self) -> None:
        """The session is torn down: keep the steps it still holds, then end the record."""
        if not self.finished:
            for data in kept_steps(self.session.inspector):
                self.record_tensors(data.step, data.arrays)
            self.finish(RunStatus.COMPLETED)


def session_watchers(archive: RunArchive | None) -> Sequence[Callable[[Session], SessionRecorder]]:
    """What watches an inspector session: its recorder when there is an archive."""
    return () if archive is None else (partial(SessionRecorder, archive),)


def free_run_watchers(archive: RunArchive | None) -> Sequence[Callable[[FreeRun], FreeRunRecorder]]:
    """What watches a free run: its recorder when there is an archive."""
    return () if archive is None else (partial(FreeRunRecorder, archive),)
