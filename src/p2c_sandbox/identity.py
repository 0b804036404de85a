"""An emulated Microsoft Entra ID: OpenID discovery and the client-credentials token endpoint.

Tokens are JWTs signed with HS256 by a key kept in the sandbox's data directory, so they survive
a restart. Each token is bound to the resource it was asked for (``scope=<resource>/.default`` on
v2.0, ``resource=<resource>`` on v1): the CRM and ERP servers accept only tokens whose ``aud`` is
their own base URL, and only until ``exp``.

Example::

    >>> issuer = TokenIssuer(ServerCredentials(), "https://127.0.0.1:8440", lifetime=60)
    >>> token = issuer.issue("https://127.0.0.1:8441")
    >>> issuer.verify(token, "https://127.0.0.1:8441")["aud"]
    'https://127.0.0.1:8441'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from p2c_sandbox.config import ServerCredentials

__all__ = ["IdentityApp", "TokenError", "TokenIssuer", "normalize_resource"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class TokenError(Exception):
    """A bearer token was missing, malformed, expired or meant for another resource."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def normalize_resource(resource: str) -> str:
    """``https://Host:8441/`` and ``https://host:8441`` name the same resource."""
    resource = resource.strip().rstrip("/")
    scheme, sep, rest = resource.partition("://")
    return f"{scheme.lower()}{sep}{rest.lower()}" if sep else resource.lower()


class TokenIssuer:
    def __init__(self, credentials: ServerCredentials, identity_url: str, lifetime: int) -> None:
        self.credentials = credentials
        self.identity_url = identity_url.rstrip("/")
        self.lifetime = lifetime
        self._key = credentials.signing_key.encode("ascii")

    @property
    def issuer(self) -> str:
        return f"{self.identity_url}/{self.credentials.tenant_id}/v2.0"

    def issue(self, resource: str, lifetime: int | None = None) -> str:
        now = int(time.time())
        life = self.lifetime if lifetime is None else lifetime
        header = {"typ": "JWT", "alg": "HS256", "kid": "p2c-sandbox"}
        claims = {
            "aud": normalize_resource(resource),
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + life,
            "appid": self.credentials.client_id,
            "azp": self.credentials.client_id,
            "tid": self.credentials.tenant_id,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.credentials.client_id)),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, self.credentials.client_id)),
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
        sig = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(sig)}"

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        """Return the claims, or raise :class:`TokenError` with the reason."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("The access token is malformed.")
        signing_input = f"{parts[0]}.{parts[1]}"
        expected = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        try:
            ok = hmac.compare_digest(expected, _unb64(parts[2]))
            claims = orjson.loads(_unb64(parts[1]))
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise TokenError("The access token is malformed.") from exc
        if not ok or not isinstance(claims, dict):
            raise TokenError("The access token signature is invalid.")
        if int(claims.get("exp", 0)) <= time.time():
            raise TokenError("The access token has expired.")
        if claims.get("aud") != normalize_resource(audience):
            raise TokenError(f"The access token's audience '{claims.get('aud')}' is not this resource.")
        return claims


def _entra_error(status: int, error: str, code: int, description: str) -> tuple[int, dict[str, Any]]:
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    text = f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} Timestamp: {stamp}"
    return status, {
        "error": error,
        "error_description": text,
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": "https://login.microsoftonline.com/error?code=" + str(code),
    }


class IdentityApp:
    """ASGI app of the emulated Entra ID. ``resources`` are the base URLs tokens may be issued for."""

    def __init__(self, issuer: TokenIssuer, resources: Callable[[], Iterable[str]]) -> None:
        self.issuer = issuer
        self.resources = resources

    def token_response(self, tenant: str, form: dict[str, str], v1: bool) -> tuple[int, dict[str, Any]]:
        creds = self.issuer.credentials
        if tenant.lower() != creds.tenant_id.lower():
            return _entra_error(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have "
                "the correct tenant ID and are signing into the correct cloud.",
            )
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return _entra_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'. This sandbox supports client_credentials.",
            )
        client_id = form.get("client_id", "")
        if client_id.lower() != creds.client_id.lower():
            return _entra_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            )
        if "client_assertion" in form:
            return _entra_error(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation. The sandbox accepts client secrets only.",
            )
        secret = form.get("client_secret", "")
        if not hmac.compare_digest(secret.encode(), creds.client_secret.encode()):
            return _entra_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{creds.client_id}'.",
            )
        if v1:
            resource = form.get("resource", "")
        else:
            scopes = form.get("scope", "").split()
            resource = ""
            for scope in scopes:
                if scope.endswith("/.default"):
                    resource = scope[: -len("/.default")]
            if not resource:
                return _entra_error(
                    400,
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {form.get('scope', '')} is not valid. Client credential "
                    "flows must have a scope value with /.default suffixed to the resource identifier.",
                )
        known = {normalize_resource(r) for r in self.resources()}
        if normalize_resource(resource) not in known:
            return _entra_error(
                400,
                "invalid_resource" if v1 else "invalid_scope",
                500011,
                f"The resource principal named {resource} was not found in the tenant named {tenant}.",
            )
        token = self.issuer.issue(resource)
        life = self.issuer.lifetime
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": life,
            "ext_expires_in": life,
            "access_token": token,
        }
        if v1:
            now = int(time.time())
            body.update({"expires_on": str(now + life), "not_before": str(now), "resource": resource})
            body["expires_in"] = str(life)
        return 200, body

    def discovery(self, tenant: str) -> dict[str, Any]:
        base = f"{self.issuer.identity_url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{self.issuer.identity_url}/{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{self.issuer.identity_url}/{self.issuer.credentials.tenant_id}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{self.issuer.identity_url}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "p2c.sandbox",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        parts = [p for p in scope["path"].split("/") if p]
        method = scope["method"]
        status: int = 404
        payload: dict[str, Any] = {
            "error": "invalid_request",
            "error_description": "AADSTS900561: Unknown endpoint.",
        }
        if len(parts) >= 2:
            tenant, rest = parts[0], "/".join(parts[1:])
            if method == "GET" and rest == "v2.0/.well-known/openid-configuration":
                known = tenant.lower() in (
                    self.issuer.credentials.tenant_id.lower(),
                    "common",
                    "organizations",
                )
                status, payload = (
                    (200, self.discovery(tenant))
                    if known
                    else _entra_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
                )
            elif rest in ("oauth2/v2.0/token", "oauth2/token"):
                if method != "POST":
                    status, payload = _entra_error(
                        405, "invalid_request", 900561, "The endpoint only accepts POST requests."
                    )
                else:
                    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                    status, payload = self.token_response(tenant, form, v1=rest == "oauth2/token")
            elif method == "GET" and rest == "discovery/v2.0/keys":
                status, payload = 200, {"keys": []}
        data = orjson.dumps(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(data)).encode()),
                    (b"cache-control", b"no-store, no-cache"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
