"""What both connectors share around their protocol work: building from settings, stats, closing.

Example::

    crm = DataverseConnector.from_settings(url=api, authority=authority, client_id=cid,
                                           client_secret=secret, ca_bundle="ca.pem")
    with crm:
        ...
    crm.stats["requests"]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from p2c.connectors.auth import ConnectionOrigin, MsalTokenProvider, Redactor, TokenProvider, tls_untrusted
from p2c.connectors.protocol import RetryPolicy
from p2c.connectors.protocol_breaker import Breaker
from p2c.connectors.protocol_errors import Service
from p2c.connectors.protocol_session import HttpSession, RequestBudget, make_client
from p2c.errors import ServiceUnavailableError, TransientError

__all__ = ["ConnectorLifecycle"]


class ConnectorLifecycle:
    """Mixin: ``from_settings``, ``stats``, ``close`` and the context manager, over ``_session``/``_client``."""

    _session: HttpSession
    _client: httpx.Client
    _owns_client: bool
    _concurrency: int = 4

    redactor: Redactor
    #: the connection (name and file) the connector was built from; set by ``from_settings``
    origin: ConnectionOrigin | None = None

    def __init__(self, url: str, tokens: TokenProvider, client: httpx.Client, **options: Any) -> None:
        raise NotImplementedError  # each connector defines its own constructor

    @property
    def concurrency(self) -> int:
        """Requests in flight at most, whatever the callers do (several writes at once included)."""
        return self._concurrency

    @concurrency.setter
    def concurrency(self, value: int) -> None:
        self._concurrency = value
        session = getattr(self, "_session", None)
        if session is not None:
            session.in_flight.limit = value

    def _open_session(
        self,
        client: httpx.Client,
        tokens: TokenProvider,
        service: Service,
        api_url: str,
        retry: RetryPolicy | None,
        redactor: Redactor | None,
        owns_client: bool,
        extra_headers: Mapping[str, str] | None = None,
        unreachable_after: float = 60.0,
    ) -> None:
        """The connector's one send loop, with the OData headers both services want (and ``extra_headers``);
        its breaker opens after ``unreachable_after`` seconds without any HTTP answer."""
        self.redactor = redactor or Redactor()
        headers = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
        self._session = HttpSession(
            client,
            tokens,
            service=service,
            root=api_url,
            headers={**headers, **(extra_headers or {})},
            retry=retry or RetryPolicy.for_service(service),
            redactor=self.redactor,
            breaker=Breaker(unreachable_after),
            concurrency=self._concurrency,
        )
        self._client = client
        self._owns_client = owns_client

    @classmethod
    def from_settings(
        cls,
        *,
        url: str,
        authority: str,
        client_id: str,
        client_secret: str | None = None,
        certificate: tuple[str, str] | None = None,
        ca_bundle: str | None = None,
        timeout: float = 120.0,
        origin: ConnectionOrigin | None = None,
        **options: Any,
    ) -> Self:
        """Build the client, msal token provider and connector from plain connection values;
        ``origin`` (the connection's name and file) lets errors say where to fix them."""
        redactor = options.pop("redactor", None) or Redactor()
        if options.get("batch_size") is None:  # not set: the connector's own default
            options.pop("batch_size", None)
        client = make_client(ca_bundle, timeout, int(options.get("concurrency", 4)))
        parts = urlsplit(url)
        tokens = MsalTokenProvider(
            authority,
            client_id,
            client_secret=client_secret,
            certificate=certificate,
            # the resource is the environment's root, without a trailing slash (FNO.md §1.10)
            resource=f"{parts.scheme}://{parts.netloc}",
            http_client=client,
            redactor=redactor,
            origin=origin,
        )
        connector = cls(url, tokens, client, redactor=redactor, owns_client=True, **options)
        connector.origin = origin
        return connector

    @property
    def service_root(self) -> str:
        """The service's API root: what a shared request budget is keyed by (one per environment)."""
        return self._session.root

    def use_budget(self, budget: RequestBudget | None) -> None:
        """Send every request through ``budget`` (shared by the workers of a scale-out), or none."""
        self._session.budget = budget

    @property
    def stats(self) -> dict[str, int]:
        """Requests, retries, throttled answers and bytes so far (for requests-per-record figures)."""
        return self._session.stats

    def probe(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """One GET of ``path`` with exactly ``params`` (``$top=1``, ``$count``): the JSON body; p2c errors raised.

        The reads page through whole tables; checks want one small answer.
        """
        found = self._session.get_json(path, params=dict(params or {}), entity=path.split("(", 1)[0])
        return dict(found or {})

    def prepare_writes(self, entity: str) -> None:
        """Learn now what writing to ``entity`` needs, so that the first write does not wait for
        it (a task calls this as it starts reading). Nothing here; Dataverse reads the table's
        definition."""

    #: the cheapest authorised GET of each service: proves the host answers and the token works
    _PING: tuple[str, Mapping[str, str]] = ("", {})

    def reachable(self) -> None:
        """Fail within a second or two when the service cannot be reached at all (connection
        refused, unknown host, TLS) or refuses the credentials; a run checks this first instead
        of spending its patient back-off (about a minute) on every task. A throttled or busy
        answer (429, 5xx) passes: the run's own retries deal with those. A run starts here, so
        this also closes the breaker a previous run may have left open."""
        path, params = self._PING
        self._session.breaker.reset()
        with self.impatient():
            try:
                self._pinged(self._ping(path, params))
            except TransientError as exc:
                untrusted = tls_untrusted(exc) if exc.status is None else None
                if untrusted is not None and self.origin is not None:
                    raise self.origin.config_error(
                        f"the TLS certificate of {self._session.root} is not trusted ({untrusted}); set ca_bundle "
                        "to the certificate authority that signed it (the sandbox's is its ca.pem)",
                        "ca_bundle",
                    ) from None
                if exc.status is None:  # no HTTP answer at all
                    raise ServiceUnavailableError(
                        f"no answer from {self._session.root}: {exc}", entity=path
                    ) from None

    def _ping(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """The check's GET (on the check's thread: impatient, counted as a check)."""
        return self._session.get_json(path, params=dict(params), entity=path) or {}

    def _pinged(self, answer: Mapping[str, Any]) -> None:
        """What the ping answered, for a connector that keeps some of it (Dataverse: the
        organisation id its WhoAmI carries)."""

    @contextlib.contextmanager
    def impatient(self) -> Iterator[None]:
        """Requests of this thread meanwhile are a check (:meth:`HttpSession.checking`): they give
        up on an unreachable host after one retry, not after a run's patient back-off, and are
        not counted as the work's; other threads (a run's first reads beside it) keep theirs."""
        with self._session.checking():
            yield

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
