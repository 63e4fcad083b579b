"""`/runs/*`: start, watch (server-sent events) and stop a free-running training run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from acc.api.openapi import BOOLEAN, enum, integer, operation
from acc.api.recipe_options import options_field, options_schema
from acc.api.responses import JSONResponse
from acc.api.state import model_seat
from acc.api.step_responses import (
    GRID_DOC,
    GRID_QUERY,
    HISTORY_QUERY,
    history_response,
    step_response,
    tensor_grid_response,
)
from acc.api.validation import (
    MAX_SEED,
    MAX_STEP_NUMBER,
    bool_field,
    choice_field,
    int_field,
    int_path,
    int_query,
    read_json_object,
    reject_unknown,
)
from acc.api.waiting import paced_changes
from acc.free_run import (
    DEFAULT_CAPTURE_EVERY,
    DEFAULT_RUN_STEPS,
    MAX_CAPTURE_EVERY,
    MAX_RUN_STEPS,
    FreeRun,
)
from acc.integers import parse_ascii_int
from acc.recipes import get_recipe, recipe_catalogue, recipe_names

DEFAULT_RECIPE = "gradient_gating_l0"
# Server-sent events go out at most this often: a run doing 300 steps/s sends one batched
# `steps` event per tick instead of 300, so a fast run cannot flood the browser.
EVENT_INTERVAL_S = 0.25
HEARTBEAT_S = 15.0
# What a `steps` event carries per step; a reconnecting client far behind catches up in pages.
SSE_KEYS = ("loss", "weight_cosine_mean")
SSE_PAGE_STEPS = 10_000


def require_run(request: Request) -> FreeRun:
    return model_seat(request).require_run()


def run_body(run: FreeRun | None) -> dict[str, Any]:
    """The run's state; every answer also lists every recipe with its conditions, so a form can
    offer them whatever recipe the current run has."""
    catalogue = {"recipes": recipe_names(), "recipe_conditions": recipe_catalogue()}
    if run is None:
        recipe = get_recipe(DEFAULT_RECIPE)
        return {
            "active": False,
            **catalogue,
            "conditions": list(recipe.conditions),
            "default_condition": recipe.default_condition,
        }
    options = run.session.setup_options
    return {
        "active": True,
        **run.state().to_dict(),
        "options": {name: options.get(name) for name in run.session.recipe.options},
        **catalogue,
        "conditions": list(run.session.recipe.conditions),
        "watched": run.controller.watched(),
    }


@operation(
    "Start a free run; `options` are the recipe's (gradient_gating_l0: `dim`, the width D).",
    body={
        "recipe": enum("gradient_gating_l0", "vqvae"),
        "options": options_schema(get_recipe(DEFAULT_RECIPE).options),
        "condition": {"type": "string"},
        "steps": integer(1, MAX_RUN_STEPS),
        "seed": integer(0, MAX_SEED),
        "capture_every": integer(1, MAX_CAPTURE_EVERY),
        "paused": BOOLEAN,
    },
)
async def start_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(
        body,
        ("recipe", "condition", "options", "steps", "seed", "capture_every", "paused"),
        "field",
    )
    recipe_name = choice_field(body, "recipe", recipe_names(), DEFAULT_RECIPE)
    recipe = get_recipe(recipe_name)
    condition = choice_field(body, "condition", recipe.conditions, recipe.default_condition)
    steps = int_field(body, "steps", 1, MAX_RUN_STEPS, DEFAULT_RUN_STEPS)
    seed = int_field(body, "seed", 0, MAX_SEED, 0)
    capture_every = int_field(body, "capture_every", 1, MAX_CAPTURE_EVERY, DEFAULT_CAPTURE_EVERY)
    paused = bool_field(body, "paused", False)
    options = options_field(body, recipe.options)
    seat = model_seat(request)
    run = await to_thread.run_sync(
        lambda: seat.start_run(recipe_name, condition, steps, seed, capture_every, paused, options)
    )
    return JSONResponse(run_body(run))


@operation("The current (or last) free run.")
async def current_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    return JSONResponse(run_body(model_seat(request).run))


@operation("Stop the free run (also while paused).", body={})
async def stop_route(request: Request) -> Response:
    await read_json_object(request)
    run = await to_thread.run_sync(model_seat(request).stop_run)
    return JSONResponse(run_body(run))


@operation(
    "Per-step history of the run from `since` on (at most `limit` steps, `more` says if later "
    "ones exist; only the history `keys` named, when given).",
    query=HISTORY_QUERY,
)
async def history_route(request: Request) -> Response:
    return await history_response(request, require_run(request).session)


@operation("The full data of a retained step of the run.", frame=True)
async def get_step_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    step = int_path(request, "step", 1, MAX_STEP_NUMBER)
    run = require_run(request)
    data = run.session.get_step(step)
    return await step_response(
        request, data, {"run_id": run.run_id, "condition": run.session.condition}
    )


@operation(GRID_DOC, query=GRID_QUERY)
async def tensor_route(request: Request) -> Response:
    run = require_run(request)
    return await tensor_grid_response(request, run.session.get_step, {"run_id": run.run_id})


def _sse(event: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    head = b"id: " + event_id.encode() + b"\n" if event_id else b""
    return head + b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _resume_point(request: Request) -> tuple[str | None, int]:
    """(run id, first step to send) from Last-Event-ID (`<run_id>:<step>`) or `?since=K`."""
    last = request.headers.get("last-event-id", "")
    run_id, _, raw_step = last.partition(":")
    step = parse_ascii_int(raw_step)
    if run_id and step is not None and step >= 0:
        return run_id, step + 1
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 1)
    return None, max(since, 1)


@operation("Server-sent events: run state and batched steps.", stream=True)
async def events_route(request: Request) -> Response:
    """`state` events when the run's status changes (and once on connect), `steps` events with
    the steps finished since the last one (step, loss, mean weight cosine), in order. Each
    `steps` event has the id `<run_id>:<last step>`: a reconnecting EventSource sends it back as
    Last-Event-ID and the stream goes on after that step (so does `?since=K`)."""
    reject_unknown(request.query_params, ("since",), "query parameter")
    seat = model_seat(request)
    resume_run, resume_step = _resume_point(request)
    shutdown: asyncio.Event = request.app.state.shutdown

    async def stream() -> AsyncIterator[bytes]:
        sent_state: dict[str, Any] | None = None
        run_id: str | None = None
        next_step = 1
        rewinds = 0  # the run's rewinds seen: after one, the steps go on from where it went
        pace = paced_changes(
            seat.changes, shutdown, interval=EVENT_INTERVAL_S, heartbeat=HEARTBEAT_S
        )
        async for changed in pace:
            if not changed:  # quiet: a comment keeps proxies from closing the stream
                yield b": keep-alive\n\n"
                continue
            run = seat.run
            body = run_body(run)
            if run is not None and run.run_id != run_id:
                run_id, next_step = run.run_id, 1
                rewinds = run.session.rewound_since(0)[0]
                if resume_run in (None, run_id):
                    next_step = resume_step
            rewound_to = None
            if run is not None:
                rewinds, rewound_to = run.session.rewound_since(rewinds)
                if rewound_to is not None:
                    next_step = min(next_step, rewound_to + 1)
            summary = {k: body.get(k) for k in ("active", "run_id", "status", "blocked", "error")}
            # A new step event (a live edit, a breakpoint) is news for the timelines too.
            summary["last_event"] = (body.get("events") or [None])[-1]
            if summary != sent_state:
                sent_state = summary
                yield _sse("state", body)
            if run is not None:
                history = run.session.history(next_step, keys=SSE_KEYS, limit=SSE_PAGE_STEPS)
                # After a rewind, an event goes out even without steps: it says to drop some.
                if history.steps.size or rewound_to is not None:
                    if history.steps.size:
                        next_step = int(history.steps[-1]) + 1
                    event = _steps_event(run.run_id, history)
                    if rewound_to is not None:  # the reader drops its steps after this one
                        event["rewound_to"] = rewound_to
                    yield _sse("steps", event, event_id=f"{run.run_id}:{next_step - 1}")

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


def _steps_event(run_id: str, history: Any) -> dict[str, Any]:
    columns = history.columns
    event: dict[str, Any] = {"run_id": run_id, "steps": history.steps}
    for key in SSE_KEYS:
        if key in columns:
            event[key] = columns[key]
    return {
        key: (value.tolist() if hasattr(value, "tolist") else value) for key, value in event.items()
    }


routes = [
    Route("/runs", start_route, methods=["POST"]),
    Route("/runs/current", current_route, methods=["GET"]),
    Route("/runs/stop", stop_route, methods=["POST"]),
    Route("/runs/events", events_route, methods=["GET"]),
    Route("/runs/history", history_route, methods=["GET"]),
    Route("/runs/step/{step}", get_step_route, methods=["GET"]),
    Route("/runs/step/{step}/tensor/{key}", tensor_route, methods=["GET"]),
]
