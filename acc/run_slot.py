"""The trainer's one free run: start (replacing a finished one), control, stop."""

from __future__ import annotations

import threading
from typing import Any

import torch

from acc.data import MnistData
from acc.free_run import FreeRun, new_run_id, run_owner
from acc.model_owner import ModelOwnership
from acc.session import DEFAULT_BUDGET
from acc.step_inspector import CaptureBudget


class NoRun(LookupError):
    """No free run was started."""


class RunSlot:
    """Holds the current (or last finished) `FreeRun`. A run that is still going must be stopped
    before another starts; the inspector session holding the model makes `start` raise
    `ModelBusy`. A finished run stays readable until the next one starts."""

    def __init__(
        self,
        data: MnistData,
        ownership: ModelOwnership,
        device: torch.device | str = "cpu",
        *,
        budget: CaptureBudget = DEFAULT_BUDGET,
    ) -> None:
        self.data = data
        self.budget = budget
        self.ownership = ownership
        self.device = torch.device(device)
        self._lock = threading.Lock()
        self._run: FreeRun | None = None

    @property
    def current(self) -> FreeRun | None:
        return self._run

    def require(self) -> FreeRun:
        run = self._run
        if run is None:
            raise NoRun("no free run has been started")
        return run

    def start(
        self,
        recipe: str,
        condition: str,
        steps: int,
        seed: int = 0,
        capture_every: int = 10,
        paused: bool = False,
        recipe_options: dict[str, Any] | None = None,
    ) -> FreeRun:
        with self._lock:
            run_id = new_run_id()
            owner = run_owner(run_id)
            # Claimed before the previous run is discarded: a refused start changes nothing.
            self.ownership.claim(owner)
            try:
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
                    ownership=self.ownership,
                    paused=paused,
                    recipe_options=recipe_options,
                    budget=self.budget,
                    run_id=run_id,
                )
            finally:
                self.ownership.release(owner)
            return self._run

    def stop(self) -> FreeRun:
        """Stop the current run (also while paused) and wait until it has ended."""
        run = self.require()
        run.stop()
        run.wait()
        return run

    def close(self) -> None:
        """Stop and free the run (at shutdown)."""
        with self._lock:
            run, self._run = self._run, None
        if run is not None:
            run.close()
