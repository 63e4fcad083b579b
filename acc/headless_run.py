"""Headless runs: train a recipe condition for N steps, show progress on stderr, and report.

`run_headless()` is what `acc run` calls, the same way for every recipe: the recipe's own
summarizer (`TrainingSetup.make_summarizer`) watches the run as a callback and reports at the
end (`RunReport`: the `summary.json` written to the output folder, the lines printed).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import torch

from acc.callbacks import Callback
from acc.data import MnistData, load_mnist
from acc.recipes import RunReport, get_recipe
from acc.trainer import StepInfo

SUMMARY_FILE = "summary.json"
PROGRESS_INTERVAL_S = 0.25  # redraw the progress line at most this often


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
    out_dir: Path | str,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    data: MnistData | None = None,
    options: dict[str, Any] | None = None,
    progress: TextIO | None = sys.stderr,
    callbacks: Sequence[Callback] = (),
) -> RunReport:
    """Train `steps` steps of `recipe`/`condition` (with the recipe's `options`), write the
    recipe's summary to `out_dir/summary.json` (and whatever else the recipe keeps, e.g. a
    checkpoint) and return the report. Unknown names and bad options raise `ValueError`s that
    name the allowed values. `callbacks` watch the run too (e.g. a recorder)."""
    if steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    chosen = get_recipe(recipe)
    chosen.check_condition(condition)
    data = data if data is not None else load_mnist()
    out = Path(out_dir)
    with chosen.build(condition, seed, data, device, **(options or {})) as setup:
        summarizer = setup.make_summarizer(steps)
        display = ProgressLine(steps, progress)
        start = time.perf_counter()
        try:
            setup.trainer.train(
                steps, callbacks=[summarizer, display, *callbacks], keep_results=False
            )
            wall_time = time.perf_counter() - start
            out.mkdir(parents=True, exist_ok=True)
            report = summarizer.report(out, wall_time)
        finally:
            summarizer.close()
    summary = {**report.summary, "data_source": data.source}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return RunReport(summary, [*report.lines, f"summary {out / SUMMARY_FILE}"], report.warnings)
