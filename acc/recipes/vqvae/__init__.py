"""Recipe `vqvae`: a small convolutional VQ-VAE on MNIST with a residual codebook (2–4 levels),
EMA or learned codes, an optional Sinkhorn dead-code loss and optional dead-code revival.

The package holds the recipe whole: its conditions and options (here, defined once), its model
(`model.py`) and quantizers (`quantizer.py`, `sinkhorn.py`), what the inspector keeps of a step
and the codebook's health and dynamics (`capture.py`, `health.py`, `monitor.py`), what `acc run`
reports (`summary.py`), checkpoints and the offline codebook report (`checkpoint.py`,
`report.py`).

Conditions: `ema` and `learned` (the codebook type; codes start at vectors of the first batch),
and `collapse`: a learned codebook drawn at random far from the data (8× the scale, no data
init), which collapses onto a few codes — the case the codebook health warnings exist for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from acc.data import DEFAULT_BATCH_SIZE, Batch, BatchIterator, MnistData
from acc.live_edits import Knob
from acc.recipes import Recipe, TrainingSetup
from acc.recipes.options import OptionSpec
from acc.recipes.vqvae.capture import VQCapture
from acc.recipes.vqvae.model import VQVAE, VQVAEOutput
from acc.recipes.vqvae.quantizer import QuantizerKind
from acc.recipes.vqvae.sinkhorn import sinkhorn_loss
from acc.recipes.vqvae.summary import VQSummarizer
from acc.step_capture import DetailPlan
from acc.step_inspector import StepInspector
from acc.trainer import Trainer

NAME = "vqvae"
CONDITIONS = ("ema", "learned", "collapse")
DEFAULT_CONDITION = "ema"
MIN_CODES, MAX_CODES = 16, 512
NUM_CODES_RULE = f"the power of two nearest to √(training images), kept in {MIN_CODES}..{MAX_CODES}"
EVAL_IMAGES = 512

LEVELS = OptionSpec("levels", "int", 3, 2, 4, "residual codebook levels")
NUM_CODES: OptionSpec[int | None] = OptionSpec(
    "num_codes", "int", None, MIN_CODES, MAX_CODES, f"codes per level; auto: {NUM_CODES_RULE}"
)
COMMITMENT: OptionSpec[float] = OptionSpec(
    "commitment", "float", 0.25, 0.0, 10.0, "commitment weight β"
)
WASSERSTEIN_WEIGHT: OptionSpec[float] = OptionSpec(
    "wasserstein_weight", "float", 0.0, 0.0, 100.0, "weight of the level-1 Sinkhorn loss"
)
WASSERSTEIN_EPSILON: OptionSpec[float] = OptionSpec(
    "wasserstein_epsilon",
    "float",
    0.05,
    0.001,
    10.0,
    "entropic regularisation ε of the Sinkhorn loss",
)
REVIVE = OptionSpec("revive", "bool", False, help="re-seed dead codes from the batch")
OPTIONS: dict[str, OptionSpec[Any]] = {
    spec.name: spec
    for spec in (LEVELS, NUM_CODES, COMMITMENT, WASSERSTEIN_WEIGHT, WASSERSTEIN_EPSILON, REVIVE)
}


@dataclass
class VQSetup(TrainingSetup):
    """A setup of this recipe: also the held-out images its validation pass reads."""

    eval_images: torch.Tensor | None = None
    loss_generator: torch.Generator | None = None  # the Sinkhorn loss's seeded generator

    def state_dict(self) -> dict[str, Any]:
        """The common state and the seeded generators of the quantizers and the loss."""
        assert isinstance(self.model, VQVAE) and self.loss_generator is not None
        return {
            **super().state_dict(),
            "generators": [
                level.generator.get_state() for level in self.model.quantizer.quantizers()
            ],
            "loss_generator": self.loss_generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        assert isinstance(self.model, VQVAE) and self.loss_generator is not None
        for level, generator in zip(
            self.model.quantizer.quantizers(), state["generators"], strict=True
        ):
            level.generator.set_state(generator)
        self.loss_generator.set_state(state["loss_generator"])

    def make_capture(self, inspector: StepInspector, plan: DetailPlan) -> VQCapture:
        assert self.eval_images is not None
        return VQCapture(self, inspector, plan, eval_images=self.eval_images)

    def make_summarizer(self, steps: int) -> VQSummarizer:
        return VQSummarizer(self, steps)


def auto_codebook_size(train_images: int) -> int:
    """Codes per level: the power of two nearest to √(training images), kept in 16..512
    (9,000 images → 128; 60,000 → 256). Enough codes to tell the digits' strokes apart, few
    enough that each code is seen often in an epoch."""
    exponent = round(math.log2(math.sqrt(max(train_images, 1))))
    return int(min(MAX_CODES, max(MIN_CODES, 2**exponent)))


def vq_loss(
    output: object,
    batch: Batch,
    *,
    model: VQVAE,
    wasserstein_weight: float,
    wasserstein_epsilon: float,
    generator: torch.Generator,
) -> dict[str, torch.Tensor]:
    """MSE reconstruction + the quantizer's losses (+ the weighted Sinkhorn loss of level 1)."""
    assert isinstance(output, VQVAEOutput)
    reconstruction = F.mse_loss(output.reconstruction, batch.images)
    total = reconstruction + output.losses["vq"]
    wasserstein = torch.zeros((), device=batch.images.device)
    if wasserstein_weight > 0:
        vectors = output.z_e.movedim(1, -1).reshape(-1, model.code_dim)
        codes = model.quantizer.quantizers()[0].codebook
        wasserstein = sinkhorn_loss(vectors, codes, wasserstein_epsilon, generator=generator)
        total = total + wasserstein_weight * wasserstein
    return {
        "loss": total,
        "reconstruction": reconstruction.detach(),
        "commitment": output.losses["commitment"].detach(),
        "codebook": output.losses["codebook"].detach(),
        "wasserstein": wasserstein.detach(),
    }


