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

from acc.api.branches import REWIND_BODY, read_rewind_step
from acc.api.openapi import enum, integer, operation
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
    choice_field,
    int_field,
    int_path,
    read_json_object,
    reject_unknown,
)
from acc.api.waiting import result_while_connected
from acc.model_seat import ModelSeat
from acc.recipes import get_recipe, recipe_names
from acc.session import (
    MAX_STEPS_PER_CALL,
    Session,
    SessionClosed,
)

DEFAULT_RECIPE = "gradient_gating_l0"


def _session(request: Request) -> Session:
    return model_seat(request).require_session()


def _state_body(seat: ModelSeat, session: Session | None) -> dict[str, Any]:
    recipe = get_recipe(DEFAULT_RECIPE)
    if session is None or session.closed:
        return {
            "active": False,
            "recipes": recipe_names(),
            "conditions": list(recipe.conditions),
            "default_condition": recipe.default_condition,
            **_owner(seat),
        }
    try:
        state = session.state().to_dict()
    except SessionClosed:  # torn down between the check and the read
        return _state_body(seat, None)
    options = session.setup_options
    in_effect = {name: options.get(name) for name in session.recipe.options}
    return {"active": True, **state, "options": in_effect, **_owner(seat)}


def _owner(seat: ModelSeat) -> dict[str, Any]:
    """`owner`: who trains the model, as a sentence ("the free run 3fa2c1…"); `owner_detail`:
    its kind and id."""
    owner = seat.owner
    return {
        "owner": None if owner is None else str(owner),
        "owner_detail": None if owner is None else owner.to_dict(),
    }


@operation("The inspector session's state (or that there is none).")
async def state_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    seat = model_seat(request)
    return JSONResponse(_state_body(seat, seat.session))


@operation(
    "Start a fresh inspector session (replacing the current one); `options` are the recipe's "
    "(gradient_gating_l0: `dim`, the width D).",
    body={
        "recipe": enum("gradient_gating_l0", "vqvae"),
        "condition": {"type": "string"},
        "seed": integer(0, MAX_SEED),
        "options": options_schema(get_recipe(DEFAULT_RECIPE).options),
    },
)
async def setup_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(body, ("recipe", "condition", "seed", "options"), "field")
    recipe_name = choice_field(body, "recipe", recipe_names(), DEFAULT_RECIPE)
    recipe = get_recipe(recipe_name)
    condition = choice_field(body, "condition", recipe.conditions, recipe.default_condition)
    seed = int_field(body, "seed", 0, MAX_SEED, 0)
    options = options_field(body, recipe.options)
    seat = model_seat(request)
    session = await to_thread.run_sync(seat.setup_session, recipe_name, condition, seed, options)
    return JSONResponse(_state_body(seat, session))


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


@operation(GRID_DOC, query=GRID_QUERY)
async def tensor_route(request: Request) -> Response:
    session = _session(request)
    return await tensor_grid_response(request, session.get_step, {"session_id": session.session_id})


@operation(
    "Go back to the end of step `step` (0: the start) if its restore point is held (the state's "
    "`rewindable`); the steps after it become a branch. Answers the state, `rewound_to` and "
    "`branch` (null when no steps followed).",
    body=REWIND_BODY,
    required=("step",),
)
async def rewind_route(request: Request) -> Response:
    step = await read_rewind_step(request)
    session = _session(request)
    branch = await to_thread.run_sync(session.rewind, step)
    summary = None if branch is None else branch.summary()
    body = {**_state_body(model_seat(request), session), "rewound_to": step, "branch": summary}
    return JSONResponse(body)


@operation("End the inspector session and free its memory.", body={})
async def teardown_route(request: Request) -> Response:
    await read_json_object(request)
    seat = model_seat(request)
    ended = await to_thread.run_sync(seat.teardown_session)
    return JSONResponse({**_state_body(seat, None), "torn_down": ended})


routes = [
    Route("/inspect/state", state_route, methods=["GET"]),
    Route("/inspect/setup", setup_route, methods=["POST"]),
    Route("/inspect/step", step_route, methods=["POST"]),
    Route("/inspect/history", history_route, methods=["GET"]),
    Route("/inspect/step/{step}", get_step_route, methods=["GET"]),
    Route("/inspect/step/{step}/tensor/{key}", tensor_route, methods=["GET"]),
    Route("/inspect/teardown", teardown_route, methods=["POST"]),
    Route("/inspect/rewind", rewind_route, methods=["POST"]),
]
