"""`/archive/*`: the runs kept in the runs directory: list, read, history, kept steps, delete."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acc.api.errors import InvalidValue
from acc.api.openapi import enum, integer, operation
from acc.api.responses import JSONResponse
from acc.api.step_responses import GRID_DOC, GRID_QUERY, step_response, tensor_grid_response
from acc.api.validation import MAX_STEP_NUMBER, int_path, int_query, reject_unknown
from acc.archive.store import NoArchive, RunArchive, RunHistory, RunStatus

MAX_LIST_LIMIT = 1000
MAX_HISTORY_LIMIT = 100_000
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KEYS = re.compile(r"^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$")
STATUSES = tuple(status.value for status in RunStatus)


def archive_of(request: Request) -> RunArchive:
    """The app's runs archive; `NoArchive` when the server records no runs."""
    archive: RunArchive | None = request.app.state.archive
    if archive is None:
        raise NoArchive("this server records no runs; start it with --runs-dir DIR")
    return archive


def _run_id(request: Request) -> str:
    run_id = request.path_params["run_id"]
    if not RUN_ID.match(run_id):
        raise InvalidValue(
            f"run id must be 1 to 64 letters, digits, '-' or '_', got {run_id[:80]!r}"
        )
    return str(run_id)


@operation(
    "Archived runs, newest first (filtered by recipe and status), with the archive's size.",
    query={
        "recipe": {"type": "string", "maxLength": 100},
        "status": enum(*STATUSES),
        "limit": integer(1, MAX_LIST_LIMIT),
        "offset": integer(0, MAX_STEP_NUMBER),
    },
)
async def list_route(request: Request) -> Response:
    query = request.query_params
    reject_unknown(query, ("recipe", "status", "limit", "offset"), "query parameter")
    status = query.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidValue(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    recipe = query.get("recipe")
    limit = int_query(request, "limit", 1, MAX_LIST_LIMIT, MAX_LIST_LIMIT)
    offset = int_query(request, "offset", 0, MAX_STEP_NUMBER, 0)
    archive = archive_of(request)
    runs = await to_thread.run_sync(
        lambda: archive.list_runs(recipe=recipe, status=status, limit=limit, offset=offset)
    )
    return JSONResponse(
        {
            "runs": [run.to_dict() for run in runs.runs],
            "total": runs.total,
            "archive_bytes": runs.archive_bytes,
            "max_bytes": archive.max_bytes,
            "runs_dir": str(archive.root),
        }
    )


@operation("One archived run: meta, options, status, summary, events and kept steps.")
async def get_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run_id = _run_id(request)
    archive = archive_of(request)
    run = await to_thread.run_sync(archive.get_run, run_id)
    return JSONResponse(run.to_dict())


@operation(
    "An archived run's scalars from `since` on (at most `limit` steps, `more` says if later ones "
    "exist; only the `keys` named, when given), in the shape of the live history, with each "
    "step's wall time.",
    query={
        "since": integer(0, MAX_STEP_NUMBER),
        "limit": integer(1, MAX_HISTORY_LIMIT),
        "keys": {"type": "string", "pattern": KEYS.pattern, "maxLength": 2000},
    },
)
async def history_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("since", "limit", "keys"), "query parameter")
    run_id = _run_id(request)
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 0)
    limit = int_query(request, "limit", 1, MAX_HISTORY_LIMIT, MAX_HISTORY_LIMIT)
    raw = request.query_params.get("keys")
    keys: tuple[str, ...] | None = None
    if raw is not None:
        if not KEYS.match(raw):
            raise InvalidValue(
                f"keys must be a comma-separated list of key names, got {raw[:200]!r}"
            )
        keys = tuple(dict.fromkeys(raw.split(",")))
    archive = archive_of(request)

    def answer() -> bytes:
        return history_body(archive.history(run_id, keys=keys, since=since, limit=limit), since)

    return Response(await to_thread.run_sync(answer), media_type="application/json")


def history_body(found: RunHistory, since: int) -> bytes:
    """The live history's JSON (`since, steps, columns, nonfinite, more, vectors_from, failed`)
    plus `wall` (seconds since the epoch, per step) and `keys` (every key the run recorded)."""
    history = found.history
    nonfinite = {
        key: int(column.size - np.count_nonzero(np.isfinite(column)))
        for key, column in history.columns.items()
    }
    body: dict[str, Any] = {
        "since": since,
        "steps": history.steps,
        "columns": history.columns,
        "nonfinite": {key: count for key, count in nonfinite.items() if count},
        "more": history.more,
        "vectors_from": None,
        "failed": [
            {"step": record.step, "error": record.error, "message": record.message}
            for record in history.failed
        ],
        "wall": found.wall,
        "keys": list(found.keys),
    }
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


@operation("The full data of a kept step of an archived run.", frame=True)
async def step_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run_id = _run_id(request)
    step = int_path(request, "step", 0, MAX_STEP_NUMBER)
    archive = archive_of(request)
    data = await to_thread.run_sync(archive.kept_step, run_id, step)
    return await step_response(request, data, {"run_id": run_id})


@operation(GRID_DOC.replace("a retained step", "a kept step of an archived run"), query=GRID_QUERY)
async def tensor_route(request: Request) -> Response:
    run_id = _run_id(request)
    archive = archive_of(request)
    return await tensor_grid_response(
        request, lambda step: archive.kept_step(run_id, step), {"run_id": run_id}, first_step=0
    )


@operation("Delete an archived run: its scalars, events and kept tensors.")
async def delete_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run_id = _run_id(request)
    archive = archive_of(request)
    await to_thread.run_sync(archive.delete_run, run_id)
    size = await to_thread.run_sync(archive.size_bytes)
    return JSONResponse({"deleted": run_id, "archive_bytes": size})


routes = [
    Route("/archive/runs", list_route, methods=["GET"]),
    Route("/archive/runs/{run_id}", get_route, methods=["GET"]),
    Route("/archive/runs/{run_id}", delete_route, methods=["DELETE"]),
    Route("/archive/runs/{run_id}/history", history_route, methods=["GET"]),
    Route("/archive/runs/{run_id}/steps/{step}", step_route, methods=["GET"]),
    Route("/archive/runs/{run_id}/steps/{step}/tensor/{key}", tensor_route, methods=["GET"]),
]
