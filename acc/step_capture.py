"""What the inspector captures from a training step of a linear-encoder setup (with or without
BCL): the `Callback` that feeds a `StepInspector` from `Trainer.train`.

Before the optimizer step (`on_after_backward`): the batch, the loss, the encoder weights of the
forward pass, every BCL intermediate and the gradients. After it (`on_step_end`): the new weights,
what the optimizer and the whole step changed, the cosine matrices; then the step is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.hooks import RemovableHandle

from acc.callbacks import Callback
from acc.recipes import TrainingSetup
from acc.step_inspector import KEY_META, StepData, StepInspector, StepTensorKey
from acc.trainer import StepInfo

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
    temporary is made."""
    rows = rows.detach().to(dtype)
    norms = torch.linalg.vector_norm(rows, dim=1)  # [D]
    inverse = 1.0 / norms.clamp_min(1e-12)  # [D]; F.normalize's epsilon
    total = inverse @ rows  # [P] = Σ_i u_i
    d = rows.shape[0]
    return (total @ total - (norms * inverse).square().sum()) / max(d * (d - 1), 1)


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

    def wants(self, key: StepTensorKey) -> bool:
        """Whether the current step keeps `key`: a full step keeps every key, a history step
        the history keys, a scalars step the scalar history keys."""
        if self.detail is Detail.FULL:
            return True
        meta = KEY_META[key]
        return meta.history and (self.detail is Detail.HISTORY or not meta.shape)


class StepCapture(Capture):
    """Feeds one `StepInspector` from the steps of one linear-encoder `TrainingSetup`.

    `plan` picks how much each step keeps (see `Detail`): the inspector keeps every step in full;
    a free run keeps every N-th step in full and only scalars in between, which costs the loss
    copy and one cosine mean of the encoder weights (the live chart draws both every step).
    """

    def __init__(
        self,
        setup: TrainingSetup,
        inspector: StepInspector,
        plan: DetailPlan = always_full,
    ) -> None:
        self.setup = setup
        self.inspector = inspector
        self.plan = plan
        self._layer: nn.Linear = setup.layer
        self._forward_weight: torch.Tensor | None = None
        self._forward_cosine: torch.Tensor | None = None
        self.detail = Detail.FULL
        self.last_committed = None
        self._handle: RemovableHandle | None = self._layer.register_forward_hook(self._remember)

    def close(self) -> None:
        """Remove the weight hook. Idempotent."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _remember(self, module: nn.Module, inputs: object, output: object) -> None:
        # W as the forward pass used it: BCL's SOM step changes W in place during backward. A
        # scalars step needs only its cosine mean, which costs less than a copy of W.
        if not torch.is_grad_enabled():
            return
        if self.detail is Detail.SCALARS:
            self._forward_weight = None
            self._forward_cosine = mean_offdiagonal_cosine(self._layer.weight)
        else:
            self._forward_weight = self._layer.weight.detach().clone()
            self._forward_cosine = None

    def _capture(self, key: StepTensorKey, value: torch.Tensor | float, fresh: bool = True) -> None:
        # `fresh`: computed for this step and never modified afterwards, so the inspector may keep
        # it without a copy. Live state (weights, .grad) is passed with fresh=False.
        if self.wants(key):
            self.inspector.capture(key, value, fresh=fresh)

    def on_step_start(self, step: int) -> None:
        """Decide how much this step keeps (the forward hook needs to know)."""
        self.detail = self.plan(step)

    def on_after_backward(self, info: StepInfo) -> None:
        """Capture everything that exists before the optimizer step."""
        self._capture(K.LOSS, info.loss.detach())
        if self.detail is Detail.SCALARS:
            return
        self._capture(K.BATCH_IMAGES, info.batch.images)
        self._capture(K.BATCH_LABELS, info.batch.labels)
        bcl = self.setup.bcl
        if bcl is not None:
            for name, tensor in bcl.last_metrics.items():
                self._capture(K(name), tensor)
            for name, tensor in bcl.get_step_metrics().items():
                self._capture(K(name), tensor)
        else:
            # Without BCL the gradient Adam sees is the raw one: it is both raw and "masked".
            grad = self._layer.weight.grad
            if grad is not None:
                self._capture(K.GRAD_RAW, grad, fresh=False)
                self._capture(K.GRAD_MASKED, grad, fresh=False)
                self._capture(K.GRAD_MAGNITUDE, torch.linalg.vector_norm(grad, dim=1))

    def on_step_end(self, info: StepInfo) -> None:
        """Capture what the optimizer step did, then commit the step."""
        if self._forward_cosine is not None:
            self._capture(K.WEIGHT_COSINE_MEAN, self._forward_cosine)
        else:
            self._capture_update()
        data = self.inspector.commit(info.step, full=self.full)
        self.last_committed = data

    def _capture_update(self) -> None:
        before = self._forward_weight
        if before is None:
            return
        after = self._layer.weight.detach()
        bcl = self.setup.bcl
        som_delta = bcl.last_metrics.get("som_delta") if bcl is not None else None
        if self.full:  # [D, P] tensors, not history: a history step does not compute them
            self._capture(K.ENCODER_WEIGHTS, before)
            self._capture(K.ENCODER_WEIGHTS_POST, after, fresh=False)
            self._capture(K.COMBINED_DELTA, after - before)
            self._capture(
                K.OPT_DELTA, after - before if som_delta is None else after - (before + som_delta)
            )
        self._capture_cosines(K.WEIGHT_COSINE, K.WEIGHT_COSINE_MEAN, before)
        grad_rows: torch.Tensor | None
        if bcl is not None:
            targets = bcl.last_metrics["som_targets"]
            self._capture_cosines(K.SOM_TARGET_COSINE, K.SOM_TARGET_COSINE_MEAN, targets)
            grad_rows = bcl.last_metrics["grad_masked"]
        else:
            grad_rows = self._layer.weight.grad
        if grad_rows is not None:
            self._capture_cosines(K.GRAD_COSINE, K.GRAD_COSINE_MEAN, grad_rows)

    def _capture_cosines(
        self, matrix_key: StepTensorKey, mean_key: StepTensorKey, rows: torch.Tensor
    ) -> None:
        # The mean is history (every step); the [D, D] matrix only of full steps.
        self._capture(mean_key, mean_offdiagonal_cosine(rows))
        if self.full:
            self._capture(matrix_key, cosine_matrix(rows))
