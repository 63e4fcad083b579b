"""`/debug/breakpoints`, `/inspect/breakpoints` (arm, list, clear the conditions that stop a loop)
and `/debug/hparams`, `/inspect/hparams` (edit a hyper-parameter at the next step boundary), for
the free run and the inspector session; `attached_routes`: the breakpoints of an attached loop."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acc.api.openapi import BOOLEAN, number, operation
from acc.api.responses import JSONResponse
from acc.api.runs import require_run
from acc.api.state import model_seat
from acc.api.validation import read_json_object, reject_unknown
from acc.attached_loop import AttachedLoop
from acc.breakpoints import THRESHOLDS, BreakpointConfig, Breakpoints
from acc.free_run import FreeRun, RunFinished
from acc.live_edits import OPTIMIZER_KNOBS
from acc.recipes import get_recipe, recipe_names
from acc.session import MAX_STATE_EVENTS, Session

BREAKPOINT_BODY: dict[str, dict[str, Any]] = {
    "nonfinite": BOOLEAN,
    **{
        name: {**number(spec.low or 0.0, spec.high or 0.0), "nullable": True}
        for name, spec in THRESHOLDS.items()
    },
}
# Every knob any setup may have; which ones a given setup has, its answer lists.
HPARAM_BODY: dict[str, dict[str, Any]] = {
    knob.name: number(knob.spec.low or 0.0, knob.spec.high or 0.0)
    for knobs in (OPTIMIZER_KNOBS, *(get_recipe(name).knobs for name in recipe_names()))
    for knob in knobs.values()
}


def _session(request: Request) -> Session:
    return model_seat(request).require_session()


def _run(request: Request) -> FreeRun:
    run = require_run(request)
    if run.finished:
        raise RunFinished(f"the run has ended ({run.status().value}); start a new one")
    return run


def _breakpoints_body(owner: Session | AttachedLoop) -> dict[str, Any]:
    return owner.breakpoints.describe()


def _hparams_body(session: Session) -> dict[str, Any]:
    return {**session.edits.describe(), "events": session.inspector.events.recent(MAX_STATE_EVENTS)}


# -- breakpoints ---------------------------------------------------------------------------------


@operation("The free run's armed breakpoints and the last one that fired.")
async def run_breakpoints_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    return JSONResponse(_breakpoints_body(require_run(request).session))


@operation(
    "Arm breakpoints on the free run (replaces the armed set); from the next step on, the run "
    "pauses at the end of a step where one holds, the step captured in full.",
    body=BREAKPOINT_BODY,
)
async def set_run_breakpoints_route(request: Request) -> Response:
    config = BreakpointConfig.parse(await read_json_object(request))
    session = _run(request).session
    session.breakpoints.set(config)
    return JSONResponse(_breakpoints_body(session))


@operation("Disarm the free run's breakpoints and forget the last break.")
async def clear_run_breakpoints_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    session = require_run(request).session
    session.breakpoints.clear()
    return JSONResponse(_breakpoints_body(session))


@operation("The inspector session's armed breakpoints and the last one that fired.")
async def session_breakpoints_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    return JSONResponse(_breakpoints_body(_session(request)))


@operation(
    "Arm breakpoints on the inspector session (replaces the armed set); a Step ×N ends early "
    "at the end of a step where one holds.",
    body=BREAKPOINT_BODY,
)
async def set_session_breakpoints_route(request: Request) -> Response:
    config = BreakpointConfig.parse(await read_json_object(request))
    session = _session(request)
    session.breakpoints.set(config)
    return JSONResponse(_breakpoints_body(session))


@operation("Disarm the inspector session's breakpoints and forget the last break.")
async def clear_session_breakpoints_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    session = _session(request)
    session.breakpoints.clear()
    return JSONResponse(_breakpoints_body(session))


# -- live edits ----------------------------------------------------------------------------------


@operation("The free run's editable hyper-parameters, their values and the pending edits.")
async def run_hparams_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    return JSONResponse(_hparams_body(require_run(request).session))


@operation(
    "Edit hyper-parameters of the free run; applied at the next step boundary and recorded as "
    "step events.",
    body=HPARAM_BODY,
)
async def set_run_hparams_route(request: Request) -> Response:
    body = await read_json_object(request)
    session = _run(request).session
    session.edits.submit(body)
    return JSONResponse(_hparams_body(session))


@operation("The inspector session's editable hyper-parameters, their values and pending edits.")
async def session_hparams_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    return JSONResponse(_hparams_body(_session(request)))


@operation(
    "Edit hyper-parameters of the inspector session; applied before its next step and "
    "recorded as step events.",
    body=HPARAM_BODY,
)
async def set_session_hparams_route(request: Request) -> Response:
    body = await read_json_object(request)
    session = _session(request)
    session.edits.submit(body)
    return JSONResponse(_hparams_body(session))


# -- an attached loop ---------------------------------------------------------------------------


def _attached(request: Request) -> Breakpoints:
    loop: AttachedLoop = request.app.state.loop
    return loop.breakpoints


@operation("The attached loop's armed breakpoints and the last one that fired.")
async def attached_breakpoints_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    return JSONResponse(_attached(request).describe())


@operation(
    "Arm breakpoints on the attached loop (replaces the armed set); from the next step on, the "
    "loop pauses at the boundary of a step where one holds, the step held in full.",
    body=BREAKPOINT_BODY,
)
async def set_attached_breakpoints_route(request: Request) -> Response:
    config = BreakpointConfig.parse(await read_json_object(request))
    breakpoints = _attached(request)
    breakpoints.set(config)
    return JSONResponse(breakpoints.describe())


@operation("Disarm the attached loop's breakpoints and forget the last break.")
async def clear_attached_breakpoints_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    breakpoints = _attached(request)
    breakpoints.clear()
    return JSONResponse(breakpoints.describe())


attached_routes = [
    Route("/debug/breakpoints", attached_breakpoints_route, methods=["GET"]),
    Route("/debug/breakpoints", set_attached_breakpoints_route, methods=["POST"]),
    Route("/debug/breakpoints", clear_attached_breakpoints_route, methods=["DELETE"]),
]

routes = [
    Route("/debug/breakpoints", run_breakpoints_route, methods=["GET"]),
    Route("/debug/breakpoints", set_run_breakpoints_route, methods=["POST"]),
    Route("/debug/breakpoints", clear_run_breakpoints_route, methods=["DELETE"]),
    Route("/inspect/breakpoints", session_breakpoints_route, methods=["GET"]),
    Route("/inspect/breakpoints", set_session_breakpoints_route, methods=["POST"]),
    Route("/inspect/breakpoints", clear_session_breakpoints_route, methods=["DELETE"]),
    Route("/debug/hparams", run_hparams_route, methods=["GET"]),
    Route("/debug/hparams", set_run_hparams_route, methods=["POST"]),
    Route("/inspect/hparams", session_hparams_route, methods=["GET"]),
    Route("/inspect/hparams", set_session_hparams_route, methods=["POST"]),
]
