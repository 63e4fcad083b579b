"""`/inspect/branches*` and `/runs/branches*`: the branches rewinds left, read-only: their
summaries, their history (losses for the timelines' overlay) and their held steps."""

from __future__ import annotations

from collections.abc import Callable

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acc.api.openapi import integer, operation
from acc.api.responses import JSONResponse
from acc.api.runs import require_run
from acc.api.state import model_seat
from acc.api.step_responses import (
    GRID_DOC,
    GRID_QUERY,
    HISTORY_QUERY,
    history_body,
    history_query,
    step_response,
    tensor_grid_response,
)
from acc.api.validation import (
    MAX_STEP_NUMBER,
    int_field,
    int_path,
    read_json_object,
    reject_unknown,
)
from acc.session import Session

MAX_BRANCH_ID = 2**31 - 1
SessionOf = Callable[[Request], Session]
# The body of both rewind routes (`/inspect/rewind`, `/debug/rewind`).
REWIND_BODY = {"step": integer(0, MAX_STEP_NUMBER)}


async def read_rewind_step(request: Request) -> int:
    """The step a rewind request goes back to: `{"step": k}`, nothing else."""
    body = await read_json_object(request)
    reject_unknown(body, ("step",), "field")
    return int_field(body, "step", 0, MAX_STEP_NUMBER)


def _inspector_session(request: Request) -> Session:
    return model_seat(request).require_session()


def _run_session(request: Request) -> Session:
    return require_run(request).session


def _routes(prefix: str, session_of: SessionOf) -> list[Route]:
    """The branch routes under `prefix`, reading the session `session_of` gives."""

    @operation(
        "The branches earlier rewinds left (oldest first): id, fork step, label, held steps."
    )
    async def list_route(request: Request) -> Response:
        reject_unknown(request.query_params, (), "query parameter")
        return JSONResponse({"branches": session_of(request).branches.summaries()})

    @operation(
        "A branch's per-step history from step `since` on (as the current line's history).",
        query=HISTORY_QUERY,
    )
    async def history_route(request: Request) -> Response:
        branch_id = int_path(request, "branch", 1, MAX_BRANCH_ID)
        query = history_query(request)
        branch = session_of(request).branches.get(branch_id)
        history = branch.history_since(query.since, keys=query.keys, limit=query.limit)
        body = await to_thread.run_sync(history_body, history, query.since)
        return Response(body, media_type="application/json")

    @operation("The full data of a step a branch holds.", frame=True)
    async def step_route(request: Request) -> Response:
        reject_unknown(request.query_params, (), "query parameter")
        branch_id = int_path(request, "branch", 1, MAX_BRANCH_ID)
        step = int_path(request, "step", 1, MAX_STEP_NUMBER)
        branch = session_of(request).branches.get(branch_id)
        data = branch.get_step(step)
        extra = {"branch": branch_id, "fork_step": branch.fork_step}
        return await step_response(request, data, extra)

    @operation(GRID_DOC.replace("a retained step", "a step a branch holds"), query=GRID_QUERY)
    async def tensor_route(request: Request) -> Response:
        branch_id = int_path(request, "branch", 1, MAX_BRANCH_ID)
        branch = session_of(request).branches.get(branch_id)
        return await tensor_grid_response(request, branch.get_step, {"branch": branch_id})

    return [
        Route(f"{prefix}/branches", list_route, methods=["GET"]),
        Route(f"{prefix}/branches/{{branch}}/history", history_route, methods=["GET"]),
        Route(f"{prefix}/branches/{{branch}}/step/{{step}}", step_route, methods=["GET"]),
        Route(
            f"{prefix}/branches/{{branch}}/step/{{step}}/tensor/{{key}}",
            tensor_route,
            methods=["GET"],
        ),
    ]


routes = [*_routes("/inspect", _inspector_session), *_routes("/runs", _run_session)]
