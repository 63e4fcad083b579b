"""What the inspector keeps of a step of the BCL recipe (with or without BCL).

Before the optimizer step (`on_after_backward`): the batch, the loss, every BCL intermediate and
the gradients. After it (`on_step_end`): the encoder weights of the forward pass and after the
step, what the optimizer and the whole step changed, the cosine matrices; then the commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from acc.step_capture import (
    Capture,
    Detail,
    DetailPlan,
    always_full,
    cosine_matrix,
    mean_offdiagonal_cosine,
)
from acc.step_inspector import StepInspector, StepTensorKey
from acc.trainer import StepInfo

if TYPE_CHECKING:
    from acc.recipes.bcl import BCLSetup

K = StepTensorKey


class BCLCapture(Capture):
    """Feeds one `StepInspector` from the steps of a BCL recipe setup (with or without BCL).

    `plan` picks how much each step keeps (see `Detail`): the inspector keeps every step in full;
    a free run keeps every N-th step in full and only scalars in between, which costs the loss
    copy and one cosine mean of the encoder weights (the live chart draws both every step).
    """

    def __init__(
        self,
        setup: BCLSetup,
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
        self._capture(K.LOSS, info.loss)
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
