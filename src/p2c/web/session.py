"""Console sessions: log in with an API token, stay in with a cookie, and a CSRF token per form.

A person logs in by pasting an API token (the same tokens as the REST API). The session is a
random id in a cookie — ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's
page sends it), ``Secure`` when the console is served over HTTPS — kept in this process's memory
(a restart logs everyone out) for ``SESSION_HOURS``. Every form that changes something carries the
session's CSRF token, checked in constant time; the login form itself is protected the same way by
a short-lived pre-session cookie (double submit). Nothing secret is ever put in a page: the token
typed at login is checked and forgotten; the session remembers only the token's name.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

__all__ = ["COOKIE", "LOGIN_COOKIE", "Session", "Sessions"]

COOKIE = "p2c_session"
LOGIN_COOKIE = "p2c_login"
SESSION_HOURS = 12


@dataclass(frozen=True)
class Session:
    id: str
    who: str  # the API token's name
    csrf: str
    expires: float


class Sessions:
    def __init__(self, hours: float = SESSION_HOURS) -> None:
        self.seconds = hours * 3600
        self._lock = threading.Lock()
        self._by_id: dict[str, Session] = {}

    def open(self, who: str) -> Session:
        session = Session(
            secrets.token_urlsafe(32), who, secrets.token_urlsafe(32), time.time() + self.seconds
        )
        with self._lock:
            self._drop_expired()
            self._by_id[session.id] = session
        return session

    def of(self, request: Request) -> Session | None:
        sid = request.cookies.get(COOKIE)
        if not sid:
            return None
        with self._lock:
            session = self._by_id.get(sid)
            if session is not None and session.expires < time.time():
                del self._by_id[sid]
                return None
            return session

    def close(self, request: Request) -> None:
        sid = request.cookies.get(COOKIE)
        with self._lock:
            self._by_id.pop(sid or "", None)

    def _drop_expired(self) -> None:
        now = time.time()
        for sid in [s for s, v in self._by_id.items() if v.expires < now]:
            del self._by_id[sid]


def same(a: str | None, b: str | None) -> bool:
    """Two tokens equal, compared in constant time; a missing one never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def set_cookie(response: Response, request: Request, name: str, value: str, seconds: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
