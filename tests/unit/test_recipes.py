"""The recipe registry and the `gradient_gating_l0` conditions (`acc/recipes/`)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from acc.data import MnistData
from acc.gradient_gating import BCLConfig
from acc.recipes import (
    UnknownConditionError,
    UnknownRecipeError,
    get_recipe,
    recipe_names,
)

# bcl.md: condition → SOM step size η (None: no BCL at all)
CONDITIONS = {
    "control": None,
    "bcl-micro": 1e-4,
    "bcl-tiny": 3e-4,
    "bcl-slow": 1e-3,
    "bcl-med": 5e-3,
    "bcl-fast": 1e-2,
    "bcl-nan-demo": 1e3,  # drives training to NaN on purpose
}


def hook_count(model: nn.Module) -> int:
    return sum(
        len(module._forward_hooks) + len(module._forward_pre_hooks) + len(module._backward_hooks)
        for module in model.modules()
    )


def test_the_registry_names_gradient_gating_l0() -> None:
    assert "gradient_gating_l0" in recipe_names()
    recipe = get_recipe("gradient_gating_l0")
    assert recipe.name == "gradient_gating_l0"
    assert recipe.conditions == tuple(CONDITIONS)
    assert recipe.default_condition == "bcl-med"


def test_an_unknown_recipe_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownRecipeError, match=r"'nope'.*gradient_gating_l0"):
        get_recipe("nope")


def test_an_unknown_condition_lists_the_valid_ones(mnist: MnistData) -> None:
    recipe = get_recipe("gradient_gating_l0")
    with pytest.raises(UnknownConditionError) as error:
        recipe.build("bcl-huge", 0, mnist)
    message = str(error.value)
    assert "'bcl-huge'" in message
    for condition in CONDITIONS:
        assert condition in message
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(("condition", "som_lr"), CONDITIONS.items())
def test_each_condition_has_its_step_size_and_default_bcl(
    mnist: MnistData, condition: str, som_lr: float | None
) -> None:
    with get_recipe("gradient_gating_l0").build(condition, 0, mnist) as setup:
        assert setup.condition == condition and setup.layer_name == "encoder.0"
        assert setup.layer is setup.model.get_submodule("encoder.0")
        assert isinstance(setup.layer, nn.Linear)
        assert (setup.layer.in_features, setup.layer.out_features) == (784, 64)
        assert setup.options["som_lr"] == som_lr
        if som_lr is None:  # a real control: no hooks anywhere
            assert setup.bcl is None
            assert hook_count(setup.model) == 0
        else:
            assert setup.bcl is not None and setup.bcl.layer is setup.layer
            assert setup.bcl.config == BCLConfig(som_lr=som_lr)
            assert hook_count(setup.model) == 1
    assert hook_count(setup.model) == 0  # close() detached BCL


def test_a_seed_fixes_model_and_batches_without_the_global_rng(mnist: MnistData) -> None:
    recipe = get_recipe("gradient_gating_l0")
    rng = torch.random.get_rng_state()
    first = recipe.build("bcl-med", 3, mnist)
    second = recipe.build("bcl-med", 3, mnist)
    other = recipe.build("bcl-med", 4, mnist)
    assert torch.equal(torch.random.get_rng_state(), rng)
    for p, q, r in zip(
        first.model.parameters(), second.model.parameters(), other.model.parameters(), strict=True
    ):
        assert torch.equal(p, q) and not torch.equal(p, r)
    # PyTorch's default init: uniform in ±1/sqrt(fan_in)
    assert first.layer.weight.abs().max() <= 1 / 784**0.5
    assert torch.equal(next(first.batches).images, next(second.batches).images)
    first_losses = [r.loss for r in first.trainer.train(2)]
    assert first_losses == [r.loss for r in second.trainer.train(2)]
    for setup in (first, second, other):
        setup.close()


def test_a_bcl_step_fills_last_metrics(mnist: MnistData) -> None:
    with get_recipe("gradient_gating_l0").build("bcl-med", 0, mnist, batch_size=32) as setup:
        assert setup.bcl is not None
        setup.trainer.train(1)
        assert len(setup.bcl.last_metrics) == 22
        assert setup.bcl.last_metrics["rank_score"].shape == (32, 64)
        assert setup.optimizer.param_groups[0]["lr"] == 1e-3


def test_close_is_idempotent(mnist: MnistData) -> None:
    setup = get_recipe("gradient_gating_l0").build("bcl-slow", 0, mnist)
    setup.close()
    setup.close()
    assert setup.bcl is not None and not setup.bcl.attached
