"""The contract between the sandbox's HTTP layer and each emulated service.

:mod:`p2c_sandbox.app` owns sockets, TLS, bearer-token checks, service protection (429) and fault
injection; a :class:`Service` owns everything behind the service root: routing, data, errors.
Requests reach ``handle`` only after authentication, throttling and faults have let them through,
so an emulator never sees a request without a valid token for its audience. The one exception is
``page``: read-only HTML views of records for a person's browser, outside the service root.

Example (a service whose root is ``/data/``)::

    class Erp:
        name = "erp"
        root_path = "/data/"
        def handle(self, req: Request) -> Response: ...
        def admin(self, req: Request) -> Response: ...
        def page(self, req: Request) -> Response | None: ...
        def error(self, status: int, code: str, message: str) -> Response: ...
"""

from __future__ import annotations

from typing import Protocol

from p2c_sandbox.http import Request, Response

__all__ = ["Service"]


class Service(Protocol):
    #: "crm" or "erp": used in logs, fault settings and admin URLs.
    name: str
    #: Path prefix of the OData service root, with both slashes: "/api/data/v9.2/" or "/data/".
    root_path: str

    def handle(self, req: Request) -> Response:
        """Serve one OData request; ``req.path`` is relative to ``root_path`` (``""`` = service document).

        Must not raise for client errors: answer them in the service's own error shape.
        Runs on the server's event loop thread; requests are handled one at a time.
        """
        ...

    def admin(self, req: Request) -> Response:
        """Serve ``/sandbox/<path>`` (``req.path`` is the part after ``/sandbox/``): business actions and
        inspection used by demos and tests. No token is required there."""
        ...

    def page(self, req: Request) -> Response | None:
        """A read-only HTML page for a browser at ``req.path`` (the whole path, outside the service
        root), such as a record's page; ``None`` when the path is not one of the service's pages.

        No token is required and faults and service protection do not apply: a person opens these
        links from the p2c console, and the real products' browser sign-in is not emulated.
        """
        ...

    def error(self, status: int, code: str, message: str) -> Response:
        """An error in this service's shape (used for 401 and 429 answers made by the HTTP layer)."""
        ...

    def seed(self, spec: str) -> None:
        """Empty the service's data and load ``spec``: ``demo``, ``empty`` or ``large:N``."""
        ...

    def close(self) -> None:
        """Flush and close storage."""
        ...
