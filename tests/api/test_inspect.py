"""`/inspect/*` through Starlette's test client: every route, every error."""

from __future__ import annotations

import base64

import numpy as np
import orjson
import pytest
from starlette.testclient import TestClient

from acc.api.app import create_app
from acc.data import MnistData
from acc.settings import Settings
from acc.step_inspector import CaptureBudget
from acc.tensor_wire import FRAME_CONTENT_TYPE, decode_frame
from tests.api.local_client import error_body, local_client

FRAME = {"accept": FRAME_CONTENT_TYPE}


@pytest.fixture
def inspecting(client: TestClient) -> TestClient:
    response = client.post("/inspect/setup", json={"condition": "bcl-med", "seed": 0})
    assert response.status_code == 200, response.text
    return client


def test_state_before_setup_lists_the_conditions(client: TestClient) -> None:
    body = client.get("/inspect/state").json()
    assert body["active"] is False
    assert body["conditions"] == [
        "control",
        "bcl-micro",
        "bcl-tiny",
        "bcl-slow",
        "bcl-med",
        "bcl-fast",
        "bcl-nan-demo",
    ]
    assert body["default_condition"] == "bcl-med"


def test_setup_answers_the_state_at_step_zero(client: TestClient) -> None:
    body = client.post("/inspect/setup", json={"condition": "bcl-slow", "seed": 3}).json()
    assert body["active"] is True and body["condition"] == "bcl-slow" and body["seed"] == 3
    assert body["model_dim"] == 64 and body["image_shape"] == [1, 28, 28] and body["step"] == 0
    assert body["owner"] == f"the inspector session {body['session_id']}"
    assert client.get("/inspect/state").json()["session_id"] == body["session_id"]


def test_setup_defaults_to_bcl_med_seed_0(client: TestClient) -> None:
    body = client.post("/inspect/setup").json()
    assert (body["condition"], body["seed"]) == ("bcl-med", 0)


def test_step_answers_json_with_every_key(inspecting: TestClient) -> None:
    response = inspecting.post("/inspect/step", json={"n": 1})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["step"] == 1 and body["condition"] == "bcl-med"
    assert len(body["encoder_weights"]) == 64 and len(body["encoder_weights"][0]) == 784
    assert isinstance(body["loss"], float) and body["nonfinite"] == {}
    assert base64.b64decode(body["batch_images"]["data"])[:4] == b"\x89PNG"
    assert body["batch_images"]["count"] == 128


def test_step_without_n_runs_one_step(inspecting: TestClient) -> None:
    response = inspecting.post("/inspect/step", json={})
    assert response.status_code == 200, response.text
    assert response.json()["step"] == 1
    assert inspecting.post("/inspect/step").json()["step"] == 2  # no body at all: also one step


def test_step_answers_a_frame_when_asked(inspecting: TestClient) -> None:
    response = inspecting.post("/inspect/step", json={"n": 3}, headers=FRAME)
    assert response.headers["content-type"] == FRAME_CONTENT_TYPE
    assert response.headers["x-acc-step"] == "3"
    header, arrays, images = decode_frame(response.content)
    assert header["step"] == 3 and arrays["strength"].shape == (128, 64)
    assert arrays["encoder_weights_post"].shape == (64, 784)  # derived by the reader
    assert len(response.content) < 2_000_000


def test_frame_and_json_carry_the_same_numbers(inspecting: TestClient) -> None:
    inspecting.post("/inspect/step", json={"n": 1})
    _, arrays, _ = decode_frame(inspecting.get("/inspect/step/1", headers=FRAME).content)
    body = inspecting.get("/inspect/step/1").json()
    for key in ("win_rate", "grad_mask", "neighbors", "weight_cosine"):
        np.testing.assert_allclose(arrays[key], np.array(body[key]), rtol=1e-6)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"n": 0}, "got 0"),
        ({"n": -1}, "got -1"),
        ({"n": "5"}, 'got "5"'),
        ({"n": 501}, "got 501"),
        ({"n": 2.5}, "got 2.5"),
        ({"n": True}, "got true"),
        ({"n": None}, "got null"),
    ],
)
def test_bad_step_counts_are_422_naming_the_value(
    inspecting: TestClient, payload: dict[str, object], fragment: str
) -> None:
    body = error_body(inspecting.post("/inspect/step", json=payload), 422, "invalid_value")
    assert fragment in body["detail"] and "1..500" in body["detail"]
    assert inspecting.get("/inspect/state").json()["step"] == 0


def test_malformed_bodies(inspecting: TestClient) -> None:
    error_body(inspecting.post("/inspect/step", content=b"{n: 1"), 400, "bad_request")
    error_body(inspecting.post("/inspect/step", content=b"[1]"), 400, "bad_request")
    body = error_body(inspecting.post("/inspect/step", json={"n": 1, "x": 2}), 422, "invalid_value")
    assert "'x'" in body["detail"]
    huge = b'{"n": 1, "pad": "' + b"x" * 1_100_000 + b'"}'
    error_body(inspecting.post("/inspect/step", content=huge), 413, "payload_too_large")


