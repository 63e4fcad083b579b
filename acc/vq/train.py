"""Headless VQ-VAE training (`acc run vqvae …`): trains, prints progress, writes `summary.json`
(per-level utilisation, perplexity and dead codes over the last window, validation usage) and
`checkpoint.pt` (for `acc codebook-report --checkpoint`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

import torch

from acc.data import MnistData
from acc.recipes import TrainingSetup
from acc.session import Session
from acc.step_capture import Detail
from acc.step_inspector import CaptureBudget
from acc.vq.capture import VQCapture
from acc.vq.checkpoint import save_checkpoint

SUMMARY_FILE = "summary.json"
CHECKPOINT_FILE = "checkpoint.pt"


def train_vq_headless(
    condition: str,
    steps: int,
    *,
    data: MnistData,
    out_dir: str | Path,
    seed: int = 0,
    device: torch.device | str = "cpu",
    options: dict[str, Any] | None = None,
    progress: TextIO | None = None,
) -> dict[str, Any]:
    """Train `steps` steps of the `vqvae` recipe and write the summary and the checkpoint."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with Session(
        "vqvae",
        condition,
        data=data,
        seed=seed,
        device=device,
        plan=lambda step: Detail.HISTORY,  # no full captures: the history and the codebook health
        budget=CaptureBudget(max_full_snapshots=1),
        recipe_options=options or {},
    ) as session:
        start = time.perf_counter()
        future = session.submit_train(steps)
        while not future.done():
            time.sleep(0.5)
            if progress is not None:
                done = session.inspector.last_step or 0
                rate = done / (time.perf_counter() - start)
                losses = session.history(max(done, 1)).columns.get("loss")
                loss = float(losses[-1]) if losses is not None and len(losses) else float("nan")
                progress.write(
                    f"\r{condition}: step {done}/{steps}  {rate:6.1f} steps/s  loss {loss:.4f}"
                )
                progress.flush()
        future.result()
        elapsed = time.perf_counter() - start
        if progress is not None:
            progress.write("\n")
        capture = session.capture
        assert isinstance(capture, VQCapture)
        health = capture.health_report()
        validation = capture.validation_series()
        config = session.setup_options

        def checkpoint(setup: TrainingSetup) -> Path:
            return save_checkpoint(out / CHECKPOINT_FILE, setup.model, config, steps)  # type: ignore[arg-type]

        session.run_on_worker(checkpoint)
    summary = {
        "recipe": "vqvae",
        "condition": condition,
        "seed": seed,
        "steps": steps,
        "steps_per_second": steps / elapsed,
        "config": config,
        "window": health["window"],
        "levels": [
            {
                key: level[key]
                for key in (
                    "level",
                    "utilisation",
                    "perplexity",
                    "normalised_perplexity",
                    "dead_codes",
                )
            }
            for level in health["levels"]
        ],
        "warnings": health["warnings"],
        "final_validation": validation[-1] if validation else None,
        "checkpoint": str(out / CHECKPOINT_FILE),
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    return summary
