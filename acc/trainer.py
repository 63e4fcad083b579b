"""The training loop: one method that reads top to bottom, calling `Callback` hooks for tooling.

Per step: `on_step_start` → next batch → forward → loss → zero_grad/backward →
`on_after_backward(info)` (grads present, optimizer not stepped) → `optimizer.step()` →
`on_step_end(info)`. The inspector captures in `on_after_backward`/`on_step_end`; the pause gate
blocks in `on_step_end`. With no callbacks, the loop pays nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from acc.callbacks import Callback, CallbackList
from acc.data import Batch

# A loss function gets the model's output and the batch; it returns the scalar loss to minimise,
# or a dict with that scalar under "loss" and any named parts (e.g. "commitment") beside it.
LossOutput = torch.Tensor | dict[str, torch.Tensor]
LossFn = Callable[[object, Batch], LossOutput]


@dataclass
class StepInfo:
    """What the callbacks of one step see. `step` counts from 1 across all `train()` calls."""

    step: int
    batch: Batch  # already on the trainer's device
    output: object  # whatever the model's forward returned
    loss: torch.Tensor
    losses: dict[str, torch.Tensor]  # "loss" and its named parts, if the loss function gave any
    model: nn.Module
    optimizer: torch.optim.Optimizer


@dataclass(frozen=True)
class StepResult:
    """The plain record of a finished step."""

    step: int
    loss: float
    epoch: int
    batch_index: int
    losses: dict[str, float] = field(default_factory=dict)


def reconstruction_loss(kind: Literal["l1", "mse"] = "l1") -> LossFn:
    """Loss for autoencoders whose forward returns `(latent, reconstruction)`: L1 (mean absolute
    error, the default) or MSE between the reconstruction and the flattened input images."""
    if kind not in ("l1", "mse"):
        raise ValueError(f"reconstruction loss must be 'l1' or 'mse', got {kind!r}")
    criterion = F.l1_loss if kind == "l1" else F.mse_loss

    def loss_fn(output: object, batch: Batch) -> torch.Tensor:
        reconstruction: torch.Tensor = output[1]  # type: ignore[index]
        return criterion(reconstruction, batch.images.reshape(reconstruction.shape))

    return loss_fn


class Trainer:
    """Runs optimisation steps over an endless batch stream; state persists across `train()` calls.

    `stop()` may be called from any thread: the running `train()` returns after its current step.
    A stop requested while no `train()` runs makes the next `train()` return before its first step
    (a stop is never lost to a race with the thread about to start training); `train()` consumes it.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        batches: Iterator[Batch],
        loss_fn: LossFn,
        device: torch.device | str = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.batches = batches
        self.loss_fn = loss_fn
        self.global_step = 0  # steps completed so far, over all train() calls
        self._stop_requested = threading.Event()

    def stop(self) -> None:
        """Ask the running (or next) `train()` to return after the current step."""
        self._stop_requested.set()

    def train(
        self,
        steps: int,
        callbacks: Sequence[Callback] = (),
        keep_results: bool = True,
    ) -> list[StepResult]:
        """Run up to `steps` optimisation steps, calling `callbacks` (in order) at each point of
        a step, and return one `StepResult` per finished step (none with `keep_results=False`: a
        long run whose callbacks keep what they need would otherwise grow a list without bound)."""
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps!r}")
        hooks = CallbackList(callbacks)
        results: list[StepResult] = []
        self.model.train()
        hooks.on_train_start()
        try:
            for _ in range(steps):
                if self._stop_requested.is_set():
                    break
                step = self.global_step + 1
                try:
                    info = self._step(step, hooks)
                except BaseException as error:
                    hooks.on_exception(step, error)
                    raise
                if keep_results:  # float() waits for the device: only when asked for
                    results.append(
                        StepResult(
                            step=step,
                            loss=float(info.loss.detach()),
                            epoch=info.batch.epoch,
                            batch_index=info.batch.index,
                            losses={k: float(v.detach()) for k, v in info.losses.items()},
                        )
                    )
        finally:
            self._stop_requested.clear()
            hooks.on_train_end()
        return results

    def _step(self, step: int, hooks: CallbackList) -> StepInfo:
        hooks.on_step_start(step)
        # fetch the next batch and move it to the device
        raw = next(self.batches)
        batch = Batch(
            raw.images.to(self.device, non_blocking=True),
            raw.labels.to(self.device, non_blocking=True),
            raw.epoch,
            raw.index,
            raw.sample_indices,
        )
        # forward and loss
        output = self.model(batch.images)
        loss_out = self.loss_fn(output, batch)
        losses = loss_out if isinstance(loss_out, dict) else {"loss": loss_out}
        loss = losses["loss"]
        # backward: gradients are present from here on
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.global_step = step
        info = StepInfo(step, batch, output, loss, losses, self.model, self.optimizer)
        # callbacks see the gradients before the optimizer consumes them
        hooks.on_after_backward(info)
        # optimizer step
        self.optimizer.step()
        # callbacks see the updated weights (and may block, e.g. while paused)
        hooks.on_step_end(info)
        return info
