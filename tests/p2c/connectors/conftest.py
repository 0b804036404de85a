"""Connectors on real HTTPS against the sandbox: msal tokens from its identity server, its CA bundle.

``sandbox`` is the session sandbox of ``tests/conftest.py``, reset to the demo seed before each test.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from connector_helpers import trust

from p2c.connectors import DataverseConnector, FnoConnector, MsalTokenProvider, Redactor, RetryPolicy

# retries quick enough for tests; 429s still wait what Retry-After says
FAST = {"base": 0.02, "cap": 0.2, "max_attempts": 12}


@pytest.fixture
def http(sandbox: Any) -> Iterator[httpx.Client]:
    with httpx.Client(verify=trust(sandbox), timeout=60) as client:
        yield client


@pytest.fixture
def redactor(sandbox) -> Redactor:  # type: ignore[no-untyped-def]
    return Redactor([sandbox.credentials.client_secret])


def tokens_for(sandbox, http: httpx.Client, resource: str, redactor: Redactor) -> MsalTokenProvider:  # type: ignore[no-untyped-def]
    return MsalTokenProvider(
        sandbox.authority,
        sandbox.credentials.client_id,
        client_secret=sandbox.credentials.client_secret,
        resource=resource,
        http_client=http,
        redactor=redactor,
    )


@pytest.fixture
def crm(sandbox, http: httpx.Client, redactor: Redactor) -> DataverseConnector:  # type: ignore[no-untyped-def]
    tokens = tokens_for(sandbox, http, sandbox.crm_url, redactor)
    retry = RetryPolicy(rng=random.Random(1), **FAST)  # type: ignore[arg-type]
    return DataverseConnector(sandbox.crm_url, tokens, http, retry=retry, redactor=redactor)


@pytest.fixture
def erp(sandbox, http: httpx.Client, redactor: Redactor) -> FnoConnector:  # type: ignore[no-untyped-def]
    tokens = tokens_for(sandbox, http, sandbox.erp_url, redactor)
    retry = RetryPolicy(rng=random.Random(1), **FAST)  # type: ignore[arg-type]
    return FnoConnector(sandbox.erp_url, tokens, http, retry=retry, redactor=redactor)


@pytest.fixture
def account_key(crm: DataverseConnector) -> str:
    """The alternate key on account.accountnumber, provisioned as `p2c setup` would, and Active."""
    crm.create_key("account", "p2c_accountnumber", ["accountnumber"])
    crm.wait_for_key("account", "p2c_accountnumber", timeout=20, poll=0.1)
    return "accountnumber"
