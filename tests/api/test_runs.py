"""`/runs/*` and `/debug/*` over HTTP: pause/step/resume exactly, ownership, SSE, every bad input."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx2
import numpy as np
import orjson
import pytest
from starlette.testclient import TestClient

from acc.tensor_wire import FRAME_CONTENT_TYPE, decode_frame
from tests.api.local_client import error_body, wait_for_state

FRAME = {"accept": FRAME_CONTENT_TYPE}


def test_pause_step_resume_complete_over_http(client: TestClient) -> None:
    started = client.post(
        "/runs", json={"condition": "bcl-med", "steps": 400, "seed": 0, "capture_every": 50}
    )
    assert started.status_code == 200, started.text
    assert started.json()["status"] in ("running", "paused")
    wait_for_state(client, "/runs/current", lambda s: s["step"] >= 5)
    paused = client.post("/debug/pause").json()
    # the answer comes once the loop waits at the boundary, so no later state can contradict it
    assert (paused["status"], paused["blocked"]) == ("paused", True)
    frozen = client.get("/runs/current").json()["step"]
    assert frozen == paused["step"]
    time.sleep(1.0)
    assert client.get("/runs/current").json()["step"] == frozen  # frozen for >= 1 s
    grids = []
    for expected in range(frozen + 1, frozen + 7):
        response = client.post("/debug/step", json={"n": 1}, headers=FRAME)
        assert response.status_code == 200, response.text
        header, _, images = decode_frame(response.content)
        assert header["step"] == expected
        grids.append(images["batch_images"])
    assert len(set(grids)) == 6  # six different batches
    assert client.get("/runs/current").json()["step"] == frozen + 6
    batch = client.get("/debug/batch").json()
    assert batch["step"] == frozen + 6 and batch["image"]["count"] == 128
    assert client.post("/debug/resume").json()["status"] == "running"
    done = wait_for_state(client, "/runs/current", lambda s: s["status"] == "completed")
    assert done["step"] == 400 and done["error"] is None
    history = client.get("/runs/history?since=390").json()
    assert history["steps"] == list(range(390, 401))


def test_step_data_force_detail_cosine_and_watches(client: TestClient) -> None:
    client.post("/runs", json={"condition": "bcl-med", "steps": 5000, "paused": True})
    wait_for_state(client, "/runs/current", lambda s: s["blocked"])
    assert client.post("/debug/watch", json={"feature_ids": [0, 15, 31, 47, 63]}).json()[
        "watched"
    ] == [0, 15, 31, 47, 63]
    data = orjson.loads(client.post("/debug/step", json={"n": 20}).content)
    keys = client.get("/debug/step_data/keys").json()
    assert keys["step"] == data["step"] and "win_rate" in keys["keys"]
    win_rate = client.get("/debug/step_data/win_rate").json()
    assert win_rate["shape"] == [64] and win_rate["data"] == pytest.approx(data["win_rate"])
    detail = client.get("/debug/force_detail?feature=3").json()
    assert np.array(detail["weight"]).shape == (28, 28)
    opt, som = np.array(detail["opt_delta"]).ravel(), np.array(detail["som_delta"]).ravel()
    expected = opt @ som / (np.linalg.norm(opt) * np.linalg.norm(som))
    assert detail["grad_som_cosine"] == pytest.approx(expected, abs=1e-5)
    cosine = client.get("/debug/cosine_matrix?source=weights").json()
    matrix = np.array(cosine["matrix"])
    assert matrix.shape == (64, 64)
    off = matrix[~np.eye(64, dtype=bool)]
    assert cosine["mean_offdiag"] == pytest.approx(off.mean(), abs=1e-5)
    for source in ("som_targets", "grad_masked"):
        assert client.get(f"/debug/cosine_matrix?source={source}").status_code == 200
    trajectories = client.get("/debug/trajectories").json()
    assert all(len(t["step"]) == 20 for t in trajectories["features"].values())
    assert np.array(trajectories["similarity"]).shape == (5, 5)
    cleared = client.post("/debug/trajectories/clear").json()
    assert cleared["features"] == {}
    client.post("/runs/stop")


def test_bad_debug_input_names_the_value(client: TestClient) -> None:
    error_body(client.post("/debug/pause"), 409, "conflict")  # no run yet
    error_body(client.get("/debug/state"), 409, "conflict")
    client.post("/runs", json={"condition": "bcl-fast", "steps": 100_000})
    body = error_body(client.post("/debug/step", json={"n": 1}), 409, "conflict")
    assert "not paused" in body["detail"]
    client.post("/debug/pause")
    wait_for_state(client, "/runs/current", lambda s: s["blocked"])
    for n in (0, -1, 501, "5", 1.5, None):
        detail = error_body(client.post("/debug/step", json={"n": n}), 422, "invalid_value")[
            "detail"
        ]
        assert "1..500" in detail
    client.post("/debug/step", json={"n": 1})
    error_body(client.get("/debug/force_detail?feature=64"), 422, "invalid_value")
    error_body(client.get("/debug/force_detail?feature=x"), 422, "invalid_value")
    error_body(client.get("/debug/force_detail"), 422, "invalid_value")
    error_body(client.get("/debug/cosine_matrix?source=nope"), 422, "invalid_value")
    error_body(client.get("/debug/cosine_matrix"), 422, "invalid_value")
    missing = error_body(client.get("/debug/step_data/nope"), 404, "not_found")
    assert "available:" in missing["detail"]
    for ids in ([64], list(range(9)), "3", ["a"], None):
        error_body(client.post("/debug/watch", json={"feature_ids": ids}), 422, "invalid_value")
    for body in (
        {"steps": 0},
        {"steps": "10"},
        {"condition": "bcl-huge"},
        {"capture_every": 0},
        {"paused": "yes"},
        {"x": 1},
    ):
        error_body(client.post("/runs", json=body), 422, "invalid_value")
    assert client.post("/runs/stop").json()["status"] == "stopped"
    error_body(client.post("/debug/pause"), 409, "conflict")  # the run has ended


def test_a_run_and_an_inspector_session_never_share_the_model(client: TestClient) -> None:
    run = client.post("/runs", json={"condition": "control", "steps": 100_000}).json()
    body = error_body(client.post("/inspect/setup"), 409, "conflict")
    assert f"the free run {run['run_id']}" in body["detail"]
    client.post("/runs/stop")
    assert client.post("/inspect/setup").status_code == 200
    body = error_body(client.post("/runs", json={"steps": 10}), 409, "conflict")
    assert "the inspector session" in body["detail"]
    client.post("/inspect/teardown")
    assert client.post("/runs", json={"steps": 10}).status_code == 200
    wait_for_state(client, "/runs/current", lambda s: s["status"] == "completed")
    # the finished run's steps stay browsable while the inspector takes the model
    assert client.post("/inspect/setup").status_code == 200
    assert client.get("/runs/history").json()["steps"] == list(range(1, 11))


def test_sse_delivers_step_events_in_order(live_url: str) -> None:
    with httpx2.Client(base_url=live_url, timeout=60) as http:
        http.post("/runs", json={"condition": "bcl-med", "steps": 300}).raise_for_status()
        steps: list[int] = []
        states: list[str] = []
        with http.stream("GET", "/runs/events") as stream:
            event = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: "):
                    data = orjson.loads(line[len("data: ") :])
                    if event == "steps":
                        assert len(data["steps"]) == len(data["loss"])
                        steps += data["steps"]
                    elif event == "state":
                        states.append(data["status"])
                    if states and states[-1] == "completed" and steps and steps[-1] == 300:
                        break
        assert steps == list(range(1, 301))
        assert states[0] == "running" and states[-1] == "completed"


def test_sse_resumes_after_the_last_event_id(live_url: str) -> None:
    with httpx2.Client(base_url=live_url, timeout=60) as http:
        run = http.post("/runs", json={"condition": "control", "steps": 50}).json()
        while http.get("/runs/current").json()["status"] != "completed":
            time.sleep(0.05)
        headers = {"last-event-id": f"{run['run_id']}:40"}
        with http.stream("GET", "/runs/events", headers=headers) as stream:
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    assert line == f"id: {run['run_id']}:50"
                if line.startswith("data: ") and '"steps":[' in line:
                    assert orjson.loads(line[len("data: ") :])["steps"] == list(range(41, 51))
                    break
        with http.stream("GET", "/runs/events?since=48") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: ") and '"steps":[' in line:
                    assert orjson.loads(line[len("data: ") :])["steps"] == [48, 49, 50]
                    break


@pytest.mark.parametrize("value", ["١٢", "１２", "1_2", "+12", " 12 "])
def test_integers_in_queries_and_paths_are_ascii_digits(client: TestClient, value: str) -> None:
    client.post("/inspect/setup", json={"condition": "bcl-fast"})
    client.post("/inspect/step", json={"n": 12})
    error_body(client.get("/inspect/history", params={"since": value}), 422, "invalid_value")
    error_body(client.get(f"/inspect/step/{value}"), 422, "invalid_value")
    client.post("/inspect/teardown", json={})


def test_a_start_that_loses_a_race_to_a_setup_keeps_the_finished_run(live_url: str) -> None:
    headers = {"content-type": "application/json"}
    with httpx2.Client(base_url=live_url, timeout=60, headers=headers) as http:
        for _ in range(12):
            http.post("/inspect/teardown", content=b"{}")
            http.post("/runs/stop", content=b"{}")
            first = http.post("/runs", content=b'{"condition": "control", "steps": 1}').json()
            deadline = time.monotonic() + 60
            while http.get("/runs/current").json()["status"] != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.01)
            with ThreadPoolExecutor(2) as pool:
                start = pool.submit(
                    http.post, "/runs", content=b'{"condition": "control", "steps": 100000}'
                )
                setup = pool.submit(http.post, "/inspect/setup", content=b"{}")
                started, set_up = start.result(), setup.result()
            assert {started.status_code, set_up.status_code} <= {200, 409}
            if started.status_code == 409:
                current = http.get("/runs/current").json()
                assert current["run_id"] == first["run_id"], "a refused start discarded the run"
                assert current["status"] == "completed"
        http.post("/inspect/teardown", content=b"{}")
        http.post("/runs/stop", content=b"{}")
