"""What `acc run vqvae` reports: per-level utilisation, perplexity and dead codes over the last
window, the dashboard's codebook warnings and the last validation; it also writes
`checkpoint.pt` (for `acc codebook-report --checkpoint`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from acc.recipes import RunReport, RunSummarizer
from acc.recipes.vqvae.checkpoint import save_checkpoint
from acc.step_capture import Detail
from acc.step_inspector import CaptureBudget, StepInspector
from acc.trainer import StepInfo

if TYPE_CHECKING:
    from acc.recipes.vqvae import VQSetup

CHECKPOINT_FILE = "checkpoint.pt"
LEVEL_FIELDS = ("level", "utilisation", "perplexity", "normalised_perplexity", "dead_codes")


class VQSummarizer(RunSummarizer):
    """Runs the recipe's capture without full steps (its history and the codebook health are
    what the summary reads) and reports on the codebook at the end."""

    def __init__(self, setup: VQSetup, steps: int) -> None:
        self.setup = setup
        self.steps = 0
        inspector = StepInspector.within(CaptureBudget(max_full_snapshots=1))
        self.capture = setup.make_capture(inspector, lambda step: Detail.HISTORY)

    def on_step_start(self, step: int) -> None:
        self.capture.on_step_start(step)

    def on_after_backward(self, info: StepInfo) -> None:
        self.capture.on_after_backward(info)

    def on_step_end(self, info: StepInfo) -> None:
        self.steps += 1
        self.capture.on_step_end(info)

    def close(self) -> None:
        self.capture.close()

    def report(self, out_dir: Path, wall_time_s: float) -> RunReport:
        """The codebook's health per level, its warnings, the last validation; and the
        checkpoint, written into `out_dir`."""
        setup = self.setup
        health = self.capture.health_report()
        validation = self.capture.validation_series()
        checkpoint = save_checkpoint(
            out_dir / CHECKPOINT_FILE,
            setup.model,  # type: ignore[arg-type]  # a VQVAE: the recipe built it
            setup.options,
            self.steps,
        )
        rate = self.steps / wall_time_s
        summary: dict[str, Any] = {
            "recipe": setup.recipe,
            "condition": setup.condition,
            "seed": setup.seed,
            "steps": self.steps,
            "device": str(setup.device),
            "steps_per_second": rate,
            "wall_time_s": wall_time_s,
            "config": setup.options,
            "window": health["window"],
            "levels": [{key: level[key] for key in LEVEL_FIELDS} for level in health["levels"]],
            "warnings": health["warnings"],
            "final_validation": validation[-1] if validation else None,
            "checkpoint": str(checkpoint),
        }
        lines = [
            f"{setup.recipe} {setup.condition} seed {setup.seed}: {self.steps} steps on "
            f"{setup.device}, {rate:.1f} steps/s, {setup.options['num_codes']} codes/level",
            *(
                f"level {level['level']}: utilisation {level['utilisation']:.0%}, perplexity "
                f"{level['perplexity']:.1f}, dead {level['dead_codes']} "
                f"(last {health['window']} batches)"
                for level in summary["levels"]
            ),
            f"checkpoint {checkpoint}",
        ]
        # The dashboard's codebook warnings (utilisation, dead codes) at the end.
        return RunReport(summary, lines, [f"warning: {text}" for text in health["warnings"]])
