"""Recipes: named, seeded, ready-to-train setups (model, optimizer, trainer, batches, hooks).

`get_recipe(name)` returns a `Recipe`; `recipe.build(condition, seed, data, device)` returns a
`TrainingSetup` that a Session or a headless run owns and closes. Recipe modules are imported on
first use, so listing the names costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import torch
from torch import nn

from acc.data import BatchIterator
from acc.gradient_gating import BCL
from acc.trainer import Trainer

# name → module defining `RECIPE`; the modules are imported lazily by `get_recipe`.
_RECIPE_MODULES: dict[str, str] = {
    "gradient_gating_l0": "acc.recipes.gradient_gating_l0",
    "vqvae": "acc.recipes.vqvae",
}


class UnknownRecipeError(ValueError):
    """No recipe of that name; the message lists the valid ones."""


class UnknownConditionError(ValueError):
    """The recipe has no condition of that name; the message lists the valid ones."""


@dataclass
class TrainingSetup:
    """Everything one training run needs, built by a recipe. A plain object: no threads, no
    globals; whoever owns it calls `close()` (or uses it as a context manager) when done."""

    recipe: str
    condition: str
    seed: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    trainer: Trainer
    batches: BatchIterator
    bcl: BCL | None  # None when the condition trains without BCL (e.g. `control`)
    device: torch.device
    layer_name: str  # the layer BCL attaches to (or would), e.g. "encoder.0"
    options: dict[str, Any]  # the recipe options the setup was built with (batch_size, lr, …)
    num_features: int = 0  # what "feature" indexes count: encoder units, or codes per level
    # Builds the capture for this setup: (setup, inspector, plan) → an
    # acc.step_capture.Capture callback. None: the linear-encoder capture (StepCapture).
    capture_factory: Callable[..., Any] | None = None

    @property
    def has_layer(self) -> bool:
        """Whether `layer_name` names an `nn.Linear` (the per-feature views need one)."""
        try:
            return isinstance(self.model.get_submodule(self.layer_name), nn.Linear)
        except AttributeError:
            return False

    @property
    def layer(self) -> nn.Linear:
        """The layer named `layer_name` (the encoder's Linear)."""
        layer = self.model.get_submodule(self.layer_name)
        assert isinstance(layer, nn.Linear)
        return layer

    def close(self) -> None:
        """Detach BCL's hooks. Idempotent."""
        if self.bcl is not None:
            self.bcl.detach()

    def __enter__(self) -> TrainingSetup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Recipe:
    """A named family of setups; `conditions` are its variants, `build` makes one."""

    name: str
    description: str
    conditions: tuple[str, ...]
    default_condition: str
    builder: Callable[..., TrainingSetup]

    def check_condition(self, condition: str) -> str:
        """Return `condition` if the recipe has it, else raise `UnknownConditionError`."""
        if condition not in self.conditions:
            raise UnknownConditionError(
                f"unknown condition {condition!r} for recipe {self.name!r}; "
                f"valid conditions: {', '.join(self.conditions)}"
            )
        return condition

    def build(self, condition: str, seed: int = 0, *args: Any, **options: Any) -> TrainingSetup:
        """Build a setup: `build(condition, seed, data, device="cpu", **recipe_options)`."""
        return self.builder(self.check_condition(condition), seed, *args, **options)


def recipe_names() -> list[str]:
    """The registered recipe names, sorted."""
    return sorted(_RECIPE_MODULES)


def recipe_catalogue() -> dict[str, dict[str, object]]:
    """Every recipe's conditions and default condition, by recipe name (what a form offers)."""
    return {
        name: {
            "conditions": list(get_recipe(name).conditions),
            "default_condition": get_recipe(name).default_condition,
        }
        for name in recipe_names()
    }


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`; an unknown name raises `UnknownRecipeError` listing the valid."""
    if name not in _RECIPE_MODULES:
        raise UnknownRecipeError(
            f"unknown recipe {name!r}; valid recipes: {', '.join(recipe_names())}"
        )
    recipe = importlib.import_module(_RECIPE_MODULES[name]).RECIPE
    assert isinstance(recipe, Recipe)
    return recipe
