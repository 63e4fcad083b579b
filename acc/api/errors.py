"""Errors that carry their HTTP status, and the handlers that turn any error into
`{"error": "<short code>", "detail": "<sentence for a human>"}`."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from typing import ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from acc.api.responses import JSONResponse
from acc.api.waiting import ClientGone, WorkCancelled
from acc.archive.store import (
    ArchivedRunActive,
    ArchivedRunNotFound,
    ArchiveError,
    NoArchive,
    UnknownHistoryKey,
)
from acc.attached_loop import LoopClosed, LoopStopped
from acc.branches import UnknownBranch
from acc.breakpoints import BreakpointError
from acc.data import DataError
from acc.debug_controller import NotPaused, StepsInterrupted, WatchError
from acc.distributed import NoRankBatch, NotDistributed
from acc.free_run import RunFinished
from acc.live_edits import HparamError
from acc.model_capture import UnknownTensor
from acc.model_seat import ModelBusy, NoRun, NoSession
from acc.recipes import UnknownConditionError, UnknownRecipeError
from acc.restore_points import RewindUnavailable
from acc.session import SessionClosed, StepFailed, TooManyPendingSteps
from acc.step_inspector import StepNotRetained, TensorNotHeld
from acc.tensor_grid import GridWindowError


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


class RequestTimeout(AccError):
    http_code = 408
    error = "request_timeout"


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


# The library's errors and the answer each gets: (status, error code). The library says what
# went wrong in its own words; only this table knows about HTTP. Subclasses match their base.
LIBRARY_ERRORS: dict[type[BaseException], tuple[int, str]] = {
    NoSession: (409, "conflict"),
    NoRun: (409, "conflict"),
    ModelBusy: (409, "conflict"),
    SessionClosed: (409, "conflict"),
    RunFinished: (409, "conflict"),
    NotPaused: (409, "conflict"),
    StepsInterrupted: (409, "conflict"),
    WorkCancelled: (409, "conflict"),
    StepNotRetained: (404, "not_found"),
    TensorNotHeld: (404, "not_found"),
    GridWindowError: (422, "invalid_value"),
    RewindUnavailable: (409, "conflict"),  # the step ran, but its restore point is not held
    UnknownBranch: (404, "not_found"),
    LoopClosed: (409, "conflict"),
    LoopStopped: (409, "conflict"),
    NotDistributed: (409, "conflict"),
    NoRankBatch: (404, "not_found"),
    UnknownTensor: (404, "not_found"),
    NoArchive: (409, "conflict"),
    ArchivedRunActive: (409, "conflict"),
    ArchivedRunNotFound: (404, "not_found"),
    UnknownHistoryKey: (422, "invalid_value"),
    ArchiveError: (503, "archive_unavailable"),  # the runs directory is damaged or foreign
    WatchError: (422, "invalid_value"),
    BreakpointError: (422, "invalid_value"),
    HparamError: (422, "invalid_value"),
    UnknownRecipeError: (422, "invalid_value"),
    UnknownConditionError: (422, "invalid_value"),
    DataError: (422, "data_error"),
    TooManyPendingSteps: (429, "too_many_requests"),
    StepFailed: (500, "step_failed"),
    ClientGone: (499, "client_closed_request"),  # nginx's code; nobody reads the answer
}


async def library_error_handler(request: Request, exc: Exception) -> Response:
    status, error = next(answer for kind, answer in LIBRARY_ERRORS.items() if isinstance(exc, kind))
    body: dict[str, object] = {"error": error, "detail": str(exc)}
    if isinstance(exc, StepFailed):  # the last frames say which line of the model raised
        body["traceback"] = exc.summary
    return JSONResponse(body, status_code=status)


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


Handler = Callable[[Request, Exception], Awaitable[Response]]
EXCEPTION_HANDLERS: dict[type[BaseException], Handler] = {
    AccError: acc_error_handler,
    **dict.fromkeys(LIBRARY_ERRORS, library_error_handler),
    HTTPException: http_error_handler,
    Exception: unhandled_error_handler,
}
