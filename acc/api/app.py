"""The app factory: every dependency comes in as an argument, per-app state lives on app.state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount

from acc.api import codebook, debug, health, inspect, openapi, runs
from acc.api.archive import routes as archive_routes
from acc.api.dashboard_site import serve_dashboard
from acc.api.errors import EXCEPTION_HANDLERS
from acc.api.guard import RequestGuard
from acc.archive.store import RunArchive
from acc.data import MnistData
from acc.model_seat import ModelSeat
from acc.settings import Settings


def create_app(
    *,
    settings: Settings,
    data: MnistData,
    seat: ModelSeat | None = None,
    archive: RunArchive | None = None,
    dashboard: Path | None = None,
) -> Starlette:
    """Build the trainer API for one data set and one set of settings. The model seat (who
    trains the model: the inspector session or a free run) is made here unless given. Runs are
    recorded in `archive`, or in one opened on `settings.runs_dir` (closed with the app); with
    neither, nothing is recorded. The API answers at its root paths and again under `/api` (where
    the dashboard calls it); with `dashboard`, a built dashboard folder (`find_dashboard()`), the
    app serves its pages too, at every path the API does not answer."""
    owns_archive = False
    if archive is None and settings.runs_dir is not None:
        archive = RunArchive(settings.runs_dir, max_bytes=settings.runs_max_bytes)
        owns_archive = True
    seat = (
        seat
        if seat is not None
        else ModelSeat(data, settings.device, budget=settings.budget, archive=archive)
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # free the models and stop their worker threads
        await to_thread.run_sync(seat.close)
        if owns_archive and archive is not None:
            await to_thread.run_sync(archive.close)

    api: list[BaseRoute] = [
        *health.routes,
        *inspect.routes,
        *runs.routes,
        *debug.routes,
        *codebook.routes,
        *archive_routes,
        *openapi.routes,
    ]
    app = Starlette(
        routes=[*api, Mount("/api", routes=api)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            # First: a refused Host or cross-site write never reaches CORS or a route.
            Middleware(RequestGuard, policy=settings.guard_policy),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.ui_origins),
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["content-type", "accept"],
                expose_headers=["x-acc-step"],
            ),
        ],
        lifespan=lifespan,
    )
    # Set when the server begins to shut down: open event streams end on it.
    app.state.shutdown = asyncio.Event()
    app.state.settings = settings
    app.state.data = data
    app.state.seat = seat
    app.state.archive = archive
    if dashboard is not None:
        serve_dashboard(app, dashboard)
    return app
