"""The archive's one writer thread: the training thread enqueues, the writer batches.

Steps are committed in one transaction every `flush_steps` steps or `flush_seconds` seconds,
whichever comes first, so a process killed at any moment loses at most that much; a run's start
and end are committed at once. The queue is bounded: a writer that falls behind slows the
training thread down (it waits for room, up to `PUT_TIMEOUT_S`) rather than growing memory.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from acc.archive.store import ArchiveError, RunStatus, options_json

if TYPE_CHECKING:
    from acc.archive.store import RunArchive

log = logging.getLogger(__name__)
PUT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class _Begin:
    run_id: str
    kind: str
    recipe: str
    condition: str
    options: str
    seed: int | None
    started_at: float


@dataclass(frozen=True)
class _Step:
    run_id: str
    step: int
    wall: float
    scalars: dict[str, Any]  # floats, 0-dim arrays or detached scalar tensors


@dataclass(frozen=True)
class _Event:
    run_id: str
    step: int | None
    wall: float
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class _Tensors:
    run_id: str
    step: int
    arrays: dict[str, np.ndarray]


@dataclass(frozen=True)
class _End:
    run_id: str
    status: str
    error: str | None
    ended_at: float


@dataclass(frozen=True)
class _Flush:
    done: Future[None]


_STOP = object()


def _number(value: Any) -> float | None:
    """A recorded scalar as a float (None for NaN, which SQLite would store as NULL anyway)."""
    number = float(value)
    return None if math.isnan(number) else number


class ArchiveWriter:
    """Owns the write connection; started on the first write, stopped by `close()`."""

    def __init__(
        self,
        archive: RunArchive,
        *,
        flush_steps: int = 100,
        flush_seconds: float = 1.0,
        queue_size: int = 10_000,
    ) -> None:
        if flush_steps < 1 or flush_seconds <= 0:
            raise ValueError("flush_steps must be >= 1 and flush_seconds > 0")
        self.archive = archive
        self.flush_steps = flush_steps
        self.flush_seconds = flush_seconds
        self._queue: queue.Queue[object] = queue.Queue(queue_size)
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.dropped = 0  # items not recorded: the queue stayed full, or the archive is unusable
        self.failure: BaseException | None = None
        self._event_seq: dict[str, int] = {}

    # -- the producer side (any thread) ------------------------------------------------------------

    def begin(
        self,
        run_id: str,
        *,
        kind: str,
        recipe: str,
        condition: str,
        options: dict[str, Any],
        seed: int | None,
        started_at: float | None = None,
    ) -> None:
        self._put(
            _Begin(
                run_id,
                kind,
                recipe,
                condition,
                options_json(options),
                seed,
                time.time() if started_at is None else started_at,
            )
        )

    def step(
        self, run_id: str, step: int, scalars: dict[str, Any], wall: float | None = None
    ) -> None:
        self._put(_Step(run_id, step, time.time() if wall is None else wall, scalars))

    def event(self, run_id: str, step: int | None, kind: str, **detail: Any) -> None:
        self._put(_Event(run_id, step, time.time(), kind, detail))

    def tensors(self, run_id: str, step: int, arrays: dict[str, np.ndarray]) -> None:
        self._put(_Tensors(run_id, step, arrays))

    def end(self, run_id: str, status: RunStatus | str, error: str | None = None) -> None:
        self._put(_End(run_id, str(status), error, time.time()))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything enqueued before this call is committed; False on timeout."""
        if self._thread is None:
            return True
        done: Future[None] = Future()
        self._put(_Flush(done))
        try:
            done.result(timeout)
        except TimeoutError:
            return False
        return True

    def _put(self, item: object) -> None:
        if self.archive.problem is not None or self._closed:
            self.dropped += 1
            if isinstance(item, _Flush):
                item.done.set_result(None)
            return
        self._ensure_started()
        try:
            self._queue.put(item, timeout=PUT_TIMEOUT_S)
        except queue.Full:
            self.dropped += 1
            log.warning("the runs archive writer fell behind; a record was dropped")

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name="acc-archive-writer", daemon=True)
                thread.start()
                self._thread = thread

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread. Idempotent."""
        if self._closed:
            return
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP, timeout=timeout)
            thread.join(timeout)
        self._closed = True

    # -- the writer thread ---------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            db = self.archive.connect()
        except ArchiveError as error:
            self.failure = error
            self._drain_after_failure()
            return
        batch = _Batch()
        deadline: float | None = None
        try:
            while True:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    item = None
                if item is _STOP:
                    self._commit(db, batch)
                    return
                if item is not None:
                    urgent = batch.add(item)
                    if deadline is None:
                        deadline = time.monotonic() + self.flush_seconds
                else:
                    urgent = False
                due = deadline is not None and time.monotonic() >= deadline
                if urgent or due or batch.steps >= self.flush_steps:
                    self._commit(db, batch)
                    batch = _Batch()
                    deadline = None
        except BaseException as error:  # a full disk, a damaged file: stop recording, say why
            self.failure = error
            log.error("the runs archive stopped recording: %s", error)
            self._drain_after_failure()
        finally:
            db.close()

    def _drain_after_failure(self) -> None:
        # Producers must never block on a dead writer: swallow what comes, answer flushes.
        self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Flush):
                item.done.set_result(None)

    def _commit(self, db: sqlite3.Connection, batch: _Batch) -> None:
        if batch.empty:
            return
        written: list[tuple[str, int, str, int]] = []
        for tensors in batch.tensors:  # files first: a row never names a missing file
            written.append(self._write_tensors(tensors))
        with db:
            for begin in batch.begins:
                db.execute(
                    "INSERT OR IGNORE INTO runs (id, kind, recipe, condition, options, seed, status, "
                    "started_at, pid, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        begin.run_id,
                        begin.kind,
                        begin.recipe,
                        begin.condition,
                        begin.options,
                        begin.seed,
                        RunStatus.RUNNING,
                        begin.started_at,
                        self.archive.pid,
                        self.archive.token,
                    ),
                )
            self._write_steps(db, batch.steps_by_run)
            for event in batch.events:
                seq = self._next_seq(db, event.run_id)
                db.execute(
                    "INSERT INTO events (run_id, seq, step, wall, kind, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        event.run_id,
                        seq,
                        event.step,
                        event.wall,
                        event.kind,
                        json.dumps(event.detail, default=str),
                    ),
                )
            db.executemany(
                "INSERT OR REPLACE INTO tensors (run_id, step, file, bytes) VALUES (?, ?, ?, ?)",
                written,
            )
            for end in batch.ends:
                db.execute(
                    "UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?",
                    (end.status, end.error, end.ended_at, end.run_id),
                )
        if written and self.archive.max_bytes is not None:
            self.archive.prune(self.archive.max_bytes)
        for flush in batch.flushes:
            flush.done.set_result(None)

    def _next_seq(self, db: sqlite3.Connection, run_id: str) -> int:
        seq = self._event_seq.get(run_id)
        if seq is None:
            row = db.execute("SELECT MAX(seq) FROM events WHERE run_id = ?", (run_id,)).fetchone()
            seq = -1 if row[0] is None else int(row[0])
        self._event_seq[run_id] = seq + 1
        return seq + 1

    def _write_steps(self, db: sqlite3.Connection, steps_by_run: dict[str, list[_Step]]) -> None:
        for run_id, steps in steps_by_run.items():
            scalar_rows: list[tuple[str, str, int, float | None]] = []
            keys: set[str] = set()
            losses: list[float] = []
            for record in steps:
                for key, value in record.scalars.items():
                    number = _number(value)
                    scalar_rows.append((run_id, key, record.step, number))
                    keys.add(key)
                    if key == "loss" and number is not None and math.isfinite(number):
                        losses.append(number)
            db.executemany(
                "INSERT OR REPLACE INTO steps (run_id, step, wall) VALUES (?, ?, ?)",
                [(run_id, record.step, record.wall) for record in steps],
            )
            db.executemany(
                "INSERT OR REPLACE INTO scalars (run_id, key, step, value) VALUES (?, ?, ?, ?)",
                scalar_rows,
            )
            db.executemany(
                "INSERT OR IGNORE INTO run_keys (run_id, key) VALUES (?, ?)",
                [(run_id, key) for key in sorted(keys)],
            )
            last = steps[-1]
            final = losses[-1] if losses else None  # the last finite loss
            db.execute(
                "UPDATE runs SET steps = steps + ?, last_step = MAX(COALESCE(last_step, 0), ?), "
                "last_wall = ?, final_loss = COALESCE(?, final_loss), "
                "best_loss = CASE WHEN ? IS NULL THEN best_loss "
                "ELSE MIN(COALESCE(best_loss, ?), ?) END WHERE id = ?",
                (
                    len(steps),
                    last.step,
                    last.wall,
                    final,
                    min(losses) if losses else None,
                    min(losses) if losses else None,
                    min(losses) if losses else None,
                    run_id,
                ),
            )

    def _write_tensors(self, tensors: _Tensors) -> tuple[str, int, str, int]:
        from safetensors.numpy import save_file

        path = self.archive.tensor_path(tensors.run_id, tensors.step)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        arrays = {key: np.ascontiguousarray(array) for key, array in tensors.arrays.items()}
        save_file(arrays, str(partial))
        os.replace(partial, path)
        relative = path.relative_to(self.archive.root).as_posix()
        return tensors.run_id, tensors.step, relative, path.stat().st_size


class _Batch:
    """What one transaction writes."""

    def __init__(self) -> None:
        self.begins: list[_Begin] = []
        self.steps_by_run: dict[str, list[_Step]] = {}
        self.steps = 0
        self.events: list[_Event] = []
        self.tensors: list[_Tensors] = []
        self.ends: list[_End] = []
        self.flushes: list[_Flush] = []

    @property
    def empty(self) -> bool:
        return not (
            self.begins or self.steps or self.events or self.tensors or self.ends or self.flushes
        )

    def add(self, item: object) -> bool:
        """Add `item`; True when it must be committed now (a start, an end, a flush)."""
        if isinstance(item, _Step):
            self.steps_by_run.setdefault(item.run_id, []).append(item)
            self.steps += 1
            return False
        if isinstance(item, _Begin):
            self.begins.append(item)
            return True
        if isinstance(item, _Event):
            self.events.append(item)
            return False
        if isinstance(item, _Tensors):
            self.tensors.append(item)
            return False
        if isinstance(item, _End):
            self.ends.append(item)
            return True
        if isinstance(item, _Flush):
            self.flushes.append(item)
            return True
        raise TypeError(f"unknown archive record {item!r}")
