"""The app factory: every dependency comes in as an argument, per-app state lives on app.state."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from acc.api import health
from acc.api.errors import EXCEPTION_HANDLERS
from acc.data import MnistData
from acc.settings import Settings


def create_app(*, settings: Settings, data: MnistData) -> Starlette:
    """Build the trainer API for one data set and one set of settings."""
    app = Starlette(
        routes=[*health.routes],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.ui_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "accept"],
            )
        ],
    )
    app.state.settings = settings
    app.state.data = data
    return app
