"""What the API refuses before any route runs: foreign Hosts (DNS rebinding) and cross-site
writes (a non-JSON body, a foreign Origin, Sec-Fetch-Site: cross-site). A refusal changes
nothing."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from acc.api.app import create_app
from acc.api.guard import GuardPolicy, host_name
from acc.data import MnistData
from acc.settings import Settings
from tests.api.local_client import local_client


def _refused(response: object, status: int, error: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == error
    detail: str = body["detail"]
    return detail


def _no_session(client: TestClient) -> None:
    assert client.get("/inspect/state").json()["active"] is False


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8787", "127.0.0.1.evil.example", "localhost.", "10.0.0.1", ""],
)
def test_a_foreign_host_is_refused_for_reads_and_writes(client: TestClient, host: str) -> None:
    detail = _refused(client.get("/health", headers={"host": host}), 403, "forbidden_host")
    assert repr(host) in detail and "127.0.0.1" in detail and "--allow-host" in detail
    _refused(client.post("/inspect/setup", json={}, headers={"host": host}), 403, "forbidden_host")
    _no_session(client)


@pytest.mark.parametrize("host", ["127.0.0.1:8787", "localhost:1", "LOCALHOST", "[::1]:8787"])
def test_loopback_hosts_on_any_port_are_served(client: TestClient, host: str) -> None:
    assert client.get("/health", headers={"host": host}).status_code == 200


def test_allowed_and_bound_hosts_are_served(mnist: MnistData) -> None:
    settings = Settings(device="cpu", host="workstation.lan", allowed_hosts=("gpu-box",))
    with local_client(create_app(settings=settings, data=mnist)) as client:
        for host in ("workstation.lan:8787", "GPU-BOX:9000", "127.0.0.1"):
            assert client.get("/health", headers={"host": host}).status_code == 200
        _refused(client.get("/health", headers={"host": "other"}), 403, "forbidden_host")


def test_a_wildcard_bind_does_not_allow_every_host() -> None:
    policy = GuardPolicy.for_server("0.0.0.0", (8787,))
    assert policy.hosts == {"127.0.0.1", "localhost", "::1"}


def test_host_name_parsing() -> None:
    assert host_name("[::1]:8787") == "::1"
    assert host_name("Localhost:80") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"
    for bad in ("", ":80", "localhost:x", "localhost:٨٠", "[::1", "[::1]x"):
        assert host_name(bad) is None, bad


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/inspect/setup", b'{"condition":"bcl-nan-demo"}'),
        ("/runs", b'{"steps": 10}'),
        ("/inspect/teardown", b""),
    ],
)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_a_write_without_a_json_content_type_is_415(
    client: TestClient, path: str, body: bytes, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {"content-type": ""}
    response = client.post(path, content=body, headers=headers)
    detail = _refused(response, 415, "unsupported_media_type")
    assert "application/json" in detail
    _no_session(client)
    assert client.get("/runs/current").json()["active"] is False


def test_an_empty_body_still_needs_the_json_content_type(client: TestClient) -> None:
    # TestClient sends the default header unless it is overridden; drop it for this request.
    request = client.build_request("POST", "/inspect/setup")
    del request.headers["content-type"]
    detail = _refused(client.send(request), 415, "unsupported_media_type")
    assert "no Content-Type" in detail
    _no_session(client)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_with_parameters_is_accepted(client: TestClient, content_type: str) -> None:
    response = client.post("/inspect/teardown", content=b"", headers={"content-type": content_type})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://127.0.0.1:9999", "https://127.0.0.1:8787"]
)
def test_a_write_from_a_foreign_origin_is_403(client: TestClient, origin: str) -> None:
    response = client.post("/inspect/setup", json={}, headers={"origin": origin})
    detail = _refused(response, 403, "forbidden_origin")
    assert repr(origin) in detail
    _no_session(client)


def test_a_cross_site_fetch_is_403_even_without_origin(client: TestClient) -> None:
    response = client.post("/runs", json={"steps": 5}, headers={"sec-fetch-site": "cross-site"})
    _refused(response, 403, "forbidden_origin")
    assert client.get("/runs/current").json()["active"] is False


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:4321", "http://localhost:4321", "http://127.0.0.1:8787"]
)
def test_the_dashboard_and_the_api_itself_may_write(client: TestClient, origin: str) -> None:
    headers = {"origin": origin, "sec-fetch-site": "same-site"}
    assert client.post("/inspect/teardown", json={}, headers=headers).status_code == 200


def test_reads_from_any_origin_are_answered_but_not_shared(client: TestClient) -> None:
    response = client.get("/health", headers={"origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_the_cors_preflight_names_only_the_dashboard(app: Starlette) -> None:
    with local_client(app) as client:
        ok = client.options(
            "/inspect/setup",
            headers={
                "origin": "http://127.0.0.1:4321",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert ok.headers["access-control-allow-origin"] == "http://127.0.0.1:4321"
        evil = client.options(
            "/inspect/setup",
            headers={"origin": "http://evil.example", "access-control-request-method": "POST"},
        )
        assert "access-control-allow-origin" not in evil.headers