def test_bad_setup_values(client: TestClient) -> None:
    body = error_body(
        client.post("/inspect/setup", json={"condition": "bcl-huge"}), 422, "invalid_value"
    )
    assert "bcl-huge" in body["detail"] and "bcl-med" in body["detail"]
    error_body(client.post("/inspect/setup", json={"seed": -1}), 422, "invalid_value")
    error_body(client.post("/inspect/setup", json={"recipe": "nope"}), 422, "invalid_value")
    assert client.get("/inspect/state").json()["active"] is False


def test_step_without_a_session_is_409(client: TestClient) -> None:
    body = error_body(client.post("/inspect/step", json={"n": 1}), 409, "conflict")
    assert body["detail"] == "no inspector session; set one up first"
    error_body(client.get("/inspect/history"), 409, "conflict")
    error_body(client.get("/inspect/step/1"), 409, "conflict")


def test_history_since_returns_only_the_increment(inspecting: TestClient) -> None:
    inspecting.post("/inspect/step", json={"n": 5})
    full = inspecting.get("/inspect/history").json()
    assert full["steps"] == [1, 2, 3, 4, 5]
    assert len(full["columns"]["loss"]) == 5 and len(full["columns"]["win_rate"][0]) == 64
    tail = inspecting.get("/inspect/history?since=4").json()
    assert tail["steps"] == [4, 5] and tail["columns"]["loss"] == full["columns"]["loss"][3:]
    assert inspecting.get("/inspect/history?since=99").json()["steps"] == []
    error_body(inspecting.get("/inspect/history?since=-1"), 422, "invalid_value")
    error_body(inspecting.get("/inspect/history?since=abc"), 422, "invalid_value")
    error_body(inspecting.get("/inspect/history?from=2"), 422, "invalid_value")


def test_evicted_and_future_steps_are_404_with_the_retained_range(inspecting: TestClient) -> None:
    inspecting.post("/inspect/step", json={"n": 55})
    evicted = error_body(inspecting.get("/inspect/step/3"), 404, "not_found")
    assert "evicted" in evicted["detail"] and "steps 6..55" in evicted["detail"]
    future = error_body(inspecting.get("/inspect/step/56"), 404, "not_found")
    assert "has not run" in future["detail"]
    assert inspecting.get("/inspect/step/6").json()["step"] == 6
    error_body(inspecting.get("/inspect/step/abc"), 422, "invalid_value")
    error_body(inspecting.get("/inspect/step/0"), 422, "invalid_value")
    # the evicted step still has its scalars in the history
    history = inspecting.get("/inspect/history?since=3").json()
    assert history["steps"][0] == 3 and history["columns"]["loss"][0] is not None


def test_setup_replaces_the_session_and_teardown_ends_it(inspecting: TestClient) -> None:
    first = inspecting.get("/inspect/state").json()["session_id"]
    inspecting.post("/inspect/step", json={"n": 2})
    state = inspecting.post("/inspect/setup", json={"condition": "control"}).json()
    assert state["session_id"] != first and state["step"] == 0 and state["condition"] == "control"
    ended = inspecting.post("/inspect/teardown").json()
    assert ended["torn_down"] == state["session_id"] and ended["active"] is False
    assert inspecting.post("/inspect/teardown").json()["torn_down"] is None
    error_body(inspecting.post("/inspect/step", json={"n": 1}), 409, "conflict")


def test_setup_while_another_owner_holds_the_model_is_409(client: TestClient) -> None:
    run = client.post("/runs", json={"condition": "control", "steps": 100_000}).json()
    body = error_body(client.post("/inspect/setup"), 409, "conflict")
    assert f"held by the free run {run['run_id']}" in body["detail"]
    state = client.get("/inspect/state").json()
    assert state["owner"] == f"the free run {run['run_id']}"
    assert state["owner_detail"] == {
        "kind": "free run",
        "id": run["run_id"],
        "name": f"the free run {run['run_id']}",
    }
    client.post("/runs/stop", json={})
    assert client.get("/inspect/state").json()["owner"] is None


def test_a_failing_step_is_500_and_keeps_the_session(inspecting: TestClient) -> None:
    inspecting.post("/inspect/step", json={"n": 2})
    session = inspecting.app.state.seat.session  # type: ignore[attr-defined]

    def break_once(setup: object) -> None:
        trainer = setup.trainer  # type: ignore[attr-defined]
        original = trainer.loss_fn

        def failing(output: object, batch: object) -> object:
            trainer.loss_fn = original
            raise ValueError("bad shape [3, 4]")

        trainer.loss_fn = failing

    session.run_on_worker(break_once)
    body = error_body(inspecting.post("/inspect/step", json={"n": 1}), 500, "step_failed")
    assert "ValueError: bad shape [3, 4]" in body["detail"] and "failing" in body["traceback"]
    state = inspecting.get("/inspect/state").json()
    assert state["step"] == 2 and state["failed_steps"][0]["step"] == 3
    assert inspecting.get("/inspect/step/2").status_code == 200
    assert inspecting.post("/inspect/step", json={"n": 1}).json()["step"] == 3
    # the history marks the failed attempt at step 3, next to the step 3 that then ran
    history = inspecting.get("/inspect/history?since=2").json()
    assert history["steps"] == [2, 3]
    assert history["failed"] == [{"step": 3, "error": "ValueError", "message": "bad shape [3, 4]"}]


