"""A TestClient that talks to the app as the dashboard does: on a loopback Host, with JSON bodies.

The app refuses other Hosts (DNS rebinding) and state changes without `Content-Type:
application/json` (cross-site writes); tests of those refusals set the headers themselves.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

LOCAL_BASE_URL = "http://127.0.0.1:8787"


def local_client(app: Starlette, **options: Any) -> TestClient:
    return TestClient(
        app, base_url=LOCAL_BASE_URL, headers={"content-type": "application/json"}, **options
    )
