"""The capture protocol: a `Callback` that feeds a `StepInspector` from `Trainer.train` and
commits each step, keeping as much of it as its plan says (`Detail`). Each recipe has its own
capture (`acc/recipes/<name>/capture.py`); the cosine helpers here are shared."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

import torch
import torch.nn.functional as F

from acc.callbacks import Callback
from acc.step_inspector import KEY_META, StepData, StepTensorKey

K = StepTensorKey


def cosine_matrix(rows: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of the rows of `rows` ([D, P] → [D, D]). A zero row has cosine 0 with
    everything (F.normalize leaves it zero)."""
    unit = F.normalize(rows.float(), dim=1)  # [D, P]
    return unit @ unit.T  # [D, D]


def mean_offdiagonal_cosine(rows: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The mean cosine similarity between distinct rows of `rows` [D, P], without the [D, D]
    matrix (every step of a free run needs it, the matrix only its full steps):
    Σ_{i≠j} u_i·u_j = ‖Σ_i u_i‖² − Σ_i ‖u_i‖² for the unit rows u_i = w_i / ‖w_i‖ (a zero row
    stays zero, as with F.normalize). Σ_i u_i is one matrix-vector product, so no [D, P]
    temporary is made. Few operations, each in place where it can be: at a free run's every
    step the per-call overhead outweighs the arithmetic."""
    rows = rows.detach().to(dtype)
    norms = torch.linalg.vector_norm(rows, dim=1)  # [D]
    inverse = norms.clamp_min(1e-12).reciprocal_()  # [D]; F.normalize's epsilon
    total = inverse @ rows  # [P] = Σ_i u_i
    unit = norms.mul_(inverse)  # [D] = ‖u_i‖: 1, or 0 for a zero row
    d = rows.shape[0]
    return (total.dot(total) - unit.dot(unit)) / max(d * (d - 1), 1)


class Detail(IntEnum):
    """How much of a step a capture keeps, from least to most."""

    SCALARS = 0  # the loss and the scalars a live chart draws: a free run's steps between fulls
    HISTORY = 1  # every history key: scalars and the [D]/[B] vectors
    FULL = 2  # everything, held as a full snapshot


DetailPlan = Callable[[int], Detail]  # step number → how much that step captures


def always_full(step: int) -> Detail:
    """The inspector's plan: every step in full."""
    return Detail.FULL


def every_nth_full(n: int, otherwise: Detail = Detail.HISTORY) -> DetailPlan:
    """Every `n`-th step in full, the others at `otherwise`."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return lambda step: Detail.FULL if step % n == 0 else otherwise


class Capture(Callback):
    """A callback that feeds a `StepInspector` and commits each step at its end. Its `plan`
    says how much each step keeps (`detail`, decided when the step's gradients exist);
    `last_committed` is the newest committed step."""

    detail: Detail = Detail.FULL
    last_committed: StepData | None = None

    @property
    def full(self) -> bool:
        """Whether the current (or just committed) step is captured in full."""
        return self.detail is Detail.FULL

    def state_dict(self) -> dict[str, Any]:
        """What the capture carries from step to step beyond the inspector (none by default;
        e.g. the VQ capture's codebook health window)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take `state` (from `state_dict()`) as the current state."""

    def wants(self, key: StepTensorKey) -> bool:
        """Whether the current step keeps `key`: a full step keeps every key, a history step
        the history keys, a scalars step the scalar history keys."""
        if self.detail is Detail.FULL:
            return True
        meta = KEY_META[key]
        return meta.history and (self.detail is Detail.HISTORY or not meta.shape)
