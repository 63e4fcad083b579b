"""Step events: the one home of the things that happened to a loop at a step besides training it
(a live edit of a hyper-parameter, a breakpoint that fired). Timelines draw them as markers, the
archive records them, a branch reads them to say what differs.

`StepEvents` is a bounded, thread-safe, append-only list of frozen `StepEvent`s: the training
thread adds, any thread reads.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# A run edited every step for a million steps must not grow without bound; timelines and the
# archive read the recent ones (the archive records each as it comes, so none is lost there).
MAX_EVENTS = 10_000
# The newest step events a state answer carries (a timeline's markers; the archive has them all).
MAX_STATE_EVENTS = 200

Value = float | str | bool | None


@dataclass(frozen=True)
class StepEvent:
    """`kind` happened at `step` (the first step it affects): e.g. `hparam` `lr` 0.001 → 0.01,
    or `breakpoint` `loss_above` with the value that fired it in `new`."""

    step: int
    kind: str  # "hparam" (a live edit), "breakpoint" (a breakpoint fired)
    name: str  # the knob or the condition
    old: Value
    new: Value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class StepEvents:
    """The events of one loop, oldest first; `count` keeps growing when old ones are dropped, so
    a reader's cursor (`after(count_seen)`) stays valid."""

    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self._events: deque[StepEvent] = deque(maxlen=max_events)
        self._count = 0
        self._lock = threading.Lock()
        # (events added by then, fork step) of each rewind: an event added before it at a later
        # step belongs to the abandoned branch, not to the line the timelines draw.
        self._forks: list[tuple[int, int]] = []

    def add(self, event: StepEvent) -> StepEvent:
        with self._lock:
            self._events.append(event)
            self._count += 1
        return event

    @property
    def count(self) -> int:
        """Events added so far (including dropped ones)."""
        return self._count

    def all(self) -> tuple[StepEvent, ...]:
        with self._lock:
            return tuple(self._events)

    def abandon_after(self, step: int) -> None:
        """A rewind to `step`: the events held now at later steps leave the current line (they
        stay in `all()` and `after()`, for the archive and the branch they belong to)."""
        with self._lock:
            self._forks.append((self._count, step))

    def _line(self) -> list[StepEvent]:
        # Called with the lock held: the held events on the current line, oldest first.
        first = self._count - len(self._events)
        return [
            event
            for index, event in enumerate(self._events, start=first)
            if not any(index < count and event.step > fork for count, fork in self._forks)
        ]

    def recent(self, limit: int) -> tuple[dict[str, Any], ...]:
        """The newest `limit` events of the current line as plain dicts (what a state answer
        carries)."""
        with self._lock:
            held = self._line()[-limit:] if limit > 0 else []
        return tuple(event.to_dict() for event in held)

    def after(self, seen: int) -> tuple[StepEvent, ...]:
        """The events added after the first `seen` (those still held)."""
        with self._lock:
            new = self._count - seen
            if new <= 0:
                return ()
            return tuple(self._events)[-min(new, len(self._events)) :]

    def since(self, step: int) -> tuple[StepEvent, ...]:
        """The held events of the current line at step `step` or later."""
        with self._lock:
            return tuple(event for event in self._line() if event.step >= step)

    def clear(self) -> None:
        """Drop the held events (`count` stays: cursors remain valid)."""
        with self._lock:
            self._events.clear()
            self._forks.clear()
