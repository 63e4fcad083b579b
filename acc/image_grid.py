"""Image grids: many small grayscale images tiled into one picture, and PNG encoding."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image


def make_grid(
    images: torch.Tensor | np.ndarray, columns: int = 16, padding: int = 1, pad_value: int = 40
) -> np.ndarray:
    """Tile `[N, H, W]` or `[N, 1, H, W]` images with values in [0, 1] into one uint8 array.

    Rows fill left to right, `columns` images per row; `padding` pixels of `pad_value` separate
    the tiles and frame the grid. Values outside [0, 1] are clipped; NaN draws as 0.
    """
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(f"images must be [N, H, W] or [N, 1, H, W], got shape {array.shape}")
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    count, height, width = array.shape
    columns = min(columns, max(count, 1))
    rows = max(1, -(-count // columns))
    tiles = np.rint(np.clip(np.nan_to_num(array, nan=0.0), 0.0, 1.0) * 255).astype(np.uint8)
    grid = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding),
        pad_value,
        dtype=np.uint8,
    )
    # Tiles land in a [rows, columns] block view of the grid in one assignment (no Python loop).
    cells = np.full((rows * columns, height + padding, width + padding), pad_value, np.uint8)
    cells[:count, :height, :width] = tiles
    body = cells.reshape(rows, columns, height + padding, width + padding).transpose(0, 2, 1, 3)
    grid[padding:, padding:] = body.reshape(rows * (height + padding), columns * (width + padding))
    return grid


def encode_png(grid: np.ndarray) -> bytes:
    """Encode a uint8 `[H, W]` (gray) or `[H, W, 3]` (RGB) array as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()
