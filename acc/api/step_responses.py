"""Step data and history as HTTP responses, shared by `/inspect/*`, `/runs/*` and `/debug/*`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import orjson
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response

from acc.api.errors import InvalidValue
from acc.api.openapi import integer
from acc.api.validation import MAX_STEP_NUMBER, int_path, int_query, reject_unknown
from acc.session import Session
from acc.step_events import StepEvent
from acc.step_inspector import History, StepData, StepTensorKey
from acc.tensor_grid import DEFAULT_GRID, MAX_GRID, step_tensor_grid
from acc.tensor_wire import (
    FRAME_BUDGET,
    FRAME_CONTENT_TYPE,
    grid_to_frame,
    grid_to_json,
    step_to_frame,
    step_to_json,
)


def wants_frame(request: Request) -> bool:
    return FRAME_CONTENT_TYPE in request.headers.get("accept", "")


async def step_response(request: Request, data: StepData, extra: dict[str, Any]) -> Response:
    """The step as a binary frame (Accept: application/x-acc-frame) or JSON, encoded off-loop:
    at most `FRAME_BUDGET` bytes of tensors, the rest listed under `deferred` (every source of
    steps has a `tensor_grid_response` route beside it to read them)."""
    if wants_frame(request):
        body = await to_thread.run_sync(step_to_frame, data, extra, FRAME_BUDGET)
        media_type = FRAME_CONTENT_TYPE
    else:
        body = await to_thread.run_sync(step_to_json, data, extra, FRAME_BUDGET)
        media_type = "application/json"
    return Response(body, media_type=media_type, headers={"x-acc-step": str(data.step)})


GRID_QUERY = {
    "rows": integer(1, MAX_GRID),
    "cols": integer(1, MAX_GRID),
    "r0": integer(0, MAX_STEP_NUMBER),
    "r1": integer(1, MAX_STEP_NUMBER),
    "c0": integer(0, MAX_STEP_NUMBER),
    "c1": integer(1, MAX_STEP_NUMBER),
}
GRID_DOC = (
    "One tensor of a retained step as a grid of at most rows x cols cells (min, max, mean of "
    f"each; default {DEFAULT_GRID} x {DEFAULT_GRID}); r0..r1, c0..c1 (half-open, all four) zoom in, exact when the "
    "window fits the grid. A binary frame (Accept: application/x-acc-frame) or JSON."
)


@dataclass(frozen=True)
class GridQuery:
    """`?rows=&cols=&r0=&r1=&c0=&c1=` of a reduced-tensor request."""

    rows: int
    cols: int
    window: tuple[int, int, int, int] | None


def grid_query(request: Request) -> GridQuery:
    """The grid size and window; unknown parameters, bad numbers and a partial window are 422."""
    reject_unknown(request.query_params, tuple(GRID_QUERY), "query parameter")
    rows = int_query(request, "rows", 1, MAX_GRID, DEFAULT_GRID)
    cols = int_query(request, "cols", 1, MAX_GRID, DEFAULT_GRID)
    names = ("r0", "r1", "c0", "c1")
    given = [name for name in names if name in request.query_params]
    if not given:
        return GridQuery(rows, cols, None)
    if len(given) != len(names):
        raise InvalidValue(
            f"a window needs all of r0, r1, c0 and c1 (half-open ranges), got only {', '.join(given)}"
        )
    r0, r1, c0, c1 = (int_query(request, name, 0, MAX_STEP_NUMBER, 0) for name in names)
    return GridQuery(rows, cols, (r0, r1, c0, c1))


async def tensor_grid_response(
    request: Request,
    read_step: Callable[[int], StepData],
    extra: dict[str, Any],
    first_step: int = 1,
) -> Response:
    """`…/{step}/tensor/{key}`: that tensor of the step `read_step` gives, reduced as the query
    says, as a frame or JSON, read, reduced and encoded off-loop."""
    step = int_path(request, "step", first_step, MAX_STEP_NUMBER)
    key = request.path_params["key"]
    query = grid_query(request)
    frame = wants_frame(request)

    def reduce() -> bytes:
        data = read_step(step)
        grid = {**step_tensor_grid(data, key, query.rows, query.cols, query.window), **extra}
        return grid_to_frame(grid) if frame else grid_to_json(grid)

    body = await to_thread.run_sync(reduce)
    media_type = FRAME_CONTENT_TYPE if frame else "application/json"
    return Response(body, media_type=media_type, headers={"x-acc-step": str(step)})


# The most steps one history answer holds; a client asks again from the last one while `more`.
MAX_HISTORY_LIMIT = 10_000
HISTORY_KEYS = tuple(key.value for key in StepTensorKey if key.meta.history)
HISTORY_QUERY = {
    "since": integer(0, MAX_STEP_NUMBER),
    "limit": integer(1, MAX_HISTORY_LIMIT),
    "keys": {"type": "string", "pattern": "^[a-z0-9_]+(,[a-z0-9_]+)*$"},
}


@dataclass(frozen=True)
class HistoryQuery:
    """`?since=K&limit=N&keys=a,b` of a history request."""

    since: int
    limit: int
    keys: tuple[str, ...] | None


def history_query(request: Request) -> HistoryQuery:
    """The history parameters; unknown parameters, bad numbers and unknown keys are 4xx."""
    reject_unknown(request.query_params, ("since", "limit", "keys"), "query parameter")
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 0)
    limit = int_query(request, "limit", 1, MAX_HISTORY_LIMIT, MAX_HISTORY_LIMIT)
    raw = request.query_params.get("keys")
    if raw is None:
        return HistoryQuery(since, limit, None)
    keys = tuple(dict.fromkeys(part.strip() for part in raw.split(",")))
    unknown = [key for key in keys if key not in HISTORY_KEYS]
    if unknown or not keys:
        raise InvalidValue(
            f"keys must be a comma-separated list of history keys, got {raw!r}"
            + (f" (not history keys: {', '.join(unknown)})" if unknown else "")
            + f"; history keys: {', '.join(HISTORY_KEYS)}"
        )
    return HistoryQuery(since, limit, keys)


async def history_response(request: Request, session: Session) -> Response:
    """The session's history for the request's `since`, `limit` and `keys`, as JSON."""
    query = history_query(request)
    history = session.history(query.since, keys=query.keys, limit=query.limit)
    events = session.inspector.events.since(query.since)
    body = await to_thread.run_sync(history_body, history, query.since, events)
    return Response(body, media_type="application/json")


def history_body(history: History, since: int, events: Sequence[StepEvent] = ()) -> bytes:
    """`{since, steps, columns: {key: [...]}, nonfinite: {key: count}, more, vectors_from,
    failed, events}` as JSON (NaN → null); `events` are the step events (live edits,
    breakpoints) from `since` on. Rows a vector column does not hold (older than the vector
    window, or from before the key was first captured) are `null`."""
    nonfinite = {
        key: int(column.size - np.count_nonzero(np.isfinite(column)))
        for key, column in history.columns.items()
        if column.dtype.kind == "f"
    }
    columns = {key: history.aligned(key) for key in history.columns}
    return orjson.dumps(
        {
            "since": since,
            "steps": history.steps,
            "columns": columns,
            "nonfinite": {key: count for key, count in nonfinite.items() if count},
            "more": history.more,
            "vectors_from": history.vectors_from,
            "failed": [asdict(record) for record in history.failed],
            "events": [event.to_dict() for event in events],
        },
        option=orjson.OPT_SERIALIZE_NUMPY,
    )
