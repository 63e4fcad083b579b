from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from acc.image_grid import encode_png, make_grid


def test_grid_layout_padding_and_values() -> None:
    images = torch.zeros(5, 1, 2, 3)
    images[4] = 1.0
    grid = make_grid(images, columns=2, padding=1, pad_value=7)
    assert grid.shape == (3 * 3 + 1, 2 * 4 + 1)  # 3 rows of 2, each tile plus padding
    assert grid[0, 0] == 7
    assert (grid[1:3, 1:4] == 0).all()  # first tile
    assert (grid[7:9, 1:4] == 255).all()  # fifth tile: third row, first column
    assert (grid[7:9, 5:8] == 7).all()  # the empty sixth slot stays padding


def test_grid_clips_and_draws_nan_as_zero() -> None:
    grid = make_grid(np.array([[[2.0, -1.0, np.nan]]]), columns=4, padding=0)
    assert grid.tolist() == [[255, 0, 0]]


def test_grid_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"got shape \(4, 4\)"):
        make_grid(np.zeros((4, 4)))


def test_png_round_trip() -> None:
    grid = make_grid(torch.rand(128, 1, 28, 28))
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(grid))))
    assert np.array_equal(decoded, grid)
