"""The engine's read-only access to both systems, handed to flows (:class:`p2c.flows.Reads`).

Flows read through this and nothing else: it pages and chunks (``read_by_values``), and has no
write method, so a flow cannot write behind the engine's back. A whole table a flow reads (the CRM's
price lists, to choose one) is shown to ``learn`` (:meth:`RelatedResolver.learn`): a lookup into
that table by one of its columns is then answered without a read of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from p2c.connectors import Connector
from p2c.settings import System

__all__ = ["ConnectorReads"]


#: rows read from a system's table, whole
Learn = Callable[[System, str, list[dict[str, Any]]], None]


class ConnectorReads:
    def __init__(self, connectors: Mapping[System, Connector], learn: Learn | None = None) -> None:
        self._connectors = connectors
        self._learn = learn

    def rows(
        self, system: System, entity: str, select: Sequence[str], filter: str | None = None
    ) -> Iterator[dict[str, Any]]:
        for page in self._connectors[system].read(entity, select=list(select), filter=filter):
            if filter is None and self._learn is not None:  # every row: what a lookup would find
                self._learn(system, entity, page)
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
