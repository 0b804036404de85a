"""Build the two connectors of a project from its connection set (the one place that does).

Example::

    with open_connectors(project.connections) as (crm, erp):
        crm.whoami()
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from p2c.connectors import ConnectionOrigin, DataverseConnector, FnoConnector, RedactingFilter, Redactor
from p2c.errors import ConfigError
from p2c.project import Project
from p2c.settings import Connection, ConnectionSet, System
from p2c.store import StateStore

__all__ = ["Connectors", "ProjectSession", "connector_for", "open_connectors", "open_project"]


@dataclass
class Connectors:
    crm: DataverseConnector
    erp: FnoConnector

    def close(self) -> None:
        self.crm.close()
        self.erp.close()

    def __iter__(self) -> Iterator[Any]:
        yield self.crm
        yield self.erp


def _plain(
    conn: Connection, what: str, redactor: Redactor, batch_size: int | None, concurrency: int | None
) -> dict[str, Any]:
    if not conn.authority or not conn.client_id:
        raise ConfigError("needs 'authority' and 'client_id'", entity="connections", field=what)
    secret = conn.client_secret.get_secret_value() if conn.client_secret is not None else None
    if secret:
        redactor.register(secret)
    certificate = None
    if conn.certificate_path is not None:
        if not conn.certificate_thumbprint:
            raise ConfigError(
                "certificate_path needs certificate_thumbprint", entity="connections", field=what
            )
        certificate = (conn.certificate_path.read_text(), conn.certificate_thumbprint)
    if secret is None and certificate is None:
        raise ConfigError("needs client_secret or certificate_path", entity="connections", field=what)
    options: dict[str, Any] = {
        "concurrency": concurrency or conn.concurrency,
        "redactor": redactor,
        "unreachable_after": conn.unreachable_after,
    }
    if conn.page_size:
        options["page_size"] = conn.page_size
    size = conn.batch_size or batch_size
    if size:
        options["batch_size"] = size
    return {
        "url": conn.api or _default_api(conn),
        "authority": conn.authority,
        "client_id": conn.client_id,
        "client_secret": secret,
        "certificate": certificate,
        "ca_bundle": str(conn.ca_bundle) if conn.ca_bundle else None,
        "timeout": conn.timeout,
        **options,
    }


def _default_api(conn: Connection) -> str:
    base = conn.url.rstrip("/")
    return f"{base}/api/data/v9.2/" if conn.kind.value == "crm" else f"{base}/data/"


def connector_for(
    conn: Connection,
    redactor: Redactor,
    *,
    batch_size: int | None = None,
    concurrency: int | None = None,
    source: str | None = None,
) -> DataverseConnector | FnoConnector:
    """The connector of ``conn``; ``source`` (the file it came from) lets its errors say where to fix it."""
    values = _plain(conn, conn.kind.value, redactor, batch_size, concurrency)
    values["origin"] = ConnectionOrigin(conn.kind.value, source or "the connection set")
    if conn.kind.value == "crm":
        return DataverseConnector.from_settings(**values)
    return FnoConnector.from_settings(**values)


@contextmanager
def open_connectors(
    connections: ConnectionSet,
    redactor: Redactor | None = None,
    *,
    batch_size: int | None = None,
    concurrency: int | None = None,
) -> Iterator[Connectors]:
    """Both connectors, closed on exit. Secrets are registered with ``redactor`` first."""
    red = redactor or Redactor()
    where = connections.source
    crm = connector_for(connections.crm, red, batch_size=batch_size, concurrency=concurrency, source=where)
    try:
        erp = connector_for(
            connections.erp, red, batch_size=batch_size, concurrency=concurrency, source=where
        )
    except BaseException:
        crm.close()
        raise
    pair = Connectors(crm, erp)  # type: ignore[arg-type]
    try:
        yield pair
    finally:
        pair.close()


@dataclass
class ProjectSession:
    """A loaded project with its state store, both connectors and the redactor that knows its secrets."""

    project: Project
    store: StateStore
    connectors: Connectors
    redactor: Redactor

    @property
    def by_system(self) -> dict[System, Any]:
        return {System.CRM: self.connectors.crm, System.ERP: self.connectors.erp}


@contextmanager
def open_project(project: Project | Path | str) -> Iterator[ProjectSession]:
    """Everything a command needs for a project, closed afterwards; logs get the project's redactor."""
    from p2c.project import load_project

    redactor = Redactor()
    masking = RedactingFilter(redactor)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(masking)
    try:
        loaded = project if isinstance(project, Project) else load_project(project)
        with (
            StateStore(loaded.state_url) as store,
            open_connectors(
                loaded.connections,
                redactor,
                batch_size=loaded.settings.batch_size,
                concurrency=loaded.settings.concurrency,
            ) as conns,
        ):
            yield ProjectSession(loaded, store, conns, redactor)
    finally:  # a long-lived process (p2c serve) opens projects again and again: no filter piles up
        for handler in handlers:
            handler.removeFilter(masking)
