"""Fixtures of the Dataverse contract tests: clients on the running sandbox's CRM over HTTPS.

``crm`` is an ``httpx.Client`` on ``<crm>/api/data/v9.2/`` with a valid token and the sandbox CA
trusted; ``admin`` one on ``<crm>/sandbox/``. The CRM is reset to the ``demo`` seed (faults off)
before each test; the servers of the session sandbox (``tests/conftest.py``) start once.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

HEADERS = {"Accept": "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0"}


class Crm:
    """The running CRM of the session sandbox, reset to ``demo``."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.url: str = server.crm_url
        self.root = f"{self.url}/api/data/v9.2/"
        self.ssl = ssl.create_default_context(cafile=str(server.ca_path))
        self.service = server.crm_service
        self._clients: list[httpx.Client] = []

    def client(self, token: str | None = "auto") -> httpx.Client:
        headers = dict(HEADERS)
        if token == "auto":
            token = self.server.token(self.url)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        c = httpx.Client(base_url=self.root, headers=headers, verify=self.ssl, timeout=120)
        self._clients.append(c)
        return c

    def admin(self) -> httpx.Client:
        c = httpx.Client(base_url=f"{self.url}/sandbox/", verify=self.ssl, timeout=300)
        self._clients.append(c)
        return c

    def reset(self, seed: str = "demo") -> None:
        with httpx.Client(base_url=f"{self.url}/sandbox/", verify=self.ssl, timeout=300) as c:
            c.post("reset", json={"seed": seed}).raise_for_status()
            c.put("faults", json={}).raise_for_status()

    def close(self) -> None:
        for c in self._clients:
            c.close()
        self._clients.clear()


@pytest.fixture
def dv(sandbox_server: Any) -> Iterator[Crm]:
    crm = Crm(sandbox_server)
    crm.reset()
    try:
        yield crm
    finally:
        crm.close()


@pytest.fixture
def crm(dv: Crm) -> httpx.Client:
    return dv.client()


@pytest.fixture
def admin(dv: Crm) -> httpx.Client:
    return dv.admin()
