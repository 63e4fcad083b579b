"""`/codebook/*`: start a VQ-VAE run and read its codebook health, history, dynamics and events.

The run is an ordinary free run (recipe `vqvae`): `/debug/*` pauses and steps it, `/runs/*`
streams and stops it. These routes add the codebook's own figures, each with its rule.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acc.api.errors import Conflict, NotFound
from acc.api.openapi import BOOLEAN, enum, integer, operation
from acc.api.recipe_options import AUTO, option_schema, option_value
from acc.api.responses import JSONResponse
from acc.api.runs import run_body
from acc.api.state import model_seat
from acc.api.validation import (
    MAX_SEED,
    MAX_STEP_NUMBER,
    bool_field,
    choice_field,
    int_field,
    int_query,
    read_json_object,
    reject_unknown,
)
from acc.free_run import MAX_CAPTURE_EVERY, MAX_RUN_STEPS, FreeRun
from acc.recipes import get_recipe
from acc.recipes.vqvae import CONDITIONS, NUM_CODES_RULE, OPTIONS, auto_codebook_size
from acc.recipes.vqvae.capture import VQCapture
from acc.recipes.vqvae.health import RULES

RECIPE = "vqvae"
DEFAULT_STEPS = 2000
DEFAULT_CAPTURE_EVERY = 10
START_FIELDS = ("condition", *OPTIONS, "steps", "seed", "capture_every", "paused")


def _vq_run(request: Request) -> tuple[FreeRun, VQCapture]:
    run = model_seat(request).run
    if run is None or run.session.recipe.name != RECIPE:
        raise Conflict("no VQ-VAE run; start one with POST /codebook/start")
    capture = run.session.capture
    assert isinstance(capture, VQCapture)
    return run, capture


@operation("The VQ form's defaults, the codebook size rule and the current VQ run.")
async def state_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    recipe = get_recipe(RECIPE)
    data = request.app.state.data
    defaults = {
        "condition": recipe.default_condition,
        **{name: AUTO if spec.default is None else spec.default for name, spec in OPTIONS.items()},
        "steps": DEFAULT_STEPS,
        "capture_every": DEFAULT_CAPTURE_EVERY,
    }
    body: dict[str, Any] = {
        "conditions": list(recipe.conditions),
        "defaults": defaults,
        "auto_num_codes": auto_codebook_size(len(data.train)),
        "num_codes_rule": f'codes per level (num_codes "{AUTO}") = {NUM_CODES_RULE} '
        f"({len(data.train):,} training images here)",
        "rules": RULES,
    }
    run = model_seat(request).run
    if run is not None and run.session.recipe.name == RECIPE:
        body["run"] = run_body(run)
        body["config"] = run.session.setup_options
    else:
        body["run"] = None
        body["config"] = None
    return JSONResponse(body)


@operation(
    "Start a VQ-VAE run.",
    body={
        "condition": enum(*CONDITIONS),
        **{name: option_schema(spec) for name, spec in OPTIONS.items()},
        "steps": integer(1, MAX_RUN_STEPS),
        "seed": integer(0, MAX_SEED),
        "capture_every": integer(1, MAX_CAPTURE_EVERY),
        "paused": BOOLEAN,
    },
)
async def start_route(request: Request) -> Response:
    body = await read_json_object(request)
    reject_unknown(body, START_FIELDS, "field")
    recipe = get_recipe(RECIPE)
    condition = choice_field(body, "condition", recipe.conditions, recipe.default_condition)
    options = {name: option_value(body, spec) for name, spec in OPTIONS.items()}
    steps = int_field(body, "steps", 1, MAX_RUN_STEPS, DEFAULT_STEPS)
    seed = int_field(body, "seed", 0, MAX_SEED, 0)
    capture_every = int_field(body, "capture_every", 1, MAX_CAPTURE_EVERY, DEFAULT_CAPTURE_EVERY)
    paused = bool_field(body, "paused", False)
    seat = model_seat(request)
    run = await to_thread.run_sync(
        lambda: seat.start_run(RECIPE, condition, steps, seed, capture_every, paused, options)
    )
    return JSONResponse({**run_body(run), "config": run.session.setup_options})


@operation("Per-level codebook health, drift and quantisation error over the rolling window.")
async def health_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run, capture = _vq_run(request)
    # The warm-up is part of the utilisation rule: warnings start only after it.
    return JSONResponse(
        {
            "run_id": run.run_id,
            **capture.health_report(),
            "warmup_steps": capture.health.warmup_steps,
        }
    )


@operation(
    "Per-step VQ losses, perplexity, usage, drift and quantisation error; validation.",
    query={"since": integer(0, MAX_STEP_NUMBER)},
)
async def history_route(request: Request) -> Response:
    """Per-step train losses, perplexity, usage, codebook drift and quantisation error per level,
    and the validation series."""
    reject_unknown(request.query_params, ("since",), "query parameter")
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 0)
    run, capture = _vq_run(request)
    names = {
        "loss": "loss",
        "reconstruction": "reconstruction_loss",
        "commitment": "vq_commitment_loss",
        "codebook": "vq_codebook_loss",
        "wasserstein": "wasserstein_loss",
        "perplexity": "vq_perplexity",
        "usage": "vq_usage",
    }
    history = run.session.history(since, keys=names.values())
    body: dict[str, Any] = {"run_id": run.run_id, "since": since, "steps": history.steps}
    for name, key in names.items():
        if key in history.columns:  # vectors older than the history window are null
            body[name] = history.aligned(key)
    body.update(capture.error_series(history.steps))  # drift, quantisation_error: [S][L]
    body["validation"] = capture.validation_series(since)
    return JSONResponse(body)


@operation(
    "Code trajectories and gradient EMA (or EMA sizes) of a level.", query={"level": integer(1, 4)}
)
async def dynamics_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("level",), "query parameter")
    run, capture = _vq_run(request)
    levels = int(run.session.setup_options["levels"])
    level = int_query(request, "level", 1, levels, 1)
    return JSONResponse({"run_id": run.run_id, **capture.dynamics(level - 1)})


@operation("Decoded images of the codes.")
async def decoded_route(request: Request) -> Response:
    reject_unknown(request.query_params, (), "query parameter")
    run, capture = _vq_run(request)
    decoded = capture.decoded_codes()
    if decoded is None:
        raise NotFound("no codes decoded yet: they are decoded at step 1 and every 50 steps")
    return JSONResponse({"run_id": run.run_id, **decoded})


@operation("Dead-code replacements.", query={"since": integer(0, MAX_STEP_NUMBER)})
async def events_route(request: Request) -> Response:
    reject_unknown(request.query_params, ("since",), "query parameter")
    since = int_query(request, "since", 0, MAX_STEP_NUMBER, 0)
    run, capture = _vq_run(request)
    with capture.lock:
        events = capture.monitor.events_since(since)
    return JSONResponse(
        {"run_id": run.run_id, "revive": run.session.setup_options["revive"], "events": events}
    )


routes = [
    Route("/codebook/state", state_route, methods=["GET"]),
    Route("/codebook/start", start_route, methods=["POST"]),
    Route("/codebook/health", health_route, methods=["GET"]),
    Route("/codebook/history", history_route, methods=["GET"]),
    Route("/codebook/dynamics", dynamics_route, methods=["GET"]),
    Route("/codebook/decoded", decoded_route, methods=["GET"]),
    Route("/codebook/events", events_route, methods=["GET"]),
]