def build(
    condition: str,
    seed: int,
    data: MnistData,
    device: torch.device | str = "cpu",
    *,
    levels: int = LEVELS.default,
    commitment: float = COMMITMENT.default,
    wasserstein_weight: float = WASSERSTEIN_WEIGHT.default,
    wasserstein_epsilon: float = WASSERSTEIN_EPSILON.default,
    revive: bool = REVIVE.default,
    num_codes: int | None = NUM_CODES.default,
    code_dim: int = 16,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lr: float = 2e-3,
) -> VQSetup:
    """A ready-to-train VQ-VAE setup; the same arguments give identical runs."""
    RECIPE.check_condition(condition)
    given = {
        "levels": levels,
        "num_codes": num_codes,
        "commitment": commitment,
        "wasserstein_weight": wasserstein_weight,
        "wasserstein_epsilon": wasserstein_epsilon,
        "revive": revive,
    }
    for name, value in given.items():
        OPTIONS[name].check(value)
    device = torch.device(device)
    codes = num_codes if num_codes is not None else auto_codebook_size(len(data.train))
    kind: QuantizerKind = "ema" if condition == "ema" else "learned"
    options: dict[str, Any] = {"commitment_cost": commitment}
    if revive:
        # EMA counts are per-batch vectors (128 · 49 here): a code is dead under 1% of a share.
        options["dead_code_threshold"] = 0.01 * batch_size * 49 / codes
    if condition == "collapse":
        options["init_scale"] = 8.0
        options["data_init"] = False
    # The conv layers' default init draws from the global RNG: seed it inside a fork so nothing
    # else (other threads, the caller) sees the change. The codebooks use their own generators.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = VQVAE(codes, levels, code_dim, kind=kind, seed=seed, **options).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = BatchIterator(data.train, batch_size=batch_size, seed=seed)
    loss_generator = torch.Generator().manual_seed(seed)
    loss_fn = partial(
        vq_loss,
        model=model,
        wasserstein_weight=wasserstein_weight,
        wasserstein_epsilon=wasserstein_epsilon,
        generator=loss_generator,
    )
    trainer = Trainer(model, optimizer, batches, loss_fn, device)
    eval_images = data.eval.images[:EVAL_IMAGES]
    return VQSetup(
        recipe=NAME,
        condition=condition,
        seed=seed,
        model=model,
        optimizer=optimizer,
        trainer=trainer,
        batches=batches,
        device=device,
        options={
            "levels": levels,
            "num_codes": codes,
            "num_codes_rule": NUM_CODES_RULE,
            "auto_num_codes": num_codes is None,
            "code_dim": code_dim,
            "kind": kind,
            "commitment": commitment,
            "wasserstein_weight": wasserstein_weight,
            "wasserstein_epsilon": wasserstein_epsilon,
            "revive": revive,
            "batch_size": batch_size,
            "lr": lr,
        },
        num_features=codes,
        eval_images=eval_images,
        loss_generator=loss_generator,
    )


def _quantizers(setup: TrainingSetup) -> list[Any]:
    assert isinstance(setup.model, VQVAE)
    return list(setup.model.quantizer.quantizers())


def _set_commitment(setup: TrainingSetup, value: float) -> None:
    for level in _quantizers(setup):  # every level's loss reads its own weight each forward
        level.commitment_cost = value


# Editable between steps of a live setup: the commitment weight, within the option's range.
KNOBS: dict[str, Knob] = {
    "commitment": Knob(
        COMMITMENT,
        lambda setup: float(_quantizers(setup)[0].commitment_cost),
        _set_commitment,
    )
}


RECIPE = Recipe(
    name=NAME,
    description="Convolutional VQ-VAE on MNIST with a residual codebook (EMA or learned)",
    conditions=CONDITIONS,
    default_condition=DEFAULT_CONDITION,
    builder=build,
    options=OPTIONS,
    knobs=KNOBS,
)
