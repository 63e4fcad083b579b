"""`/inspect/*`: request-driven stepping of the inspector session.

Handlers validate, hand the torch work to the session's worker thread (`await` its future) and
encode the answer in a thread too, so the event loop stays free while a step runs.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acc.api.openapi import enum, integer, operation
from acc.api.responses import JSONResponse
from acc.api.step_responses import HISTORY_QUERY, history_response, step_response
from acc.api.validation import (
    MAX_SEED,
    MAX_STEP_NUMBER,
    choice_field,
    int_field,
    int_path,
    read_json_object,
    reject_unknown,
)
from acc.api.waiting import result_while_connected
from acc.inspector_slot import InspectorSlot
from acc.recipes import get_recipe, recipe_names
from acc.session import (
    MAX_STEPS_PER_CALL,
    Session,
    SessionClosed,
)

DEFAULT_RECIPE = "gradient_gating_l0"


def _slot(request: Request) -> InspectorSlot:
    slot: InspectorSlot = request.app.state.inspector
    return slot


def _session(request: Request) -> Session:
    return _slot(request).require()


def _state_body(slot: InspectorSlot, session: Session | None) -> dict[str, Any]:
    recipe = get_recipe(DEFAULT_RECIPE)
    if session is None or session.closed:
        return {
            "active": False,
            "recipes": recipe_names(),
            "conditions": list(recipe.conditions),
            "default_condition": recipe.default_condition,
            "owner": slot.ownership.owner,
        }
    try:
        state = session.state().to_dict()
    except SessionClosed:  # torn down between the check and the read
        return _state_body(slot, None)
    return {"active": True, **state, "owner": slot.ownership.owner}


@operation("The inspector session's state (or that there is none).")
async def state_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    slot = _slot(request)
    return JSONResponse(_state_body(slot, slot.current))


@operation(
    "Start a fresh inspector session (replacing the current one).",
    body={
        "recipe": enum("gradient_gating_l0", "vqvae"),
        "condition": {"type": "string"},
        "seed": integer(0, MAX_SEED),
    },
)
async def setup_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(body, ("recipe", "condition", "seed"), "field")
    recipe_name = choice_field(body, "recipe", recipe_names(), DEFAULT_RECIPE)
    recipe = get_recipe(recipe_name)
    condition = choice_field(body, "condition", recipe.conditions, recipe.default_condition)
    seed = int_field(body, "seed", 0, MAX_SEED, 0)
    slot = _slot(request)
    session = await to_thread.run_sync(slot.setup, recipe_name, condition, seed)
    return JSONResponse(_state_body(slot, session))


@operation(
    "Run n training steps (default 1); answers the last step's data.",
    body={"n": integer(1, MAX_STEPS_PER_CALL)},
    frame=True,
)
async def step_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(body, ("n",), "field")
    n = int_field(body, "n", 1, MAX_STEPS_PER_CALL, 1)
    session = _session(request)
    job = session.submit_step(n)
    data = await result_while_connected(request, job.future, job.cancel)
    return await step_response(
        request, data, {"session_id": session.session_id, "condition": session.condition}
    )


@operation(
    "Per-step scalars and vectors from step `since` on (at most `limit` steps, `more` says if "
    "later ones exist; only the history `keys` named, when given).",
    query=HISTORY_QUERY,
)
async def history_route(request: Request) -> Response:
    return await history_response(request, _session(request))


@operation("The full data of a retained step.", frame=True)
async def get_step_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    step = int_path(request, "step", 1, MAX_STEP_NUMBER)
    session = _session(request)
    data = session.get_step(step)
    return await step_response(
        request, data, {"session_id": session.session_id, "condition": session.condition}
    )


@operation("End the inspector session and free its memory.", body={})
async def teardown_route(request: Request) -> Response:
    await read_json_object(request)
    slot = _slot(request)
    ended = await to_thread.run_sync(slot.teardown)
    return JSONResponse({**_state_body(slot, None), "torn_down": ended})


routes = [
    Route("/inspect/state", state_route, methods=["GET"]),
    Route("/inspect/setup", setup_route, methods=["POST"]),
    Route("/inspect/step", step_route, methods=["POST"]),
    Route("/inspect/history", history_route, methods=["GET"]),
    Route("/inspect/step/{step}", get_step_route, methods=["GET"]),
    Route("/inspect/teardown", teardown_route, methods=["POST"]),
]
