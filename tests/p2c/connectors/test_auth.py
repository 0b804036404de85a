"""Tokens from the sandbox's identity server through msal, refresh on 401, and redaction of secrets."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import httpx
import pytest

from p2c.connectors import (
    DataverseConnector,
    FnoConnector,
    MsalTokenProvider,
    OpKind,
    RedactingFilter,
    Redactor,
    StaticTokenProvider,
    WriteOp,
)
from p2c.errors import AuthError, RecordError

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJodHRwczovL3gifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_redactor_masks_registered_secrets_bearer_tokens_and_jwts() -> None:
    r = Redactor(["p2c~very-secret-value"])
    text = f"secret=p2c~very-secret-value auth=Authorization: Bearer abcdefghijklmnop123 token {JWT}"
    assert r.text(text) == "secret=*** auth=Authorization: Bearer *** token ***"
    assert r.text("the bearer token is missing") == "the bearer token is missing"
    # the shortest token the patterns know is masked too (short values skip the token patterns)
    assert r.text("eyJabcd.efgh.") == "***" and r.text("eyJabc.efgh.") == "eyJabc.efgh."
    data = {
        "headers": {"Authorization": "Bearer x", "Accept": "application/json"},
        "client_secret": "anything",
        "rows": [{"note": "p2c~very-secret-value"}],
    }
    assert r.data(data) == {
        "headers": {"Authorization": "***", "Accept": "application/json"},
        "client_secret": "***",
        "rows": [{"note": "***"}],
    }


def test_a_flat_record_is_masked_field_by_field_only_where_a_secret_is() -> None:
    """A record of plain values (what an outcome stores) is scanned once, joined; wherever a
    secret, a bearer token or a JWT is, that field is masked as on its own, and nothing else."""
    r = Redactor(["p2c~very-secret-value"])
    plain = {"name": "Contoso", "credit": Decimal("10.50"), "n": 3, "active": True, "none": None}
    assert r.data(plain) == plain
    assert r.data(plain) is not plain  # a copy: the caller may keep the original
    record = {
        **plain,
        "note": "key p2c~very-secret-value",
        "header": "Bearer abcdefghijklmnop123",
        "doc": f"t {JWT}",
        "password": "hunter22",
        "split": "p2c~very-",  # half a secret here...
        "rest": "secret-value",  # ...and half there is no secret
    }
    assert r.data(record) == {
        **plain,
        "note": "key ***",
        "header": "Bearer ***",
        "doc": "t ***",
        "password": "***",
        "split": "p2c~very-",
        "rest": "secret-value",
    }
    assert r.data({"token": "", "secret": None}) == {"token": "", "secret": None}  # empty: nothing to hide


def test_a_chunks_records_are_masked_as_each_on_its_own() -> None:
    """``records`` looks at a chunk's texts at once: each record comes back as ``data`` gives it,
    a copy, whether no record, one record or only a sensitive key holds a secret."""
    r = Redactor(["p2c~very-secret-value"])
    plain = [
        {"name": f"Contoso {n}", "credit": Decimal("10.50"), "n": n, "active": True, "none": None}
        for n in range(3)
    ]
    out = r.records(plain)
    assert out == plain and all(o is not p for o, p in zip(out, plain, strict=True))
    chunks = [
        [*plain, {"name": "x", "note": "key p2c~very-secret-value"}],  # a secret in one record
        [{"name": "Bearer abcdefghijklmnop123"}, *plain],  # a bearer token in the first
        [*plain[:1], {"name": f"t {JWT}"}],  # a JWT
        [*plain, {"name": "y", "password": "hunter22"}],  # a sensitive key only
        [*plain, {"name": "z", "rows": [{"note": "p2c~very-secret-value"}]}],  # nested data
        [{"split": "p2c~very-"}, {"rest": "secret-value"}],  # half a secret in each: none
    ]
    for chunk in chunks:
        assert r.records(chunk) == [r.data(c) for c in chunk]
    assert r.records(chunks[0])[-1]["note"] == "key ***"
    assert r.records(chunks[3])[-1]["password"] == "***"
    assert r.records(chunks[4])[-1]["rows"] == [{"note": "***"}]


def test_redacting_filter_cleans_log_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("p2c.test.redaction")
    flt = RedactingFilter(Redactor(["hunter2-secret"]))
    logger.addFilter(flt)
    try:
        with caplog.at_level(logging.INFO, logger="p2c.test.redaction"):
            logger.info("connecting with %s and %s", "hunter2-secret", JWT)
    finally:
        logger.removeFilter(flt)
    assert caplog.messages == ["connecting with *** and ***"]


def msal_provider(sandbox: Any, http: httpx.Client, **kw: Any) -> MsalTokenProvider:
    args: dict[str, Any] = {
        "client_secret": sandbox.credentials.client_secret,
        "resource": sandbox.crm_url,
        "http_client": http,
    }
    args.update(kw)
    return MsalTokenProvider(sandbox.authority, sandbox.credentials.client_id, **args)


def test_msal_token_is_cached_then_refreshed_before_expiry(sandbox: Any, http: httpx.Client) -> None:
    now = [1000.0]
    tokens = msal_provider(sandbox, http, clock=lambda: now[0])
    first = tokens.token()
    assert tokens.token() == first  # cached
    now[0] += 3600 - 200  # within five minutes of expiry
    second = tokens.token()
    assert second != first
    assert tokens.token(force_refresh=True) not in (first, second)
    sandbox.sb.issuer.verify(second, sandbox.crm_url)  # a real token for the CRM


def test_a_wrong_secret_is_an_auth_error_without_the_secret(sandbox: Any, http: httpx.Client) -> None:
    wrong = "p2c~not-the-right-secret-at-all"
    tokens = msal_provider(sandbox, http, client_secret=wrong)
    with pytest.raises(AuthError) as info:
        tokens.token()
    text = str(info.value)
    assert "invalid_client" in text and "AADSTS7000215" in text
    assert info.value.code == "AADSTS7000215"
    assert wrong not in text and wrong not in repr(info.value.as_dict())


def test_an_unknown_resource_is_refused(sandbox: Any, http: httpx.Client) -> None:
    tokens = msal_provider(sandbox, http, resource="https://elsewhere.example.com")
    with pytest.raises(AuthError, match="AADSTS500011"):
        tokens.token()


class ExpiredFirst:
    """Gives an expired token until asked to refresh (a token that expired between two calls)."""

    def __init__(self, sandbox: Any, resource: str) -> None:
        self.sandbox, self.resource, self.refreshes = sandbox, resource, 0

    def token(self, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
            return str(self.sandbox.sb.issuer.issue(self.resource))
        return str(self.sandbox.sb.issuer.issue(self.resource, lifetime=-1))


def test_a_401_refreshes_the_token_once_and_retries(sandbox: Any, http: httpx.Client) -> None:
    tokens = ExpiredFirst(sandbox, sandbox.crm_url)
    crm = DataverseConnector(sandbox.crm_url, tokens, http)
    assert crm.whoami()["UserId"]
    assert tokens.refreshes == 1
    erp_tokens = ExpiredFirst(sandbox, sandbox.erp_url)
    erp = FnoConnector(sandbox.erp_url, erp_tokens, http)
    assert erp.get("CustomerGroups", {"dataAreaId": "usmf", "CustomerGroupId": "10"}) is not None
    assert erp_tokens.refreshes == 1


def test_a_token_refused_after_refresh_is_an_auth_error_without_the_token(
    sandbox: Any, http: httpx.Client
) -> None:
    expired = sandbox.sb.issuer.issue(sandbox.erp_url, lifetime=-1)
    erp = FnoConnector(sandbox.erp_url, StaticTokenProvider(expired), http)
    with pytest.raises(AuthError) as info:
        erp.write("CustomersV3", [WriteOp(OpKind.UPSERT, {"dataAreaId": "usmf", "CustomerAccount": "X"}, {})])
    assert info.value.status == 401
    assert expired not in str(info.value) and expired not in str(info.value.detail)


def test_no_secret_or_token_in_logs_or_errors(
    sandbox: Any, crm: DataverseConnector, erp: FnoConnector, caplog: pytest.LogCaptureFixture
) -> None:
    secret = sandbox.credentials.client_secret
    with caplog.at_level(logging.DEBUG):
        crm.whoami()
        results = erp.write(
            "CustomersV3",
            [
                WriteOp(
                    OpKind.UPSERT,
                    {"dataAreaId": "usmf", "CustomerAccount": "LOG-1"},
                    {"CustomerGroupId": "99"},
                )
            ],
        )
        with pytest.raises(RecordError) as refused:
            list(crm.read("accounts", select=["name"], filter="bogus eq 1"))
    assert results[0].error is not None
    error_text = str(results[0].error) + repr(results[0].error.as_dict()) + str(refused.value)
    tokens = {crm._session.tokens.token(), erp._session.tokens.token()}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "expected request logs"
    for value in (secret, *tokens):
        assert value not in logged
        assert value not in error_text


def test_from_settings_builds_client_tokens_and_connector(sandbox: Any) -> None:
    settings = {
        "authority": sandbox.authority,
        "client_id": sandbox.credentials.client_id,
        "client_secret": sandbox.credentials.client_secret,
        "ca_bundle": str(sandbox.ca_path),
    }
    with DataverseConnector.from_settings(url=sandbox.crm_url, page_size=10, **settings) as crm:
        assert crm.api_url == f"{sandbox.crm_url}/api/data/v9.2"
        assert crm.whoami()["UserId"]
    with FnoConnector.from_settings(url=sandbox.erp_url, batch_size=50, **settings) as erp:
        assert erp.api_url == f"{sandbox.erp_url}/data"
        assert erp.get("CustomerGroups", {"dataAreaId": "usmf", "CustomerGroupId": "10"})
