"""`AccCallback`: `acc.attach` for PyTorch Lightning.

    from acc.lightning import AccCallback
    trainer = Trainer(callbacks=[AccCallback(port=8787)])
    trainer.fit(module, loader)

When fitting starts, the LightningModule (and the trainer's first optimizer) is attached; every
training batch ends at the step boundary with the batch's loss and the logged metrics as
scalars, so Pause/Step/Resume from the dashboard hold the training batches. Stop ends fitting
cleanly (`trainer.should_stop`). Needs the `lightning` extra (`pip install acc[lightning]`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from acc.attached_loop import DEFAULT_ATTACH_BUDGET, DEFAULT_CAPTURE_EVERY
from acc.callbacks import Callback
from acc.debugger import DEFAULT_PORT, Debugger, attach
from acc.step_inspector import CaptureBudget


class AccCallback(pl.Callback):
    """Serve acc for the module being fitted; `debugger` (and `url`) once fitting has started."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        capture_every: int = DEFAULT_CAPTURE_EVERY,
        budget: CaptureBudget = DEFAULT_ATTACH_BUDGET,
        callbacks: Sequence[Callback] = (),
        paused: bool = False,
        dashboard: bool | Path = True,
        quiet: bool = False,
    ) -> None:
        super().__init__()
        self._options: dict[str, Any] = {
            "host": host,
            "port": port,
            "capture_every": capture_every,
            "budget": budget,
            "callbacks": callbacks,
            "paused": paused,
            "dashboard": dashboard,
            "quiet": quiet,
        }
        self.debugger: Debugger | None = None
        self._attached = threading.Event()

    def wait_attached(self, timeout: float) -> Debugger:
        """The debugger once fitting (on another thread) has attached; `TimeoutError` if that
        has not happened within `timeout` seconds."""
        if not self._attached.wait(timeout) or self.debugger is None:
            raise TimeoutError(f"fitting did not attach within {timeout:g} s")
        return self.debugger

    @property
    def url(self) -> str | None:
        return self.debugger.url if self.debugger is not None else None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        optimizers = trainer.optimizers
        optimizer = optimizers[0] if optimizers else None
        self.debugger = attach(pl_module, optimizer, raise_on_stop=False, **self._options)
        self._attached.set()

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self.debugger is None:
            return
        scalars = _scalars(outputs, trainer.callback_metrics)
        self.debugger.step(**scalars)
        if self.debugger.should_stop:
            trainer.should_stop = True

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        if self.debugger is not None:
            self.debugger.loop.fail(exception)
            self._close()

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close()

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._close()

    def _close(self) -> None:
        debugger, self.debugger = self.debugger, None
        if debugger is not None:
            debugger.close()


def _scalars(outputs: Any, metrics: dict[str, Any]) -> dict[str, torch.Tensor | float]:
    """The batch's loss (from what `training_step` returned) and every scalar metric logged."""
    scalars: dict[str, torch.Tensor | float] = {}
    for name, value in metrics.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            scalars[name] = value
        elif isinstance(value, (int, float)):
            scalars[name] = float(value)
    loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
    if isinstance(loss, torch.Tensor) and loss.numel() == 1:
        scalars["loss"] = loss
    return scalars
