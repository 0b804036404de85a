"""Access tokens (Entra ID client credentials, through msal) and the redaction of secrets.

:class:`MsalTokenProvider` asks Entra ID — or the sandbox's identity server, the same code — for
a token for ``<resource>/.default``, keeps it, and asks again about five minutes before it
expires, or at once when a service answered 401 (``token(force_refresh=True)``). Its errors keep
Entra's ``error`` and ``error_description`` (with the ``AADSTS`` code) and never the secret.

:class:`Redactor` masks registered secrets, ``Authorization: Bearer ...`` values and anything
that looks like a JWT, in text and in nested dicts; logs, errors and stored payloads go through it.

Example::

    >>> r = Redactor(["s3cret"])
    >>> r.text("client_secret=s3cret; Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln")
    'client_secret=***; Authorization: Bearer ***'
    >>> r.data({"headers": {"Authorization": "Bearer abc"}, "name": "Contoso"})
    {'headers': {'Authorization': '***'}, 'name': 'Contoso'}
"""

from __future__ import annotations

import functools
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx
import msal

from p2c.errors import AuthError, ConfigError, P2CError, ServiceUnavailableError

__all__ = ["MsalTokenProvider", "RedactingFilter", "Redactor", "StaticTokenProvider", "TokenProvider"]

MASK = "***"
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]{12,}=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SHORTEST_TOKEN = 13  # "eyJ" + 4 + "." + 4 + "." (a bearer header is longer still)
_SENSITIVE_KEYS = re.compile(
    r"(?i)^(authorization|proxy-authorization|client_secret|clientsecret|secret|password|passwd|"
    r"access_token|refresh_token|id_token|token|client_assertion|private_key|api_key|apikey)$"
)


@functools.lru_cache(maxsize=4096)
def _sensitive(key: object) -> bool:
    """A key whose value is a secret whatever it holds (field names repeat: the answer is cached)."""
    return isinstance(key, str) and _SENSITIVE_KEYS.match(key) is not None


#: values :meth:`Redactor.data` masks part by part (a ``str`` subclass too: an enum's value)
_NESTED = (str, dict, list, tuple)


@functools.lru_cache(maxsize=1024)
def _sensitive_keys(keys: tuple[Any, ...]) -> frozenset[Any]:
    """The keys among ``keys`` whose values are secrets whatever they hold (:func:`_sensitive`)."""
    return frozenset(k for k in keys if _sensitive(k))


@dataclass(frozen=True)
class ConnectionOrigin:
    """Which connection of which file a connector was built from, for errors a person must fix there."""

    name: str  # "crm" or "erp"
    file: str

    def config_error(self, reason: str, setting: str) -> ConfigError:
        return ConfigError(
            f"the {self.name} connection: {reason}", entity=self.file, field=f"{self.name}.{setting}"
        )


def tls_untrusted(exc: BaseException) -> str | None:
    """The reason when ``exc`` (an httpx error) is a certificate the client does not trust, else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return getattr(seen, "verify_message", None) or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


#: Entra answers for credentials that are wrong, expired or of an unknown app
_BAD_CREDENTIALS = {7000215, 7000222, 700016, 700027}


class Redactor:
    """Masks secret values, bearer tokens and JWTs in strings and nested data. Thread-safe."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._known: tuple[str, ...] = ()  # the secrets, for :meth:`_hinted`
        for s in secrets:
            self.register(s)

    def register(self, secret: str | None) -> None:
        """Remember a value to mask wherever it appears (values shorter than 4 characters are ignored)."""
        if not secret or len(secret) < 4:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            self._known = tuple(ordered)

    def _hinted(self, text: str) -> bool:
        """A secret or the start of a token anywhere in ``text``: one look at a record's texts,
        joined, tells whether any of them needs masking (most records: none). Substring searches,
        not a pattern of alternatives: a fifth of the time on a record of twenty fields."""
        # what any token the two patterns above mask contains: "bearer" in any case, or "eyJ"
        return "eyJ" in text or "bearer" in text.lower() or any(s in text for s in self._known)

    def text(self, value: str) -> str:
        if not value:
            return value
        pattern = self._pattern
        if pattern is not None:
            value = pattern.sub(MASK, value)
        if len(value) < _SHORTEST_TOKEN:  # most values of a record: no token fits in them
            return value
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        return _JWT.sub(MASK, value)

    def records(self, values: Sequence[Mapping[str, Any]]) -> list[Any]:
        """:meth:`data` of each of ``values`` (the payloads of one chunk): when none nests data and
        no text of any of them hints at a secret — one look at all their texts, joined — each is
        a copy with only its sensitive keys masked; else each is masked on its own."""
        if any(type(v) is not dict for v in values):
            return [self.data(v) for v in values]
        kinds = {type(x) for v in values for x in v.values()}
        texts = "\n".join([x for v in values for x in v.values() if type(x) is str])
        if any(t is not str and issubclass(t, _NESTED) for t in kinds) or self._hinted(texts):
            return [self.data(v) for v in values]
        out: list[Any] = []
        for value in values:
            sensitive = _sensitive_keys(tuple(value))
            out.append(
                {k: (MASK if v and k in sensitive else v) for k, v in value.items()}
                if sensitive
                else dict(value)
            )
        return out

    def data(self, value: Any) -> Any:
        """A copy of ``value`` (dicts, lists, strings) with secrets masked; sensitive keys masked whole."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            sensitive = _sensitive_keys(tuple(value))  # a record's keys repeat record after record
            out = (
                {k: (MASK if v and k in sensitive else v) for k, v in value.items()}
                if sensitive
                else dict(value)
            )
            if any(t is not str and issubclass(t, _NESTED) for t in set(map(type, out.values()))):
                return {k: self.data(v) for k, v in out.items()}  # nested: each part masked on its own
            texts = [v for v in out.values() if type(v) is str]
            if texts and self._hinted("\n".join(texts)):  # a secret somewhere: each text masked
                return {k: self.text(v) if type(v) is str else v for k, v in out.items()}
            return out  # a flat record with no secret in it: only its sensitive keys masked
        if isinstance(value, list | tuple):
            return type(value)(self.data(v) for v in value)
        return value


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record's message (attach to a handler or logger)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redactor.text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


@runtime_checkable
class TokenProvider(Protocol):
    """Gives a bearer token for one resource; ``force_refresh`` after the service answered 401."""

    def token(self, force_refresh: bool = False) -> str: ...


class StaticTokenProvider:
    """A fixed token (tests, or a token obtained elsewhere). ``force_refresh`` cannot help it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self, force_refresh: bool = False) -> str:
        return self._token


