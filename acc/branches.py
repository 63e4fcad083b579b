"""Branches: the steps a rewind abandoned, kept read-only so their losses can be overlaid on the
current line and their held steps browsed.

A rewind to step k while steps k+1..m exist moves those steps' history (every column) and their
held full data out of the inspector into a `Branch` that forks at k. `Branches` keeps the most
recent ones within a byte budget (the full data of the oldest branches goes first, then the
branches themselves).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from acc.step_events import StepEvent
from acc.step_inspector import History, StepData, StepNotRetained

MAX_BRANCHES = 16


def branch_label(fork_step: int, events: Sequence[StepEvent]) -> str:
    """What started a branch that forks at `fork_step`, given the step events of its steps: its
    first live edit (`"lr 0.001 → 0.01 at step 6"`), else `"from step 5"`."""
    edit = next((event for event in events if event.kind == "hparam"), None)
    if edit is None:
        return f"from step {fork_step}"
    return f"{edit.name} {edit.old} → {edit.new} at step {edit.step}"


class UnknownBranch(LookupError):
    """No branch has that id; says which ids exist."""

    def __init__(self, branch_id: int, known: tuple[int, ...]) -> None:
        self.branch_id = branch_id
        ids = ", ".join(str(known_id) for known_id in known) or "none"
        super().__init__(f"no branch {branch_id}; branches held: {ids}")


@dataclass
class Branch:
    """Steps `first..last` that followed step `fork_step` before a rewind to it."""

    branch_id: int
    fork_step: int
    label: str  # what started the branch (the first edit after the fork, or the fork itself)
    history: History  # every history column of the branch's steps
    snapshots: dict[int, StepData]  # the full data still held of its steps
    created: float  # wall time of the rewind that made it

    @property
    def steps(self) -> np.ndarray:
        return self.history.steps

    @property
    def snapshot_bytes(self) -> int:
        return sum(data.nbytes for data in self.snapshots.values())

    def losses(self) -> list[float | None]:
        """The loss of each of `steps` (None where it was not captured or not finite)."""
        column = self.history.columns.get("loss")
        if column is None:
            return [None] * len(self.steps)
        return [float(value) if np.isfinite(value) else None for value in column]

    def summary(self) -> dict[str, Any]:
        """`{id, fork_step, label, first_step, last_step, steps, held, created}` (plain values)."""
        steps = self.steps
        return {
            "id": self.branch_id,
            "fork_step": self.fork_step,
            "label": self.label,
            "first_step": int(steps[0]) if steps.size else None,
            "last_step": int(steps[-1]) if steps.size else None,
            "steps": int(steps.size),
            "held": sorted(self.snapshots),
            "created": self.created,
        }

    def history_since(
        self, since: int = 0, *, keys: Iterable[str] | None = None, limit: int | None = None
    ) -> History:
        """The branch's history from step `since` on, like `StepInspector.history`."""
        whole = self.history
        start = int(np.searchsorted(whole.steps, since, side="left"))
        end = whole.steps.size if limit is None else min(whole.steps.size, start + limit)
        wanted = None if keys is None else set(keys)
        columns: dict[str, np.ndarray] = {}
        offsets: dict[str, int] = {}
        for key, column in whole.columns.items():
            if wanted is not None and key not in wanted:
                continue
            lead = whole.offsets.get(key, 0)  # rows missing at the branch's start
            lo, hi = max(start - lead, 0), max(end - lead, 0)
            columns[key] = column[lo:hi]
            missing = min(max(lead - start, 0), end - start)
            if missing:
                offsets[key] = missing
        return History(
            whole.steps[start:end],
            columns,
            offsets=offsets,
            more=end < whole.steps.size,
            vectors_from=whole.vectors_from,
            failed=tuple(record for record in whole.failed if record.step >= since),
        )

    def get_step(self, step: int) -> StepData:
        """The full data of one of the branch's steps; `StepNotRetained` when it is not held."""
        data = self.snapshots.get(step)
        if data is None:
            held = sorted(self.snapshots)
            ran = bool(self.steps.size) and int(self.steps[0]) <= step <= int(self.steps[-1])
            reason = (
                f"of branch {self.branch_id} was not held in full"
                if ran
                else f"is not a step of branch {self.branch_id}"
            )
            raise StepNotRetained(step, reason, (held[0], held[-1]) if held else None)
        return data


class Branches:
    """The abandoned branches of one session, newest last, at most `max_branches` of them and
    `max_bytes` of held full data. Thread-safe (the worker adds, any thread reads)."""

    def __init__(self, max_bytes: int, max_branches: int = MAX_BRANCHES) -> None:
        self.max_bytes = max_bytes
        self.max_branches = max_branches
        self._branches: OrderedDict[int, Branch] = OrderedDict()
        self._next_id = 1
        self._lock = threading.Lock()

    def add(
        self, fork_step: int, history: History, snapshots: dict[int, StepData], label: str
    ) -> Branch:
        """Keep the steps after `fork_step` that a rewind took out of the inspector."""
        with self._lock:
            branch = Branch(self._next_id, fork_step, label, history, snapshots, time.time())
            self._next_id += 1
            self._branches[branch.branch_id] = branch
            while len(self._branches) > self.max_branches:
                self._branches.popitem(last=False)
            self._evict()
            return branch

    def _evict(self) -> None:
        # Full data goes oldest branch and oldest step first; a branch's losses stay.
        total = sum(branch.snapshot_bytes for branch in self._branches.values())
        for branch in self._branches.values():
            for step in sorted(branch.snapshots):
                if total <= self.max_bytes:
                    return
                total -= branch.snapshots.pop(step).nbytes

    def get(self, branch_id: int) -> Branch:
        with self._lock:
            branch = self._branches.get(branch_id)
            if branch is None:
                raise UnknownBranch(branch_id, tuple(self._branches))
            return branch

    def all(self) -> list[Branch]:
        with self._lock:
            return list(self._branches.values())

    def summaries(self) -> list[dict[str, Any]]:
        return [branch.summary() for branch in self.all()]

    @property
    def snapshot_bytes(self) -> int:
        with self._lock:
            return sum(branch.snapshot_bytes for branch in self._branches.values())

    def clear(self) -> None:
        with self._lock:
            self._branches.clear()
