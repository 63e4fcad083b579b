"""Wide BCL steps (D up to 4096): the `dim` option, the step frame's byte budget with its
`deferred` keys, and reading one tensor of a held step reduced or exactly (`step_tensor_grid`)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import orjson
import pytest

from acc.data import MnistData
from acc.recipes import get_recipe
from acc.recipes.bcl import DIM
from acc.session import Session
from acc.step_inspector import StepData, TensorNotHeld
from acc.tensor_grid import GridWindowError, step_tensor_grid
from acc.tensor_wire import (
    FRAME_BUDGET,
    decode_frame,
    grid_to_frame,
    step_to_frame,
    step_to_json,
)

DP_KEYS = (
    "encoder_weights",
    "encoder_weights_post",
    "local_target",
    "global_target",
    "som_targets",
    "som_delta",
    "grad_raw",
    "grad_masked",
    "opt_delta",
    "combined_delta",
)


@pytest.fixture(scope="module")
def wide(mnist: MnistData) -> Iterator[tuple[Session, StepData]]:
    with Session(
        "gradient_gating_l0", "bcl-med", data=mnist, seed=0, recipe_options={"dim": 1024}
    ) as session:
        yield session, session.step(1)


def test_dim_is_a_recipe_option_checked_against_its_range(mnist: MnistData) -> None:
    assert get_recipe("gradient_gating_l0").options == {"dim": DIM}
    # BCL compares each feature with its 8 nearest: the narrowest model has 9 features.
    assert (DIM.default, DIM.low, DIM.high) == (64, 9, 4096)
    for bad in (8, 4097, 64.0, True):
        with pytest.raises(ValueError, match=r"dim must be an integer in 9\.\.4096"):
            get_recipe("gradient_gating_l0").build("bcl-med", 0, mnist, dim=bad)
    with get_recipe("gradient_gating_l0").build("bcl-med", 0, mnist, dim=9) as setup:
        assert setup.layer.weight.shape == (9, 784) and setup.num_features == 9
        setup.trainer.train(1)  # BCL's neighbourhoods fit the narrowest width


def test_a_wide_step_frame_stays_within_the_budget_and_lists_the_rest(
    wide: tuple[Session, StepData],
) -> None:
    _, data = wide
    assert data.nbytes > 40 * FRAME_BUDGET  # ~48 MB held
    frame = step_to_frame(data)
    assert len(frame) <= FRAME_BUDGET
    header, arrays, _ = decode_frame(frame)
    deferred = header["deferred"]
    # Everything larger than what was sent is deferred, with its dtype, shape and size.
    for key in (*DP_KEYS, "weight_cosine", "som_target_cosine", "grad_cosine"):
        assert deferred[key]["nbytes"] == data.arrays[key].nbytes
        assert deferred[key]["shape"] == list(data.arrays[key].shape)
        assert deferred[key]["dtype"] == "float32"
    # Derived keys whose sources are deferred are deferred too, not derived.
    assert header["derived"] == []
    assert set(arrays) | set(deferred) | {"batch_images"} == set(data.arrays)
    assert not set(arrays) & set(deferred)
    for key, array in arrays.items():  # the inline part round-trips exactly
        np.testing.assert_array_equal(array, data.arrays[key])
    assert arrays["win_rate"].shape == (1024,) and arrays["neighbors"].shape[0] == 1024
    sent = max(spec["nbytes"] for spec in header["tensors"].values())
    assert all(spec["nbytes"] >= sent for spec in deferred.values())  # smallest first


def test_at_d64_the_frame_keeps_weights_and_deltas_and_defers_the_forces(
    mnist: MnistData,
) -> None:
    with Session("gradient_gating_l0", "bcl-med", data=mnist, seed=0) as session:
        data = session.step(1)
    full = step_to_frame(data, budget=None)
    assert len(full) > FRAME_BUDGET  # today's frame (~1.9 MB) does not fit
    frame = step_to_frame(data)
    assert len(frame) <= FRAME_BUDGET
    header, arrays, _ = decode_frame(frame)
    # Among equal sizes the sources of derivable keys go first: their sums come for free.
    assert {"encoder_weights", "opt_delta", "som_delta"} <= set(header["tensors"])
    assert [key for key, _ in header["derived"]] == ["combined_delta", "encoder_weights_post"]
    assert set(header["deferred"]) == {
        "local_target",
        "global_target",
        "som_targets",
        "grad_raw",
        "grad_masked",
    }
    for key in ("strength", "weight_cosine", "grad_mask", "encoder_weights"):
        np.testing.assert_array_equal(arrays[key], data.arrays[key])
    # The JSON answer carries the same keys (its derived ones written out) and defers the same.
    body = orjson.loads(step_to_json(data))
    assert body["deferred"] == header["deferred"]
    assert {"opt_delta", "som_delta", "combined_delta", "encoder_weights_post"} <= set(body)
    _, everything, _ = decode_frame(full)
    assert "deferred" in decode_frame(full)[0] and not decode_frame(full)[0]["deferred"]
    assert set(everything) == set(data.arrays) - {"batch_images"}


def test_a_reduced_tensor_is_the_numpy_reduction_of_the_held_one(
    wide: tuple[Session, StepData],
) -> None:
    session, data = wide
    cosine = data.arrays["weight_cosine"]
    grid = step_tensor_grid(session.get_step(1), "weight_cosine", 100, 64)
    assert (grid["rows"], grid["cols"], grid["exact"]) == (100, 64, False)
    rows, cols = grid["row_starts"], grid["col_starts"]
    row_ends, col_ends = [*rows[1:], 1024], [*cols[1:], 1024]
    for i in (0, 37, 99):
        for j in (0, 21, 63):
            cell = cosine[rows[i] : row_ends[i], cols[j] : col_ends[j]]
            assert grid["min"][i, j] == cell.min() and grid["max"][i, j] == cell.max()
            assert grid["mean"][i, j] == pytest.approx(cell.mean(dtype=np.float64), rel=1e-5)
    # As a frame: the same three grids.
    header, arrays, _ = decode_frame(grid_to_frame(grid))
    assert header["key"] == "weight_cosine" and header["exact"] is False
    for name in ("min", "max", "mean"):
        np.testing.assert_array_equal(arrays[name], grid[name])


def test_a_window_that_fits_the_grid_comes_back_exact(wide: tuple[Session, StepData]) -> None:
    session, data = wide
    page = step_tensor_grid(session.get_step(1), "encoder_weights", 64, 784, (128, 192, 0, 784))
    assert page["exact"] and page["window"] == [128, 192, 0, 784]
    np.testing.assert_array_equal(page["mean"], data.arrays["encoder_weights"][128:192])
    header, arrays, _ = decode_frame(grid_to_frame(page))
    assert set(header["tensors"]) == {"mean"}  # exact: min = max = mean, sent once
    np.testing.assert_array_equal(arrays["mean"], data.arrays["encoder_weights"][128:192])
    zoom = step_tensor_grid(session.get_step(1), "grad_cosine", 32, 32, (500, 520, 1000, 1024))
    np.testing.assert_array_equal(zoom["mean"], data.arrays["grad_cosine"][500:520, 1000:1024])


def test_unknown_keys_steps_and_windows_are_refused_naming_them(
    wide: tuple[Session, StepData],
) -> None:
    session, _ = wide
    with pytest.raises(TensorNotHeld, match=r"holds no tensor 'nope'; it holds .*strength"):
        step_tensor_grid(session.get_step(1), "nope", 8, 8)
    with pytest.raises(LookupError, match="step 5 has not run; full data is held for steps 1..1"):
        step_tensor_grid(session.get_step(5), "strength", 8, 8)
    with pytest.raises(GridWindowError, match="outside the 1024 x 1024 tensor"):
        step_tensor_grid(session.get_step(1), "weight_cosine", 8, 8, (0, 1025, 0, 8))
