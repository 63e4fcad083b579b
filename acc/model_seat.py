"""The model seat: who holds the trainer's model. At most one inspector session or one free run
trains at a time; the seat is the one object that knows which, and every start goes through it.

A free run that has ended gives up the model but stays readable (its captures, its history)
until the next run replaces it, so "the current run" and "the owner" are different questions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import torch

from acc.archive.seat import free_run_watchers, session_watchers
from acc.archive.store import RunArchive
from acc.change_signal import ChangeSignal
from acc.data import MnistData
from acc.free_run import DEFAULT_CAPTURE_EVERY, FreeRun
from acc.session import DEFAULT_BUDGET, Session
from acc.step_inspector import CaptureBudget


class OwnerKind(StrEnum):
    INSPECTOR = "inspector session"
    FREE_RUN = "free run"


@dataclass(frozen=True)
class Owner:
    """Who holds the model: its kind and its id (a session id or a run id)."""

    kind: OwnerKind
    id: str

    def __str__(self) -> str:
        return f"the {self.kind.value} {self.id}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "id": self.id, "name": str(self)}


class ModelBusy(RuntimeError):
    """Another owner holds the model; the message names it."""

    def __init__(self, owner: Owner, wanted: str) -> None:
        super().__init__(f"the model is held by {owner}; end it before starting {wanted}")
        self.owner = owner


class NoSession(LookupError):
    """No inspector session is set up."""


class NoRun(LookupError):
    """No free run was started."""


class ModelSeat:
    """Holds at most one inspector `Session` and the current (or last finished) `FreeRun`, of
    which at most one trains. Blocking methods (they build and free models); the API calls them
    off the event loop. Every change is made under one lock, so a refused request changes
    nothing and no second owner can slip in while one is replaced."""

    def __init__(
        self,
        data: MnistData,
        device: torch.device | str = "cpu",
        *,
        budget: CaptureBudget = DEFAULT_BUDGET,
        archive: RunArchive | None = None,
    ) -> None:
        self.data = data
        self.archive = archive  # where every session and run is recorded (None: nowhere)
        self.device = torch.device(device)
        self.budget = budget
        # Bumped by the current run (steps, state) and whenever a run is started or replaced.
        self.changes = ChangeSignal()
        self._lock = threading.Lock()
        self._session: Session | None = None
        self._run: FreeRun | None = None

    # -- reading (any thread) ----------------------------------------------------------------------

    @property
    def owner(self) -> Owner | None:
        """Who trains the model now (None: it is free)."""
        session, run = self._session, self._run
        if session is not None and not session.closed:
            return Owner(OwnerKind.INSPECTOR, session.session_id)
        if run is not None and not run.finished:
            return Owner(OwnerKind.FREE_RUN, run.run_id)
        return None

    @property
    def session(self) -> Session | None:
        session = self._session
        return session if session is not None and not session.closed else None

    @property
    def run(self) -> FreeRun | None:
        """The current or last free run (it stays readable after it ends)."""
        return self._run

    def require_session(self) -> Session:
        """The inspector session; `NoSession` when there is none."""
        session = self.session
        if session is None:
            raise NoSession("no inspector session; set one up first")
        return session

    def require_run(self) -> FreeRun:
        """The current or last free run; `NoRun` when none was started."""
        run = self._run
        if run is None:
            raise NoRun("no free run has been started")
        return run

    # -- the inspector session -----------------------------------------------------------------------

    def setup_session(
        self,
        recipe: str,
        condition: str,
        seed: int = 0,
        recipe_options: dict[str, Any] | None = None,
    ) -> Session:
        """End the current session (if any) and start a fresh one at step 0, its setup built
        with `recipe_options`. `ModelBusy` (and nothing changed) while a free run trains."""
        with self._lock:
            self._refuse_unless(OwnerKind.INSPECTOR, "an inspector session")
            self._close_session()
            self._session = Session(
                recipe,
                condition,
                data=self.data,
                seed=seed,
                device=self.device,
                recipe_options=recipe_options,
                budget=self.budget,
                watchers=session_watchers(self.archive),
            )
            return self._session

    def teardown_session(self) -> str | None:
        """End the session and free its memory; returns its id (None if there was none)."""
        with self._lock:
            return self._close_session()

    def _close_session(self) -> str | None:
        session, self._session = self._session, None
        if session is None:
            return None
        session.close()
        return session.session_id

    # -- the free run --------------------------------------------------------------------------------

    def start_run(
        self,
        recipe: str,
        condition: str,
        steps: int,
        seed: int = 0,
        capture_every: int = DEFAULT_CAPTURE_EVERY,
        paused: bool = False,
        recipe_options: dict[str, Any] | None = None,
    ) -> FreeRun:
        """Start a free run, replacing the last one (which must have ended). `ModelBusy` (and
        nothing changed, the last run kept) while a session or another run holds the model."""
        with self._lock:
            self._refuse_unless(None, "a free run")
            previous, self._run = self._run, None
            if previous is not None:
                previous.close()
            self._run = FreeRun(
                recipe,
                condition,
                steps,
                data=self.data,
                seed=seed,
                capture_every=capture_every,
                device=self.device,
                paused=paused,
                recipe_options=recipe_options,
                budget=self.budget,
                changes=self.changes,
                watchers=free_run_watchers(self.archive),
            )
            self.changes.bump()
            return self._run

    def stop_run(self) -> FreeRun:
        """Stop the run (also while paused) and wait until it has ended."""
        run = self.require_run()
        run.stop()
        run.wait()
        return run

    def _refuse_unless(self, kind: OwnerKind | None, wanted: str) -> None:
        # Called with the lock held: only an owner of `kind` (or none) may be replaced.
        owner = self.owner
        if owner is not None and owner.kind != kind:
            raise ModelBusy(owner, wanted)

    # -- ending --------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop and free everything (at shutdown)."""
        with self._lock:
            self._close_session()
            run, self._run = self._run, None
        if run is not None:
            run.close()
