"""Who holds the model: one inspector session or one free run at a time, never both."""

from __future__ import annotations

import threading


class ModelBusy(RuntimeError):
    """Another owner holds the model; the message names it."""

    def __init__(self, owner: str, wanted_by: str) -> None:
        super().__init__(f"the model is held by {owner}; end it before starting {wanted_by}")
        self.owner = owner


class ModelOwnership:
    """A named, exclusive claim on the model shared by the inspector and the runs.

    `claim(name)` succeeds when nobody holds the model or `name` already does (so a session can
    replace itself); otherwise it raises `ModelBusy` naming the holder. Claims by one name are
    counted and the model is free once each has been released: a slot claims first, then
    replaces what it holds, and no other owner can slip in between.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: str | None = None
        self._claims = 0

    @property
    def owner(self) -> str | None:
        return self._owner

    def claim(self, name: str) -> None:
        with self._lock:
            if self._owner is not None and self._owner != name:
                raise ModelBusy(self._owner, name)
            self._owner = name
            self._claims += 1

    def release(self, name: str) -> None:
        """Give back one claim of `name` (nothing when `name` holds none)."""
        with self._lock:
            if self._owner == name:
                self._claims -= 1
                if self._claims == 0:
                    self._owner = None
