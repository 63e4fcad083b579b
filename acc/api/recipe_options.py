"""A recipe's options in a request: each value checked against its `OptionSpec` (the one
definition of its range), and the JSON schema that documents it. Read by every route that builds
a setup (`/codebook/start` takes the VQ options as fields, `/inspect/setup` and `/runs` take any
recipe's as `options: {name: value}`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from acc.api.errors import InvalidValue
from acc.api.openapi import BOOLEAN, enum, integer, number
from acc.api.validation import reject_unknown
from acc.recipes.options import OptionSpec

AUTO = "auto"


def option_schema(spec: OptionSpec[Any]) -> dict[str, Any]:
    """The JSON schema of a recipe option, from its spec."""
    if spec.kind == "bool":
        return BOOLEAN
    assert spec.low is not None and spec.high is not None
    schema = (
        integer(int(spec.low), int(spec.high))
        if spec.kind == "int"
        else number(spec.low, spec.high)
    )
    return {"oneOf": [schema, enum(AUTO)]} if spec.default is None else schema


def options_schema(specs: Mapping[str, OptionSpec[Any]]) -> dict[str, Any]:
    """The JSON schema of an `options` object holding some of `specs`."""
    return {
        "type": "object",
        "properties": {name: option_schema(spec) for name, spec in specs.items()},
        "additionalProperties": False,
    }


def option_value(body: Mapping[str, Any], spec: OptionSpec[Any]) -> Any:
    """`body[spec.name]` checked against the recipe's spec; its default when absent. "auto" (the
    default of `num_codes`) reads as None: the recipe chooses the value."""
    if spec.name not in body:
        return spec.default
    value = body[spec.name]
    if spec.default is None and value == AUTO:
        return None
    if value is not None:  # null is no value, not "auto"
        if spec.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        try:
            return spec.check(value)
        except ValueError:
            pass
    try:
        shown = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # pragma: no cover - bodies are JSON
        shown = repr(value)
    raise InvalidValue(f"{spec.name} must be {spec.allowed}, got {shown}")


def options_field(
    body: Mapping[str, Any], specs: Mapping[str, OptionSpec[Any]], name: str = "options"
) -> dict[str, Any]:
    """`body[name]`, an object of recipe options, each checked against `specs` (an unknown name
    is a 422 listing the known ones); every option of `specs` given or defaulted."""
    given = body.get(name, {})
    if not isinstance(given, dict):
        raise InvalidValue(f"{name} must be an object of recipe options, got {given!r}")
    reject_unknown(given, tuple(specs), "option")
    return {option: option_value(given, spec) for option, spec in specs.items()}
