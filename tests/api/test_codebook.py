"""`/codebook/*`: a short VQ-VAE run through HTTP, its health, history, dynamics, decoded codes."""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from acc.recipes.vqvae import OPTIONS


def _finish(client: TestClient, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (state := client.get("/runs/current").json())["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.05)
    assert state["status"] == "completed", state
    return state  # type: ignore[no-any-return]


def test_state_before_any_run_shows_the_form_defaults_and_the_codebook_size(
    client: TestClient,
) -> None:
    body = client.get("/codebook/state").json()
    assert body["run"] is None and body["conditions"] == ["ema", "learned", "collapse"]
    assert body["defaults"]["levels"] == 3 and body["defaults"]["commitment"] == 0.25
    assert body["auto_num_codes"] == 128  # 9,000 training images: 2^round(log2 √9000)
    assert "√(training images)" in body["num_codes_rule"]
    _error = client.get("/codebook/health")
    assert _error.status_code == 409 and "POST /codebook/start" in _error.json()["detail"]


def test_a_learned_run_reports_health_history_dynamics_and_decoded_codes(
    client: TestClient,
) -> None:
    started = client.post(
        "/codebook/start",
        json={"condition": "learned", "levels": 2, "steps": 60, "wasserstein_weight": 0.1},
    )
    assert started.status_code == 200, started.text
    config = started.json()["config"]
    assert config["levels"] == 2 and config["num_codes"] == 128 and config["kind"] == "learned"
    _finish(client)
    health = client.get("/codebook/health").json()
    assert [level["level"] for level in health["levels"]] == [1, 2]
    assert health["window"] == 100 and "utilisation" in health["rules"]
    assert health["warmup_steps"] == 100 and health["low_utilisation"] == 0.3
    for level in health["levels"]:
        assert 0 < level["utilisation"] <= 1 and len(level["counts"]) == 128
    assert health["validation"]["step"] == 50
    history = client.get("/codebook/history?since=51").json()
    assert history["steps"] == list(range(51, 61))
    assert len(history["perplexity"][0]) == 2 and all(w > 0 for w in history["wasserstein"])
    assert [v["step"] for v in client.get("/codebook/history").json()["validation"]] == [1, 50]
    dynamics = client.get("/codebook/dynamics?level=2").json()
    assert dynamics["kind"] == "learned" and len(dynamics["grad_ema"]) == 128
    assert dynamics["trajectory"]["steps"] == [1, 50] and dynamics["ema_cluster_sizes"] is None
    decoded = client.get("/codebook/decoded").json()
    assert decoded["level1"]["count"] == 128
    assert base64.b64decode(decoded["level1"]["data"])[:4] == b"\x89PNG"
    assert decoded["combinations"]["count"] == 64
    assert client.get("/codebook/events").json()["events"] == []


@pytest.mark.parametrize("condition", ["ema", "learned"])
def test_health_and_history_carry_drift_and_quantisation_error_per_level(
    client: TestClient, condition: str
) -> None:
    client.post("/codebook/start", json={"condition": condition, "levels": 3, "steps": 6})
    _finish(client)
    health = client.get("/codebook/health").json()
    assert health["step"] == 6
    for name in ("codebook_drift", "quantisation_error"):
        assert "‖" in health["rules"][name], name  # the formula
        assert "rolling window" in health["rules"][f"{name}_mean"], name
    assert [level["level"] for level in health["levels"]] == [1, 2, 3]
    for level in health["levels"]:
        for name in (
            "codebook_drift",
            "codebook_drift_mean",
            "quantisation_error",
            "quantisation_error_mean",
        ):
            value = level[name]
            assert isinstance(value, float) and math.isfinite(value) and value >= 0, (name, level)
        assert level["quantisation_error"] > 0  # encoder outputs are not exactly on the codes
    history = client.get("/codebook/history").json()
    assert history["steps"] == [1, 2, 3, 4, 5, 6]
    assert history["drift"][0] is None  # step 1 has no previous codebook
    assert all(len(row) == 3 for row in history["drift"][1:])
    assert all(len(row) == 3 for row in history["quantisation_error"])
    last = health["levels"]
    assert history["drift"][-1] == [level["codebook_drift"] for level in last]
    assert history["quantisation_error"][-1] == [level["quantisation_error"] for level in last]
    means = [sum(row[i] for row in history["quantisation_error"]) / 6 for i in range(3)]
    assert means == pytest.approx([level["quantisation_error_mean"] for level in last])
    since = client.get("/codebook/history?since=5").json()
    assert since["steps"] == [5, 6] and since["drift"] == history["drift"][-2:]


def test_an_ema_run_with_revival_logs_replacements(client: TestClient) -> None:
    client.post(
        "/codebook/start", json={"condition": "ema", "levels": 2, "steps": 30, "revive": True}
    )
    _finish(client)
    dynamics = client.get("/codebook/dynamics?level=1").json()
    assert dynamics["grad_ema"] is None and len(dynamics["ema_cluster_sizes"]) == 128
    events = client.get("/codebook/events").json()
    assert events["revive"] is True
    for event in events["events"]:
        assert set(event) == {"step", "level", "code", "old_count", "source"}


def test_the_collapse_condition_warns_about_low_utilisation(client: TestClient) -> None:
    client.post("/codebook/start", json={"condition": "collapse", "levels": 2, "steps": 101})
    _finish(client)
    warnings = client.get("/codebook/health").json()["warnings"]
    assert any("utilisation" in w and "below 30%" in w for w in warnings)


@pytest.mark.parametrize(
    "body",
    [
        {"levels": 1},
        {"levels": 5},
        {"levels": "3"},
        {"commitment": -0.1},
        {"commitment": "high"},
        {"wasserstein_epsilon": 0},
        {"condition": "vq"},
        {"revive": 1},
        {"codebook_size": 64},
        {"num_codes": 8},
    ],
)
def test_bad_start_values_are_422(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/codebook/start", json=body)
    assert response.status_code == 422 and response.json()["error"] == "invalid_value"


def test_the_codebook_size_can_be_chosen(client: TestClient) -> None:
    assert client.get("/codebook/state").json()["defaults"]["num_codes"] == "auto"
    started = client.post("/codebook/start", json={"levels": 2, "steps": 2, "num_codes": 32})
    assert started.status_code == 200, started.text
    config = started.json()["config"]
    assert config["num_codes"] == 32 and config["auto_num_codes"] is False
    _finish(client)
    assert len(client.get("/codebook/health").json()["levels"][0]["counts"]) == 32
    started = client.post("/codebook/start", json={"levels": 2, "steps": 2, "num_codes": "auto"})
    assert started.json()["config"]["num_codes"] == 128  # 9,000 training images
    assert started.json()["config"]["auto_num_codes"] is True
    _finish(client)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(8, "8"), (513, "513"), ("many", '"many"'), (32.5, "32.5"), (None, "null"), (True, "true")],
)
def test_a_bad_codebook_size_is_422_naming_the_allowed_range(
    client: TestClient, value: object, shown: str
) -> None:
    response = client.post("/codebook/start", json={"num_codes": value})
    assert response.status_code == 422 and response.json()["error"] == "invalid_value"
    detail = response.json()["detail"]
    assert detail == f'num_codes must be an integer in 16..512 or "auto", got {shown}'


def test_the_form_defaults_and_ranges_are_the_recipes(client: TestClient) -> None:
    """One definition (the recipe's OPTIONS): the state's defaults, the OpenAPI schema, the 422."""
    defaults = client.get("/codebook/state").json()["defaults"]
    spec = client.get("/openapi.json").json()["paths"]["/codebook/start"]["post"]
    schema = spec["requestBody"]["content"]["application/json"]["schema"]["properties"]
    for name, option in OPTIONS.items():
        assert defaults[name] == ("auto" if option.default is None else option.default), name
        if option.kind == "bool":
            continue
        numeric = schema[name]["oneOf"][0] if option.default is None else schema[name]
        assert (numeric["minimum"], numeric["maximum"]) == (option.low, option.high), name
        response = client.post("/codebook/start", json={name: option.high * 2})
        assert response.status_code == 422 and option.allowed in response.json()["detail"]


def test_dynamics_level_out_of_range_and_watch_without_a_layer(client: TestClient) -> None:
    client.post("/codebook/start", json={"levels": 2, "steps": 5})
    _finish(client)
    assert client.get("/codebook/dynamics?level=3").status_code == 422
    client.post("/codebook/start", json={"levels": 2, "steps": 10_000, "paused": True})
    response = client.post("/debug/watch", json={"feature_ids": [1]})
    assert response.status_code == 409 and "no per-feature layer" in response.json()["detail"]
    client.post("/runs/stop")
