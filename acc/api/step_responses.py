"""Step data and history as HTTP responses, shared by `/inspect/*`, `/runs/*` and `/debug/*`."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response

from acc.step_inspector import History, StepData
from acc.tensor_wire import FRAME_CONTENT_TYPE, step_to_frame, step_to_json


def wants_frame(request: Request) -> bool:
    return FRAME_CONTENT_TYPE in request.headers.get("accept", "")


async def step_response(request: Request, data: StepData, extra: dict[str, Any]) -> Response:
    """The step as a binary frame (Accept: application/x-acc-frame) or JSON, encoded off-loop."""
    if wants_frame(request):
        body = await to_thread.run_sync(step_to_frame, data, extra)
        media_type = FRAME_CONTENT_TYPE
    else:
        body = await to_thread.run_sync(step_to_json, data, extra)
        media_type = "application/json"
    return Response(body, media_type=media_type, headers={"x-acc-step": str(data.step)})


def history_body(history: History, since: int) -> bytes:
    """`{since, steps, columns: {key: [...]}, nonfinite: {key: count}}` as JSON (NaN → null)."""
    nonfinite = {
        key: int(column.size - np.count_nonzero(np.isfinite(column)))
        for key, column in history.columns.items()
        if column.dtype.kind == "f"
    }
    return orjson.dumps(
        {
            "since": since,
            "steps": history.steps,
            "columns": history.columns,
            "nonfinite": {key: count for key, count in nonfinite.items() if count},
        },
        option=orjson.OPT_SERIALIZE_NUMPY,
    )
