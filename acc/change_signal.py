"""A change counter that threads bump and event loops await, so a stream wakes on a change
instead of polling on a timer."""

from __future__ import annotations

import threading
from concurrent.futures import Future


class ChangeSignal:
    """A version number that any thread `bump()`s when something changed, and futures that
    resolve once it passes a version. Bumping with nobody waiting costs a lock and an add."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._waiters: list[Future[int]] = []

    @property
    def version(self) -> int:
        """How many changes there have been."""
        return self._version

    def bump(self) -> None:
        """Something changed: resolve every waiter with the new version."""
        with self._lock:
            self._version += 1
            if not self._waiters:
                return
            version, waiters, self._waiters = self._version, self._waiters, []
        for waiter in waiters:
            if waiter.set_running_or_notify_cancel():
                waiter.set_result(version)

    def after(self, version: int) -> Future[int]:
        """A future that gives the version once it is past `version` (at once if it is now).
        Cancel it when no longer waiting; cancelled waiters are dropped."""
        future: Future[int] = Future()
        with self._lock:
            if self._version > version:
                future.set_result(self._version)
                return future
            self._waiters = [waiter for waiter in self._waiters if not waiter.cancelled()]
            self._waiters.append(future)
        return future
