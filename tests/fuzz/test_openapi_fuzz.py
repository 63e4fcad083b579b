"""Every route of the OpenAPI description, fuzzed with schemathesis: no input may cause a 5xx."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from acc.api.app import create_app
from acc.data import load_mnist
from acc.settings import Settings

APP = create_app(
    # schemathesis calls the app as Starlette's TestClient does, with Host "testserver"
    settings=Settings(device="cpu", allowed_hosts=("testserver",)),
    data=load_mnist(Path(tempfile.mkdtemp(prefix="acc-fuzz-")) / "mnist"),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# Valid inputs and invalid ones (wrong types, out-of-range numbers, unknown enum values, extra
# fields): both must end in a 2xx or a 4xx with {"error", "detail"}, never a 5xx.
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


CALLS: dict[int, int] = {}  # status code → count, printed at the end (pytest -s)


@pytest.fixture(scope="module", autouse=True)
def free_the_model() -> Iterator[None]:
    yield
    print(f"\nschemathesis: {sum(CALLS.values())} calls, by status: {dict(sorted(CALLS.items()))}")
    APP.state.seat.close()


def _prepare(path: str) -> None:
    """Put the trainer in the state where `path` does its real work (a session with steps, a
    paused free run, a paused VQ run), so the fuzz reaches past the 409 of a missing session.
    Examples of one route run one after another, so this acts once per route (and after an
    example that tore the state down)."""
    seat = APP.state.seat
    run = seat.run
    if path.startswith("/inspect/") and path != "/inspect/setup":
        if run is not None and not run.finished:
            seat.stop_run()
        if seat.session is None:
            seat.setup_session("gradient_gating_l0", "bcl-fast", 0).step(3)
    elif path.startswith(("/runs/", "/debug/", "/codebook/")) and path != "/codebook/start":
        recipe = "vqvae" if path.startswith("/codebook/") else "gradient_gating_l0"
        if run is None or run.finished or run.session.recipe.name != recipe:
            seat.teardown_session()
            if run is not None and not run.finished:
                seat.stop_run()
            condition = "ema" if recipe == "vqvae" else "bcl-fast"
            options = {"levels": 2} if recipe == "vqvae" else None
            started = seat.start_run(recipe, condition, 100_000, 0, 1, True, options)
            started.step(2)


def _is_event_stream(case: schemathesis.Case) -> bool:
    responses = case.operation.definition.raw.get("responses", {})
    return any("text/event-stream" in answer.get("content", {}) for answer in responses.values())


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_causes_a_server_error(case: schemathesis.Case) -> None:
    _prepare(case.path)
    # Up to 500 steps in one call can take longer than 10 s on a loaded 2-core machine; an
    # event stream never ends by itself, and the transport keeps what it sent by the deadline.
    response = case.call(timeout=2 if _is_event_stream(case) else 300)
    CALLS[response.status_code] = CALLS.get(response.status_code, 0) + 1
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.body!r} {case.query!r} → "
        f"{response.status_code} {response.text[:500]}"
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error", "detail"}, body
