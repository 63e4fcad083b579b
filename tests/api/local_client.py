"""A TestClient that talks to the app as the dashboard does: on a loopback Host, with JSON bodies.

The app refuses other Hosts (DNS rebinding) and state changes without `Content-Type:
application/json` (cross-site writes); tests of those refusals set the headers themselves.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

LOCAL_BASE_URL = "http://127.0.0.1:8787"


def local_client(app: Starlette, **options: Any) -> TestClient:
    return TestClient(
        app, base_url=LOCAL_BASE_URL, headers={"content-type": "application/json"}, **options
    )


def error_body(response: Any, status: int, code: str) -> dict[str, str]:
    """The `{"error", "detail"}` body of a refused request, after checking its status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and body["detail"]
    return body  # type: ignore[no-any-return]


def wait_for_state(
    client: TestClient, path: str, predicate: Any, timeout: float = 60.0
) -> dict[str, Any]:
    """GET `path` until its JSON satisfies `predicate` (at most `timeout` s; the test fails
    naming the last state)."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(path).json()
        if predicate(state):
            return state  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"timed out in state {state}"
        time.sleep(0.02)
