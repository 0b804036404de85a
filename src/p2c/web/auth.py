"""Who is calling: ``Authorization: Bearer <token>``, checked against the service's tokens.

The REST API takes bearer tokens only. A browser never sends them on its own, so a page of
another site cannot make a logged-in browser change anything (no CSRF through the API); the
console's cookie sessions, when they come, carry their own CSRF token on every form.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from p2c.service.tokens import Tokens

__all__ = ["caller"]


def caller(request: Request) -> str:
    """The name of the caller's token, or 401."""
    tokens: Tokens = request.app.state.tokens
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    name = tokens.check(token.strip()) if scheme.lower() == "bearer" else None
    if name is None:
        raise HTTPException(
            status_code=401,
            detail="a valid API token is needed: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return name
