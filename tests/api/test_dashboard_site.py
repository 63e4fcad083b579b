"""The dashboard served by the API's own app (one port): its pages and assets, the rules
dashboard/server/serve.mjs keeps (nothing outside the folder, no dotfiles, content types, caching
of hashed bundles, the 404 page), the API under /api and at its root paths, and the request guard
in front of both. The site here is a small stand-in folder laid out as Astro builds one."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.routing import Match, Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from acc.api.app import create_app
from acc.api.dashboard_site import PACKAGED_FOLDER, DashboardSite, find_dashboard
from acc.data import MnistData
from acc.settings import Settings
from tests.api.local_client import local_client

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "dashboard" / "src" / "pages"
IMMUTABLE = "public, max-age=31536000, immutable"


def make_site(folder: Path) -> Path:
    """A built-dashboard stand-in: pages as Astro writes them, a hashed bundle, a stamp."""
    files = {
        "index.html": "<!doctype html><title>runs</title>",
        "404.html": "<!doctype html><title>not found</title>",
        "inspect/index.html": "<!doctype html><title>inspect</title>",
        "codebook/index.html": "<!doctype html><title>codebook</title>",
        "_astro/client.AbC123.js": "export const x = 1;",
        "_astro/page.Xy9.css": "body{}",
        "_astro/.hidden.js": "secret",
        "favicon.svg": "<svg/>",
        ".acc-built": "stamp",
    }
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text("outside the site")
    folder = make_site(tmp_path / "dist")
    (folder / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return folder


@pytest.fixture
def app(mnist: MnistData, site: Path) -> Starlette:
    """Overrides tests/api/conftest.py's app (and so its client and live_url)."""
    return create_app(settings=Settings(device="cpu"), data=mnist, dashboard=site)


def test_pages_are_served_as_astro_lays_them_out(client: TestClient) -> None:
    for path, title in [
        ("/", "runs"),
        ("/inspect", "inspect"),
        ("/inspect/", "inspect"),
        ("/codebook", "codebook"),
    ]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert f"<title>{title}</title>" in answer.text
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["cache-control"] == "no-cache"
        assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "content_type", "cache"),
    [
        ("/_astro/client.AbC123.js", "text/javascript; charset=utf-8", IMMUTABLE),
        ("/_astro/page.Xy9.css", "text/css; charset=utf-8", IMMUTABLE),
        ("/favicon.svg", "image/svg+xml", "no-cache"),
    ],
)
def test_assets_have_their_content_type_and_caching(
    client: TestClient, path: str, content_type: str, cache: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == content_type
    assert answer.headers["cache-control"] == cache
    assert answer.headers["content-length"] == str(len(answer.content))


def test_an_unchanged_file_is_revalidated_with_304_and_head_has_no_body(
    client: TestClient,
) -> None:
    first = client.get("/_astro/client.AbC123.js")
    etag = first.headers["etag"]
    again = client.get("/_astro/client.AbC123.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == IMMUTABLE
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(client.get("/").content))


@pytest.mark.parametrize(
    "path", ["/nope", "/inspect/nope", "/.acc-built", "/_astro/.hidden.js", "/escape.txt"]
)
def test_missing_files_dotfiles_and_escaping_links_get_the_404_page(
    client: TestClient, path: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "<title>not found</title>" in answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "raw_path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/inspect/../../secret.txt",
        "/_astro/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%00index.html",
    ],
)
def test_no_path_reaches_outside_the_site(live_url: str, raw_path: str) -> None:
    # http.client sends the path as written (a browser or httpx would remove the dot segments).
    parts = urlsplit(live_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", raw_path)
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    assert answer.status in (400, 404), raw_path
    assert b"outside the site" not in body


def test_the_site_refuses_dotted_segments_itself(site: Path) -> None:
    served = DashboardSite(site)
    for path in ["/../secret.txt", "/./index.html", "/inspect/../index.html", "/.acc-built"]:
        assert served.resolve(path) is None, path
    found = served.resolve("/inspect")
    assert found is not None and found[0] == (site / "inspect" / "index.html").resolve()


def test_the_api_answers_under_api_and_at_its_root_paths(client: TestClient) -> None:
    root, prefixed = client.get("/health"), client.get("/api/health")
    assert root.status_code == prefixed.status_code == 200
    assert root.headers["content-type"] == prefixed.headers["content-type"] == "application/json"
    assert root.json().keys() == prefixed.json().keys()
    assert client.get("/api/inspect/state").json() == client.get("/inspect/state").json()
    # What the API refused before, it still refuses in its own words.
    assert client.get("/inspect/setup").status_code == 405
    assert client.get("/api/inspect/setup").status_code == 405
    missing = client.get("/api/no/such/route")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_a_write_to_a_page_is_refused_as_json(client: TestClient) -> None:
    answer = client.post("/inspect", json={})
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"
    assert answer.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/", "/inspect", "/_astro/client.AbC123.js", "/nope"])
def test_the_host_check_covers_the_pages(client: TestClient, path: str) -> None:
    answer = client.get(path, headers={"host": "evil.example"})
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden_host"


def test_a_page_of_the_same_port_may_write(mnist: MnistData, site: Path) -> None:
    settings = Settings(device="cpu", port=9123)
    app = create_app(settings=settings, data=mnist, dashboard=site)
    with local_client(app) as client:
        own = client.post(
            "/api/inspect/teardown", json={}, headers={"origin": "http://127.0.0.1:9123"}
        )
        foreign = client.post(
            "/api/inspect/teardown", json={}, headers={"origin": "http://127.0.0.1:9124"}
        )
    assert own.status_code == 200, own.text
    assert foreign.status_code == 403 and foreign.json()["error"] == "forbidden_origin"


def test_without_a_dashboard_only_the_api_answers(mnist: MnistData) -> None:
    with local_client(create_app(settings=Settings(device="cpu"), data=mnist)) as client:
        assert client.get("/api/health").status_code == 200
        page = client.get("/")
        assert page.status_code == 404 and page.json()["error"] == "not_found"


def page_paths() -> list[str]:
    """The URL paths of the dashboard's pages, from its source (dashboard/src/pages)."""
    names = sorted(path.stem for path in PAGES.glob("*.astro"))
    assert "index" in names and "inspect" in names
    return [
        path for name in names for path in (["/"] if name == "index" else [f"/{name}", f"/{name}/"])
    ]


def test_no_api_route_takes_a_page_path(app: Starlette) -> None:
    for path in page_paths():
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        for route in app.routes:
            if isinstance(route, Route):
                match, _ = route.matches(scope)
                assert match is Match.NONE, f"API route {route.path} takes page {path}"


def test_find_dashboard_prefers_the_packaged_copy(tmp_path: Path) -> None:
    package = tmp_path / "acc"
    package.mkdir()
    assert find_dashboard(package) is None
    checkout = make_site(tmp_path / "dashboard" / "dist")
    assert find_dashboard(package) == checkout
    packaged = make_site(package / PACKAGED_FOLDER)
    assert find_dashboard(package) == packaged


def test_a_folder_without_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no built dashboard"):
        DashboardSite(tmp_path)


def test_a_websocket_to_the_site_is_closed(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/"):
        pass
