"""The emulated Entra ID: discovery, client-credentials tokens, and how CRM/ERP check them."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import msal
import pytest

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.server import Sandbox


def _msal(sandbox, secret: str | None = None) -> msal.ConfidentialClientApplication:  # type: ignore[no-untyped-def]
    # msal's own `verify=` loses to REQUESTS_CA_BUNDLE inside requests; an injected client does not.
    return msal.ConfidentialClientApplication(
        sandbox.credentials.client_id,
        authority=sandbox.authority,
        client_credential=secret or sandbox.credentials.client_secret,
        instance_discovery=False,
        http_client=sandbox.trusted_client(),
    )


def test_msal_obtains_a_token_that_the_crm_accepts(sandbox) -> None:  # type: ignore[no-untyped-def]
    result = _msal(sandbox).acquire_token_for_client(scopes=[f"{sandbox.crm_url}/.default"])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    crm = sandbox.crm(token=result["access_token"])
    assert crm.get("WhoAmI").status_code == 200


def test_msal_caches_the_token_until_near_expiry(sandbox) -> None:  # type: ignore[no-untyped-def]
    app = _msal(sandbox)
    first = app.acquire_token_for_client(scopes=[f"{sandbox.erp_url}/.default"])
    second = app.acquire_token_for_client(scopes=[f"{sandbox.erp_url}/.default"])
    assert first["token_source"] == "identity_provider"
    assert second["token_source"] == "cache"
    assert second["access_token"] == first["access_token"]


def test_openid_discovery_document(sandbox) -> None:  # type: ignore[no-untyped-def]
    tenant = sandbox.credentials.tenant_id
    doc = sandbox.identity().get(f"/{tenant}/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == f"{sandbox.identity_url}/{tenant}/oauth2/v2.0/token"
    assert doc["issuer"].endswith(f"/{tenant}/v2.0")


def _token(sandbox, **form: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    data = {
        "client_id": sandbox.credentials.client_id,
        "client_secret": sandbox.credentials.client_secret,
        "grant_type": "client_credentials",
        "scope": f"{sandbox.crm_url}/.default",
    }
    data.update(form)
    tenant = data.pop("tenant", sandbox.credentials.tenant_id)
    return sandbox.identity().post(f"/{tenant}/oauth2/v2.0/token", data=data)


@pytest.mark.parametrize(
    ("form", "status", "error", "aadsts"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", "AADSTS7000215"),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400, "unauthorized_client", "AADSTS700016"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", "AADSTS70003"),
        ({"scope": "https://elsewhere.example/.default"}, 400, "invalid_scope", "AADSTS500011"),
        ({"scope": "openid"}, 400, "invalid_scope", "AADSTS1002012"),
        ({"tenant": "not-a-tenant"}, 400, "invalid_request", "AADSTS90002"),
    ],
)
def test_token_errors_are_entra_shaped(sandbox, form, status, error, aadsts) -> None:  # type: ignore[no-untyped-def]
    r = _token(sandbox, **form)
    assert r.status_code == status
    body = r.json()
    assert body["error"] == error
    assert body["error_description"].startswith(aadsts + ":")
    assert sandbox.credentials.client_secret not in r.text


def test_v1_endpoint_takes_a_resource(sandbox) -> None:  # type: ignore[no-untyped-def]
    tenant = sandbox.credentials.tenant_id
    r = sandbox.identity().post(
        f"/{tenant}/oauth2/token",
        data={
            "client_id": sandbox.credentials.client_id,
            "client_secret": sandbox.credentials.client_secret,
            "grant_type": "client_credentials",
            "resource": sandbox.erp_url,
        },
    )
    assert r.status_code == 200
    assert sandbox.erp(token=r.json()["access_token"]).get("").status_code == 200


def test_a_token_is_bound_to_its_resource(sandbox) -> None:  # type: ignore[no-untyped-def]
    crm_token = _token(sandbox).json()["access_token"]
    assert sandbox.crm(token=crm_token).get("WhoAmI").status_code == 200
    r = sandbox.erp(token=crm_token).get("CustomerGroups")
    assert r.status_code == 401
    assert "audience" in r.text


@pytest.mark.parametrize("token", [None, "not-a-jwt", "a.b.c"])
def test_missing_or_malformed_tokens_are_refused(sandbox, token) -> None:  # type: ignore[no-untyped-def]
    r = sandbox.crm(token=token).get("accounts")
    assert r.status_code == 401
    assert "bearer" in r.headers["www-authenticate"].lower()


def test_a_tampered_token_is_refused(sandbox) -> None:  # type: ignore[no-untyped-def]
    token = sandbox.token(sandbox.crm_url)
    head, claims, sig = token.split(".")
    forged = f"{head}.{claims}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    assert sandbox.crm(token=forged).get("accounts").status_code == 401


def test_an_expired_token_is_refused(sandbox) -> None:  # type: ignore[no-untyped-def]
    expired = sandbox.token(sandbox.crm_url, lifetime=-1)
    r = sandbox.crm(token=expired).get("accounts")
    assert r.status_code == 401
    assert "expired" in r.text


def test_token_lifetime_is_configurable_and_enforced(tmp_path: Path) -> None:
    sb = Sandbox(
        SandboxConfig(
            data_dir=tmp_path, identity_port=0, crm_port=0, erp_port=0, seed="empty", token_lifetime_seconds=1
        )
    )
    sb.start()
    try:
        with httpx.Client(verify=sb.ssl_context()) as c:
            r = c.post(
                f"{sb.authority}/oauth2/v2.0/token",
                data={
                    "client_id": sb.credentials.client_id,
                    "client_secret": sb.credentials.client_secret,
                    "grant_type": "client_credentials",
                    "scope": f"{sb.erp_url}/.default",
                },
            )
            assert r.json()["expires_in"] == 1
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert c.get(f"{sb.erp_url}/data/", headers=headers).status_code == 200
            time.sleep(1.2)
            assert c.get(f"{sb.erp_url}/data/", headers=headers).status_code == 401
    finally:
        sb.stop()
