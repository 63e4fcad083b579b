"""What `acc run gradient_gating_l0` reports: how similar the encoder's weight rows end up (mean
off-diagonal cosine) and how many features stop winning images (dead features), with or without
BCL."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from acc.gradient_gating import BCLConfig, competition, nearest_neighbors
from acc.recipes import RunReport, RunSummarizer
from acc.step_capture import mean_offdiagonal_cosine
from acc.trainer import StepInfo

if TYPE_CHECKING:
    from acc.recipes.bcl import BCLSetup

DEAD_WIN_RATE = 0.01  # a feature winning under 1% of the images of a batch serves nobody
WIN_RATE_WINDOW = 100  # steps averaged for the win rates, so one batch does not decide


@dataclass(frozen=True)
class BCLRunSummary:
    """The result of a headless run of the BCL recipe: what `summary.json` holds."""

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


class BCLSummarizer(RunSummarizer):
    """Keeps the loss and per-feature win rates of the last `window` of `total` steps, and
    reports the run's final loss, weight cosine and dead features.

    With BCL the win rates come from its forward pass; without (control) they are computed from the
    same pre-activations with `competition()` and a neighbour table refreshed on BCL's schedule
    (training passes 0, 50, 100, …), so both conditions report comparable numbers. Control pays
    for the competition only inside the window, so its steps/s stays close to the plain loop's.
    """

    def __init__(self, setup: BCLSetup, total: int, window: int = WIN_RATE_WINDOW) -> None:
        self.setup = setup
        self.steps = 0
        self.last_loss: torch.Tensor | None = None
        self.config = setup.bcl.config if setup.bcl is not None else BCLConfig()
        self.first_step = setup.trainer.global_step + max(total - window, 0) + 1
        self.rates: deque[torch.Tensor] = deque(maxlen=window)
        self.losses: deque[torch.Tensor] = deque(maxlen=window)
        self._neighbors: torch.Tensor | None = None

    def on_after_backward(self, info: StepInfo) -> None:
        self.steps += 1
        self.last_loss = info.loss.detach()
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

    def report(self, out_dir: Path, wall_time_s: float) -> RunReport:
        """Final loss, weight cosine, dead features and win rates of the run."""
        setup = self.setup
        win_rates = self.mean_win_rates()
        summary = BCLRunSummary(
            recipe=setup.recipe,
            condition=setup.condition,
            seed=setup.seed,
            steps=self.steps,
            device=str(setup.device),
            final_loss=float(self.last_loss) if self.last_loss is not None else float("nan"),
            final_loss_mean=self.mean_loss(),
            weight_cosine_mean=float(mean_offdiagonal_cosine(setup.layer.weight, torch.float64)),
            dead_features=int((win_rates < DEAD_WIN_RATE).sum()),
            dead_threshold=DEAD_WIN_RATE,
            win_rate_window=len(self.rates),
            win_rates=[float(rate) for rate in win_rates],
            steps_per_second=self.steps / wall_time_s,
            wall_time_s=wall_time_s,
        )
        rates = " ".join(f"{rate:.3f}" for rate in summary.win_rates)
        lines = [
            f"{summary.recipe} {summary.condition} seed {summary.seed}: {summary.steps} steps on "
            f"{summary.device}, {summary.steps_per_second:.1f} steps/s",
            f"final loss            {summary.final_loss:.4f} "
            f"(mean of the last {summary.win_rate_window} steps {summary.final_loss_mean:.4f})",
            f"weight cosine (mean)  {summary.weight_cosine_mean:.4f}",
            f"dead features         {summary.dead_features} of {len(summary.win_rates)} "
            f"(win rate < {summary.dead_threshold} over the last {summary.win_rate_window} steps)",
            f"win rates             {rates}",
        ]
        return RunReport(asdict(summary), lines)
