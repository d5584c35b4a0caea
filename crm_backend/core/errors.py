"""One error hierarchy for the whole API, and the handlers that map it to HTTP.

Every error response has the same shape:
    {"error": {"code": "conflict", "message": "...", "details": {...}}}
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException


class AppError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(AppError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(AppError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class StaleWrite(Conflict):
    code = "stale_write"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class Unprocessable(AppError):
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    code = "validation_error"


class Unauthorized(AppError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "unauthorized"


class Forbidden(AppError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class TooManyAttempts(AppError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_attempts"


class PayloadTooLarge(AppError):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE
    code = "payload_too_large"


class ErrorDetail(BaseModel):
    code: str = Field(examples=["conflict"])
    message: str
    details: dict[str, Any] = {}


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: ErrorDetail


# Documented on every API route, so the OpenAPI document names the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "Not signed in, or the token or API key is invalid"),
        (403, "Signed in, but without the permission this route needs"),
        (404, "No such record"),
        (409, "Conflicts with stored data: duplicate, illegal status change, stale write"),
        (413, "The request body is too large"),
        (422, "The request is not valid; details list each problem"),
    )
}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _json(status_code: int, code: str, message: str, details=None, headers=None):
    return JSONResponse(error_body(code, message, details), status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return _json(exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        return _json(422, "validation_error", "The request is not valid.", {"errors": errors})

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError):
        # A constraint the database enforced (unique, foreign key, check): the request
        # conflicts with stored data; never a server fault.
        return _json(409, "conflict", "The change conflicts with existing data.",
                     {"constraint": str(exc.orig).splitlines()[0][:300]})

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError):
        # A value the database cannot store (e.g. a NUL character in JSON text on
        # PostgreSQL): invalid input, never a server fault.
        return _json(422, "validation_error", "The database cannot store a value of this "
                     "request.", {"reason": str(exc.orig).splitlines()[0][:300]})

    @app.exception_handler(StaleDataError)
    async def _stale(_: Request, exc: StaleDataError):
        return _json(409, "stale_write",
                     "The record was changed by someone else; reload it and try again.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status_code, "error")
        return _json(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))
