"""Restore points: everything a training session carries from one step to the next, held for
recent steps so the session can go back to the end of any of them and train on from there.

What a part of a session carries is its `state_dict()` (the `Stateful` protocol, as torch
modules and optimizers have it): the setup (model, optimizer, batch position, step counter and
what the recipe adds), the capture (e.g. the VQ codebook health window) and the process's random
number generators. `take()` copies them, `restore()` loads a copy back; `RestorePoints` keeps the
copies of recent steps within a byte budget, oldest evicted first.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from acc.callbacks import Callback
from acc.step_inspector import DEFAULT_MAX_RESTORE_BYTES
from acc.trainer import StepInfo

if TYPE_CHECKING:
    from acc.live_edits import Knob
    from acc.recipes import TrainingSetup


class Stateful(Protocol):
    """A part of a session whose state carries from step to step."""

    def state_dict(self) -> dict[str, Any]:
        """The state, as references (the caller copies what it keeps)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take `state` (a copy the part may keep and modify) as the current state."""
        ...


class RewindUnavailable(LookupError):
    """No restore point is held for the step asked for; says which steps have one."""

    def __init__(self, step: int, held: tuple[int, ...]) -> None:
        self.step = step
        self.held = held
        super().__init__(f"no restore point is held for step {step}; {describe_steps(held)}")


def describe_steps(steps: tuple[int, ...]) -> str:
    """`"restore points are held for steps 3, 4, 5"` (abridged when long), or that none are."""
    if not steps:
        return "no restore points are held"
    shown = ", ".join(str(step) for step in steps[:8])
    if len(steps) > 8:
        shown += f", … ({len(steps)} steps up to {steps[-1]})"
    return f"restore points are held for steps {shown}"


def state_nbytes(value: object) -> int:
    """Bytes of the tensors and arrays in a (nested) state."""
    if isinstance(value, torch.Tensor):
        return int(value.numel() * value.element_size())
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, Mapping):
        return sum(state_nbytes(item) for item in value.values())
    if isinstance(value, list | tuple | deque):
        # Skip plain values without a call each: Python's RNG state is a tuple of 625 ints.
        return sum(state_nbytes(item) for item in value if not isinstance(item, _PLAIN))
    return 0


_PLAIN = (int, float, str, bytes, type(None))


def copy_state(value: Any) -> Any:
    """A private copy of a (nested) state: tensors cloned, arrays copied, containers rebuilt;
    other values are immutable (numbers, strings, tuples of them) or deep-copied. Several times
    faster than `copy.deepcopy` on a model's many small tensors."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return type(value)((key, copy_state(item)) for key, item in value.items())
    if isinstance(value, list):
        return [copy_state(item) for item in value]
    if isinstance(value, deque):
        return deque((copy_state(item) for item in value), maxlen=value.maxlen)
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(copy_state(item) for item in value)
    if isinstance(value, int | float | str | bool | None):
        return value
    return copy.deepcopy(value)


def rng_state(device: torch.device) -> dict[str, Any]:
    """The process's random number generators: torch's CPU one, the device's (CUDA), numpy's
    and Python's global ones. (A recipe's own seeded generators are part of its setup's state.)"""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def load_rng_state(state: Mapping[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


@dataclass(frozen=True)
class RestorePoint:
    """The state of every part of a session at the end of step `step` (0: before the first)."""

    step: int
    parts: dict[str, Any]  # part name → a private copy of its state_dict()
    rng: dict[str, Any]
    nbytes: int
    seconds: float  # how long taking it took


def take(step: int, parts: Mapping[str, Stateful], device: torch.device) -> RestorePoint:
    """Copy the state of `parts` and the random number generators as they are now."""
    started = time.perf_counter()
    # Every tensor is cloned: the optimizer and the model change theirs in place.
    states = {name: copy_state(part.state_dict()) for name, part in parts.items()}
    rng = rng_state(device)
    return RestorePoint(
        step, states, rng, state_nbytes(states) + state_nbytes(rng), time.perf_counter() - started
    )


def restore(point: RestorePoint, parts: Mapping[str, Stateful], device: torch.device) -> None:
    """Load `point` back into `parts` and the random number generators. Each part gets its own
    copy (an optimizer keeps the tensors it loads), so the point can be restored again."""
    for name, part in parts.items():
        part.load_state_dict(copy_state(point.parts[name]))
    load_rng_state(point.rng, device)


class RestorePoints:
    """The restore points of recent steps, at most `max_bytes` in all (oldest evicted first; a
    point larger than the whole budget is not kept). Thread-safe: the worker adds and drops,
    any thread reads which steps are held."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_RESTORE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self._points: OrderedDict[int, RestorePoint] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.last_seconds = 0.0  # how long the newest point took to take

    def add(self, point: RestorePoint) -> None:
        """Hold `point` (replacing one of the same step), evicting the oldest over budget."""
        self.last_seconds = point.seconds
        with self._lock:
            old = self._points.pop(point.step, None)
            if old is not None:
                self._bytes -= old.nbytes
            if point.nbytes > self.max_bytes:
                return
            self._points[point.step] = point
            self._bytes += point.nbytes
            while self._bytes > self.max_bytes:
                _, evicted = self._points.popitem(last=False)
                self._bytes -= evicted.nbytes

    def get(self, step: int) -> RestorePoint:
        """The point of `step`; `RewindUnavailable` (naming the held steps) when none is held."""
        with self._lock:
            point = self._points.get(step)
            if point is None:
                raise RewindUnavailable(step, tuple(self._points))
            return point

    def drop_after(self, step: int) -> None:
        """Forget the points of steps after `step` (they belong to an abandoned branch)."""
        with self._lock:
            for later in [held for held in self._points if held > step]:
                self._bytes -= self._points.pop(later).nbytes

    @property
    def steps(self) -> tuple[int, ...]:
        """The steps a session can go back to, oldest first."""
        with self._lock:
            return tuple(self._points)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._points.clear()
            self._bytes = 0


class RestorePointTaker(Callback):
    """Takes a restore point at the end of every step that `wanted(step)` says (a session: every
    step captured in full). Runs after the capture committed the step, so the capture's state
    includes it."""

    def __init__(
        self,
        store: RestorePoints,
        parts: Mapping[str, Stateful],
        device: torch.device,
        wanted: Callable[[int], bool],  # asked at the end of each step
    ) -> None:
        self.store = store
        self.parts = parts
        self.device = device
        self.wanted = wanted

    def on_step_end(self, info: StepInfo) -> None:
        if self.wanted(info.step):
            self.take_now(info.step)

    def take_now(self, step: int) -> None:
        """Take the point of `step` now (e.g. step 0, before the first step)."""
        self.store.add(take(step, self.parts, self.device))


class KnobValues:
    """A setup's live-editable hyper-parameters as a `Stateful` part: their values by name
    (the optimizer's are in its state too; the recipe's, e.g. BCL's `som_lr`, only here)."""

    def __init__(self, knobs: Mapping[str, Knob], setup: TrainingSetup) -> None:
        self.knobs = knobs
        self.setup = setup

    def state_dict(self) -> dict[str, Any]:
        return {name: knob.read(self.setup) for name, knob in self.knobs.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            self.knobs[name].apply(self.setup, value)