def test_a_step_failing_after_its_backward_is_numbered_as_that_step(
    inspecting: TestClient,
) -> None:
    inspecting.post("/inspect/step", json={"n": 4})
    session = inspecting.app.state.seat.session  # type: ignore[attr-defined]

    def break_optimizer_once(setup: object) -> None:
        optimizer = setup.trainer.optimizer  # type: ignore[attr-defined]
        original = optimizer.step

        def failing(*args: object, **kwargs: object) -> object:
            optimizer.step = original
            raise RuntimeError("CUDA out of memory (simulated by the test)")

        optimizer.step = failing

    session.run_on_worker(break_optimizer_once)
    body = error_body(inspecting.post("/inspect/step", json={"n": 3}), 500, "step_failed")
    assert "out of memory" in body["detail"]
    state = inspecting.get("/inspect/state").json()
    # the trainer counted step 5 (its backward ran) but it never finished: that is the failed one
    assert [failed["step"] for failed in state["failed_steps"]] == [5]
    assert inspecting.get("/inspect/history").json()["steps"] == [1, 2, 3, 4]
    assert inspecting.post("/inspect/step", json={"n": 1}).json()["step"] == 6


def test_history_pages_with_limit_and_picks_keys(inspecting: TestClient) -> None:
    inspecting.post("/inspect/step", json={"n": 7})
    page = inspecting.get("/inspect/history?since=1&limit=3").json()
    assert page["steps"] == [1, 2, 3] and page["more"] is True and page["vectors_from"] is None
    last = inspecting.get("/inspect/history?since=7&limit=3").json()
    assert last["steps"] == [7] and last["more"] is False
    only = inspecting.get("/inspect/history?keys=loss,win_rate").json()
    assert set(only["columns"]) == {"loss", "win_rate"} and len(only["columns"]["loss"]) == 7
    bad = error_body(
        inspecting.get("/inspect/history?keys=loss,encoder_weights"), 422, "invalid_value"
    )
    assert "encoder_weights" in bad["detail"] and "win_rate" in bad["detail"]
    error_body(inspecting.get("/inspect/history?keys="), 422, "invalid_value")
    for limit in ("0", "10001", "x"):
        detail = error_body(inspecting.get(f"/inspect/history?limit={limit}"), 422, "invalid_value")
        assert "1..10000" in detail["detail"]


def test_vector_history_older_than_its_window_reads_as_null(mnist: MnistData) -> None:
    settings = Settings(device="cpu", budget=CaptureBudget(max_vector_history=16))
    with local_client(create_app(settings=settings, data=mnist)) as client:
        client.post("/inspect/setup", json={"condition": "bcl-fast"})
        client.post("/inspect/step", json={"n": 40})
        _check_vector_window(client)


def _check_vector_window(client: TestClient) -> None:
    history = client.get("/inspect/history").json()
    state = client.get("/inspect/state").json()
    assert state["max_vector_history"] == 16 and state["history_steps"] == 40
    assert len(history["steps"]) == 40 and None not in history["columns"]["loss"]
    win_rate = history["columns"]["win_rate"]
    held = history["vectors_from"]
    assert 24 < held <= 40 - 16 + 1
    assert all(row is None for row in win_rate[: held - 1])
    assert all(len(row) == 64 for row in win_rate[held - 1 :])


def test_nonfinite_values_are_null_in_json_and_kept_in_the_frame(inspecting: TestClient) -> None:
    session = inspecting.app.state.seat.session  # type: ignore[attr-defined]

    def poison(setup: object) -> None:
        layer = setup.layer  # type: ignore[attr-defined]
        layer.weight.data[0, :10] = float("nan")

    session.run_on_worker(poison)
    body = orjson.loads(inspecting.post("/inspect/step", json={"n": 1}).content)
    assert body["nonfinite"]["encoder_weights"] >= 10
    assert body["encoder_weights"][0][0] is None
    _, arrays, _ = decode_frame(inspecting.get("/inspect/step/1", headers=FRAME).content)
    assert np.isnan(arrays["encoder_weights"][0, 0])


def test_the_nan_demo_names_the_first_key_and_step_and_keeps_rendering(
    client: TestClient,
) -> None:
    client.post("/inspect/setup", json={"condition": "bcl-nan-demo"})
    body = orjson.loads(client.post("/inspect/step", json={"n": 20}).content)
    first = client.get("/inspect/state").json()["first_nonfinite"]
    assert first["step"] <= 20 and first["count"] > 0 and first["key"] in body["keys"]
    assert body["nonfinite"]  # the step still answers, with the counts per key
    _, arrays, _ = decode_frame(client.get("/inspect/step/20", headers=FRAME).content)
    assert not np.isfinite(arrays["loss"]) or np.isnan(arrays["strength"]).any()
