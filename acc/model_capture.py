"""Capture for any PyTorch model: per-parameter statistics, per-module activation statistics,
full weights, gradients and updates of held steps, and the first non-finite value, stored under
free-form names in a `NamedStepInspector` (the `StepInspector` with its `CaptureBudget`, keyed by
names such as `weight/encoder.0.weight` instead of the recipes' fixed vocabulary).

What a step keeps depends on how it was planned at the boundary before it:

    light   the scalars given to `dbg.step` only (a free-running step between captures)
    stats   + `stats/<param>` (PARAM_FIELDS), `hist/<param>` (a fixed-bin histogram of |weight|)
            and `act/<module>` (ACTIVATION_FIELDS): small vectors, kept in the history
    full    + `weight/<param>`, `grad/<param>`, `update/<param>` and the tensors a callback
            recorded: kept only for the most recent steps, within the byte budget

Statistics are computed on the model's device and leave it in one transfer per step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from acc.step_inspector import CaptureBudget, StepInspector

# Name spaces of the attached store. Scalars and the statistics vectors are kept every step they
# are captured (the history); the rest only for held steps.
SCALAR = "scalar/"
STATS = "stats/"
HIST = "hist/"
ACT = "act/"
WEIGHT = "weight/"
GRAD = "grad/"
UPDATE = "update/"
TENSOR = "tensor/"  # what a callback or the loop recorded with `record()`
HISTORY_PREFIXES = (SCALAR, STATS, HIST, ACT)

PARAM_FIELDS = (
    "weight_norm",
    "grad_norm",
    "update_norm",
    "update_ratio",  # update_norm / weight_norm
    "weight_nonfinite",
    "grad_nonfinite",
)
ACTIVATION_FIELDS = ("mean", "std", "zero_fraction", "nonfinite")
# |weight| histogram: bin 0 counts exact zeros; bin 1 + i counts |w| in [2^(e), 2^(e+1)) with
# e = HIST_MIN_EXP + i, the first and last bins also holding everything below and above.
# Fixed bins (not the tensor's own range) make steps and parameters comparable.
HIST_MIN_EXP = -24
HIST_MAX_EXP = 8
HIST_BINS = HIST_MAX_EXP - HIST_MIN_EXP + 1  # magnitude bins, plus the zero bin
MAX_NAME_LENGTH = 200  # of a name given to `record()`


class UnknownTensor(LookupError):
    """A name the store does not hold at the step asked; says which names it has."""


class NoParameters(ValueError):
    """The model has no parameters to watch."""


def hist_edges() -> list[float]:
    """The lower edge of every magnitude bin (bin 0, the zeros, has none)."""
    return [2.0**exponent for exponent in range(HIST_MIN_EXP, HIST_MAX_EXP + 1)]


class NamedStepInspector(StepInspector):
    """A `StepInspector` keyed by free-form names: scalars and names under `HISTORY_PREFIXES`
    go to the history, everything goes to the full snapshot of a full step (bounded by the same
    budget)."""

    @classmethod
    def within(cls, budget: CaptureBudget) -> NamedStepInspector:
        return cls(
            budget.max_full_snapshots,
            budget.max_snapshot_bytes,
            max_history_steps=budget.max_history_steps,
            max_vector_history=budget.max_vector_history,
        )

    def put(self, name: str, array: np.ndarray) -> None:
        """Store a host array under `name` for the current step (it must not change later)."""
        self._current[name] = array

    def _keeps_history(self, key: str, array: np.ndarray) -> bool:
        return array.ndim == 0 or key.startswith(HISTORY_PREFIXES)


def as_host(value: torch.Tensor | np.ndarray | float | int) -> np.ndarray:
    """A float32 host copy of `value` (a tensor is detached and copied off its device)."""
    if isinstance(value, torch.Tensor):
        return np.asarray(value.detach().to("cpu", torch.float32, copy=True).numpy(), order="C")
    return np.array(value, dtype=np.float32)


def _hosts(tensors: list[torch.Tensor]) -> list[np.ndarray]:
    """Float32 host copies of many tensors: on an accelerator every copy is queued at once
    (asynchronously) and the stream is waited for once, not once per tensor."""
    if not tensors:
        return []
    device = tensors[0].device
    if device.type == "cuda":
        copies = [t.detach().float().to("cpu", non_blocking=True) for t in tensors]
        torch.cuda.current_stream(device).synchronize()
        return [copy.numpy() for copy in copies]
    return [t.detach().to(torch.float32, copy=True).numpy() for t in tensors]


def magnitude_histogram(tensor: torch.Tensor) -> torch.Tensor:
    """Counts of |values| in the fixed bins (zeros first), as a float32 tensor on its device."""
    return magnitude_histograms([tensor])[0]


def magnitude_histograms(tensors: list[torch.Tensor]) -> torch.Tensor:
    """`magnitude_histogram` of every tensor as one [len(tensors), HIST_BINS + 1] float32 tensor:
    one pass over all of them (a handful of operations, not a dozen per tensor: on a small model
    the per-operation overhead is most of the cost)."""
    flat = torch.cat([tensor.detach().reshape(-1).float() for tensor in tensors])
    _, exponent = torch.frexp(flat)
    # frexp: |x| = m * 2^e with m in [0.5, 1), so |x| lies in [2^(e-1), 2^e); slot 0 is the zeros.
    slots = (exponent - 1 - HIST_MIN_EXP).clamp_(0, HIST_BINS - 1).add_(1)
    slots.masked_fill_(flat == 0, 0)
    sizes = torch.tensor([tensor.numel() for tensor in tensors], device=flat.device)
    offsets = torch.arange(len(tensors), dtype=slots.dtype, device=flat.device) * (HIST_BINS + 1)
    slots.add_(torch.repeat_interleave(offsets, sizes))
    counts = torch.bincount(slots, minlength=len(tensors) * (HIST_BINS + 1))
    return counts.float().reshape(len(tensors), HIST_BINS + 1)


@dataclass(frozen=True)
class ParamInfo:
    name: str
    shape: tuple[int, ...]


class ModelCapture:
    """Watches one model (and optionally its optimizer's parameters are the model's): forward
    hooks on its leaf modules for activation statistics, and at each step boundary the statistics
    and tensors the step was planned to keep. Driven by one training thread; `close()` removes
    the hooks."""

    def __init__(self, model: nn.Module, inspector: NamedStepInspector) -> None:
        self.model = model
        self.inspector = inspector
        self.params: list[tuple[str, nn.Parameter]] = [
            (name, param) for name, param in model.named_parameters() if param.requires_grad
        ]
        if not self.params:
            raise NoParameters(
                f"{type(model).__name__} has no trainable parameters: nothing to watch "
                "(attach the model after its layers are built)"
            )
        self.param_info = [ParamInfo(name, tuple(param.shape)) for name, param in self.params]
        self.modules: dict[str, str] = {}  # module name -> its class name
        self._leaves: list[tuple[str, nn.Module]] = []
        for name, module in model.named_modules():
            if name and not any(True for _ in module.children()):
                self.modules[name] = type(module).__name__
                self._leaves.append((name, module))
        # The forward hooks are on only for the steps that compute statistics: a module with a
        # hook takes PyTorch's slow call path, which a free-running step should not pay.
        self._handles: list[RemovableHandle] = []
        self._activations: dict[str, ActivationSums] = {}  # in forward order, this step
        self._watching = False  # this step computes statistics
        self._before: list[torch.Tensor] | None = None  # weights at the last boundary
        self._recorded: dict[str, np.ndarray] = {}
        self._first_bad: dict[str, int | str] | None = None

    # -- planning ---------------------------------------------------------------------------------

    def plan(self, stats: bool) -> None:
        """Set what the next step keeps (at a boundary, before it runs): with `stats`, the
        activation hooks record and the weights are copied to measure the update."""
        self._watching = stats
        self._activations = {}
        self._recorded = {}
        self._first_bad = None
        if stats:
            if not self._handles:
                self._handles = [
                    module.register_forward_hook(self._forward_hook(name))
                    for name, module in self._leaves
                ]
            with torch.no_grad():
                self._before = [param.detach().clone() for _, param in self.params]
        else:
            self._remove_hooks()
            self._before = None

    @property
    def watching(self) -> bool:
        return self._watching

    def record(self, name: str, value: torch.Tensor | np.ndarray | float) -> None:
        """Add a named tensor to the current step, as `tensor/<name>` (a scalar joins the
        history; larger tensors are kept when the step is held)."""
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"a tensor name must be 1..{MAX_NAME_LENGTH} characters, got {name!r}")
        self._recorded[TENSOR + name] = as_host(value)

    def _forward_hook(self, name: str) -> Any:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            # The step's first training forward only: evaluation passes (no graph) are not it.
            if not self._watching or name in self._activations or not torch.is_grad_enabled():
                return
            tensor = _first_float(output)
            if tensor is not None:
                self._activations[name] = _activation_sums(tensor.detach())

        return hook

    # -- at the boundary --------------------------------------------------------------------------

    def capture(self, scalars: Mapping[str, np.ndarray], full: bool) -> None:
        """Put the finished step's captures in the inspector's current step (not committed):
        the scalars always, statistics when the step was planned with them, the full tensors
        when `full` (and the step had statistics, which measured the update)."""
        inspector = self.inspector
        for name, value in scalars.items():
            inspector.put(SCALAR + name, value)
        for name, value in self._recorded.items():
            if value.ndim == 0 or full:
                inspector.put(name, value)
        if not self._watching:
            return
        names = [name for name, _ in self.params]
        weights = [param.detach() for _, param in self.params]
        grads = [
            param.grad.detach() if param.grad is not None else None for _, param in self.params
        ]
        before = self._before or weights
        updates = list(torch._foreach_sub(weights, before))
        # One fused call per kind of norm, not one per parameter: on a small model the per-call
        # overhead is most of the cost.
        weight_norms = torch.stack(_norms(weights))
        update_norms = torch.stack(_norms(updates))
        with_grad = [index for index, grad in enumerate(grads) if grad is not None]
        grad_norms = torch.full_like(weight_norms, math.nan)
        if with_grad:
            present_grads = [grad for grad in grads if grad is not None]
            grad_norms[with_grad] = torch.stack(_norms(present_grads))
        ratios = update_norms / weight_norms.clamp_min(1e-30)
        rows = torch.stack([weight_norms, grad_norms, update_norms, ratios], dim=1)
        hists = magnitude_histograms(weights)
        activation_names = list(self._activations)
        parts = [rows, hists]
        if activation_names:
            parts.append(_activation_rows([self._activations[name] for name in activation_names]))
        host = _hosts(parts)  # one transfer for every statistic
        norms, histograms = host[0], host[1]
        activations = host[2] if activation_names else np.zeros((0, len(ACTIVATION_FIELDS)))
        first_bad: dict[str, int | str] | None = None
        for index, name in enumerate(activation_names):
            row = activations[index]
            inspector.put(ACT + name, np.ascontiguousarray(row, dtype=np.float32))
            if row[3] > 0 and first_bad is None:
                first_bad = {"key": ACT + name, "module": name, "count": int(row[3])}
        for index, name in enumerate(names):
            weight_bad = _nonfinite_count(weights[index], norms[index, 0])
            grad = grads[index]
            grad_bad = 0 if grad is None else _nonfinite_count(grad, norms[index, 1])
            stats = np.empty(len(PARAM_FIELDS), dtype=np.float32)
            stats[:4] = norms[index]
            stats[4], stats[5] = weight_bad, grad_bad
            inspector.put(STATS + name, stats)
            inspector.put(HIST + name, np.ascontiguousarray(histograms[index], dtype=np.float32))
            if first_bad is None and (weight_bad or grad_bad):
                key = (WEIGHT if weight_bad else GRAD) + name
                first_bad = {"key": key, "parameter": name, "count": weight_bad or grad_bad}
        if full:
            tensors = _hosts(weights + [g for g in grads if g is not None] + updates)
            count = len(weights)
            for name, array in zip(names, tensors[:count], strict=True):
                inspector.put(WEIGHT + name, array)
            present = [name for name, grad in zip(names, grads, strict=True) if grad is not None]
            with_grads = len(present)
            for name, array in zip(present, tensors[count : count + with_grads], strict=True):
                inspector.put(GRAD + name, array)
            for name, array in zip(names, tensors[count + with_grads :], strict=True):
                inspector.put(UPDATE + name, array)
        self._first_bad = first_bad

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def nonfinite_found(self) -> dict[str, int | str] | None:
        """Where the step just captured first held a non-finite value (activations in forward
        order first, then parameters in model order), or None."""
        return self._first_bad

    def close(self) -> None:
        """Remove the forward hooks and free the copied weights. Idempotent."""
        self._remove_hooks()
        self._watching = False
        self._before = None
        self._activations = {}


def _norms(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """The L2 norm of each tensor, as float32 0-d tensors on its device."""
    return [norm.float() for norm in torch._foreach_norm([t.float() for t in tensors])]


def _first_float(output: Any) -> torch.Tensor | None:
    """The first floating-point tensor of a module's output (a tensor, tuple, list or dict)."""
    if isinstance(output, torch.Tensor):
        return output if output.is_floating_point() and output.numel() else None
    values: Iterable[Any] = ()
    if isinstance(output, (tuple, list)):
        values = output
    elif isinstance(output, dict):
        values = output.values()
    for value in values:
        if isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel():
            return value
    return None


