"""A recipe's user-facing options: each defined once with its default and allowed values, and
read by the recipe's `build`, the HTTP API, the CLI and (generated) the dashboard's forms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class OptionSpec(Generic[T]):
    """One user-facing option of a recipe: its default and its allowed values."""

    name: str
    kind: Literal["int", "float", "bool"]
    default: T  # None: chosen automatically (`num_codes`: "auto")
    low: float | None = None  # inclusive bounds (None for booleans)
    high: float | None = None
    help: str = ""

    @property
    def allowed(self) -> str:
        """The allowed values in words, e.g. "an integer in 2..4"."""
        if self.kind == "bool":
            return "true or false"
        noun = "an integer" if self.kind == "int" else "a number"
        auto = ' or "auto"' if self.default is None else ""
        return f"{noun} in {self.low:g}..{self.high:g}{auto}"

    def check(self, value: Any) -> Any:
        """`value` if allowed (None means "auto" where the default is automatic), else a
        `ValueError` naming the option, the allowed values and the value given."""
        if value is None and self.default is None:
            return None
        if self.kind == "bool":
            ok = isinstance(value, bool)
        else:
            types = (int,) if self.kind == "int" else (int, float)
            ok = (
                isinstance(value, types)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and self.low is not None
                and self.high is not None
                and self.low <= value <= self.high
            )
        if not ok:
            raise ValueError(f"{self.name} must be {self.allowed}, got {value!r}")
        return value
