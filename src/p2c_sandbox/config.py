"""Settings of one sandbox instance: where it keeps its data, its ports, credentials and limits.

Example::

    >>> cfg = SandboxConfig(data_dir=Path("/tmp/sb"), crm_port=0)
    >>> cfg.host
    '127.0.0.1'
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Limits", "SandboxConfig", "ServerCredentials"]


@dataclass
class Limits:
    """Service protection (DATAVERSE.md §2.12, FNO.md §1.9)."""

    max_concurrent: int = 52
    requests_per_window: int = 6000
    window_seconds: float = 300.0
    retry_after_seconds: int = 5


@dataclass
class ServerCredentials:
    """The one application registration the emulated Entra ID knows about."""

    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_secret: str = field(default_factory=lambda: "p2c~" + secrets.token_urlsafe(30))
    signing_key: str = field(default_factory=lambda: secrets.token_hex(32))


@dataclass
class SandboxConfig:
    data_dir: Path | None = Path(".p2c-sandbox")
    host: str = "127.0.0.1"
    identity_port: int = 8440
    crm_port: int = 8441
    erp_port: int = 8442
    seed: str = "demo"
    tls: bool = True
    token_lifetime_seconds: int = 3600
    crm_limits: Limits = field(default_factory=Limits)
    erp_limits: Limits = field(default_factory=Limits)
    # realistic mode for benchmarks: latency added to every API request from the start (a fault,
    # as `PUT /sandbox/faults {"latency_ms": N}` sets it), and service protection on or off
    latency_ms: int = 0
    protection: bool = True
    crm_page_size: int = 5000
    erp_page_size: int = 10000
    # Dataverse builds alternate-key indexes asynchronously: a new key is Pending, then Active.
    key_activation_seconds: float = 0.5
    # organization.createproductswithoutparentinactivestate: False = new products start Draft.
    products_created_active: bool = False
    # An older F&O release lacks some entity sets and fields (see p2c_sandbox.fno.releases).
    erp_release: str = "10.0.40"
    erp_default_company: str = "usmf"
    credentials: ServerCredentials | None = None
