"""Errors as RFC 9457 problem details (`application/problem+json`).

Every 4xx carries a `detail` a person can act on; a description that fails validation
lists every error with its path in `errors`, the same lines `vaxel config apply` prints.
Service errors map to statuses by kind: Invalid 422, NotFound 404, Conflict 409, Stale
412 (another admin changed it since it was read).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from vaxel.services.company_config import ConfigError
from vaxel.services.errors import Conflict, Invalid, NotFound, ServiceError, Stale

log = logging.getLogger("vaxel.web")
MEDIA_TYPE = "application/problem+json"

#: A row's id in a path (a message, a token, a shortcut): what the databases can hold, so
#: a number past it is a 422 that says so rather than an error deep in the driver.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="what went wrong, for a person to act on")
    errors: list[str] | None = Field(
        None, description="each error with its path, e.g. `menus.main.keys.1: unknown group`"
    )


#: Declared for every operation: any 4xx or 5xx is problem details.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": ProblemDetails.model_json_schema()}},
    }
    for code, description in (("4XX", "the request was refused (RFC 9457 problem details)"),
                              ("5XX", "the server failed (RFC 9457 problem details)"))
}  # fmt: skip


class Problem(Exception):
    """Raise to answer with a problem: `Problem(404, "no such user 1007")`."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    # ("body", "users", 0, "ext") -> users.0.ext: the path `config apply` would print.
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, parts = parts[0], parts[1:]
        if where != "body":
            parts.insert(0, where)
    return ".".join(parts) or "(body)"


def install(app: FastAPI) -> None:
    async def problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)

    async def service_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        if isinstance(exc, ConfigError):
            return problem_response(
                422, "the description has errors; nothing changed", errors=exc.errors
            )
        if isinstance(exc, Stale):
            status = 412
        elif isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, Conflict):
            status = 409
        else:
            status = 422 if isinstance(exc, Invalid) else 400
        return problem_response(status, exc.message)

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # The message as `config apply` prints it (without pydantic's "Value error, ").
        errors = [
            f"{_location(tuple(e['loc']))}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        return problem_response(422, "the request has errors; nothing changed", errors=errors)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource"
        elif exc.status_code == 405:
            detail = "this resource does not take that method"
        return problem_response(exc.status_code, detail, headers=exc.headers)

    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "the server failed; the error is logged")

    app.add_exception_handler(Problem, problem)
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, crash)