@dataclass(frozen=True)
class ActivationSums:
    """What the forward hook keeps of one activation: its sum, L2 norm, non-zero count and
    non-finite count (0-d tensors on its device, or a float), and its size. The statistics are
    made from these at the boundary, for every module at once."""

    total: torch.Tensor
    norm: torch.Tensor
    nonzero: torch.Tensor
    nonfinite: torch.Tensor | float
    numel: int


def _activation_sums(tensor: torch.Tensor) -> ActivationSums:
    """Three reductions of an activation, taken in the hook (a later in-place op, such as
    `ReLU(inplace=True)`, must not change what is measured)."""
    values = tensor.float()
    total = values.sum()
    norm = torch.linalg.vector_norm(values)
    # Finite sums mean every element is finite. Counting the bad ones is another pass: on the
    # CPU only when the sums say there are any (reading them costs nothing there); on an
    # accelerator always, as reading them would wait for the device.
    nonfinite: torch.Tensor | float
    if values.device.type == "cpu":
        finite = math.isfinite(float(total)) and math.isfinite(float(norm))
        nonfinite = 0.0 if finite else float((~torch.isfinite(values)).sum())
        # count_nonzero is ~10x slower than this on the CPU; sign() is NaN at a NaN, so a
        # non-finite activation is counted the exact way.
        nonzero = values.sign().abs_().sum() if finite else torch.count_nonzero(values)
    else:
        nonfinite = (~torch.isfinite(values)).sum()
        nonzero = torch.count_nonzero(values)
    return ActivationSums(total, norm, nonzero, nonfinite, values.numel())


