"""What the inspector captures from a training step of a linear-encoder setup (with or without
BCL): the `Callback` that feeds a `StepInspector` from `Trainer.train`.

Before the optimizer step (`on_after_backward`): the batch, the loss, the encoder weights of the
forward pass, every BCL intermediate and the gradients. After it (`on_step_end`): the new weights,
what the optimizer and the whole step changed, the cosine matrices; then the step is committed.
"""

from __future__ import annotations

from collections.abc import Callable

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
    Σ_{i≠j} u_i·u_j = ‖Σ_i u_i‖² − Σ_i ‖u_i‖² for the unit rows u."""
    unit = F.normalize(rows.detach().to(dtype), dim=1)  # [D, P]
    total = unit.sum(dim=0)  # [P]
    d = unit.shape[0]
    return (total @ total - (unit * unit).sum()) / max(d * (d - 1), 1)


class Capture(Callback):
    """A callback that feeds a `StepInspector` and commits each step at its end. `full` says
    whether the current step captures everything (else only the history keys);
    `last_committed` is the newest committed step."""

    full: bool
    last_committed: StepData | None


class StepCapture(Capture):
    """Feeds one `StepInspector` from the steps of one `TrainingSetup`.

    `full_every` picks which steps capture everything: 1 (the inspector) captures every step in
    full; N > 1 (a free run) captures only the history keys (scalars, [D] and [B] vectors) on the
    other steps, which costs a few small copies. `force_full()`, when given, makes any step full
    (a paused run captures every stepped step).
    """

    def __init__(
        self,
        setup: TrainingSetup,
        inspector: StepInspector,
        full_every: int = 1,
        force_full: Callable[[], bool] | None = None,
    ) -> None:
        if full_every < 1:
            raise ValueError(f"full_every must be >= 1, got {full_every}")
        self.setup = setup
        self.inspector = inspector
        self.full_every = full_every
        self.force_full = force_full
        self._layer: nn.Linear = setup.layer
        self._forward_weight: torch.Tensor | None = None
        self.full = True
        self.last_committed: StepData | None = None
        self._handle: RemovableHandle | None = self._layer.register_forward_hook(self._remember)

    def close(self) -> None:
        """Remove the weight hook. Idempotent."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _remember(self, module: nn.Module, inputs: object, output: object) -> None:
        # W as the forward pass used it: BCL's SOM step changes W in place during backward.
        if torch.is_grad_enabled():
            self._forward_weight = self._layer.weight.detach().clone()

    def _capture(self, key: StepTensorKey, value: torch.Tensor | float, fresh: bool = True) -> None:
        # `fresh`: computed for this step and never modified afterwards, so the inspector may keep
        # it without a copy. Live state (weights, .grad) is passed with fresh=False.
        if self.full or KEY_META[key].history:
            self.inspector.capture(key, value, fresh=fresh)

    def on_after_backward(self, info: StepInfo) -> None:
        """Capture everything that exists before the optimizer step."""
        self.full = (
            self.full_every == 1
            or info.step % self.full_every == 0
            or (self.force_full is not None and self.force_full())
        )
        self._capture(K.BATCH_IMAGES, info.batch.images)
        self._capture(K.BATCH_LABELS, info.batch.labels)
        self._capture(K.LOSS, info.loss.detach())
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
        self._capture_update()  # cheap; non-full steps keep only its scalars (cosine means)
        data = self.inspector.commit(info.step, full=self.full)
        self.last_committed = data

    def _capture_update(self) -> None:
        before = self._forward_weight
        if before is None:
            return
        after = self._layer.weight.detach()
        bcl = self.setup.bcl
        som_delta = bcl.last_metrics.get("som_delta") if bcl is not None else None
        if self.full:  # [D, P] tensors, not history: a light step does not compute them
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
