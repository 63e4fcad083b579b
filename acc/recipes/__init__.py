"""Recipes: named, seeded, ready-to-train setups (model, optimizer, trainer, batches, hooks).

Each recipe is a package here (`bcl/`, `vqvae/`) that defines its conditions, options and
defaults once, its model, its capture (what the inspector keeps of a step) and its run summary
(what `acc run` reports). `get_recipe(name)` returns a `Recipe`; `recipe.build(condition, seed,
data, device)` returns a `TrainingSetup` that a Session or a headless run owns and closes.
Recipe packages are imported on first use, so listing the names costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from acc.callbacks import Callback
from acc.data import BatchIterator
from acc.recipes.options import OptionSpec
from acc.trainer import Trainer

if TYPE_CHECKING:
    from acc.live_edits import Knob
    from acc.step_capture import Capture, DetailPlan
    from acc.step_inspector import StepInspector

# name → module defining `RECIPE`; the modules are imported lazily by `get_recipe`.
_RECIPE_MODULES: dict[str, str] = {
    "gradient_gating_l0": "acc.recipes.bcl",
    "vqvae": "acc.recipes.vqvae",
}


class UnknownRecipeError(ValueError):
    """No recipe of that name; the message lists the valid ones."""


class UnknownConditionError(ValueError):
    """The recipe has no condition of that name; the message lists the valid ones."""


@dataclass(frozen=True)
class RunReport:
    """What a recipe says at the end of a headless run (`acc run`): `summary` is written as
    `summary.json`, `lines` are printed, `warnings` go to stderr."""

    summary: dict[str, Any]
    lines: list[str]
    warnings: list[str] = field(default_factory=list)


class RunSummarizer(Callback):
    """A callback that watches a headless run and reports on it at the end; each recipe has
    its own (`TrainingSetup.summary_factory`)."""

    def report(self, out_dir: Path, wall_time_s: float) -> RunReport:
        """The run's report; may also write files (e.g. a checkpoint) into `out_dir`."""
        raise NotImplementedError


@dataclass
class TrainingSetup:
    """Everything one training run needs, built by a recipe. A plain object: no threads, no
    globals; whoever owns it calls `close()` (or uses it as a context manager) when done.
    Each recipe subclasses it with its own parts (hooks, a layer of interest), its capture
    (`make_capture`) and its run summary (`make_summarizer`)."""

    recipe: str
    condition: str
    seed: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    trainer: Trainer
    batches: BatchIterator
    device: torch.device
    options: dict[str, Any]  # the recipe options the setup was built with (batch_size, lr, …)
    num_features: int = 0  # what "feature" indexes count: encoder units, or codes per level
    # The Linear whose weight rows are the features (watches and feature views read its rows);
    # None when the recipe's features are not rows of one layer.
    feature_layer: nn.Linear | None = None

    def make_capture(self, inspector: StepInspector, plan: DetailPlan) -> Capture:
        """The recipe's capture: what `inspector` keeps of each step, as much as `plan` says."""
        raise NotImplementedError

    def make_summarizer(self, steps: int) -> RunSummarizer:
        """The recipe's summary of a headless run of `steps` steps (`acc run`)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Everything the setup carries from one step to the next (references, not copies):
        the model's parameters and buffers, the optimizer's state and hyper-parameters, the batch
        stream's position and the step counter. A recipe with more state (hooks that count, its
        own random generators) adds it."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "batches": self.batches.state_dict(),
            "global_step": self.trainer.global_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take `state` (from `state_dict()`, a copy the setup may keep) as the current state."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        self.trainer.global_step = int(state["global_step"])

    def close(self) -> None:
        """Free what the recipe attached (hooks). Idempotent."""

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
    # The options a user may set (API, CLI, dashboard), each with its default and range.
    options: Mapping[str, OptionSpec[Any]] = field(default_factory=dict)
    # The hyper-parameters a live setup lets you edit between steps (besides the optimizer's).
    knobs: Mapping[str, Knob] = field(default_factory=dict)

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