def _activation_rows(sums: list[ActivationSums]) -> torch.Tensor:
    """[mean, std, zero fraction, non-finite count] of each activation (ACTIVATION_FIELDS), as
    one [len(sums), 4] float32 tensor, computed for all of them together."""
    device = sums[0].total.device
    numel = torch.tensor([s.numel for s in sums], dtype=torch.float32, device=device)
    mean = torch.stack([s.total for s in sums]).float() / numel
    # The population std from the mean and the mean square: where torch.std_mean takes ~30x as
    # long on the CPU. Cancellation only matters when the mean dwarfs the spread by ~1e3, far
    # below what the table shows.
    square = torch.stack([s.norm for s in sums]).float().square() / numel
    std = (square - mean.square()).clamp_min(0).sqrt()
    zeros = 1.0 - torch.stack([s.nonzero for s in sums]).float() / numel
    bad = [s.nonfinite for s in sums]
    if all(isinstance(count, float) for count in bad):
        nonfinite = torch.tensor(bad, dtype=torch.float32, device=device)
    else:
        nonfinite = torch.stack([torch.as_tensor(count, device=device) for count in bad]).float()
    return torch.stack([mean, std, zeros, nonfinite], dim=1)


def _nonfinite_count(tensor: torch.Tensor, norm: float) -> int:
    """NaN and infinite elements of `tensor`; counted only when its norm is not finite (a
    finite norm means every element is finite)."""
    if math.isfinite(float(norm)):
        return 0
    return int((~torch.isfinite(tensor.detach())).sum())
