"""`GET /health`: what the trainer is, runs on, and trains with."""

from __future__ import annotations

import platform

import torch
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import acc
from acc.api.openapi import operation
from acc.api.responses import JSONResponse


@operation("What the trainer is, runs on and trains with.")
async def health_route(request: Request) -> Response:
    state = request.app.state
    return JSONResponse(
        {
            "status": "ok",
            "version": acc.__version__,
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "device": state.settings.device,
            "cuda_available": torch.cuda.is_available(),
            "threads": torch.get_num_threads(),
            "dataset": state.data.describe(),
        }
    )


routes = [Route("/health", health_route, methods=["GET"])]
