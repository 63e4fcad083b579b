"""`acc.attach` over HTTP: a real server on a free port, a plain loop on a thread, driven through
`/debug/*`, `/runs/stop` and `/model/*` (at the root and under `/api`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson
import pytest
import torch
from torch import nn

from acc.api.openapi import undescribed_routes
from acc.debugger import Debugger, attach

WAIT_S = 60.0
JSON = {"content-type": "application/json"}


@dataclass
class UserLoop:
    dbg: Debugger
    steps_run: int = 0
    stopped: bool = False
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _train(loop: UserLoop, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    try:
        with loop.dbg:
            for _ in range(1_000_000):
                x = torch.randn(16, 8)
                loss = nn.functional.cross_entropy(model(x), torch.randint(0, 4, (16,)))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loop.steps_run += 1
                loop.dbg.step(loss=loss, lr=0.05)
        loop.stopped = loop.dbg.should_stop
    except BaseException as error:  # noqa: BLE001 (the test reports it)
        loop.error = error
    finally:
        loop.done.set()


@pytest.fixture
def user_loop() -> Iterator[tuple[UserLoop, httpx2.Client]]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    dbg = attach(model, optimizer, port=0, capture_every=5, quiet=True)
    loop = UserLoop(dbg)
    thread = threading.Thread(target=_train, args=(loop, model, optimizer), daemon=True)
    thread.start()
    with httpx2.Client(base_url=dbg.url, timeout=WAIT_S) as http:
        yield loop, http
    dbg.loop.controller.request_stop()  # whatever the test left, the loop ends
    thread.join(WAIT_S)
    assert not thread.is_alive()
    dbg.close()


def test_pause_step_resume_stop_over_http(user_loop: tuple[UserLoop, httpx2.Client]) -> None:
    loop, http = user_loop
    paused = http.post("/api/debug/pause", content=b"{}", headers=JSON)
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] and paused.json()["blocked"]
    at = http.get("/api/debug/state").json()
    assert at["paused"] and at["step"] == loop.steps_run
    stepped = http.post("/api/debug/step", json={"n": 3})
    assert stepped.status_code == 200, stepped.text
    assert stepped.json()["step"] == at["step"] + 3 == loop.steps_run
    keys = http.get("/debug/step_data/keys").json()
    assert keys["step"] == at["step"] + 3
    assert {"weight/0.weight", "grad/0.weight", "update/0.weight", "scalar/loss"} <= set(
        keys["keys"]
    )
    weight = http.get("/api/debug/step_data/weight/0.weight").json()
    assert weight["shape"] == [32, 8] and len(weight["data"]) == 32
    missing = http.get("/api/debug/step_data/weight/nope")
    assert missing.status_code == 404 and "holds no 'weight/nope'" in missing.json()["detail"]

    layers = http.get("/api/model/layers").json()
    assert layers["step"] == at["step"] + 3
    assert [row["name"] for row in layers["parameters"]] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    assert all(row["grad_norm"] > 0 for row in layers["parameters"])
    assert [row["kind"] for row in layers["modules"]] == ["Linear", "ReLU", "Linear"]

    heatmap = http.get(
        "/api/model/heatmap", params={"key": "weight/0.weight", "rows": 4, "cols": 4}
    )
    assert heatmap.status_code == 200, heatmap.text
    grid = heatmap.json()
    assert grid["rows"] == 4 and grid["cols"] == 4 and len(grid["mean"]) == 4
    exact = http.get(
        "/api/model/heatmap",
        params={"key": "weight/0.weight", "r0": 0, "r1": 2, "c0": 0, "c1": 8},
    ).json()
    assert exact["exact"] and exact["mean"] == weight["data"][:2]
    history = http.get("/api/model/history").json()
    assert set(history["columns"]) == {"scalar/loss", "scalar/lr"}
    assert history["steps"][-1] == at["step"] + 3
    histograms = http.get("/api/model/histograms", params={"parameter": "0.weight"}).json()
    assert histograms["steps"][-1] == at["step"] + 3
    assert sum(histograms["counts"][-1]) == 32 * 8

    resumed = http.post("/api/debug/resume", content=b"{}", headers=JSON)
    assert resumed.status_code == 200 and not resumed.json()["paused"]
    stop = http.post("/api/runs/stop", content=b"{}", headers=JSON)
    assert stop.status_code == 200 and stop.json()["stop_requested"]


def test_stop_ends_the_loop_cleanly(user_loop: tuple[UserLoop, httpx2.Client]) -> None:
    loop, http = user_loop
    assert http.post("/debug/pause", content=b"{}", headers=JSON).json()["blocked"]
    assert http.post("/runs/stop", content=b"{}", headers=JSON).status_code == 200
    # the paused loop wakes, dbg.step raises StopTraining, the `with` block ends it
    assert loop.done.wait(WAIT_S)
    assert loop.error is None and loop.stopped
    assert loop.dbg.loop.closed


def test_bad_requests_get_clear_answers(user_loop: tuple[UserLoop, httpx2.Client]) -> None:
    _, http = user_loop
    not_paused = http.post("/debug/step", json={"n": 1})
    assert not_paused.status_code == 409 and "not paused" in not_paused.json()["detail"]
    bad_n = http.post("/debug/step", json={"n": 0})
    assert bad_n.status_code == 422
    recipe = http.post("/api/runs", json={"recipe": "vqvae"})
    assert recipe.status_code == 409 and "attached loop" in recipe.json()["detail"]
    assert http.get("/inspect/state").status_code == 409
    no_key = http.get("/model/heatmap")
    assert no_key.status_code == 422 and "key is required" in no_key.json()["detail"]
    half = http.get("/model/heatmap", params={"key": "weight/0.weight", "r0": 0})
    assert half.status_code == 422 and "r0, r1, c0 and c1" in half.json()["detail"]
    unknown = http.get("/model/histograms", params={"parameter": "nope"})
    assert unknown.status_code == 404
    form = http.post("/debug/pause", content=b"n=1", headers={"content-type": "text/plain"})
    assert form.status_code == 415  # the request guard: state changes take JSON only
    health = http.get("/api/health").json()
    assert health["mode"] == "attached" and health["model"] == "Sequential"


def test_events_stream_the_state_as_the_loop_moves(
    user_loop: tuple[UserLoop, httpx2.Client],
) -> None:
    loop, http = user_loop
    assert http.post("/debug/pause", content=b"{}", headers=JSON).json()["blocked"]
    with http.stream("GET", "/api/model/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        first = _next_event(lines)
        assert first["paused"] and first["blocked"]
        stepped = http.post("/debug/step", json={"n": 2}).json()["step"]
        # the stream sends each change; the last state of the step's changes shows the new step
        event = _next_event(lines)
        while event["step"] != stepped or not event["blocked"]:
            event = _next_event(lines)
        assert event["step"] == first["step"] + 2


def _next_event(lines: Iterator[str]) -> dict[str, Any]:
    name = None
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: ") and name == "state":
            body: dict[str, Any] = orjson.loads(line.removeprefix("data: "))
            return body
    raise AssertionError("the stream ended")


def test_every_route_is_described_in_openapi(user_loop: tuple[UserLoop, httpx2.Client]) -> None:
    loop, http = user_loop
    assert undescribed_routes(loop.dbg.app) == []
    paths = http.get("/api/openapi.json").json()["paths"]
    assert {"/debug/pause", "/debug/step", "/model/heatmap", "/model/layers", "/runs/stop"} <= set(
        paths
    )
