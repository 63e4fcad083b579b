"""The dashboard's server hands out only the built site: no path from a request leaves dist/."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from tests.e2e.conftest import Server


def _get(server: Server, raw_path: str) -> tuple[int, bytes]:
    """GET with the path sent exactly as written (no client-side normalisation of `..`)."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.putrequest("GET", raw_path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


OUTSIDE = [
    "/../package.json",
    "/%2e%2e/%2e%2e/package.json",
    "/..%2f..%2fpackage.json",
    "/_astro/..%2f..%2f..%2fpyproject.toml",
    "/%2e%2e%5c%2e%2e%5cpackage.json",
    "/.acc-built",
    "/index.html%00.png",
    "//etc/passwd",
]


def test_no_path_leaves_the_site(dashboard: Server) -> None:
    # (one test for every path: each dashboard fixture starts two servers)
    for raw_path in OUTSIDE:
        status, body = _get(dashboard, raw_path)
        assert status in (400, 404), (raw_path, status)
        # the site's own 404 page (or a plain 400), never the file asked for
        assert status == 400 or b"There is no page at this address" in body, raw_path
        assert b'"workspaces"' not in body and b"[project]" not in body and b"root:x" not in body
    assert _get(dashboard, "/%E0%A4%A")[0] == 400  # a malformed escape
    status, body = _get(dashboard, "/inspect/")
    assert status == 200 and b"<html" in body.lower()
