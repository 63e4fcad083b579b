"""The OpenAPI description of the trainer API, generated from the app's routes.

Each handler carries its own description (`@operation(...)`: summary, JSON body schema, query
parameters); paths, methods and path parameters come from the routes themselves, so a route
cannot exist without appearing in `/openapi.json` (a test checks that every route is described
and that docs/http_api.md names every path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import acc
from acc.api.responses import JSONResponse

Handler = TypeVar("Handler", bound=Callable[..., Any])
ATTRIBUTE = "__acc_openapi__"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}


def integer(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def number(low: float, high: float) -> dict[str, Any]:
    return {"type": "number", "minimum": low, "maximum": high}


def enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


BOOLEAN: dict[str, Any] = {"type": "boolean"}


def operation(
    summary: str,
    *,
    body: dict[str, dict[str, Any]] | None = None,
    required: tuple[str, ...] = (),
    query: dict[str, dict[str, Any]] | None = None,
    required_query: tuple[str, ...] = (),
    frame: bool = False,
    stream: bool = False,
) -> Callable[[Handler], Handler]:
    """Describe a handler: `body` maps JSON fields to their schemas (no other field is allowed),
    `query` the query parameters; `frame` says it can answer a binary step frame, `stream` that it
    answers server-sent events."""

    def attach(handler: Handler) -> Handler:
        setattr(
            handler,
            ATTRIBUTE,
            {
                "summary": summary,
                "body": body,
                "required": list(required),
                "query": query or {},
                "required_query": list(required_query),
                "frame": frame,
                "stream": stream,
            },
        )
        return handler

    return attach


def _operation(route: Route, method: str, described: dict[str, Any]) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.param_convertors
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": name in described["required_query"],
            "schema": schema,
        }
        for name, schema in described["query"].items()
    ]
    content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
    if described["frame"]:
        content["application/x-acc-frame"] = {"schema": {"type": "string", "format": "binary"}}
    if described["stream"]:
        content = {"text/event-stream": {"schema": {"type": "string"}}}
    error = {"application/json": {"schema": ERROR_SCHEMA}}
    result: dict[str, Any] = {
        "summary": described["summary"],
        "operationId": f"{method.lower()}_{route.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": content},
            "4XX": {"description": "bad request, state or value", "content": error},
        },
    }
    if described["body"] is not None:
        result["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": described["body"],
                        "required": described["required"],
                        "additionalProperties": False,
                    }
                }
            },
        }
    return result


def openapi_spec(app: Starlette) -> dict[str, Any]:
    """The OpenAPI 3.0 document of every described route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        described = getattr(route.endpoint, ATTRIBUTE, None)
        if described is None:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = _operation(route, method, described)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "acc trainer API",
            "version": acc.__version__,
            "description": "Step-by-step training inspection; see docs/http_api.md.",
        },
        "paths": paths,
    }


def undescribed_routes(app: Starlette) -> list[str]:
    """Routes without an `@operation` description (a test keeps this empty)."""
    return [
        route.path
        for route in app.routes
        if isinstance(route, Route) and getattr(route.endpoint, ATTRIBUTE, None) is None
    ]


@operation("This OpenAPI description.")
async def openapi_route(request: Request) -> Response:
    return JSONResponse(openapi_spec(request.app))


routes = [Route("/openapi.json", openapi_route, methods=["GET"])]
