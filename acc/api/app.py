"""The app factory: every dependency comes in as an argument, per-app state lives on app.state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from acc.api import codebook, debug, health, inspect, openapi, runs
from acc.api.errors import EXCEPTION_HANDLERS
from acc.api.guard import RequestGuard
from acc.data import MnistData
from acc.model_seat import ModelSeat
from acc.settings import Settings


def create_app(
    *,
    settings: Settings,
    data: MnistData,
    seat: ModelSeat | None = None,
) -> Starlette:
    """Build the trainer API for one data set and one set of settings. The model seat (who
    trains the model: the inspector session or a free run) is made here unless given."""
    seat = seat if seat is not None else ModelSeat(data, settings.device, budget=settings.budget)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # free the models and stop their worker threads
        await to_thread.run_sync(seat.close)

    app = Starlette(
        routes=[
            *health.routes,
            *inspect.routes,
            *runs.routes,
            *debug.routes,
            *codebook.routes,
            *openapi.routes,
        ],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            # First: a refused Host or cross-site write never reaches CORS or a route.
            Middleware(RequestGuard, policy=settings.guard_policy),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.ui_origins),
                allow_methods=["GET", "POST"],
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
    return app
