"""The built dashboard as static files, served by the same app as the API (one port, no Node).

`find_dashboard()` says where the built site is: the copy packaged inside the installed `acc`
(a wheel carries it as `acc/dashboard_dist/`), else the checkout's `dashboard/dist` (an editable
install). `serve_dashboard(app, folder)` makes the site answer every request the API's routes do
not, so the API keeps its answers at its root paths (a 405 stays a 405) and under `/api`.

The rules are those of `dashboard/server/serve.mjs`, which serves the same files in the
two-process development mode: nothing outside the folder and no dotfile (build stamps) is ever
sent, content types come from one table (not the platform's mimetypes, which differ per system),
Astro's content-hashed bundles under `/_astro/` are cached for good and everything else is
revalidated, and a missing file gets the site's 404 page with status 404.
"""

from __future__ import annotations

import os
import stat
from email.utils import formatdate
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

import acc
from acc.api.errors import error_response

PACKAGED_FOLDER = "dashboard_dist"  # inside the installed acc package (see setup.py)
INDEX = "index.html"
NOT_FOUND_PAGE = "404.html"
HASHED_ASSETS = "_astro"  # Astro names every bundle in here after its content hash
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".wasm": "application/wasm",
}
BUILD_HINT = (
    "build it with `scripts/setup.sh dashboard` (or `npm run build`) in an acc checkout, or "
    "install acc from a wheel, which carries it"
)


def is_dashboard(folder: Path) -> bool:
    """Whether `folder` holds a built dashboard (its `index.html`)."""
    return (folder / INDEX).is_file()


def find_dashboard(package: Path | None = None) -> Path | None:
    """The built dashboard to serve: the one packaged inside the installed `acc` (or the
    `package` folder given), else the `dashboard/dist` of the checkout it lies in (an editable
    install); None when neither has an `index.html`."""
    package = package if package is not None else Path(acc.__file__).resolve().parent
    for folder in (package / PACKAGED_FOLDER, package.parent / "dashboard" / "dist"):
        if is_dashboard(folder):
            return folder
    return None


def content_type(path: Path) -> str:
    """The Content-Type a file of the site is sent with."""
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


class DashboardSite:
    """ASGI app serving the files of a built dashboard folder (GET and HEAD only)."""

    def __init__(self, folder: Path) -> None:
        if not is_dashboard(folder):
            raise ValueError(f"{folder} holds no built dashboard (no {INDEX}); {BUILD_HINT}")
        self.folder = folder.resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the site has none (the app's router handles lifespan)
            await WebSocketClose()(scope, receive, send)
            return
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            response: Response = error_response(
                405,
                "method_not_allowed",
                f"{method} is not allowed on {scope['path']}: the dashboard's pages answer GET "
                "and HEAD, and no API route is at this path",
            )
            response.headers["allow"] = "GET, HEAD"
        else:
            response = self.response(scope["path"], Headers(scope=scope))
        await response(scope, receive, send)

    def response(self, path: str, headers: Headers) -> Response:
        """The answer to GET `path` (already percent-decoded, as ASGI gives it)."""
        found = self.resolve(path)
        if found is None:
            return self.not_found()
        file, info = found
        etag = f'W/"{info.st_size:x}-{int(info.st_mtime * 1000):x}"'
        answer_headers = {
            "cache-control": IMMUTABLE if _first_segment(path) == HASHED_ASSETS else REVALIDATE,
            "etag": etag,
            "last-modified": formatdate(info.st_mtime, usegmt=True),
            "x-content-type-options": "nosniff",
        }
        if etag in _etags(headers.get("if-none-match", "")):
            return Response(status_code=304, headers=answer_headers)
        return FileResponse(
            file, headers=answer_headers, media_type=content_type(file), stat_result=info
        )

    def resolve(self, path: str) -> tuple[Path, os.stat_result] | None:
        """The regular file inside the folder that `path` names (a folder means its
        `index.html`), or None for anything else: a dotfile or `..` segment, a NUL, a path
        that leads outside the folder (through a symlink too), a missing file."""
        segments = [segment for segment in path.split("/") if segment]
        if "\0" in path or any(segment.startswith(".") for segment in segments):
            return None
        candidate = self.folder.joinpath(*segments)
        try:
            if candidate.is_dir():
                candidate = candidate / INDEX
            real = candidate.resolve(strict=True)
            info = real.stat()
        except (OSError, ValueError):
            return None
        if not real.is_relative_to(self.folder) or not stat.S_ISREG(info.st_mode):
            return None
        return real, info

    def not_found(self) -> Response:
        """The site's 404 page with status 404 (plain text when the build has none)."""
        page = self.folder / NOT_FOUND_PAGE
        if not page.is_file():
            return PlainTextResponse("Not found\n", status_code=404)
        return FileResponse(
            page,
            status_code=404,
            media_type=CONTENT_TYPES[".html"],
            headers={"cache-control": REVALIDATE, "x-content-type-options": "nosniff"},
        )


def serve_dashboard(app: Starlette, folder: Path) -> None:
    """Make `app` answer with the dashboard in `folder` every request its routes do not match
    (not even by path with another method, which stays a 405 of the API)."""
    app.router.default = DashboardSite(folder)


def _first_segment(path: str) -> str:
    return next((segment for segment in path.split("/") if segment), "")


def _etags(header: str) -> set[str]:
    return {tag.strip() for tag in header.split(",") if tag.strip()}
