"""The user-written callback of docs/callbacks.md, run for real (kept in step with the doc)."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from acc.callbacks import Callback
from acc.data import MnistData
from acc.recipes import get_recipe
from acc.trainer import StepInfo, Trainer

DOC = Path(__file__).resolve().parents[2] / "docs" / "callbacks.md"


class EarlyStopOnPlateau(Callback):
    """Stop when the loss has not improved by `min_delta` for `patience` steps; keep the
    gradient norm of each step."""

    def __init__(self, trainer: Trainer, patience: int = 20, min_delta: float = 1e-4) -> None:
        self.trainer = trainer
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.waited = 0
        self.grad_norms: list[float] = []
        self.stopped_at: int | None = None

    def on_after_backward(self, info: StepInfo) -> None:
        grads = [p.grad.norm() for p in info.model.parameters() if p.grad is not None]
        self.grad_norms.append(float(torch.stack(grads).norm()))

    def on_step_end(self, info: StepInfo) -> None:
        loss = float(info.loss.detach())
        if loss < self.best - self.min_delta:
            self.best, self.waited = loss, 0
            return
        self.waited += 1
        if self.waited >= self.patience and self.stopped_at is None:
            self.stopped_at = info.step
            self.trainer.stop()  # the loop returns after this step


def test_the_documented_callback_is_this_one() -> None:
    documented = re.search(r"class EarlyStopOnPlateau\(Callback\):.*?```", DOC.read_text(), re.S)
    assert documented is not None
    source = Path(__file__).read_text()
    start = source.index("class EarlyStopOnPlateau(Callback):")
    end = source.index("\n\n\ndef test_the_documented_callback_is_this_one")
    assert documented.group(0).removesuffix("```").strip() == source[start:end].strip()


def test_early_stop_ends_the_loop_and_keeps_the_gradient_norms(mnist: MnistData) -> None:
    with get_recipe("gradient_gating_l0").build("control", 0, mnist) as setup:
        # a min_delta no loss can beat: the plateau is reached after `patience` steps
        plateau = EarlyStopOnPlateau(setup.trainer, patience=5, min_delta=10.0)
        results = setup.trainer.train(1000, callbacks=[plateau])
    assert plateau.stopped_at == 6 and len(results) == 6
    assert len(plateau.grad_norms) == 6 and all(norm > 0 for norm in plateau.grad_norms)


def test_without_a_plateau_the_loop_runs_every_step(mnist: MnistData) -> None:
    with get_recipe("gradient_gating_l0").build("control", 0, mnist) as setup:
        plateau = EarlyStopOnPlateau(setup.trainer, patience=1000)
        results = setup.trainer.train(30, callbacks=[plateau])
    assert plateau.stopped_at is None and len(results) == 30
