"""The trainer's one inspector session: set up (replacing the previous one), use, tear down."""

from __future__ import annotations

import threading

import torch

from acc.data import MnistData
from acc.model_owner import ModelOwnership
from acc.session import DEFAULT_BUDGET, Session
from acc.step_inspector import CaptureBudget

INSPECTOR_OWNER = "the inspector session"


class NoSession(LookupError):
    """No inspector session is set up."""


class InspectorSlot:
    """Holds at most one inspector `Session`. Blocking methods; the API calls them off the event
    loop. `setup` and `teardown` are serialised; a free run holding the model makes `setup` raise
    `ModelBusy` and leaves the current session as it was."""

    def __init__(
        self,
        data: MnistData,
        ownership: ModelOwnership,
        device: torch.device | str = "cpu",
        *,
        budget: CaptureBudget = DEFAULT_BUDGET,
    ) -> None:
        self.data = data
        self.ownership = ownership
        self.device = torch.device(device)
        self.budget = budget
        self._lock = threading.Lock()
        self._session: Session | None = None

    @property
    def current(self) -> Session | None:
        return self._session

    def require(self) -> Session:
        """The current session; `NoSession` when there is none."""
        session = self._session
        if session is None or session.closed:
            raise NoSession("no inspector session; set one up first")
        return session

    def setup(self, recipe: str, condition: str, seed: int) -> Session:
        """End the current session (if any) and start a fresh one at step 0."""
        with self._lock:
            # Claimed before the current session goes: a refused setup leaves it as it was, and
            # no free run can take the model while the old session is replaced.
            self.ownership.claim(INSPECTOR_OWNER)
            try:
                self._close_current()
                self._session = Session(
                    recipe,
                    condition,
                    data=self.data,
                    seed=seed,
                    device=self.device,
                    ownership=self.ownership,
                    owner_name=INSPECTOR_OWNER,
                    budget=self.budget,
                )
            finally:
                self.ownership.release(INSPECTOR_OWNER)
            return self._session

    def teardown(self) -> str | None:
        """End the current session and free its memory; returns its id (None if there was none)."""
        with self._lock:
            return self._close_current()

    def _close_current(self) -> str | None:
        session, self._session = self._session, None
        if session is None:
            return None
        session.close()
        return session.session_id
