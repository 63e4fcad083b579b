"""Recipe `gradient_gating_l0`: a 784 → D → 784 linear autoencoder on MNIST (D = `dim`, 64 by
default), with BCL on the encoder's Linear at one of five SOM step sizes, or without BCL at all
(`control`).

The package holds the recipe whole: its conditions and defaults (here), its model (`model.py`),
what the inspector keeps of a step (`capture.py`) and what `acc run` reports (`summary.py`). The
BCL algorithm itself is `acc.gradient_gating`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from acc.data import DEFAULT_BATCH_SIZE, BatchIterator, MnistData
from acc.gradient_gating import BCL, BCLConfig, attach_bcl
from acc.live_edits import Knob
from acc.recipes import Recipe, RunSummarizer, TrainingSetup
from acc.recipes.bcl.capture import BCLCapture
from acc.recipes.bcl.model import LinearAutoencoder
from acc.recipes.bcl.summary import BCLSummarizer
from acc.recipes.options import OptionSpec
from acc.step_capture import Capture, DetailPlan
from acc.step_inspector import StepInspector
from acc.trainer import Trainer, reconstruction_loss

NAME = "gradient_gating_l0"
LAYER_NAME = "encoder.0"  # LinearAutoencoder's encoder Linear
# condition → SOM step size η; None: no BCL hooks at all, a real control.
CONDITIONS: dict[str, float | None] = {
    "control": None,
    "bcl-micro": 1e-4,
    "bcl-tiny": 3e-4,
    "bcl-slow": 1e-3,
    "bcl-med": 5e-3,
    "bcl-fast": 1e-2,
    # A SOM step far too large: the weights overshoot, blow up to inf and then NaN in about a
    # dozen steps. For seeing how non-finite values surface in the inspector, not for research.
    "bcl-nan-demo": 1e3,
}
DEFAULT_CONDITION = "bcl-med"
# The width D: more features than BCL's neighbourhood (each feature competes with its k nearest),
# up to 4096, whose step views read the large tensors reduced.
DIM: OptionSpec[int] = OptionSpec(
    "dim", "int", 64, BCLConfig().neighborhood_k + 1, 4096, "features D of the encoder"
)
OPTIONS: dict[str, OptionSpec[Any]] = {spec.name: spec for spec in (DIM,)}


@dataclass
class BCLSetup(TrainingSetup):
    """A setup of this recipe: also the BCL hooks (None for `control`) and the encoder Linear
    they attach to (or would)."""

    bcl: BCL | None = None
    layer_name: ClassVar[str] = LAYER_NAME

    @property
    def layer(self) -> nn.Linear:
        """The encoder's Linear (`layer_name`)."""
        return encoder_layer(self.model)

    def make_capture(self, inspector: StepInspector, plan: DetailPlan) -> Capture:
        return BCLCapture(self, inspector, plan)

    def make_summarizer(self, steps: int) -> RunSummarizer:
        return BCLSummarizer(self, steps)

    def state_dict(self) -> dict[str, Any]:
        """The common state and BCL's (its pass counter and neighbour table)."""
        state = super().state_dict()
        if self.bcl is not None:
            state["bcl"] = self.bcl.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if self.bcl is not None:
            self.bcl.load_state_dict(state["bcl"])

    def close(self) -> None:
        """Detach BCL's hooks. Idempotent."""
        if self.bcl is not None:
            self.bcl.detach()


def encoder_layer(model: nn.Module) -> nn.Linear:
    """The encoder's Linear (`LAYER_NAME`)."""
    layer = model.get_submodule(LAYER_NAME)
    assert isinstance(layer, nn.Linear)
    return layer


def init_parameters(model: nn.Module, generator: torch.Generator) -> None:
    """Draw every Linear's parameters as PyTorch's default init does, but from `generator`, so a
    seed fixes the model without touching the global RNG that other threads may use."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                bound = 1.0 / math.sqrt(module.in_features)
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)


def build(
    condition: str,
    seed: int,
    data: MnistData,
    device: torch.device | str = "cpu",
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dim: int = DIM.default,
    lr: float = 1e-3,
    bcl_config: BCLConfig | None = None,
) -> BCLSetup:
    """A ready-to-train setup: LinearAutoencoder(784 → `dim`), Adam(`lr`), L1 reconstruction loss,
    seeded batches of `batch_size`; BCL with η of the condition (other fields from `bcl_config`,
    default `BCLConfig()`). The same arguments give identical runs."""
    som_lr = CONDITIONS[RECIPE.check_condition(condition)]
    DIM.check(dim)
    device = torch.device(device)
    # Built on the meta device (no storage, no random draws), then filled from the seed's own
    # generator on the CPU: the global RNG is never touched and every device gets the same model.
    with torch.device("meta"):
        model = LinearAutoencoder(in_features=784, dim=dim)
    model.to_empty(device="cpu")
    init_parameters(model, torch.Generator().manual_seed(seed))
    model.to(device)  # before the optimizer and the hooks, so both see the final parameters
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    bcl = None
    if som_lr is not None:
        config = replace(bcl_config if bcl_config is not None else BCLConfig(), som_lr=som_lr)
        bcl = attach_bcl(model, LAYER_NAME, config)
    batches = BatchIterator(data.train, batch_size=batch_size, seed=seed)
    trainer = Trainer(model, optimizer, batches, reconstruction_loss("l1"), device)
    return BCLSetup(
        recipe=NAME,
        condition=condition,
        seed=seed,
        model=model,
        optimizer=optimizer,
        trainer=trainer,
        batches=batches,
        device=device,
        options={"batch_size": batch_size, "dim": dim, "lr": lr, "loss": "l1", "som_lr": som_lr},
        num_features=dim,
        feature_layer=encoder_layer(model),
        bcl=bcl,
    )


def _bcl(setup: TrainingSetup) -> BCL:
    assert isinstance(setup, BCLSetup) and setup.bcl is not None
    return setup.bcl


def _set_bcl(field: Literal["som_lr", "temperature"]) -> Callable[[TrainingSetup, float], None]:
    def apply(setup: TrainingSetup, value: float) -> None:
        bcl = _bcl(setup)
        # The hooks read `config` at every pass: a new frozen config takes effect next step.
        config = bcl.config
        bcl.config = (
            replace(config, som_lr=value)
            if field == "som_lr"
            else replace(config, temperature=value)
        )

    return apply


def _has_bcl(setup: TrainingSetup) -> bool:
    return isinstance(setup, BCLSetup) and setup.bcl is not None


# Editable between steps of a live setup with BCL (not `control`). The SOM step goes up to the
# nan-demo's 1e3; the temperature must stay > 0 (BCLConfig's own rule).
KNOBS: dict[str, Knob] = {
    knob.name: knob
    for knob in (
        Knob(
            OptionSpec("som_lr", "float", 0.005, 0.0, 1e3, "BCL's SOM step size η"),
            lambda setup: _bcl(setup).config.som_lr,
            _set_bcl("som_lr"),
            _has_bcl,
        ),
        Knob(
            OptionSpec("temperature", "float", 5.0, 1e-3, 1e3, "BCL's competition temperature T"),
            lambda setup: _bcl(setup).config.temperature,
            _set_bcl("temperature"),
            _has_bcl,
        ),
    )
}


RECIPE = Recipe(
    name=NAME,
    description="Linear autoencoder on MNIST with BCL on the encoder at five SOM step sizes",
    conditions=tuple(CONDITIONS),
    default_condition=DEFAULT_CONDITION,
    builder=build,
    options=OPTIONS,
    knobs=KNOBS,
)
