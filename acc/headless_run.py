"""Headless runs: train a recipe condition for N steps, show progress on stderr, write a summary.

`run_headless()` is what `acc run` calls. The summary answers the project's question in numbers:
how similar the encoder's weight rows end up (mean off-diagonal cosine) and how many features
stop winning images (dead features), with or without BCL.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import torch
import torch.nn.functional as F

from acc.callbacks import Callback
from acc.data import MnistData, load_mnist
from acc.gradient_gating import BCLConfig, competition, nearest_neighbors
from acc.recipes import TrainingSetup, get_recipe
from acc.step_capture import mean_offdiagonal_cosine
from acc.trainer import StepInfo

DEAD_WIN_RATE = 0.01  # a feature winning under 1% of the images of a batch serves nobody
WIN_RATE_WINDOW = 100  # steps averaged for the win rates, so one batch does not decide
SUMMARY_FILE = "summary.json"
PROGRESS_INTERVAL_S = 0.25  # redraw the progress line at most this often


@dataclass(frozen=True)
class RunSummary:
    """The result of a headless run; `to_dict()` is what `summary.json` holds."""

    recipe: str
    condition: str
    seed: int
    steps: int
    device: str
    final_loss: float  # loss of the last step's batch
    final_loss_mean: float  # mean loss over the last `win_rate_window` steps
    weight_cosine_mean: float  # mean off-diagonal cosine similarity of encoder weight rows
    dead_features: int  # features whose mean win rate is below `dead_threshold`
    dead_threshold: float
    win_rate_window: int  # steps the win rates are averaged over
    win_rates: list[float]  # per feature, mean over the window
    steps_per_second: float
    wall_time_s: float  # the training loop only (no data loading, no setup)
    data_source: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class WinRateTracker(Callback):
    """A callback that keeps the loss and per-feature win rates of the last `window`
    of `total` steps.

    With BCL the win rates come from its forward pass; without (control) they are computed from the
    same pre-activations with `competition()` and a neighbour table refreshed on BCL's schedule
    (training passes 0, 50, 100, …), so both conditions report comparable numbers. Control pays
    for the competition only inside the window, so its steps/s stays close to the plain loop's.
    """

    def __init__(self, setup: TrainingSetup, total: int, window: int = WIN_RATE_WINDOW) -> None:
        self.setup = setup
        self.config = setup.bcl.config if setup.bcl is not None else BCLConfig()
        self.first_step = setup.trainer.global_step + max(total - window, 0) + 1
        self.rates: deque[torch.Tensor] = deque(maxlen=window)
        self.losses: deque[torch.Tensor] = deque(maxlen=window)
        self._neighbors: torch.Tensor | None = None

    def on_after_backward(self, info: StepInfo) -> None:
        in_window = info.step >= self.first_step
        if in_window:
            self.losses.append(info.loss.detach())
        if self.setup.bcl is not None:
            if in_window:
                self.rates.append(self.setup.bcl.last_metrics["win_rate"])
            return
        layer = self.setup.layer
        with torch.no_grad():
            # Refreshed on every scheduled pass, in the window or not (cheap: one [D, D] product),
            # so the table in use inside the window was taken on BCL's schedule.
            training_pass = info.step - 1  # BCL counts its hooked passes from 0
            if self._neighbors is None or training_pass % self.config.recompute_every == 0:
                self._neighbors = nearest_neighbors(layer.weight, self.config.neighborhood_k)
            if not in_window:
                return
            x = info.batch.images.reshape(info.batch.images.shape[0], -1)  # [B, P]
            a = F.linear(x, layer.weight, layer.bias)  # [B, D], the weights of this forward
            tensors = competition(x, a, self._neighbors, self.config.temperature)
        self.rates.append(tensors["win_rate"])

    def mean_win_rates(self) -> torch.Tensor:
        """Per-feature win rate averaged over the window — [D]."""
        return torch.stack(list(self.rates)).mean(dim=0)  # [D]

    def mean_loss(self) -> float:
        """Loss averaged over the window."""
        return float(torch.stack(list(self.losses)).mean())


class ProgressLine(Callback):
    """A callback that redraws one carriage-return line: step, steps/s, loss."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = total
        self.stream = stream
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def on_step_end(self, info: StepInfo) -> None:
        if self.stream is None:
            return
        now = time.perf_counter()
        done = info.step
        if now - self._last_draw < PROGRESS_INTERVAL_S and done != self.total:
            return
        self._last_draw = now
        rate = done / max(now - self.start, 1e-9)
        self.stream.write(
            f"\rstep {done}/{self.total}  {rate:7.1f} steps/s  loss {float(info.loss.detach()):.4f}"
        )
        if done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def run_headless(
    recipe: str,
    condition: str,
    steps: int,
    *,
    seed: int = 0,
    out_dir: Path | str | None = None,
    device: torch.device | str = "cpu",
    data: MnistData | None = None,
    progress: TextIO | None = sys.stderr,
) -> RunSummary:
    """Train `steps` steps of `recipe`/`condition` and return the summary; with `out_dir`, also
    write it there as `summary.json`. Unknown names raise the recipe registry's `ValueError`s."""
    if steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    chosen = get_recipe(recipe)
    chosen.check_condition(condition)
    data = data if data is not None else load_mnist()
    with chosen.build(condition, seed, data, device) as setup:
        tracker = WinRateTracker(setup, steps)
        display = ProgressLine(steps, progress)
        start = time.perf_counter()
        results = setup.trainer.train(steps, callbacks=[tracker, display])
        wall_time = time.perf_counter() - start
        win_rates = tracker.mean_win_rates()
        summary = RunSummary(
            recipe=recipe,
            condition=condition,
            seed=seed,
            steps=len(results),
            device=str(setup.device),
            final_loss=results[-1].loss,
            final_loss_mean=tracker.mean_loss(),
            weight_cosine_mean=float(mean_offdiagonal_cosine(setup.layer.weight, torch.float64)),
            dead_features=int((win_rates < DEAD_WIN_RATE).sum()),
            dead_threshold=DEAD_WIN_RATE,
            win_rate_window=len(tracker.rates),
            win_rates=[float(rate) for rate in win_rates],
            steps_per_second=len(results) / wall_time,
            wall_time_s=wall_time,
            data_source=data.source,
        )
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / SUMMARY_FILE).write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary
