"""Shared fixtures: one real sandbox (identity, CRM, ERP over HTTPS on loopback) for the session.

``sandbox`` resets both emulated services to the ``demo`` seed and switches faults off before each
test, so tests are isolated while the servers start only once.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.server import Sandbox


class RunningSandbox:
    """A started :class:`Sandbox` plus ready clients for tests."""

    def __init__(self, sb: Sandbox, data_dir: Path) -> None:
        self.sb = sb
        self.data_dir = data_dir
        self.identity_url = sb.identity_url
        self.crm_url = sb.crm_url
        self.erp_url = sb.erp_url
        assert sb.ca_path is not None
        self.ca_path = sb.ca_path
        self.credentials = sb.credentials
        self.authority = sb.authority
        self._clients: list[httpx.Client] = []
        # httpx wants an SSLContext (a CA path is deprecated); one context serves every client.
        self.ssl = ssl.create_default_context(cafile=str(self.ca_path))

    @property
    def crm_service(self):  # type: ignore[no-untyped-def]
        return self.sb.crm

    @property
    def erp_service(self):  # type: ignore[no-untyped-def]
        return self.sb.erp

    def token(self, resource: str, lifetime: int | None = None) -> str:
        return self.sb.issuer.issue(resource, lifetime)

    def _client(self, base_url: str, token: str | None) -> httpx.Client:
        headers = {"Accept": "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        client = httpx.Client(base_url=base_url, headers=headers, verify=self.ssl, timeout=60)
        self._clients.append(client)
        return client

    def crm(self, token: str | None = "auto") -> httpx.Client:
        """Client on ``<crm>/api/data/v9.2/`` with a valid token (``token=None``: none)."""
        tok = self.token(self.crm_url) if token == "auto" else token
        return self._client(f"{self.crm_url}/api/data/v9.2/", tok)

    def erp(self, token: str | None = "auto") -> httpx.Client:
        """Client on ``<erp>/data/`` with a valid token (``token=None``: none)."""
        tok = self.token(self.erp_url) if token == "auto" else token
        return self._client(f"{self.erp_url}/data/", tok)

    def admin(self, which: str) -> httpx.Client:
        """Client on ``<server>/sandbox/`` (admin API, no token) of ``crm`` or ``erp``."""
        url = {"crm": self.crm_url, "erp": self.erp_url}[which]
        return self._client(f"{url}/sandbox/", None)

    def trusted_client(self) -> httpx.Client:
        """A bare client that trusts the sandbox CA (for msal's ``http_client=``); closed after the test."""
        client = httpx.Client(verify=self.ssl, timeout=60)
        self._clients.append(client)
        return client

    def identity(self) -> httpx.Client:
        return self._client(self.identity_url, None)

    def reset(self, seed: str = "demo") -> None:
        for which in ("crm", "erp"):
            with httpx.Client(base_url=self.admin_url(which), verify=self.ssl, timeout=120) as c:
                c.post("reset", json={"seed": seed}).raise_for_status()
                c.put("faults", json={}).raise_for_status()
                c.put(
                    "limits", json={"max_concurrent": 52, "requests_per_window": 6000, "window_seconds": 300}
                ).raise_for_status()

    def admin_url(self, which: str) -> str:
        return {"crm": self.crm_url, "erp": self.erp_url}[which] + "/sandbox/"

    def close_clients(self) -> None:
        for c in self._clients:
            c.close()
        self._clients.clear()


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    data_dir = tmp_path_factory.mktemp("sandbox")
    cfg = SandboxConfig(
        data_dir=data_dir, identity_port=0, crm_port=0, erp_port=0, seed="demo", key_activation_seconds=0.2
    )
    sb = Sandbox(cfg)
    sb.start()
    running = RunningSandbox(sb, data_dir)
    try:
        yield running
    finally:
        running.close_clients()
        sb.stop()


@pytest.fixture
def sandbox(sandbox_server: RunningSandbox) -> Iterator[RunningSandbox]:
    sandbox_server.reset("demo")
    try:
        yield sandbox_server
    finally:
        sandbox_server.close_clients()
