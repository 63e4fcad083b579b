"""`/debug/breakpoints`, `/inspect/breakpoints`, `/debug/hparams`, `/inspect/hparams` over HTTP:
a run pauses where a breakpoint fires and says why, a Step ×N ends early, edits apply at the next
step and show as events in the state and the history, bad input gets a 4xx naming the value."""

from __future__ import annotations

import threading

import httpx2
import torch
from starlette.testclient import TestClient
from torch import nn

from acc.debugger import attach
from tests.api.local_client import error_body, wait_for_state


def test_nan_breakpoint_pauses_the_free_run_and_names_the_module(client: TestClient) -> None:
    started = client.post(
        "/runs", json={"condition": "bcl-nan-demo", "steps": 500, "paused": True}
    ).json()
    assert started["break_reason"] is None and started["events"] == []
    armed = client.post("/debug/breakpoints", json={"nonfinite": True})
    assert armed.status_code == 200, armed.text
    assert armed.json()["armed"] and armed.json()["breakpoints"]["nonfinite"] is True
    wait_for_state(client, "/debug/state", lambda s: s["blocked"])
    client.post("/debug/resume")
    state = wait_for_state(
        client, "/debug/state", lambda s: s["break_reason"] is not None and s["blocked"]
    )
    reason = state["break_reason"]
    first = state["first_nonfinite"]
    assert reason["condition"] == "nonfinite" and reason["step"] == first["step"] == state["step"]
    assert reason["where"].startswith("encoder.0") and reason["message"]
    assert state["status"] == "paused" and state["last_full_step"] == reason["step"]
    assert state["events"][-1]["kind"] == "breakpoint"
    listed = client.get("/debug/breakpoints").json()
    assert listed["break_reason"] == reason
    history = client.get("/runs/history", params={"keys": "loss"}).json()
    assert history["events"][-1]["step"] == reason["step"]
    cleared = client.delete("/debug/breakpoints").json()
    assert not cleared["armed"] and cleared["break_reason"] is None
    client.post("/runs/stop")


def test_session_step_n_stops_early_and_edits_show_as_events(client: TestClient) -> None:
    client.post("/inspect/setup", json={"condition": "bcl-med"})
    client.post("/inspect/step", json={"n": 1})
    knobs = client.get("/inspect/hparams").json()
    assert [k["name"] for k in knobs["knobs"]] == ["lr", "weight_decay", "som_lr", "temperature"]
    edited = client.post("/inspect/hparams", json={"lr": 0.01, "som_lr": 0.02}).json()
    assert edited["pending"] == {"lr": 0.01, "som_lr": 0.02}
    client.post("/inspect/breakpoints", json={"grad_norm_above": 1e-9})
    stepped = client.post("/inspect/step", json={"n": 20})
    assert stepped.status_code == 200 and stepped.json()["step"] == 2  # stopped early
    state = client.get("/inspect/state").json()
    assert state["break_reason"]["condition"] == "grad_norm_above"
    assert [(e["step"], e["kind"], e["name"], e["old"], e["new"]) for e in state["events"]][:2] == [
        (2, "hparam", "lr", 0.001, 0.01),
        (2, "hparam", "som_lr", 0.005, 0.02),
    ]
    history = client.get("/inspect/history").json()
    assert {e["name"] for e in history["events"]} >= {"lr", "som_lr", "grad_norm_above"}
    assert client.get("/inspect/history", params={"since": 3}).json()["events"] == []
    values = {k["name"]: k["value"] for k in client.get("/inspect/hparams").json()["knobs"]}
    assert values["lr"] == 0.01 and values["som_lr"] == 0.02


def test_bad_breakpoints_and_edits_get_a_4xx_naming_the_value(client: TestClient) -> None:
    client.post("/inspect/setup", json={"condition": "control"})
    body = error_body(
        client.post("/inspect/breakpoints", json={"loss_spike": 0}), 422, "invalid_value"
    )
    assert "loss_spike must be a number in 1..1e+06, got 0" in body["detail"]
    body = error_body(client.post("/inspect/breakpoints", json={"nan": True}), 422, "invalid_value")
    assert "'nan' is not a breakpoint condition" in body["detail"]
    body = error_body(client.post("/inspect/hparams", json={"som_lr": 0.1}), 422, "invalid_value")
    assert "editable: lr, weight_decay" in body["detail"]  # control has no BCL
    body = error_body(client.post("/inspect/hparams", json={"lr": "fast"}), 422, "invalid_value")
    assert "lr must be a number in 0..10, got 'fast'" in body["detail"]
    error_body(client.post("/inspect/hparams", json={}), 422, "invalid_value")
    error_body(
        client.post("/inspect/hparams", content=b"lr=1", headers={"content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    error_body(client.get("/debug/hparams"), 409, "conflict")  # no free run yet
    error_body(client.post("/debug/breakpoints", json={"nonfinite": True}), 409, "conflict")


def test_attached_loop_breakpoints_over_http() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    dbg = attach(model, optimizer, port=0, capture_every=50, quiet=True)
    steps_run = [0]

    def train() -> None:
        with dbg:
            for _ in range(100_000):
                loss = nn.functional.cross_entropy(
                    model(torch.randn(16, 8)), torch.zeros(16).long()
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                steps_run[0] += 1
                dbg.step(loss=loss)

    thread = threading.Thread(target=train, daemon=True)
    thread.start()
    try:
        with httpx2.Client(base_url=dbg.url, timeout=60) as http:
            armed = http.post("/api/debug/breakpoints", json={"loss_above": 0})
            assert armed.status_code == 200, armed.text
            assert armed.json()["armed"]
            assert dbg.loop.controller.when_blocked().result(60)
            state = http.get("/api/debug/state").json()
            reason = state["break_reason"]
            assert reason["condition"] == "loss_above" and reason["step"] == state["step"]
            assert state["step"] == steps_run[0] and state["last_full_step"] == state["step"]
            assert http.get("/api/debug/breakpoints").json()["break_reason"] == reason
            bad = http.post("/api/debug/breakpoints", json={"grad_norm_above": -1})
            error_body(bad, 422, "invalid_value")
            cleared = http.delete(
                "/api/debug/breakpoints", headers={"content-type": "application/json"}
            )
            assert cleared.status_code == 200 and not cleared.json()["armed"]
    finally:
        dbg.loop.controller.request_stop()
        thread.join(60)
        dbg.close()