def _is_public_cloud(authority: str) -> bool:
    host = (urlsplit(authority).hostname or "").lower()
    return host in {"login.microsoftonline.com", "login.windows.net", "sts.windows.net"}


class MsalTokenProvider:
    """Client-credentials tokens from Entra ID (or the sandbox) through msal, cached and refreshed.

    Give a ``client_secret`` or a ``certificate=(private_key_pem, thumbprint)``. ``http_client``
    is the httpx client msal uses — build it with the CA bundle of the connection: msal's own
    ``verify=`` loses to ``REQUESTS_CA_BUNDLE`` inside requests, an injected client does not.

    Example::

        tokens = MsalTokenProvider(
            "https://login.microsoftonline.com/<tenant>", "<client id>", client_secret=secret,
            resource="https://contoso.crm4.dynamics.com", http_client=httpx.Client(verify=ca_path))
        tokens.token()   # 'eyJ0eXAi...'
    """

    def __init__(
        self,
        authority: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        certificate: tuple[str, str] | None = None,
        resource: str,
        http_client: httpx.Client,
        refresh_margin: float = 300.0,
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.time,
        origin: ConnectionOrigin | None = None,
    ) -> None:
        self.origin = origin
        if (client_secret is None) == (certificate is None):
            raise AuthError("give exactly one of client_secret and certificate", entity=authority)
        self.redactor = redactor or Redactor()
        self.redactor.register(client_secret)
        credential: str | dict[str, str]
        if certificate is not None:
            private_key, thumbprint = certificate
            self.redactor.register(private_key)
            credential = {"private_key": private_key, "thumbprint": thumbprint}
        else:
            assert client_secret is not None
            credential = client_secret
        self.authority = authority.rstrip("/")
        self.resource = resource.rstrip("/")
        self.scopes = [f"{self.resource}/.default"]
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        try:
            self._app = msal.ConfidentialClientApplication(
                client_id,
                client_credential=credential,
                authority=self.authority,
                instance_discovery=_is_public_cloud(self.authority),
                http_client=http_client,
            )
        except ValueError as exc:  # msal validates the authority and the credential eagerly
            raise AuthError(self.redactor.text(str(exc)), entity=self.authority) from None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: httpx.HTTPError) -> P2CError:
        """No answer from the identity server, or — named as such — one whose certificate is not trusted."""
        untrusted = tls_untrusted(exc)
        if untrusted is not None and self.origin is not None:
            host = urlsplit(self.authority).netloc
            return self.origin.config_error(
                f"the TLS certificate of {host} is not trusted ({untrusted}); set ca_bundle to the certificate "
                "authority that signed it (the sandbox's is its ca.pem)",
                "ca_bundle",
            )
        return ServiceUnavailableError(
            f"identity server unreachable: {self.redactor.text(str(exc))}", entity=self.authority
        )

    def token(self, force_refresh: bool = False) -> str:
        with self._lock:
            now = self._clock()
            if self._token is not None and not force_refresh and now < self._refresh_at:
                return self._token
            if self._token is not None:
                # msal would answer from its own cache until its own 5-minute margin: skip it
                self._app.remove_tokens_for_client()
            result = self._acquire()
            token = result.get("access_token")
            if not isinstance(token, str) or not token:
                raise self._error(result)
            self.redactor.register(token)
            lifetime = float(result.get("expires_in") or 3600)
            self._token = token
            self._expires_at = now + lifetime
            self._refresh_at = self._expires_at - min(self.refresh_margin, lifetime / 2)
            return token

    def _acquire(self) -> dict[str, Any]:
        try:
            result = self._app.acquire_token_for_client(scopes=self.scopes)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        except ValueError as exc:  # e.g. the authority's discovery document could not be read
            raise AuthError(self.redactor.text(str(exc)), entity=self.authority) from None
        return result if isinstance(result, dict) else {}

    def _error(self, result: dict[str, Any]) -> AuthError:
        error = str(result.get("error") or "no_token")
        description = str(result.get("error_description") or "the identity server returned no access token")
        codes = result.get("error_codes") or []
        reason = f"{error}: {description}"
        if self.origin is not None and (error == "invalid_client" or _BAD_CREDENTIALS & set(codes)):
            reason = (
                f"the {self.origin.name} connection's credentials were refused ({reason}); fix client_id and "
                f"client_secret (or the variable it names) of {self.origin.name} in {self.origin.file}"
            )
        return AuthError(
            self.redactor.text(reason),
            entity=self.authority,
            code=f"AADSTS{codes[0]}" if codes else error,
            detail={"scope": self.scopes[0]},
        )
