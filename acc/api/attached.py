"""The API of an attached loop (`acc.attach`): the `/debug/*` and `/runs/stop` controls of a
free run, the step data under free-form names, and `/model/*` for the generic model view.

Served at the root and again under `/api` (as the dashboard calls it). The recipe routes answer
409: this process trains the user's own loop, not a built-in recipe.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import torch
from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

import acc
from acc.api import breakpoints, openapi
from acc.api.base_app import api_app
from acc.api.errors import Conflict, InvalidValue, PayloadTooLarge
from acc.api.openapi import integer, operation
from acc.api.responses import JSONResponse
from acc.api.runs import EVENT_INTERVAL_S, HEARTBEAT_S
from acc.api.step_responses import GRID_QUERY
from acc.api.validation import (
    MAX_STEP_NUMBER,
    int_field,
    int_query,
    read_json_object,
    reject_unknown,
)
from acc.api.waiting import paced_changes, result_while_connected
from acc.attached_loop import AttachedLoop
from acc.debug_controller import PAUSE_WAIT_S
from acc.session import MAX_STEPS_PER_CALL
from acc.settings import Settings
from acc.tensor_grid import DEFAULT_GRID, MAX_GRID

# A step-data answer in JSON holds at most this many values; larger tensors are read reduced
# through /model/heatmap.
MAX_JSON_VALUES = 1 << 20
MAX_NAMES = 64  # names one history request may ask for


def _loop(request: Request) -> AttachedLoop:
    loop: AttachedLoop = request.app.state.loop
    return loop


def _state(loop: AttachedLoop) -> dict[str, object]:
    return {"attached": True, **loop.state().to_dict()}


@operation("What the trainer is, runs on and watches.")
async def health_route(request: Request) -> Response:
    loop = _loop(request)
    return JSONResponse(
        {
            "status": "ok",
            "mode": "attached",
            "version": acc.__version__,
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "device": request.app.state.settings.device,
            "cuda_available": torch.cuda.is_available(),
            "model": type(loop.model).__name__,
        }
    )


@operation(
    "Pause the loop at the next step boundary; answers once it waits there (or after 2 s with "
    "`blocked: false` when the step in flight takes longer).",
    body={},
)
async def pause_route(request: Request) -> Response:
    await read_json_object(request)
    loop = _loop(request)
    await to_thread.run_sync(loop.pause, PAUSE_WAIT_S)
    return JSONResponse(_state(loop))


@operation("Resume the loop.", body={})
async def resume_route(request: Request) -> Response:
    await read_json_object(request)
    loop = _loop(request)
    loop.resume()
    return JSONResponse(_state(loop))


@operation(
    "Run n steps of the paused loop; answers once they have run and it waits again.",
    body={"n": integer(1, MAX_STEPS_PER_CALL)},
)
async def step_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(body, ("n",), "field")
    n = int_field(body, "n", 1, MAX_STEPS_PER_CALL, 1)
    loop = _loop(request)
    ticket = loop.submit_step(n)
    last = await result_while_connected(request, ticket, lambda: loop.controller.withdraw(ticket))
    return JSONResponse({**_state(loop), "stepped_to": last})


@operation("Stop the loop at its next step boundary (also while paused).", body={})
async def stop_route(request: Request) -> Response:
    await read_json_object(request)
    loop = _loop(request)
    loop.stop()
    return JSONResponse(_state(loop))


@operation("The loop's state: step, paused, blocked, what is held.")
async def state_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    loop = _loop(request)
    _, keys = loop.keys()
    return JSONResponse({**_state(loop), "step_data_keys": keys})


@operation("The names held for the newest held step.")
async def step_data_keys_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    step, keys = _loop(request).keys()
    return JSONResponse({"step": step, "keys": keys})


@operation(
    "One named tensor of a held step (the newest unless `step`), as JSON.",
    query={"step": integer(1, MAX_STEP_NUMBER)},
)
async def step_data_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("step",), "query parameter")
    step = _optional_int(request, "step", 1, MAX_STEP_NUMBER)
    key = request.path_params["key"]
    held, array = _loop(request).tensor(key, step)
    if array.size > MAX_JSON_VALUES:
        raise PayloadTooLarge(
            f"{key} has {array.size:,} values, over the {MAX_JSON_VALUES:,} a JSON answer holds; "
            "read it reduced with GET /model/heatmap"
        )
    return JSONResponse(
        {
            "step": held,
            "key": key,
            "shape": list(array.shape),
            "dtype": array.dtype.name,
            "data": array,
        }
    )


@operation("The per-layer table of the newest step with statistics.")
async def layers_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    loop = _loop(request)
    return JSONResponse(await to_thread.run_sync(loop.layers))


@operation(
    "Scalars (all by default) or named history columns, over steps >= since.",
    query={
        "names": {"type": "string"},
        "since": integer(0, MAX_STEP_NUMBER),
        "limit": integer(1, 100_000),
    },
)
async def history_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("names", "since", "limit"), "query parameter")
    raw = request.query_params.get("names")
    names = None if raw is None else [name for name in raw.split(",") if name]
    if names is not None and len(names) > MAX_NAMES:
        raise InvalidValue(f"names lists {len(names)} names; at most {MAX_NAMES} allowed")
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 0)
    limit = int_query(request, "limit", 1, 100_000, 100_000)
    loop = _loop(request)
    answer = await to_thread.run_sync(lambda: loop.history(names, since, limit))
    return JSONResponse(answer)


@operation(
    "The |weight| histogram of one parameter at every step with statistics.",
    query={
        "parameter": {"type": "string"},
        "since": integer(0, MAX_STEP_NUMBER),
        "limit": integer(1, 100_000),
    },
    required_query=("parameter",),
)
async def histograms_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("parameter", "since", "limit"), "query parameter")
    parameter = request.query_params.get("parameter")
    if not parameter:
        raise InvalidValue("parameter is required: a parameter name from GET /model/layers")
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 0)
    limit = int_query(request, "limit", 1, 100_000, 100_000)
    loop = _loop(request)
    return JSONResponse(await to_thread.run_sync(lambda: loop.histograms(parameter, since, limit)))


@operation(
    "A held tensor as a grid of at most rows x cols cells (min, max, mean of each); r0..r1, "
    "c0..c1 (half-open) zoom in, exact when the window fits the grid.",
    query={"key": {"type": "string"}, **GRID_QUERY, "step": integer(1, MAX_STEP_NUMBER)},
    required_query=("key",),
)
async def heatmap_route(request: Request) -> Response:
    allowed = ("key", "rows", "cols", "r0", "r1", "c0", "c1", "step")
    reject_unknown(request.query_params, allowed, "query parameter")
    key = request.query_params.get("key")
    if not key:
        raise InvalidValue("key is required: a name from GET /debug/step_data/keys")
    rows = int_query(request, "rows", 1, MAX_GRID, DEFAULT_GRID)
    cols = int_query(request, "cols", 1, MAX_GRID, DEFAULT_GRID)
    bounds = [
        bound
        for name in ("r0", "r1", "c0", "c1")
        if (bound := _optional_int(request, name, 0, MAX_STEP_NUMBER)) is not None
    ]
    if bounds and len(bounds) != 4:
        raise InvalidValue("a window needs all of r0, r1, c0 and c1 (half-open ranges)")
    window = (bounds[0], bounds[1], bounds[2], bounds[3]) if bounds else None
    step = _optional_int(request, "step", 1, MAX_STEP_NUMBER)
    loop = _loop(request)

    def reduce() -> dict[str, object]:
        try:
            return loop.heatmap(key, rows, cols, window, step)
        except ValueError as error:  # a window outside the tensor
            raise InvalidValue(str(error)) from None

    return JSONResponse(await to_thread.run_sync(reduce))


@operation(
    "Every rank of a distributed loop: loss, gradient norm before the all-reduce and batch "
    "fingerprint per rank over steps >= since (409 for a loop in one process).",
    query={"since": integer(0, MAX_STEP_NUMBER), "limit": integer(1, 100_000)},
)
async def ranks_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("since", "limit"), "query parameter")
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 0)
    limit = int_query(request, "limit", 1, 100_000, 100_000)
    loop = _loop(request)
    return JSONResponse(await to_thread.run_sync(lambda: loop.rank_history(since, limit)))


@operation(
    "One rank's batch of the newest held step (dbg.record_batch): shape, mean, std and, for "
    "images, a PNG grid of its first samples (409 for a loop in one process).",
    query={"rank": integer(0, MAX_STEP_NUMBER)},
    required_query=("rank",),
)
async def rank_batch_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("rank",), "query parameter")
    if "rank" not in request.query_params:
        raise InvalidValue("rank is required: a rank from GET /debug/state")
    rank = int_query(request, "rank", 0, MAX_STEP_NUMBER, 0)
    loop = _loop(request)
    return JSONResponse(await to_thread.run_sync(lambda: loop.rank_batch(rank)))


@operation("Server-sent events: the loop's state, on connect and whenever it changes.", stream=True)
async def events_route(request: Request) -> Response:
    """A `state` event (the body of GET /debug/state without the keys) on connect and after
    every change (a step, pause, resume, stop), at most one per `EVENT_INTERVAL_S`; a quiet
    stream (a paused loop) sends a comment every `HEARTBEAT_S` so proxies keep it open."""
    reject_unknown(request.query_params, (), "query parameter")
    loop = _loop(request)
    shutdown: asyncio.Event = request.app.state.shutdown

    async def stream() -> AsyncIterator[bytes]:
        pace = paced_changes(
            loop.changes, shutdown, interval=EVENT_INTERVAL_S, heartbeat=HEARTBEAT_S
        )
        async for changed in pace:
            if not changed:  # quiet: a comment keeps proxies from closing the stream
                yield b": keep-alive\n\n"
                continue
            yield b"event: state\ndata: " + orjson.dumps(_state(loop)) + b"\n\n"
            if loop.closed:
                return

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


def _optional_int(request: Request, name: str, low: int, high: int) -> int | None:
    if name not in request.query_params:
        return None
    return int_query(request, name, low, high, low)


@operation("Not served by an attached loop: answers 409.")
async def recipe_route(request: Request) -> Response:
    raise Conflict(
        "this process trains an attached loop (acc.attach): the built-in recipes, inspector "
        f"sessions and codebook views are not served here ({request.url.path})"
    )


API_ROUTES: list[BaseRoute] = [
    Route("/health", health_route, methods=["GET"]),
    Route("/debug/pause", pause_route, methods=["POST"]),
    Route("/debug/resume", resume_route, methods=["POST"]),
    Route("/debug/step", step_route, methods=["POST"]),
    Route("/debug/state", state_route, methods=["GET"]),
    Route("/debug/step_data/keys", step_data_keys_route, methods=["GET"]),
    Route("/debug/step_data/{key:path}", step_data_route, methods=["GET"]),
    *breakpoints.attached_routes,
    Route("/runs/stop", stop_route, methods=["POST"]),
    Route("/model/layers", layers_route, methods=["GET"]),
    Route("/model/history", history_route, methods=["GET"]),
    Route("/model/histograms", histograms_route, methods=["GET"]),
    Route("/model/heatmap", heatmap_route, methods=["GET"]),
    Route("/model/ranks", ranks_route, methods=["GET"]),
    Route("/model/ranks/batch", rank_batch_route, methods=["GET"]),
    Route("/model/events", events_route, methods=["GET"]),
    *openapi.routes,
    *[
        Route(path, recipe_route, methods=["GET", "POST"])
        for path in ("/runs", "/runs/{rest:path}", "/inspect/{rest:path}", "/codebook/{rest:path}")
    ],
]


def create_attached_app(
    *, settings: Settings, loop: AttachedLoop, dashboard: Path | None = None
) -> Starlette:
    """The API for one attached loop, at the root and under `/api`; with `dashboard` (a built
    dashboard folder, `find_dashboard()`), its pages at every path the API does not answer."""
    app = api_app(API_ROUTES, settings=settings, on_close=loop.close, dashboard=dashboard)
    app.state.loop = loop
    return app
