"""What every acc server app is: its API at the root paths and again under `/api`, the request
guard first, CORS for the dashboard's dev origin, the one exception table, a shutdown event for
open streams, and optionally the built dashboard at every path the API does not answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount

from acc.api.dashboard_site import serve_dashboard
from acc.api.errors import EXCEPTION_HANDLERS
from acc.api.guard import RequestGuard
from acc.settings import Settings


def api_app(
    api: Sequence[BaseRoute],
    *,
    settings: Settings,
    on_close: Callable[[], None],
    dashboard: Path | None = None,
    methods: Sequence[str] = ("GET", "POST"),
) -> Starlette:
    """An app serving the routes `api` (whose writes use `methods`); `on_close()` runs off the
    event loop when the server stops (free models, stop threads)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await to_thread.run_sync(on_close)

    app = Starlette(
        routes=[*api, Mount("/api", routes=list(api))],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            # First: a refused Host or cross-site write never reaches CORS or a route.
            Middleware(RequestGuard, policy=settings.guard_policy),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.ui_origins),
                allow_methods=list(methods),
                allow_headers=["content-type", "accept"],
                expose_headers=["x-acc-step"],
            ),
        ],
        lifespan=lifespan,
    )
    # Set when the server begins to shut down: open event streams end on it.
    app.state.shutdown = asyncio.Event()
    app.state.settings = settings
    if dashboard is not None:
        serve_dashboard(app, dashboard)
    return app
