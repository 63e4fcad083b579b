"""Errors that carry their HTTP status, and the handlers that turn any error into
`{"error": "<short code>", "detail": "<sentence for a human>"}`."""

from __future__ import annotations

import traceback
from typing import ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from acc.api.responses import JSONResponse
from acc.data import DataError


class AccError(Exception):
    """Base of the errors the API answers with a JSON body; subclasses set the status and code."""

    http_code: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(AccError):
    http_code = 400
    error = "bad_request"


class NotFound(AccError):
    http_code = 404
    error = "not_found"


class Conflict(AccError):
    http_code = 409
    error = "conflict"


class PayloadTooLarge(AccError):
    http_code = 413
    error = "payload_too_large"


class UnsupportedMediaType(AccError):
    http_code = 415
    error = "unsupported_media_type"


class RequestTimeout(AccError):
    http_code = 408
    error = "request_timeout"


class TooManyRequests(AccError):
    http_code = 429
    error = "too_many_requests"


class ClientGone(AccError):
    """The client closed the connection before its answer was ready; nobody reads the answer."""

    http_code = 499
    error = "client_closed_request"


class InvalidValue(AccError):
    http_code = 422
    error = "invalid_value"


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_value",
}


def error_response(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


async def acc_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccError)
    response = error_response(exc.http_code, exc.error, exc.detail)
    summary = getattr(exc, "traceback", None)
    if summary:  # a failed training step: the last frames say which line of the model raised
        response = JSONResponse(
            {"error": exc.error, "detail": exc.detail, "traceback": summary},
            status_code=exc.http_code,
        )
    return response


async def data_error_handler(request: Request, exc: Exception) -> Response:
    # The data set cannot serve what was asked (e.g. fewer images than one batch).
    return error_response(422, "data_error", str(exc))


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        detail = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    response = error_response(exc.status_code, code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def unhandled_error_handler(request: Request, exc: Exception) -> Response:
    # The last frames are what a researcher needs to see which line of their model failed.
    summary = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3)
    return JSONResponse(
        {
            "error": "internal_error",
            "detail": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(summary)[-2000:],
        },
        status_code=500,
    )


EXCEPTION_HANDLERS = {
    AccError: acc_error_handler,
    DataError: data_error_handler,
    HTTPException: http_error_handler,
    Exception: unhandled_error_handler,
}
