"""A tensor read at the resolution it is drawn: `reduce_grid` turns any array into a grid of at
most rows x cols cells (min, max and mean of each), or gives a window of it exactly. Every
heatmap the dashboard draws of a large tensor reads it through here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from acc.step_inspector import StepData

MAX_GRID = 1024  # cells a side of a reduced grid
DEFAULT_GRID = 128  # 3 x 128 x 128 values: a JSON answer well under 1 MB


class GridWindowError(ValueError):
    """A window that is not inside the tensor (or is empty); says the tensor's 2-D size."""


def reduce_grid(
    array: np.ndarray,
    rows: int,
    cols: int,
    window: tuple[int, int, int, int] | None = None,
) -> dict[str, Any]:
    """A tensor as a 2-D grid of at most `rows` x `cols` cells, each the min, max and mean of
    the elements it covers. Tensors of rank > 2 are viewed as [shape[0], rest], vectors as one
    row. `window` = (row0, row1, col0, col1), half-open, zooms in; a window no larger than the
    grid comes back exact (one element a cell)."""
    grid = as_matrix(array)
    height, width = grid.shape
    r0, r1, c0, c1 = window if window is not None else (0, height, 0, width)
    if not (0 <= r0 < r1 <= height and 0 <= c0 < c1 <= width):
        raise GridWindowError(
            f"window rows {r0}..{r1}, columns {c0}..{c1} is outside the {height} x {width} tensor"
        )
    part = grid[r0:r1, c0:c1]
    out_rows, out_cols = min(rows, r1 - r0), min(cols, c1 - c0)
    row_starts = (np.arange(out_rows) * (r1 - r0)) // out_rows
    col_starts = (np.arange(out_cols) * (c1 - c0)) // out_cols
    exact = out_rows == r1 - r0 and out_cols == c1 - c0
    if exact:
        low = high = mean = part.astype(np.float32, copy=False)
    else:
        # Columns first: along contiguous rows reduceat is ~10x faster than down the columns,
        # and the second pass then runs over a grid `cols` wide.
        low = np.minimum.reduceat(np.minimum.reduceat(part, col_starts, 1), row_starts, 0)
        high = np.maximum.reduceat(np.maximum.reduceat(part, col_starts, 1), row_starts, 0)
        partial = np.add.reduceat(part, col_starts, 1, dtype=np.float32)
        sums = np.add.reduceat(partial, row_starts, 0, dtype=np.float64)
        row_sizes = np.diff(np.append(row_starts, r1 - r0))
        col_sizes = np.diff(np.append(col_starts, c1 - c0))
        mean = (sums / np.outer(row_sizes, col_sizes)).astype(np.float32)
    # The colour range: over the cells whose elements are all finite (no second pass over the
    # whole tensor); a cell holding a NaN or an infinity shows as such.
    finite_low = low[np.isfinite(low)]
    finite_high = high[np.isfinite(high)]
    return {
        "shape": list(array.shape),
        "grid_shape": [height, width],
        "window": [r0, r1, c0, c1],
        "rows": out_rows,
        "cols": out_cols,
        "exact": exact,
        "row_starts": (row_starts + r0).tolist(),
        "col_starts": (col_starts + c0).tolist(),
        "min": np.asarray(low, dtype=np.float32),
        "max": np.asarray(high, dtype=np.float32),
        "mean": np.asarray(mean, dtype=np.float32),
        "value_range": [float(finite_low.min()), float(finite_high.max())]
        if finite_low.size and finite_high.size
        else None,
    }


def as_matrix(array: np.ndarray) -> np.ndarray:
    """`array` viewed as 2-D: [shape[0], rest] for rank > 2, one row for a vector or scalar."""
    if array.ndim == 2:
        return array
    if array.ndim < 2:
        return array.reshape(1, -1)
    return array.reshape(array.shape[0], -1)


def step_tensor_grid(
    data: StepData,
    key: str,
    rows: int,
    cols: int,
    window: tuple[int, int, int, int] | None = None,
) -> dict[str, Any]:
    """Tensor `key` of a held step (an inspector's, a branch's or an archived one) reduced to at
    most `rows` x `cols` cells, or a `window` of it (see `reduce_grid`); `TensorNotHeld` names
    the step's keys when it has no such tensor."""
    return {"step": data.step, "key": key, **reduce_grid(data.tensor(key), rows, cols, window)}
