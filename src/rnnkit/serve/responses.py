"""Every error the server sends has one shape, documented in the OpenAPI schema::

    {"error": {"status": 422, "type": "DataError", "message": "instances[0]: values['temp']: ..."}}

Bad requests are 4xx with a message that says what, expected, got and the fix; 503 means
busy or shutting down (retry), 504 that a request ran past ``request_timeout_s``.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import JSONResponse


class ErrorDetail(BaseModel):
    status: int
    type: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


ERRORS = {
    400: "Malformed request (not JSON, or not the expected kind of value).",
    401: "Missing or wrong API key.",
    404: "Unknown model, or a session that is not open (the message says why).",
    413: "Request body or payload too large.",
    422: "Valid JSON that does not fit the model (shape, columns, NaN, length).",
    503: "Busy (queue full) or shutting down: retry later.",
    504: "The request ran past the server's per-request timeout.",
}


def error_responses(*codes: int) -> dict:
    """``responses=`` for a route: the error body under each status."""
    return {c: {"model": ErrorBody, "description": ERRORS[c]} for c in codes}


def one_line(message: str) -> str:
    """``message`` on one line (a library's multi-line text joined with spaces)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def error_json(status: int, kind: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "type": kind, "message": one_line(message)}},
                        status_code=status, headers=headers)
