"""Live edits: change a hyper-parameter of a live setup at the next step boundary.

A `Knob` is one editable hyper-parameter: its `OptionSpec` (name, bounds, help: what the API
validates and the dashboard offers) and how to read and set it on a live `TrainingSetup`. The
optimizer's knobs (`lr`, `weight_decay`) are here; each recipe declares its own once in its
package (`Recipe.knobs`: BCL's `som_lr` and `temperature`, VQ's `commitment`).

`LiveEdits` holds the edits asked for and not yet applied; its callback (`LiveEditCallback`)
applies them at `on_step_start`, the boundary before the next step, never mid-step, and records
each as a `StepEvent` (`kind="hparam"`, the step it first affects, old and new value).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from acc.callbacks import Callback
from acc.recipes.options import OptionSpec
from acc.step_events import StepEvent, StepEvents

if TYPE_CHECKING:
    from acc.recipes import TrainingSetup


class HparamError(ValueError):
    """An edit names no knob of this setup, or a value outside the knob's range."""


@dataclass(frozen=True)
class Knob:
    """One editable hyper-parameter of a live setup."""

    spec: OptionSpec[float]
    read: Callable[[TrainingSetup], float]
    apply: Callable[[TrainingSetup, float], None]  # called on the training thread only
    # Whether this setup has it at all (a `control` BCL setup has no SOM step to edit).
    available: Callable[[TrainingSetup], bool] = lambda setup: True

    @property
    def name(self) -> str:
        return self.spec.name


def _read_group(field: str) -> Callable[[TrainingSetup], float]:
    return lambda setup: float(setup.optimizer.param_groups[0].get(field, 0.0))


def _set_group(field: str) -> Callable[[TrainingSetup, float], None]:
    def apply(setup: TrainingSetup, value: float) -> None:
        for group in setup.optimizer.param_groups:
            group[field] = value

    return apply


LR = Knob(
    OptionSpec("lr", "float", 1e-3, 0.0, 10.0, "the optimizer's learning rate (every group)"),
    _read_group("lr"),
    _set_group("lr"),
)
WEIGHT_DECAY = Knob(
    OptionSpec("weight_decay", "float", 0.0, 0.0, 1.0, "the optimizer's weight decay"),
    _read_group("weight_decay"),
    _set_group("weight_decay"),
    available=lambda setup: "weight_decay" in setup.optimizer.param_groups[0],
)
OPTIMIZER_KNOBS: dict[str, Knob] = {knob.name: knob for knob in (LR, WEIGHT_DECAY)}


def setup_knobs(setup: TrainingSetup, recipe_knobs: Mapping[str, Knob]) -> dict[str, Knob]:
    """The knobs `setup` has: the optimizer's, then the recipe's."""
    knobs = {**OPTIMIZER_KNOBS, **recipe_knobs}
    return {name: knob for name, knob in knobs.items() if knob.available(setup)}


class LiveEdits:
    """The edits asked of one setup, applied by `callback()` at the next step boundary."""

    def __init__(
        self, setup: TrainingSetup, recipe_knobs: Mapping[str, Knob], events: StepEvents
    ) -> None:
        self._setup = setup
        self.knobs = setup_knobs(setup, recipe_knobs)
        self.events = events
        self._pending: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, changes: Mapping[str, Any]) -> dict[str, float]:
        """The changes as `{knob: value}` if every name is a knob and every value allowed;
        `HparamError` naming the first bad one and what is allowed."""
        if not changes:
            raise HparamError(f"name at least one hyper-parameter: {', '.join(self.knobs)}")
        checked: dict[str, float] = {}
        for name, value in changes.items():
            knob = self.knobs.get(name)
            if knob is None:
                raise HparamError(
                    f"{name!r} is not an editable hyper-parameter of this setup; "
                    f"editable: {', '.join(self.knobs)}"
                )
            try:
                checked[name] = float(knob.spec.check(value))
            except ValueError as error:
                raise HparamError(str(error)) from None
        return checked

    def submit(self, changes: Mapping[str, Any]) -> dict[str, float]:
        """Validate `changes` and queue them for the next step boundary (a later edit of the
        same knob replaces an earlier one still pending). Returns everything pending."""
        checked = self.check(changes)
        with self._lock:
            self._pending.update(checked)
            return dict(self._pending)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def pending(self) -> dict[str, float]:
        with self._lock:
            return dict(self._pending)

    def values(self) -> dict[str, float]:
        """Each knob's value now (plain floats; safe to read from any thread)."""
        return {name: knob.read(self._setup) for name, knob in self.knobs.items()}

    def describe(self) -> dict[str, Any]:
        """`{knobs: [{name, value, low, high, help}], pending: {name: value}}`."""
        values = self.values()
        return {
            "knobs": [
                {
                    "name": name,
                    "value": values[name],
                    "low": knob.spec.low,
                    "high": knob.spec.high,
                    "help": knob.spec.help,
                }
                for name, knob in self.knobs.items()
            ],
            "pending": self.pending(),
        }

    def apply_pending(self, step: int) -> list[StepEvent]:
        """Set every pending edit (on the training thread, before step `step`) and record it."""
        with self._lock:
            pending, self._pending = self._pending, {}
        applied = []
        for name, value in pending.items():
            knob = self.knobs[name]
            old = knob.read(self._setup)
            knob.apply(self._setup, value)
            applied.append(self.events.add(StepEvent(step, "hparam", name, old, value)))
        return applied

    def callback(self) -> LiveEditCallback:
        return LiveEditCallback(self)


class LiveEditCallback(Callback):
    """Applies the pending edits at the start of each step: the boundary after the last one."""

    def __init__(self, edits: LiveEdits) -> None:
        self.edits = edits

    def on_step_start(self, step: int) -> None:
        if self.edits.has_pending:  # one dict check per step when nothing is asked
            self.edits.apply_pending(step)
