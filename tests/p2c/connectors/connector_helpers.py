"""Helpers shared by the connector tests (a uniquely named module: ``conftest`` names collide)."""

from __future__ import annotations

import ssl
from typing import Any

import httpx


def trust(sandbox: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sandbox.ca_path))


def admin(sandbox: Any, which: str) -> httpx.Client:
    """A client on the ``/sandbox/`` admin API of ``crm`` or ``erp`` (close it)."""
    return httpx.Client(base_url=sandbox.admin_url(which), verify=trust(sandbox), timeout=120)


def faults(sandbox: Any, which: str, **settings: Any) -> None:
    """Switch the server's faults (none given: off)."""
    with admin(sandbox, which) as c:
        c.put("faults", json=settings).raise_for_status()
