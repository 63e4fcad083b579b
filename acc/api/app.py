"""The app factory: every dependency comes in as an argument, per-app state lives on app.state."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from acc.api import branches, breakpoints, codebook, debug, health, inspect, openapi, runs
from acc.api.archive import routes as archive_routes
from acc.api.base_app import api_app
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

    def close() -> None:
        # free the models and stop their worker threads, then write what is queued
        seat.close()
        if owns_archive and archive is not None:
            archive.close()

    api: list[BaseRoute] = [
        *health.routes,
        *inspect.routes,
        *runs.routes,
        *debug.routes,
        *branches.routes,
        *breakpoints.routes,
        *codebook.routes,
        *archive_routes,
        *openapi.routes,
    ]
    app = api_app(
        api,
        settings=settings,
        on_close=close,
        dashboard=dashboard,
        methods=("GET", "POST", "DELETE"),
    )
    app.state.data = data
    app.state.seat = seat
    app.state.archive = archive
    return app
