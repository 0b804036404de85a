"""The engine's read-only access to both systems, handed to flows (:class:`p2c.flows.Reads`).

Flows read through this and nothing else: it pages and chunks (``read_by_values``), and has no
write method, so a flow cannot write behind the engine's back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from p2c.connectors import Connector
from p2c.settings import System

__all__ = ["ConnectorReads"]


class ConnectorReads:
    def __init__(self, connectors: Mapping[System, Connector]) -> None:
        self._connectors = connectors

    def rows(
        self, system: System, entity: str, select: Sequence[str], filter: str | None = None
    ) -> Iterator[dict[str, Any]]:
        for page in self._connectors[system].read(entity, select=list(select), filter=filter):
            yield from page

    def by_values(
        self,
        system: System,
        entity: str,
        field: str,
        values: Iterable[Any],
        select: Sequence[str],
        filter: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        pages = self._connectors[system].read_by_values(
            entity, field, values, select=list(select), filter=filter
        )
        for page in pages:
            yield from page
