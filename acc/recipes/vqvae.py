"""Recipe `vqvae`: a small convolutional VQ-VAE on MNIST with a residual codebook (2–4 levels),
EMA or learned codes, an optional Sinkhorn dead-code loss and optional dead-code revival.

Conditions: `ema` and `learned` (the codebook type; codes start at vectors of the first batch),
and `collapse`: a learned codebook drawn at random far from the data (8× the scale, no data
init), which collapses onto a few codes — the case the codebook health warnings exist for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Literal, TypeVar

import torch
import torch.nn.functional as F

from acc.data import DEFAULT_BATCH_SIZE, Batch, BatchIterator, MnistData
from acc.models import VQVAE, VQVAEOutput
from acc.recipes import Recipe, TrainingSetup
from acc.trainer import Trainer
from acc.vq.capture import VQCapture
from acc.vq.quantizer import QuantizerKind
from acc.vq.sinkhorn import sinkhorn_loss

NAME = "vqvae"
CONDITIONS = ("ema", "learned", "collapse")
DEFAULT_CONDITION = "ema"
MIN_CODES, MAX_CODES = 16, 512
NUM_CODES_RULE = f"the power of two nearest to √(training images), kept in {MIN_CODES}..{MAX_CODES}"
EVAL_IMAGES = 512

T = TypeVar("T")


@dataclass(frozen=True)
class OptionSpec(Generic[T]):
    """One user-facing option of the recipe: its default and its allowed values. Defined once
    here; `build`, `POST /codebook/start` and `acc run vqvae` all read them."""

    name: str
    kind: Literal["int", "float", "bool"]
    default: T  # None: chosen automatically (`num_codes`: "auto")
    low: float | None = None  # inclusive bounds (None for booleans)
    high: float | None = None
    help: str = ""

    @property
    def allowed(self) -> str:
        """The allowed values in words, e.g. "an integer in 2..4"."""
        if self.kind == "bool":
            return "true or false"
        noun = "an integer" if self.kind == "int" else "a number"
        auto = ' or "auto"' if self.default is None else ""
        return f"{noun} in {self.low:g}..{self.high:g}{auto}"

    def check(self, value: Any) -> Any:
        """`value` if allowed (None means "auto" where the default is automatic), else a
        `ValueError` naming the option, the allowed values and the value given."""
        if value is None and self.default is None:
            return None
        if self.kind == "bool":
            ok = isinstance(value, bool)
        else:
            types = (int,) if self.kind == "int" else (int, float)
            ok = (
                isinstance(value, types)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and self.low is not None
                and self.high is not None
                and self.low <= value <= self.high
            )
        if not ok:
            raise ValueError(f"{self.name} must be {self.allowed}, got {value!r}")
        return value


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
) -> TrainingSetup:
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
    loss_fn = partial(
        vq_loss,
        model=model,
        wasserstein_weight=wasserstein_weight,
        wasserstein_epsilon=wasserstein_epsilon,
        generator=torch.Generator().manual_seed(seed),
    )
    trainer = Trainer(model, optimizer, batches, loss_fn, device)
    eval_images = data.eval.images[:EVAL_IMAGES]
    return TrainingSetup(
        recipe=NAME,
        condition=condition,
        seed=seed,
        model=model,
        optimizer=optimizer,
        trainer=trainer,
        batches=batches,
        bcl=None,
        device=device,
        layer_name="",
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
        capture_factory=partial(VQCapture, eval_images=eval_images),
    )


RECIPE = Recipe(
    name=NAME,
    description="Convolutional VQ-VAE on MNIST with a residual codebook (EMA or learned)",
    conditions=CONDITIONS,
    default_condition=DEFAULT_CONDITION,
    builder=build,
)
