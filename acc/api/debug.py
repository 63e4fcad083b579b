"""`/debug/*`: pause, step and resume the free run, and read what its latest step captured."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any

import numpy as np
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acc.api.branches import REWIND_BODY, read_rewind_step
from acc.api.errors import Conflict, InvalidValue, NotFound
from acc.api.openapi import enum, integer, operation
from acc.api.responses import JSONResponse
from acc.api.runs import require_run, run_body
from acc.api.step_responses import step_response
from acc.api.validation import (
    choice_query,
    int_field,
    int_query,
    read_json_object,
    reject_unknown,
)
from acc.api.waiting import result_while_connected
from acc.debug_controller import MAX_WATCHED, PAUSE_WAIT_S
from acc.feature_detail import force_detail
from acc.free_run import FreeRun
from acc.image_grid import encode_png, make_grid
from acc.session import MAX_STEPS_PER_CALL
from acc.step_inspector import StepData
from acc.tensor_wire import GRID_COLUMNS

# /debug/cosine_matrix?source=… → the captured matrix and its mean off-diagonal key
COSINE_SOURCES = {
    "weights": ("weight_cosine", "weight_cosine_mean"),
    "som_targets": ("som_target_cosine", "som_target_cosine_mean"),
    "grad_masked": ("grad_cosine", "grad_cosine_mean"),
}


def _live(request: Request) -> FreeRun:
    run = require_run(request)
    if run.finished:
        raise Conflict(f"the run has ended ({run.status().value}); start a new one with POST /runs")
    return run


def _latest_full(run: FreeRun) -> StepData:
    """The newest step with a full capture."""
    state = run.state()
    if state.last_full_step is None:
        raise NotFound("no step of this run has a full capture yet; pause and step, or wait")
    return run.session.get_step(state.last_full_step)


@operation(
    "Pause the run at the next step boundary; answers once the loop waits there (or after 2 s "
    "with `blocked: false` when the step in flight takes longer).",
    body={},
)
async def pause_route(request: Request) -> Response:
    await read_json_object(request)
    run = _live(request)
    run.controller.pause()
    # When the step in flight takes longer, the answer says `blocked: false`.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.wrap_future(run.controller.when_blocked()), PAUSE_WAIT_S)
    return JSONResponse(run_body(run))


@operation("Resume the run.", body={})
async def resume_route(request: Request) -> Response:
    await read_json_object(request)
    run = _live(request)
    run.controller.resume()
    return JSONResponse(run_body(run))


@operation(
    "Run n steps of the paused run; answers the last one.",
    body={"n": integer(1, MAX_STEPS_PER_CALL)},
    frame=True,
)
async def step_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(body, ("n",), "field")
    n = int_field(body, "n", 1, MAX_STEPS_PER_CALL, 1)
    run = _live(request)
    ticket = run.submit_step(n)
    last = await result_while_connected(request, ticket, lambda: run.controller.withdraw(ticket))
    data = run.session.get_step(last)
    return await step_response(
        request, data, {"run_id": run.run_id, "condition": run.session.condition}
    )


@operation(
    "Go back to the end of step `step` while the run is paused and held at a boundary (409 "
    "otherwise); `rewindable` in the run state lists the steps that can be. Answers the run "
    "state, `rewound_to` and `branch` (null when no steps followed).",
    body=REWIND_BODY,
    required=("step",),
)
async def rewind_route(request: Request) -> Response:
    step = await read_rewind_step(request)
    run = _live(request)
    branch = await to_thread.run_sync(run.rewind, step)
    summary = None if branch is None else branch.summary()
    return JSONResponse({**run_body(run), "rewound_to": step, "branch": summary})


@operation("The run state with the controller's.")
async def state_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run = require_run(request)
    state = run.controller.state()
    return JSONResponse(
        {
            **run_body(run),
            "paused": state.paused,
            "steps_granted": state.steps_granted,
            "step_data_keys": _full_keys(run),
        }
    )


def _full_keys(run: FreeRun) -> list[str]:
    try:
        return sorted(_latest_full(run).arrays)
    except NotFound:
        return []


@operation("The newest fully captured batch as a PNG grid.")
async def batch_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    data = _latest_full(require_run(request))
    images = data.arrays["batch_images"]

    def encode() -> bytes:
        return encode_png(make_grid(images, columns=GRID_COLUMNS, padding=1))

    png = await to_thread.run_sync(encode)
    return JSONResponse(
        {
            "step": data.step,
            "loss": _finite(data.arrays["loss"]),
            "labels": data.arrays["batch_labels"],
            "image": {
                "format": "png",
                "count": int(images.shape[0]),
                "columns": min(GRID_COLUMNS, int(images.shape[0])),
                "data": base64.b64encode(png).decode("ascii"),
            },
        }
    )


@operation("The keys of the per-step store.")
async def step_data_keys_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run = require_run(request)
    return JSONResponse({"step": run.state().last_full_step, "keys": _full_keys(run)})


@operation("One key of the per-step store.")
async def step_data_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    data = _latest_full(require_run(request))
    key = request.path_params["key"]
    if key not in data.arrays:
        raise NotFound(
            f"no step data {key!r} at step {data.step}; available: {', '.join(sorted(data.arrays))}"
        )
    array = np.asarray(data.arrays[key])
    return JSONResponse(
        {
            "step": data.step,
            "key": key,
            "shape": list(array.shape),
            "dtype": array.dtype.name,
            "data": array,
        }
    )


@operation(
    "One feature's weight and update directions.",
    query={"feature": integer(0, 4095)},
    required_query=("feature",),
)
async def force_detail_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("feature",), "query parameter")
    run = require_run(request)
    if "feature" not in request.query_params:
        raise InvalidValue(f"feature is required: an integer in 0..{run.session.model_dim - 1}")
    feature = int_query(request, "feature", 0, run.session.model_dim - 1, 0)
    return JSONResponse(force_detail(_latest_full(run), feature, run.session.image_shape))


@operation(
    "A cosine matrix of the newest full step.",
    query={"source": enum(*COSINE_SOURCES)},
    required_query=("source",),
)
async def cosine_matrix_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("source",), "query parameter")
    source = choice_query(request, "source", tuple(COSINE_SOURCES))
    data = _latest_full(require_run(request))
    matrix_key, mean_key = COSINE_SOURCES[source]
    if matrix_key not in data.arrays:
        raise NotFound(f"step {data.step} has no {source} matrix (this condition has no BCL)")
    matrix = data.arrays[matrix_key]
    off = matrix[~np.eye(matrix.shape[0], dtype=bool)]
    return JSONResponse(
        {
            "step": data.step,
            "source": source,
            "matrix": matrix,
            "mean_offdiag": _finite(data.arrays[mean_key]),
            "std_offdiag": _finite(off.std()),
            "max_offdiag": _finite(off.max()),
        }
    )


@operation("The watched features.")
async def get_watch_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run = require_run(request)
    return JSONResponse({"watched": run.controller.watched(), "max_watched": MAX_WATCHED})


@operation(
    "Watch these features (replaces the list).",
    body={"feature_ids": {"type": "array", "items": integer(0, 4095), "maxItems": MAX_WATCHED}},
    required=("feature_ids",),
)
async def set_watch_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(body, ("feature_ids",), "field")
    run = require_run(request)
    if run.session.run_layer is None:
        raise Conflict(
            f"recipe {run.session.recipe.name} has no per-feature layer to watch "
            "(watches follow the rows of a Linear encoder)"
        )
    features = body.get("feature_ids")
    if not isinstance(features, list):
        raise InvalidValue("feature_ids is required: a list of at most 8 feature indices")
    run.controller.set_watch(features, run.session.model_dim)
    return JSONResponse({"watched": run.controller.watched(), "max_watched": MAX_WATCHED})


@operation("The watched features' trajectories.")
async def trajectories_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run = require_run(request)
    return JSONResponse({"run_id": run.run_id, **run.controller.trajectories()})


@operation("Forget the trajectories.", body={})
async def clear_trajectories_route(request: Request) -> Response:
    await read_json_object(request)
    run = require_run(request)
    run.controller.clear_trajectories()
    return JSONResponse({"run_id": run.run_id, **run.controller.trajectories()})


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


routes = [
    Route("/debug/pause", pause_route, methods=["POST"]),
    Route("/debug/resume", resume_route, methods=["POST"]),
    Route("/debug/step", step_route, methods=["POST"]),
    Route("/debug/rewind", rewind_route, methods=["POST"]),
    Route("/debug/state", state_route, methods=["GET"]),
    Route("/debug/batch", batch_route, methods=["GET"]),
    Route("/debug/step_data/keys", step_data_keys_route, methods=["GET"]),
    Route("/debug/step_data/{key}", step_data_route, methods=["GET"]),
    Route("/debug/force_detail", force_detail_route, methods=["GET"]),
    Route("/debug/cosine_matrix", cosine_matrix_route, methods=["GET"]),
    Route("/debug/watch", get_watch_route, methods=["GET"]),
    Route("/debug/watch", set_watch_route, methods=["POST"]),
    Route("/debug/trajectories", trajectories_route, methods=["GET"]),
    Route("/debug/trajectories/clear", clear_trajectories_route, methods=["POST"]),
]
