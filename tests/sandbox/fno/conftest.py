"""Fixtures of the F&O contract tests: clients on ``/data/`` and ``/sandbox/`` of the emulated ERP.

They run over real HTTPS against the session sandbox of ``tests/conftest.py``.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from p2c_sandbox.fno import FnoService


@dataclass
class Erp:
    service: FnoService
    url: str  # scheme://host:port
    clients: list[httpx.Client]
    verify: ssl.SSLContext
    token: str

    @property
    def root(self) -> str:
        return f"{self.url}/data/"

    def client(self, path: str = "/data/", token: str | None = "auto") -> httpx.Client:
        headers = {"Accept": "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0"}
        tok = self.token if token == "auto" else token
        if tok and path == "/data/":
            headers["Authorization"] = f"Bearer {tok}"
        c = httpx.Client(base_url=self.url + path, headers=headers, timeout=60, verify=self.verify)
        self.clients.append(c)
        return c


@pytest.fixture
def erp_env(sandbox_server) -> Iterator[Erp]:  # type: ignore[no-untyped-def]
    sb = sandbox_server
    # only the ERP needs resetting for these tests; reseed on the server's own thread
    sb.sb.call(sb.erp_service.seed, "demo")
    env = Erp(sb.erp_service, sb.erp_url, [], sb.ssl, sb.token(sb.erp_url))
    page_size = env.service.config.erp_page_size
    try:
        yield env
    finally:
        env.service.config.erp_page_size = page_size
        for c in env.clients:
            c.close()


@pytest.fixture
def erp(erp_env: Erp) -> httpx.Client:
    """Client on ``<erp>/data/`` with a valid token."""
    return erp_env.client()


@pytest.fixture
def admin(erp_env: Erp) -> httpx.Client:
    """Client on ``<erp>/sandbox/``."""
    return erp_env.client("/sandbox/")


@pytest.fixture
def erp_service(erp_env: Erp) -> FnoService:
    return erp_env.service
