"""A wide BCL model over HTTP: `options: {dim}` on setup and start, frames within the budget,
deferred tensors read reduced or exactly per step source, and every bad value refused by name."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from starlette.testclient import TestClient

from acc.tensor_wire import FRAME_BUDGET, FRAME_CONTENT_TYPE, decode_frame
from tests.api.local_client import error_body, wait_for_state

FRAME = {"accept": FRAME_CONTENT_TYPE}


@pytest.fixture
def wide(client: TestClient) -> TestClient:
    response = client.post("/inspect/setup", json={"options": {"dim": 1024}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_dim"] == 1024 and body["options"] == {"dim": 1024}
    assert client.get("/inspect/state").json()["options"] == {"dim": 1024}
    return client


def test_a_wide_step_frame_is_within_the_budget_and_deferred_tensors_read_back(
    wide: TestClient,
) -> None:
    response = wide.post("/inspect/step", json={"n": 1}, headers=FRAME)
    assert response.status_code == 200, response.text
    assert len(response.content) <= FRAME_BUDGET
    header, arrays, _ = decode_frame(response.content)
    assert header["deferred"]["weight_cosine"]["shape"] == [1024, 1024]
    assert arrays["win_rate"].shape == (1024,)

    reduced = wide.get("/inspect/step/1/tensor/weight_cosine?rows=256&cols=128", headers=FRAME)
    assert reduced.status_code == 200 and reduced.headers["content-type"] == FRAME_CONTENT_TYPE
    grid_header, grid, _ = decode_frame(reduced.content)
    assert grid_header["exact"] is False and grid["mean"].shape == (256, 128)
    assert grid_header["step"] == 1 and grid_header["session_id"] == header["session_id"]
    assert grid_header["shape"] == [1024, 1024] and grid_header["row_starts"][:2] == [0, 4]

    # A zoom window that fits the grid: the exact values, in JSON too (NaN would be null).
    query = "rows=16&cols=16&r0=10&r1=20&c0=1000&c1=1016"
    exact = wide.get(f"/inspect/step/1/tensor/weight_cosine?{query}", headers=FRAME)
    _, window, _ = decode_frame(exact.content)
    as_json = orjson.loads(wide.get(f"/inspect/step/1/tensor/weight_cosine?{query}").content)
    assert as_json["exact"] is True and as_json["window"] == [10, 20, 1000, 1016]
    np.testing.assert_array_equal(window["mean"], np.array(as_json["mean"], dtype=np.float32))
    # The reduced grid's cells hold the zoomed values: min <= value <= max.
    row, col = 10 // 4, 1000 // 8
    assert grid["min"][row, col] <= window["mean"][0, 0] <= grid["max"][row, col]
    # The JSON step answer follows the same budget: deferred tensors are listed, not sent.
    body = wide.get("/inspect/step/1").json()
    assert (
        "weight_cosine" not in body and body["deferred"]["weight_cosine"]["nbytes"] == 1024**2 * 4
    )


@pytest.mark.parametrize(
    ("options", "status", "fragment"),
    [
        ({"dim": 8}, 422, "dim must be an integer in 9..4096, got 8"),
        ({"dim": 5000}, 422, "dim must be an integer in 9..4096, got 5000"),
        ({"dim": "64"}, 422, 'dim must be an integer in 9..4096, got "64"'),
        ({"width": 64}, 422, "unknown option 'width'; allowed: dim"),
        ([64], 422, "options must be an object of recipe options, got [64]"),
    ],
)
def test_bad_options_are_refused_naming_the_value(
    client: TestClient, options: object, status: int, fragment: str
) -> None:
    for route in ("/inspect/setup", "/runs"):
        body = error_body(client.post(route, json={"options": options}), status, "invalid_value")
        assert fragment in body["detail"], (route, body)
    assert client.get("/inspect/state").json()["active"] is False


def test_tensor_reads_name_what_is_held_and_refuse_bad_windows(wide: TestClient) -> None:
    wide.post("/inspect/step", json={"n": 1})
    detail = error_body(wide.get("/inspect/step/1/tensor/nope"), 404, "not_found")["detail"]
    assert "holds no tensor 'nope'" in detail and "weight_cosine" in detail
    detail = error_body(wide.get("/inspect/step/9/tensor/strength"), 404, "not_found")["detail"]
    assert "step 9 has not run" in detail and "steps 1..1" in detail
    outside = "/inspect/step/1/tensor/strength?r0=0&r1=129&c0=0&c1=10"
    detail = error_body(wide.get(outside), 422, "invalid_value")["detail"]
    assert "rows 0..129" in detail and "128 x 1024" in detail
    detail = error_body(wide.get("/inspect/step/1/tensor/strength?r0=0&r1=4"), 422, "invalid_value")
    assert "got only r0, r1" in detail["detail"]
    detail = error_body(wide.get("/inspect/step/1/tensor/strength?rows=2000"), 422, "invalid_value")
    assert "rows must be an integer in 1..1024, got 2000" in detail["detail"]
    detail = error_body(wide.get("/inspect/step/1/tensor/strength?zoom=2"), 422, "invalid_value")
    assert "unknown query parameter 'zoom'" in detail["detail"]


def test_a_paused_wide_run_steps_and_reads_deferred_tensors(client: TestClient) -> None:
    started = client.post("/runs", json={"paused": True, "steps": 100, "options": {"dim": 256}})
    assert started.status_code == 200, started.text
    assert started.json()["options"] == {"dim": 256}
    wait_for_state(client, "/runs/current", lambda s: s["blocked"])
    response = client.post("/debug/step", json={"n": 1}, headers=FRAME)
    assert response.status_code == 200, response.text
    header, _, _ = decode_frame(response.content)
    assert len(response.content) <= FRAME_BUDGET and "encoder_weights" in header["deferred"]
    step = header["step"]
    page = client.get(
        f"/runs/step/{step}/tensor/encoder_weights?rows=64&cols=784&r0=64&r1=128&c0=0&c1=784",
        headers=FRAME,
    )
    assert page.status_code == 200, page.text
    page_header, page_arrays, _ = decode_frame(page.content)
    assert page_header["exact"] and page_header["run_id"] == started.json()["run_id"]
    assert page_arrays["mean"].shape == (64, 784)
    assert client.get("/runs/current").json()["options"] == {"dim": 256}
    detail = error_body(client.get(f"/runs/step/{step + 5}/tensor/strength"), 404, "not_found")
    assert "has not run" in detail["detail"]
    client.post("/runs/stop", json={})
