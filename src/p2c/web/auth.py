"""Who is calling: ``Authorization: Bearer <token>``, checked against the service's tokens.

The REST API takes bearer tokens only (declared in the OpenAPI document as the ``bearer``
scheme). A browser never sends them on its own, so a page of another site cannot make a logged-in
browser change anything (no CSRF through the API); the console's cookie sessions, when they come,
carry their own CSRF token on every form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from p2c.service.tokens import Tokens

__all__ = ["ERRORS", "ErrorView", "caller"]

_bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="An API token of `p2c serve`")


class ErrorView(BaseModel):
    """Why a request was refused; never holds a secret."""

    error: str
    detail: str


#: the error answers every API route may give, for the OpenAPI document
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorView, "description": "The request is wrong: an unknown task, a bad value"},
    401: {"model": ErrorView, "description": "No valid API token"},
    404: {"model": ErrorView, "description": "No such project or run"},
    409: {"model": ErrorView, "description": "The project is paused or being synchronised"},
    502: {"model": ErrorView, "description": "The CRM or ERP refused what was asked"},
    503: {"model": ErrorView, "description": "The CRM or ERP cannot be reached, or the service is stopping"},
}


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """The name of the caller's token, or 401."""
    tokens: Tokens = request.app.state.tokens
    name = tokens.check(credentials.credentials.strip()) if credentials is not None else None
    if name is None:
        raise HTTPException(
            status_code=401,
            detail="a valid API token is needed: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return name
