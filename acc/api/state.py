"""The per-app objects a route reads from its request (made by `create_app`)."""

from __future__ import annotations

from starlette.requests import Request

from acc.model_seat import ModelSeat


def model_seat(request: Request) -> ModelSeat:
    """Who trains the model: the inspector session or a free run."""
    seat: ModelSeat = request.app.state.seat
    return seat
