"""One feature of a captured step, seen whole: its weight and the step's updates as images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from acc.step_inspector import StepData


def force_detail(data: StepData, feature: int, image_shape: Sequence[int]) -> dict[str, Any]:
    """Feature `feature`'s weight row and the step's three updates of it (optimizer, SOM,
    combined) as images of the input's `image_shape` (`[C, H, W]`: drawn H×W), its force
    magnitudes, win rate and the cosine between the optimizer and SOM updates. A key the step
    lacks (no BCL: no SOM update) is None; non-finite scalars are None too."""
    arrays = data.arrays
    height, width = int(image_shape[-2]), int(image_shape[-1])

    def row(key: str) -> np.ndarray | None:
        array = arrays.get(key)
        return None if array is None else array[feature]

    opt, som = row("opt_delta"), row("som_delta")
    cosine = None
    if opt is not None and som is not None:
        norms = float(np.linalg.norm(opt) * np.linalg.norm(som))
        cosine = float(opt @ som / norms) if norms > 0 else 0.0

    def image(key: str) -> list[list[float]] | None:
        values = row(key)
        return None if values is None else values.reshape(height, width).tolist()

    def scalar(key: str) -> float | None:
        values = row(key)
        if values is None:
            return None
        number = float(values)
        return number if np.isfinite(number) else None

    return {
        "step": data.step,
        "feature": feature,
        "weight": image("encoder_weights"),
        "opt_delta": image("opt_delta"),
        "som_delta": image("som_delta"),
        "combined_delta": image("combined_delta"),
        "grad_som_cosine": cosine,
        "grad_magnitude": scalar("grad_magnitude"),
        "som_magnitude": scalar("som_magnitude"),
        "win_rate": scalar("win_rate"),
    }
