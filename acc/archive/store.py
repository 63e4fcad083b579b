"""The runs archive: every run's meta, options, scalars, events and status in one SQLite database
(WAL) in a runs directory, and the tensors of its kept steps as safetensors files beside it.

Layout of a runs directory:

    runs.sqlite                       the database (plus runs.sqlite-wal / -shm while open)
    tensors/<run id>/<step>.safetensors   the full data of a kept step

Writes go through one writer thread fed by a bounded queue (`ArchiveWriter`): the training
thread only enqueues. Readers open their own connections, so a reader never waits for the
writer's batch. A run records the writer's pid and a start token; opening the archive marks the
runs of a process that no longer exists `interrupted` (kill -9, power loss).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from acc.archive.vocabulary import RunStatus
from acc.step_inspector import FailedStep, History, StepData

DATABASE_NAME = "runs.sqlite"
TENSORS_DIR = "tensors"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000


class ArchiveError(RuntimeError):
    """The runs directory cannot be used: not a directory, a file that is not an acc runs
    database, a damaged database, or one written by a newer acc. The message names the path."""


class NoArchive(LookupError):
    """Runs are not recorded (no runs directory was given)."""


class ArchivedRunNotFound(LookupError):
    """No archived run has this id."""


class ArchivedRunActive(RuntimeError):
    """The run is still being recorded by a live process; it cannot be deleted."""


class UnknownHistoryKey(ValueError):
    """A history key the run did not record."""


_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipe TEXT NOT NULL,
    condition TEXT NOT NULL,
    options TEXT NOT NULL,
    seed INTEGER,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    last_wall REAL,
    steps INTEGER NOT NULL DEFAULT 0,
    last_step INTEGER,
    final_loss REAL,
    best_loss REAL,
    error TEXT,
    pid INTEGER NOT NULL,
    token TEXT NOT NULL
);
CREATE INDEX runs_started ON runs(started_at);
CREATE TABLE steps (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    wall REAL NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE scalars (
    run_id TEXT NOT NULL,
    key TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
CREATE TABLE run_keys (
    run_id TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER,
    wall REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE tensors (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    file TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
"""
_TABLES = {"runs", "steps", "scalars", "run_keys", "events", "tensors"}


def process_token(pid: int) -> str | None:
    """A token that tells this process apart from a later one given the same pid: its start
    time (Linux /proc), "" where the platform has none; None when no process has this pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, owned by someone else
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces: fields after its closing parenthesis.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


@dataclass(frozen=True)
class ArchivedRun:
    """One run's row: meta, status and summary."""

    id: str
    kind: str
    recipe: str
    condition: str
    options: dict[str, Any]
    seed: int | None
    status: str
    started_at: float
    ended_at: float | None  # when it ended, or (interrupted) its last recorded step
    steps: int  # steps recorded
    last_step: int | None
    final_loss: float | None
    best_loss: float | None
    error: str | None
    tensor_bytes: int = 0
    kept_steps: tuple[int, ...] = ()
    events: tuple[dict[str, Any], ...] = field(default=())

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to the last recorded step)."""
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "recipe": self.recipe,
            "condition": self.condition,
            "options": self.options,
            "seed": self.seed,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration": self.duration,
            "steps": self.steps,
            "last_step": self.last_step,
            "final_loss": self.final_loss,
            "best_loss": self.best_loss,
            "error": self.error,
            "tensor_bytes": self.tensor_bytes,
            "kept_steps": list(self.kept_steps),
            "events": list(self.events),
        }


@dataclass(frozen=True)
class RunList:
    """Runs newest first, with the whole archive's size."""

    runs: tuple[ArchivedRun, ...]
    total: int  # runs matching the filters (before `limit`)
    archive_bytes: int


@dataclass(frozen=True)
class RunHistory:
    """A run's scalar history (the inspector's `History` shape) and each step's wall time."""

    history: History
    wall: np.ndarray  # [S] float64 seconds since the epoch
    keys: tuple[str, ...]  # every scalar key the run recorded


def _loads(text: str) -> Any:
    return json.loads(text)


