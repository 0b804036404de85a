"""The HTTP layer in front of each emulated service: faults, bearer tokens, limits, admin routes.

A request to the service root passes, in order: fault injection (:class:`~p2c_sandbox.faults.Faults`),
the bearer-token check (a token from the sandbox identity server for *this* server's base URL,
unexpired), service protection (:class:`~p2c_sandbox.faults.Protection`), then ``Service.handle``.
Routes under ``/sandbox/`` are the sandbox's own admin API (no token): ``faults``, ``limits``,
``reset`` and ``info`` here, the rest is the service's business actions. Any other path outside the
service root may be one of the service's browser pages (``Service.page``: read-only record views,
no token, no faults).

It is a raw ASGI callable rather than a router: the OData URL grammar (``accounts(name='x')``)
is parsed by the services themselves, and a thin layer keeps paged reads fast.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qsl

from p2c_sandbox.faults import FaultKind, Faults, Protection
from p2c_sandbox.http import Request, Response, json_response, loads
from p2c_sandbox.identity import TokenError, TokenIssuer
from p2c_sandbox.pages import message_page
from p2c_sandbox.service import Service

__all__ = ["ServiceApp"]

log = logging.getLogger("p2c_sandbox")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ServiceApp:
    """ASGI app serving one :class:`Service` at ``base_url``."""

    def __init__(self, service: Service, base_url: str, issuer: TokenIssuer, protection: Protection) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.issuer = issuer
        self.protection = protection
        self.faults = Faults()
        self.reset_hook: Callable[[str], None] = service.seed
        self.stats = {"requests": 0, "unauthorized": 0, "throttled": 0}
        _settle_heap()  # the service's seeded or loaded rows

    # -- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        body = b"".join(chunks)
        path: str = scope["path"]
        query_string = scope.get("query_string", b"").decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        root = self.service.root_path
        if path.startswith("/sandbox/"):
            req = self._request(scope, path[len("/sandbox/") :], query_string, headers, body)
            await self._send(send, self._admin(req))
            return
        if path + "/" == root:
            path = root
        if not path.startswith(root):
            await self._page(scope, send, self._request(scope, path, query_string, headers, body))
            return
        self.stats["requests"] += 1
        decision = self.faults.decide()
        if (
            decision.kind is not FaultKind.NONE
            and decision.kind is not FaultKind.DROP
            and self.faults.latency
        ):
            await asyncio.sleep(self.faults.latency)
        if decision.kind is FaultKind.THROTTLE:
            self.stats["throttled"] += 1
            resp = self.service.error(
                429,
                "0x80072322",
                "Number of requests exceeded the limit of 6000 over time "
                "window of 300 seconds. (injected by the sandbox)",
            )
            resp.headers["retry-after"] = str(decision.retry_after)
            await self._send(send, resp)
            return
        if decision.kind is FaultKind.ERROR:
            await self._send(
                send,
                self.service.error(
                    decision.status, "0x80040216", "An unexpected error occurred. (injected by the sandbox)"
                ),
            )
            return
        auth = headers.get("authorization", "")
        try:
            if not auth.lower().startswith("bearer "):
                raise TokenError("The request has no bearer token.")
            self.issuer.verify(auth[7:].strip(), self.base_url)
        except TokenError as exc:
            self.stats["unauthorized"] += 1
            resp = self.service.error(401, "0x80072560", str(exc))
            resp.headers["www-authenticate"] = (
                f'Bearer authorization_uri="{self.issuer.identity_url}/{self.issuer.credentials.tenant_id}'
                f'/oauth2/authorize", resource_id="{self.base_url}"'
            )
            await self._send(send, resp)
            return
        refusal = self.protection.admit()
        if refusal is not None:
            self.stats["throttled"] += 1
            reason, code, wait = refusal
            resp = self.service.error(429, code, reason)
            resp.headers["retry-after"] = str(wait)
            await self._send(send, resp)
            return
        self.protection.enter()
        try:
            # Added latency is server time: the request counts as in flight while it waits.
            if self.faults.latency:
                await asyncio.sleep(self.faults.latency)
            req = self._request(scope, path[len(root) :], query_string, headers, body)
            req.service_root = self.base_url + root
            try:
                resp = self.service.handle(req)
            except Exception:  # a bug in an emulator must still answer, and be visible
                log.exception("%s: unhandled error for %s %s", self.service.name, scope["method"], path)
                resp = self.service.error(500, "0x80040216", "An unexpected error occurred in the sandbox.")
            resp.headers.setdefault(
                "x-ms-ratelimit-burst-remaining-xrm-requests", str(self.protection.remaining)
            )
            if decision.kind is FaultKind.DROP:
                await self._send_truncated(send, resp)
            else:
                await self._send(send, resp)
        finally:
            self.protection.leave()

    async def _page(self, scope: Scope, send: Send, req: Request) -> None:
        """A browser page outside the service root (``Service.page``), else the service's 404.

        Pages skip faults, the token check and service protection: they are for a person following
        a link from the p2c console, and a fault demo should not break those links.
        """
        try:
            resp = self.service.page(req)
        except Exception:  # a bug in a page must still answer, and be visible
            log.exception("%s: unhandled error for page %s %s", self.service.name, req.method, req.path)
            resp = message_page(500, self.service.name, "An unexpected error occurred in the sandbox.")
        if resp is None:
            resp = self.service.error(404, "", f"Resource not found for the segment '{req.path}'.")
        await self._send(send, resp, head=scope["method"] == "HEAD")

    def _request(
        self, scope: Scope, path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> Request:
        return Request(
            method=scope["method"],
            path=path,
            query=parse_qsl(query_string, keep_blank_values=True),
            headers=headers,
            body=body,
            base_url=self.base_url,
            service_root=self.base_url + self.service.root_path,
            raw_query=query_string,
        )

    async def _send(self, send: Send, resp: Response, head: bool = False) -> None:
        """Send ``resp``; for a HEAD request (``head``) only its headers, with the body's length."""
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()]
        has_body = resp.status not in (204, 304)
        if has_body:
            headers.append((b"content-length", str(len(resp.body)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": resp.body if has_body and not head else b""})

    async def _send_truncated(self, send: Send, resp: Response) -> None:
        """Promise the whole body, send part of it, then drop the connection."""
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()]
        body = resp.body or b'{"value":[]}'
        headers.append((b"content-length", str(len(body) + 64).encode()))
        await send(
            {
                "type": "http.response.start",
                "status": resp.status if resp.status != 204 else 200,
                "headers": headers,
            }
        )
        await send({"type": "http.response.body", "body": body[: max(1, len(body) // 2)], "more_body": True})
        raise ConnectionAbortedError("connection dropped by the sandbox's fault injection")

    # -- admin ---------------------------------------------------------------------------------

    def _admin(self, req: Request) -> Response:
        path, method = req.path.strip("/"), req.method
        try:
            if path == "faults":
                if method == "GET":
                    return json_response(200, self.faults.describe())
                if method in ("PUT", "POST", "PATCH"):
                    if method == "PUT":
                        self.faults.clear()
                    self.faults.update(loads(req.body or b"{}"))
                    return json_response(200, self.faults.describe())
                if method == "DELETE":
                    self.faults.clear()
                    return json_response(200, self.faults.describe())
            elif path == "limits":
                if method in ("PUT", "PATCH", "POST"):
                    values = loads(req.body or b"{}")
                    for key, value in values.items():
                        if not hasattr(self.protection.limits, key):
                            raise ValueError(f"unknown limit '{key}'")
                        setattr(
                            self.protection.limits, key, type(getattr(self.protection.limits, key))(value)
                        )
                    self.protection._window.clear()
                return json_response(
                    200,
                    {
                        **asdict(self.protection.limits),
                        "enabled": self.protection.enabled,
                        "in_flight": self.protection.in_flight,
                        "peak_in_flight": self.protection.peak_in_flight,
                    },
                )
            elif path == "reset" and method == "POST":
                spec = (loads(req.body) if req.body else {}).get("seed", "demo")
                started = time.perf_counter()
                gc.unfreeze()  # the old seed's rows become garbage: let the collector see them
                self.reset_hook(str(spec))
                _settle_heap()
                self.faults.clear()
                self.protection._window.clear()
                self.protection.peak_in_flight = self.protection.in_flight
                return json_response(200, {"seed": spec, "seconds": round(time.perf_counter() - started, 3)})
            elif path == "info" and method == "GET":
                return json_response(
                    200,
                    {
                        "service": self.service.name,
                        "base_url": self.base_url,
                        "root": self.base_url + self.service.root_path,
                        "stats": self.stats,
                    },
                )
            else:
                return self.service.admin(req)
        except ValueError as exc:
            return json_response(400, {"error": {"code": "", "message": str(exc)}})
        return json_response(
            405, {"error": {"code": "", "message": f"{method} is not allowed on /sandbox/{path}"}}
        )


def _settle_heap() -> None:
    """Move what the process holds now (a seed's rows: hundreds of thousands of dicts that live
    until the next reset) out of the cyclic collector's reach: each full collection would walk
    them all again, a cost that grows with the seed and that every request pays in turn.
    Acyclic garbage among them is still freed by reference counting."""
    gc.freeze()
