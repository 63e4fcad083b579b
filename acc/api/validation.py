"""Strict reading of request bodies and query strings: every bad value is a 4xx naming it."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import anyio
import orjson
from starlette.requests import Request

from acc.api.errors import BadRequest, InvalidValue, PayloadTooLarge, RequestTimeout
from acc.integers import parse_ascii_int

MAX_BODY_BYTES = 1_000_000
BODY_TIMEOUT_S = 10.0  # a client that announces a body and stalls is cut off after this long
MAX_SEED = 2**31 - 1
MAX_STEP_NUMBER = 2**62  # an upper bound for step numbers in queries and paths


async def read_json_object(request: Request, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}`. Over `max_bytes` → 413, not JSON or not
    an object → 400. Reads at most `max_bytes + 1` bytes whatever Content-Length claims."""
    declared = parse_ascii_int(request.headers.get("content-length", ""))
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"the body is {declared:,} bytes; at most {max_bytes:,} allowed")
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"the body is over {max_bytes:,} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(
            f"the body did not arrive within {BODY_TIMEOUT_S:g} s ({size:,} bytes came)"
        ) from None
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    return body


def reject_unknown(fields: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
    """422 when `fields` has a name outside `allowed`."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidValue(
            f"unknown {where} {', '.join(repr(name) for name in unknown)}; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}"
        )


_REQUIRED = object()


def int_field(
    body: Mapping[str, Any], name: str, low: int, high: int, default: Any = _REQUIRED
) -> int:
    """`body[name]` as an int in low..high (a JSON integer: not a bool, a float or a string)."""
    if name not in body:
        if default is _REQUIRED:
            raise InvalidValue(f"{name} is required: an integer in {low}..{high}")
        return int(default)
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(f"{name} must be an integer in {low}..{high}, got {_show(value)}")
    return value


def float_field(
    body: Mapping[str, Any], name: str, low: float, high: float, default: Any = _REQUIRED
) -> float:
    """`body[name]` as a finite number in low..high (an integer is accepted; a bool is not)."""
    if name not in body:
        if default is _REQUIRED:
            raise InvalidValue(f"{name} is required: a number in {low}..{high}")
        return float(default)
    value = body[name]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise InvalidValue(f"{name} must be a number in {low}..{high}, got {_show(value)}")
    return float(value)


def choice_field(
    body: Mapping[str, Any], name: str, choices: Collection[str], default: Any = _REQUIRED
) -> str:
    """`body[name]` as one of `choices`."""
    if name not in body:
        if default is _REQUIRED:
            raise InvalidValue(f"{name} is required: one of {', '.join(choices)}")
        return str(default)
    value = body[name]
    if not isinstance(value, str) or value not in choices:
        raise InvalidValue(f"{name} must be one of {', '.join(choices)}, got {_show(value)}")
    return value


def bool_field(body: Mapping[str, Any], name: str, default: bool) -> bool:
    """`body[name]` as a JSON boolean."""
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InvalidValue(f"{name} must be true or false, got {_show(value)}")
    return value


def choice_query(request: Request, name: str, choices: Collection[str]) -> str:
    """Query parameter `name` (required) as one of `choices`."""
    raw = request.query_params.get(name)
    if raw is None or raw not in choices:
        got = "nothing" if raw is None else repr(raw)
        raise InvalidValue(f"{name} must be one of {', '.join(choices)}, got {got}")
    return raw


def int_query(request: Request, name: str, low: int, high: int, default: int) -> int:
    """Query parameter `name` as an int in low..high."""
    raw = request.query_params.get(name)
    return default if raw is None else _parse_int(name, raw, low, high)


def int_path(request: Request, name: str, low: int, high: int) -> int:
    """Path parameter `name` as an int in low..high (routes take it as a string so that a
    non-integer gets this 422 rather than a bare 404)."""
    return _parse_int(name, request.path_params[name], low, high)


def _parse_int(name: str, raw: str, low: int, high: int) -> int:
    value = parse_ascii_int(raw)
    if value is None:
        raise InvalidValue(f"{name} must be an integer in {low}..{high}, got {raw!r}")
    if not low <= value <= high:
        raise InvalidValue(f"{name} must be an integer in {low}..{high}, got {value}")
    return value


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode() if _jsonable(value) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _jsonable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True
