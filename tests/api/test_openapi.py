"""/openapi.json describes every route, and docs/http_api.md names every path."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from acc.api.openapi import undescribed_routes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "http_api.md"


def test_every_route_is_in_the_openapi_description(app: Starlette, client: TestClient) -> None:
    assert undescribed_routes(app) == []
    spec = client.get("/openapi.json").json()
    routes = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert described == routes
    step = spec["paths"]["/inspect/step"]["post"]
    schema = step["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["n"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert schema["additionalProperties"] is False
    assert "application/x-acc-frame" in step["responses"]["200"]["content"]


def test_the_http_docs_name_every_path(app: Starlette) -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        route.path
        for route in app.routes
        if isinstance(route, Route) and f"`{_doc_name(route)}" not in text
    ]
    assert missing == [], f"docs/http_api.md does not document {missing}"


def _doc_name(route: Route) -> str:
    methods = sorted((route.methods or set()) - {"HEAD"})
    return f"{methods[0]} {route.path}"