class RunArchive:
    """A runs directory. Reading is plain method calls; recording goes through `writer`
    (started on the first write). `problem` holds the `ArchiveError` when the directory cannot
    be used: every call then raises it, and nothing is recorded (training goes on)."""

    def __init__(
        self,
        root: Path | str,
        *,
        max_bytes: int | None = None,
        flush_steps: int = 100,
        flush_seconds: float = 1.0,
        queue_size: int = 10_000,
    ) -> None:
        if max_bytes is not None and max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0 or None, got {max_bytes}")
        self.root = Path(root)
        self.db_path = self.root / DATABASE_NAME
        self.tensors_dir = self.root / TENSORS_DIR
        self.max_bytes = max_bytes
        self.pid = os.getpid()
        self.token = process_token(self.pid) or ""
        self.problem: ArchiveError | None = None
        self._lock = threading.Lock()
        try:
            self._open()
        except ArchiveError as error:
            self.problem = error
        # Imported here: the writer module imports this one.
        from acc.archive.writer import ArchiveWriter

        self.writer = ArchiveWriter(
            self, flush_steps=flush_steps, flush_seconds=flush_seconds, queue_size=queue_size
        )

    # -- opening ---------------------------------------------------------------------------------

    def _open(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ArchiveError(f"the runs directory {self.root} is a file, not a directory")
        if self.db_path.exists() and not self.db_path.is_file():
            raise ArchiveError(
                f"{self.db_path} is not a file; move it away or pick another runs directory"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.tensors_dir.mkdir(exist_ok=True)
        except OSError as error:
            raise ArchiveError(f"cannot create the runs directory {self.root}: {error}") from None
        with self._connection() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if version == 0 and not tables:
                db.execute("PRAGMA journal_mode=WAL")
                with db:
                    db.executescript(
                        f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
                    )
            elif version > SCHEMA_VERSION:
                raise ArchiveError(
                    f"{self.db_path} was written by a newer acc (schema {version}; this acc reads "
                    f"schema {SCHEMA_VERSION}); upgrade acc or pick another runs directory"
                )
            elif version != SCHEMA_VERSION or not tables >= _TABLES:
                raise ArchiveError(
                    f"{self.db_path} is an SQLite database but not an acc runs database "
                    f"(schema {version}, tables {sorted(tables)}); move it away or pick another "
                    "runs directory"
                )
            else:
                db.execute("PRAGMA journal_mode=WAL")
            self._mark_interrupted(db)

    def _mark_interrupted(self, db: sqlite3.Connection) -> None:
        """Runs left `running` by a process that no longer exists (or a later one with the same
        pid) ended when it died: at their last recorded step."""
        rows = db.execute("SELECT id, pid, token FROM runs WHERE status = ?", (RunStatus.RUNNING,))
        dead = [run_id for run_id, pid, token in rows if process_token(pid) != token]
        if not dead:
            return
        with db:
            db.executemany(
                "UPDATE runs SET status = ?, ended_at = COALESCE(last_wall, started_at) "
                "WHERE id = ? AND status = ?",
                [(RunStatus.INTERRUPTED, run_id, RunStatus.RUNNING) for run_id in dead],
            )

    def connect(self) -> sqlite3.Connection:
        """A new connection to the database (the writer's, or one reader's)."""
        try:
            db = sqlite3.connect(
                self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=OFF")
        except sqlite3.DatabaseError as error:
            raise self._unreadable(error) from None
        return db

    def _unreadable(self, error: sqlite3.Error) -> ArchiveError:
        return ArchiveError(
            f"{self.db_path} cannot be read as an acc runs database ({error}); it is damaged or "
            "not a database: move it away or pick another runs directory"
        )

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A reader's connection, closed afterwards; SQLite errors become `ArchiveError`."""
        db = self.connect()
        try:
            yield db
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise ArchiveError(f"{self.db_path} stayed locked: {error}") from None
            raise self._unreadable(error) from None
        except sqlite3.DatabaseError as error:
            raise self._unreadable(error) from None
        finally:
            db.close()

    def check(self) -> None:
        """Raise the directory's `ArchiveError`, if it has one."""
        if self.problem is not None:
            raise self.problem

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A reader's connection; runs whose process died since are marked interrupted first
        (another process's `acc run` may have been killed while this one runs)."""
        self.check()
        with self._connection() as db:
            self._mark_interrupted(db)
            yield db

    # -- reading ---------------------------------------------------------------------------------

    _COLUMNS = (
        "id, kind, recipe, condition, options, seed, status, started_at, ended_at, steps, "
        "last_step, final_loss, best_loss, error, "
        "(SELECT COALESCE(SUM(bytes), 0) FROM tensors WHERE tensors.run_id = runs.id)"
    )

    @staticmethod
    def _run(row: tuple[Any, ...], **more: Any) -> ArchivedRun:
        return ArchivedRun(
            id=row[0],
            kind=row[1],
            recipe=row[2],
            condition=row[3],
            options=_loads(row[4]),
            seed=row[5],
            status=row[6],
            started_at=row[7],
            ended_at=row[8],
            steps=row[9],
            last_step=row[10],
            final_loss=row[11],
            best_loss=row[12],
            error=row[13],
            tensor_bytes=row[14],
            **more,
        )

    def list_runs(
        self,
        *,
        recipe: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> RunList:
        """Runs newest first, filtered by recipe and status, with the archive's size."""
        where, params = [], []
        if recipe is not None:
            where.append("recipe = ?")
            params.append(recipe)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self.reading() as db:
            total = db.execute(f"SELECT COUNT(*) FROM runs{clause}", params).fetchone()[0]
            rows = db.execute(
                f"SELECT {self._COLUMNS} FROM runs{clause} ORDER BY started_at DESC, id "
                "LIMIT ? OFFSET ?",
                [*params, -1 if limit is None else limit, offset],
            ).fetchall()
            kept: dict[str, list[int]] = {}
            for run_id, step in db.execute(
                "SELECT t.run_id, t.step FROM tensors t JOIN (SELECT id FROM runs"
                f"{clause} ORDER BY started_at DESC, id LIMIT ? OFFSET ?) r ON r.id = t.run_id "
                "ORDER BY t.run_id, t.step",
                [*params, -1 if limit is None else limit, offset],
            ):
                kept.setdefault(run_id, []).append(step)
        runs = tuple(self._run(row, kept_steps=tuple(kept.get(row[0], ()))) for row in rows)
        return RunList(runs, total, self.size_bytes())

    def get_run(self, run_id: str) -> ArchivedRun:
        """One run with its events and kept steps; `ArchivedRunNotFound` if there is none."""
        with self.reading() as db:
            row = db.execute(f"SELECT {self._COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise ArchivedRunNotFound(f"no archived run has id {run_id!r}")
            kept = tuple(
                step
                for (step,) in db.execute(
                    "SELECT step FROM tensors WHERE run_id = ? ORDER BY step", (run_id,)
                )
            )
            events = tuple(
                {"step": step, "wall": wall, "kind": kind, **_loads(detail)}
                for step, wall, kind, detail in db.execute(
                    "SELECT step, wall, kind, detail FROM events WHERE run_id = ? ORDER BY seq",
                    (run_id,),
                )
            )
        return self._run(row, kept_steps=kept, events=events)

    def run_keys(self, run_id: str) -> tuple[str, ...]:
        """The scalar keys the run recorded."""
        with self.reading() as db:
            self._require(db, run_id)
            return self._keys(db, run_id)

    @staticmethod
    def _keys(db: sqlite3.Connection, run_id: str) -> tuple[str, ...]:
        rows = db.execute("SELECT key FROM run_keys WHERE run_id = ? ORDER BY key", (run_id,))
        return tuple(key for (key,) in rows)

    @staticmethod
    def _require(db: sqlite3.Connection, run_id: str) -> None:
        if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise ArchivedRunNotFound(f"no archived run has id {run_id!r}")

    def history(
        self,
        run_id: str,
        *,
        keys: Iterable[str] | None = None,
        since: int = 0,
        limit: int | None = None,
    ) -> RunHistory:
        """The run's scalars from step `since` on (at most `limit` steps; `more` says whether
        later ones exist), only `keys` when given (`UnknownHistoryKey` for one it did not
        record). Steps missing a key read NaN, as in the live history."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        with self.reading() as db:
            self._require(db, run_id)
            recorded = self._keys(db, run_id)
            wanted = recorded if keys is None else tuple(dict.fromkeys(keys))
            unknown = [key for key in wanted if key not in recorded]
            if unknown:
                raise UnknownHistoryKey(
                    f"run {run_id} recorded no {', '.join(unknown)}; its keys: "
                    f"{', '.join(recorded) or 'none'}"
                )
            rows = db.execute(
                "SELECT step, wall FROM steps WHERE run_id = ? AND step >= ? ORDER BY step LIMIT ?",
                (run_id, since, -1 if limit is None else limit + 1),
            ).fetchall()
            more = limit is not None and len(rows) > limit
            rows = rows[:limit] if limit is not None else rows
            steps = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            wall = np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows))
            last = int(steps[-1]) if steps.size else since - 1
            columns: dict[str, np.ndarray] = {}
            for key in wanted:
                column = np.full(steps.size, np.nan, dtype=np.float32)
                found = db.execute(
                    "SELECT step, value FROM scalars WHERE run_id = ? AND key = ? AND step >= ? "
                    "AND step <= ? ORDER BY step",
                    (run_id, key, since, last),
                ).fetchall()
                if found:
                    at = np.searchsorted(steps, [row[0] for row in found])
                    values = [np.nan if row[1] is None else row[1] for row in found]
                    column[at] = values
                columns[key] = column
            failed = tuple(
                FailedStep(step, detail.get("error", ""), detail.get("message", ""))
                for step, detail in (
                    (step, _loads(text))
                    for step, text in db.execute(
                        "SELECT step, detail FROM events WHERE run_id = ? AND kind = 'failure' "
                        "AND step >= ? ORDER BY seq",
                        (run_id, since),
                    )
                )
                if not more or step <= last
            )
        return RunHistory(History(steps, columns, more=more, failed=failed), wall, recorded)

    def kept_step(self, run_id: str, step: int) -> StepData:
        """The full data of a kept step, read from its safetensors file."""
        from safetensors.numpy import load_file

        with self.reading() as db:
            self._require(db, run_id)
            row = db.execute(
                "SELECT file FROM tensors WHERE run_id = ? AND step = ?", (run_id, step)
            ).fetchone()
        if row is None:
            raise ArchivedRunNotFound(f"run {run_id} kept no tensors of step {step}")
        try:
            arrays = load_file(str(self.root / row[0]))
        except (OSError, ValueError) as error:  # safetensors raises its own error type too
            raise ArchiveError(
                f"the tensors of step {step} of run {run_id} are unreadable: {error}"
            ) from None
        except Exception as error:
            raise ArchiveError(
                f"the tensors of step {step} of run {run_id} are unreadable: {error}"
            ) from None
        return StepData(step, dict(arrays))

    def size_bytes(self) -> int:
        """What the runs directory takes on disk: the database and every kept tensor."""
        total = 0
        for name in (DATABASE_NAME, f"{DATABASE_NAME}-wal", f"{DATABASE_NAME}-shm"):
            with suppress(OSError):
                total += (self.root / name).stat().st_size
        if self.problem is None:
            with self._connection() as db:
                total += db.execute("SELECT COALESCE(SUM(bytes), 0) FROM tensors").fetchone()[0]
        return int(total)

    # -- changing (any thread; the writer's batches wait for these and the other way round) -------

    def delete_run(self, run_id: str) -> None:
        """Delete a run: its rows and its tensor files. `ArchivedRunActive` while a live process
        records it."""
        with self.reading() as db:
            row = db.execute(
                "SELECT status, pid, token FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise ArchivedRunNotFound(f"no archived run has id {run_id!r}")
            status, pid, token = row
            if status == RunStatus.RUNNING and process_token(pid) == token:
                raise ArchivedRunActive(
                    f"run {run_id} is still being recorded (process {pid}); stop it first"
                )
            with db:
                for table in ("steps", "scalars", "run_keys", "events", "tensors"):
                    db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.tensors_dir / run_id, ignore_errors=True)

    def prune(self, max_bytes: int) -> list[tuple[str, int]]:
        """Delete kept tensors, oldest run and step first, until the archive takes at most
        `max_bytes` (scalars are small and always kept). Returns the (run, step) pairs dropped."""
        dropped: list[tuple[str, int]] = []
        excess = self.size_bytes() - max_bytes
        if excess <= 0:
            return dropped
        with self.reading() as db:
            rows = db.execute(
                "SELECT t.run_id, t.step, t.file, t.bytes FROM tensors t JOIN runs r "
                "ON r.id = t.run_id ORDER BY r.started_at, t.step"
            ).fetchall()
            for run_id, step, file, size in rows:
                if excess <= 0:
                    break
                with db:
                    db.execute("DELETE FROM tensors WHERE run_id = ? AND step = ?", (run_id, step))
                (self.root / file).unlink(missing_ok=True)
                excess -= size
                dropped.append((run_id, step))
        return dropped

    # -- recording (the writer thread does the work) --------------------------------------------

    def tensor_path(self, run_id: str, step: int) -> Path:
        return self.tensors_dir / run_id / f"{step}.safetensors"

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop the writer thread."""
        self.writer.close(timeout)

    def __enter__(self) -> RunArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def options_json(options: Mapping[str, Any]) -> str:
    """Options as JSON (anything not plain becomes its string)."""
    return json.dumps(dict(options), sort_keys=True, default=str)


def now() -> float:
    return time.time()
