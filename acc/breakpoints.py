"""Breakpoints: conditions checked at the end of every step that stop a loop at the step where
one holds.

`BreakpointConfig` is the armed set (any of `nonfinite`, `loss_above`, `loss_spike`,
`grad_norm_above`, `dead_fraction_above`); `Breakpoints` holds it for one loop with the last
`BreakReason`; `BreakpointCallback` checks the conditions on the training thread and calls its
`on_break` (a free run pauses, an inspector session ends its `train()` call) at the end of the
step where one fires, after the capture committed it.

With `nonfinite` armed the callback puts forward hooks on every module; each records whether its
output is finite as a tensor (no device sync), and the end of the step reads them all at once.
So the first module whose forward output, gradient or parameter became non-finite is named:
"encoder.0 output", "encoder.0.weight gradient", "decoder.0.bias parameter".
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from acc.callbacks import Callback
from acc.recipes.options import OptionSpec
from acc.step_events import StepEvent, StepEvents
from acc.step_inspector import KEY_META, StepData
from acc.trainer import StepInfo

if TYPE_CHECKING:
    from acc.recipes import TrainingSetup

# The loss EMA `loss_spike` compares with: a 0.9 decay follows ~10 steps, long enough that one
# noisy batch does not move it, short enough to follow a loss that falls fast early on.
LOSS_EMA_DECAY = 0.9
# Steps of EMA before `loss_spike` may fire: the first losses of a run fall too fast to judge.
LOSS_SPIKE_WARMUP = 10
# A BCL feature winning under 1% of a batch's images counts as dead (as in the run summary).
DEAD_WIN_RATE = 0.01

# The thresholds' allowed values: defined once, read by the API and (generated) the dashboard.
LOSS_ABOVE = OptionSpec("loss_above", "float", 1.0, 0.0, 1e12, "the loss is above this")
LOSS_SPIKE = OptionSpec(
    "loss_spike", "float", 3.0, 1.0, 1e6, "the loss is above k × its recent EMA (k)"
)
GRAD_NORM_ABOVE = OptionSpec(
    "grad_norm_above", "float", 100.0, 0.0, 1e12, "the global gradient norm is above this"
)
DEAD_FRACTION_ABOVE = OptionSpec(
    "dead_fraction_above",
    "float",
    0.5,
    0.0,
    1.0,
    "the share of dead BCL features / unused VQ codes of any level is above this",
)
THRESHOLDS: dict[str, OptionSpec[float]] = {
    spec.name: spec for spec in (LOSS_ABOVE, LOSS_SPIKE, GRAD_NORM_ABOVE, DEAD_FRACTION_ABOVE)
}
CONDITIONS = ("nonfinite", *THRESHOLDS)


class BreakpointError(ValueError):
    """A breakpoint that names no condition or has a threshold outside its range."""


@dataclass(frozen=True)
class BreakpointConfig:
    """The armed conditions; None (or False) leaves one off."""

    nonfinite: bool = False  # any captured tensor, the loss, an output, gradient or parameter
    loss_above: float | None = None
    loss_spike: float | None = None  # k: loss > k × EMA of the previous losses
    grad_norm_above: float | None = None  # the global L2 norm of every gradient
    dead_fraction_above: float | None = None

    @cached_property
    def armed(self) -> bool:
        # `is`, not `in (None, False)`: a threshold of 0.0 equals False but is armed. Cached: the
        # config is frozen and every step boundary asks.
        return any(
            getattr(self, field.name) is not None and getattr(self, field.name) is not False
            for field in fields(self)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> BreakpointConfig:
        """A config from `{condition: value}`; `BreakpointError` names the first bad one."""
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name == "nonfinite":
                if not isinstance(value, bool):
                    raise BreakpointError(f"nonfinite must be true or false, got {value!r}")
                values[name] = value
            elif name in THRESHOLDS:
                if value is not None:
                    try:
                        values[name] = float(THRESHOLDS[name].check(value))
                    except ValueError as error:
                        raise BreakpointError(str(error)) from None
            else:
                raise BreakpointError(
                    f"{name!r} is not a breakpoint condition; conditions: {', '.join(CONDITIONS)}"
                )
        return cls(**values)


@dataclass(frozen=True)
class BreakReason:
    """Why a loop stopped: `condition` held at `step` with `value` (the loss, the norm, the
    share; for `nonfinite` the number of non-finite values), and for `nonfinite` where it was
    first seen (`where`: "encoder.0 output", or a captured key)."""

    condition: str
    step: int
    value: float | None
    where: str | None = None
    threshold: float | None = None

    @property
    def message(self) -> str:
        if self.condition == "nonfinite":
            return f"non-finite values: {self.where} at step {self.step}"
        shown = "n/a" if self.value is None else f"{self.value:.4g}"
        return f"{self.condition} {self.threshold:g} fired at step {self.step} (value {shown})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message}


class Breakpoints:
    """The breakpoints of one loop: the armed config and the last break (thread-safe)."""

    def __init__(self, events: StepEvents | None = None) -> None:
        self._config = BreakpointConfig()
        self._reason: BreakReason | None = None
        self.events = events
        self._lock = threading.Lock()

    @property
    def config(self) -> BreakpointConfig:
        return self._config

    @property
    def armed(self) -> bool:
        return self._config.armed

    def set(self, config: BreakpointConfig) -> BreakpointConfig:
        """Arm `config` (replaces the armed set; takes effect at the next step)."""
        with self._lock:
            self._config = config
        return config

    def clear(self) -> None:
        """Disarm everything and forget the last break."""
        with self._lock:
            self._config = BreakpointConfig()
            self._reason = None

    @property
    def reason(self) -> BreakReason | None:
        """The last break, until the next one or `clear()`."""
        return self._reason

    def reason_dict(self) -> dict[str, Any] | None:
        reason = self._reason
        return None if reason is None else reason.to_dict()

    def fire(self, reason: BreakReason) -> None:
        with self._lock:
            self._reason = reason
        if self.events is not None:
            self.events.add(
                StepEvent(
                    reason.step, "breakpoint", reason.condition, reason.threshold, reason.value
                )
            )

    def describe(self) -> dict[str, Any]:
        """`{armed, breakpoints: {condition: value}, break_reason, conditions}`."""
        return {
            "armed": self.armed,
            "breakpoints": self._config.to_dict(),
            "break_reason": self.reason_dict(),
            "conditions": list(CONDITIONS),
        }

    def callback(
        self,
        model: nn.Module,
        committed: Callable[[], StepData | None],
        on_break: Callable[[BreakReason], None],
        key_owner: Callable[[str], str | None] = lambda key: None,
    ) -> BreakpointCallback:
        return BreakpointCallback(self, model, committed, on_break, key_owner)


def _tensors(output: Any) -> list[torch.Tensor]:
    """The floating-point tensors a forward returned (a tensor, or a tuple/list/dict of them)."""
    if isinstance(output, torch.Tensor):
        return [output] if output.is_floating_point() else []
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _tensors(item)]
    if isinstance(output, dict):
        return [t for item in output.values() for t in _tensors(item)]
    return []


def _first_bad(named: list[tuple[str, torch.Tensor]]) -> str | None:
    """The name of the first flag that is False, reading every flag with one device sync."""
    if not named:
        return None
    flags = torch.stack([flag for _, flag in named]).cpu()  # [N] bool, one transfer
    if bool(flags.all()):
        return None
    return named[int((~flags).nonzero()[0])][0]


def _captured_nonfinite(data: StepData) -> tuple[str, int] | None:
    """The first captured key holding a NaN/Inf, in capture order, and how many it holds."""
    for key, array in data.arrays.items():
        # A float64 sum is cheap and non-finite whenever any element is.
        if array.dtype.kind == "f" and not np.isfinite(array.sum(dtype=np.float64)):
            return key, int(array.size - np.count_nonzero(np.isfinite(array)))
    return None


def dead_fraction(data: StepData) -> float | None:
    """The share of dead units the step captured: BCL features winning under `DEAD_WIN_RATE`
    of the batch, or the most unused share of codes over VQ levels; None when neither is there."""
    win_rate = data.arrays.get("win_rate")
    if win_rate is not None and win_rate.size:
        return float(np.mean(win_rate < DEAD_WIN_RATE))
    usage = data.arrays.get("vq_usage")
    if usage is not None and usage.size:
        return float(1.0 - np.min(usage))
    return None


def feature_key_owner(setup: TrainingSetup) -> Callable[[str], str | None]:
    """Which module of `setup` a captured key describes: its feature layer for the per-feature
    keys (their shape has the feature axis `D`), else none."""
    layer = setup.feature_layer
    name = next((n for n, m in setup.model.named_modules() if m is layer), None)
    per_feature = {key.value for key, meta in KEY_META.items() if "D" in meta.shape}

    def owner(key: str) -> str | None:
        return name if key in per_feature else None

    return owner


class BreakpointCallback(Callback):
    """Checks the armed conditions at the end of each step (list it after the capture, so the
    step is committed) and calls `on_break` with the first that holds."""

    def __init__(
        self,
        breakpoints: Breakpoints,
        model: nn.Module,
        committed: Callable[[], StepData | None],
        on_break: Callable[[BreakReason], None],
        key_owner: Callable[[str], str | None] = lambda key: None,
    ) -> None:
        self.breakpoints = breakpoints
        # The module a captured key describes (e.g. "encoder.0" for a per-feature vector).
        self.key_owner = key_owner
        self.model = model
        self.committed = committed
        self.on_break = on_break
        self._handles: list[RemovableHandle] = []
        self._outputs: list[tuple[str, torch.Tensor]] = []
        self._config = BreakpointConfig()
        self._found: str | None = None  # where a non-finite value showed first this step
        self._grad_norm: float | None = None
        self._backward_seen = False  # a loop without on_after_backward is checked at its end
        self._ema: float | None = None
        self._ema_steps = 0

    # -- forward hooks -----------------------------------------------------------------------------

    def _attach(self) -> None:
        for name, module in self.model.named_modules():
            if name:  # the root's output is the loss's input: its parts are named below it

                def hook(module: nn.Module, args: Any, output: Any, name: str = name) -> None:
                    for tensor in _tensors(output):
                        self._outputs.append((f"{name} output", torch.isfinite(tensor).all()))

                self._handles.append(module.register_forward_hook(hook))

    def _detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # -- the hooks ---------------------------------------------------------------------------------

    def on_step_start(self, step: int) -> None:
        self._config = self.breakpoints.config  # one config for the whole step
        self._outputs = []
        self._found = None
        self._grad_norm = None
        self._backward_seen = False
        if self._config.nonfinite and not self._handles:
            self._attach()
        elif not self._config.nonfinite and self._handles:
            self._detach()

    def on_after_backward(self, info: StepInfo) -> None:
        self._backward_seen = True
        config = self._config
        if config.nonfinite:
            self._found = _first_bad(self._outputs)
            if self._found is None:
                self._found = _first_bad(
                    [
                        (f"{name} gradient", torch.isfinite(p.grad).all())
                        for name, p in info.model.named_parameters()
                        if p.grad is not None
                    ]
                )
        self._outputs = []
        if config.grad_norm_above is not None:
            grads = [p.grad.detach() for p in info.model.parameters() if p.grad is not None]
            # One fused call for every parameter's norm: per-tensor calls dominate on small models.
            norms = torch._foreach_norm(grads) if grads else []
            self._grad_norm = float(torch.stack(list(norms)).norm()) if grads else 0.0

    def on_step_end(self, info: StepInfo) -> None:
        config = self._config
        if not config.armed:
            self._ema, self._ema_steps = None, 0
            return
        if not self._backward_seen:  # an attached loop: its outputs and gradients are still there
            self.on_after_backward(info)
        # A loop that names no loss (an attached loop given other scalars) has none to judge.
        named = info.losses.get("loss")
        loss = float(named.detach()) if named is not None else None
        reason = self._check(config, info, loss)
        if loss is not None and math.isfinite(loss):
            self._ema = (
                loss
                if self._ema is None
                else LOSS_EMA_DECAY * self._ema + (1 - LOSS_EMA_DECAY) * loss
            )
            self._ema_steps += 1
        if reason is not None:
            self.breakpoints.fire(reason)
            self.on_break(reason)

    def _check(
        self, config: BreakpointConfig, info: StepInfo, loss: float | None
    ) -> BreakReason | None:
        step = info.step
        data = self.committed()
        data = data if data is not None and data.step == step else None
        if config.nonfinite:
            found = self._nonfinite(info, loss, data)
            if found is not None:
                return BreakReason("nonfinite", step, found[1], found[0])
        reason = None if loss is None else self._loss_reason(config, step, loss)
        if reason is not None:
            return reason
        grad_norm = self._grad_norm
        # `not norm <= threshold`: a NaN norm fires too.
        if (
            config.grad_norm_above is not None
            and grad_norm is not None
            and not grad_norm <= config.grad_norm_above
        ):
            return BreakReason("grad_norm_above", step, grad_norm, threshold=config.grad_norm_above)
        if config.dead_fraction_above is not None and data is not None:
            share = dead_fraction(data)
            if share is not None and share > config.dead_fraction_above:
                return BreakReason(
                    "dead_fraction_above", step, share, threshold=config.dead_fraction_above
                )
        return None

    def _loss_reason(self, config: BreakpointConfig, step: int, loss: float) -> BreakReason | None:
        if config.loss_above is not None and loss > config.loss_above:
            return BreakReason("loss_above", step, loss, threshold=config.loss_above)
        if (
            config.loss_spike is not None
            and self._ema is not None
            and self._ema_steps >= LOSS_SPIKE_WARMUP
            and loss > config.loss_spike * self._ema
        ):
            return BreakReason("loss_spike", step, loss / self._ema, threshold=config.loss_spike)
        return None

    def _nonfinite(
        self, info: StepInfo, loss: float | None, data: StepData | None
    ) -> tuple[str, float | None] | None:
        """(where, how many) of the first non-finite value of the step: an output or gradient
        (seen after backward), the loss, a parameter after the update, then a captured key."""
        if self._found is not None:
            return self._found, None
        if loss is not None and not math.isfinite(loss):
            return "loss", 1.0
        found = _first_bad(
            [
                (f"{name} parameter", torch.isfinite(p.detach()).all())
                for name, p in info.model.named_parameters()
            ]
        )
        if found is not None:
            return found, None
        if data is not None:
            captured = _captured_nonfinite(data)
            if captured is not None:
                key, count = captured
                owner = self.key_owner(key)
                where = f"{owner} {key} (captured)" if owner else f"captured {key}"
                return where, float(count)
        return None

    def on_train_end(self) -> None:
        # Hooks live only while a train() call runs: between calls the model is the user's.
        self._detach()

    def state_dict(self) -> dict[str, Any]:
        """What carries from step to step: the loss EMA that `loss_spike` compares against (a
        rewind takes it back with the rest of the session)."""
        return {"ema": self._ema, "ema_steps": self._ema_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._ema, self._ema_steps = state["ema"], state["ema_steps"]

    def close(self) -> None:
        self._detach()
