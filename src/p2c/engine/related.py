"""Resolve the related values a task's mappings need, in bulk, before mapping (STYLE habit 5).

For each lookup of a mapper (``{lookup: {source, entity, by, field}}``) the engine reads the
related entity for the distinct input values in bulk (the connector's ``read_by_values``) and
hands the mapper ``related[spec.key][value] = row[field]``. Values already resolved in this run are
not asked again, nor are rows this run wrote whose written key holds both ``by`` and ``field``
(:meth:`RelatedResolver.learn`: a product upserted by number, answered with its id, is not read
back by number for its price-list item).

Example::

    resolver = RelatedResolver(catalog, {System.CRM: crm, System.ERP: erp})
    related = resolver.resolve(mapper, rows)
    payload = mapper.map(row, related)
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from p2c.catalog import Catalog
from p2c.connectors import Connector, ValuesQuery
from p2c.errors import P2CError
from p2c.mapping import LookupSpec, Mapper
from p2c.settings import System

__all__ = ["REFERENCE_ROWS", "RelatedResolver"]

log = logging.getLogger("p2c.engine")

#: rows a reference table may hold to be read whole (:meth:`RelatedResolver.preload`); a larger
#: one is asked by value, as any other table
REFERENCE_ROWS = 5000


class RelatedResolver:
    def __init__(
        self,
        catalog: Catalog,
        connectors: Mapping[System, Connector],
        lookups: Sequence[LookupSpec] = (),
    ) -> None:
        self.catalog = catalog
        self.connectors = connectors
        self._cache: dict[tuple[str, str, str], dict[Any, Any]] = {}
        self._asked: dict[tuple[str, str, str], set[Any]] = {}
        self._expected: dict[str, list[Mapping[str, Any]]] = {}
        #: the lookups of the run's tasks that written rows can answer (by a field, not the id)
        self._learnable = [s for s in dict.fromkeys(lookups) if s.by and s.by != s.field]
        self._lock = threading.Lock()  # a chunk's write (learn) runs beside another task's mapping

    def learn(self, system: System, entity: str, keys: Iterable[Mapping[str, Any]]) -> None:
        """Rows just written to ``entity``, as the service answered their keys (with the row's id
        where it said it), or the rows of a whole table a flow read (the price lists): the lookups
        by one of their fields are answered without a read."""
        specs = [s for s in self._learnable if s.entity == entity and self.system_of(s) is system]
        if not specs:
            return
        rows = list(keys)
        with self._lock:
            for spec in specs:
                table = self._cache.setdefault(spec.key, {})
                asked = self._asked.setdefault(spec.key, set())
                for row in rows:
                    value, found = row.get(spec.by or ""), row.get(spec.field)
                    if value is not None and found is not None:
                        table[value] = found
                        asked.add(_fold(value))

    def preload(self, mappers: Iterable[Mapper]) -> None:
        """The lookups of ``mappers`` into reference tables (the catalog's ``reference``: currencies,
        units, price lists), each table read whole — a system's tables together, in one request
        (:meth:`~p2c.connectors.Connector.read_tables`) — and learnt: the resolves that follow ask
        only for values a table lacks. A task's first run calls this beside its first source read,
        so its first page's lookups cost no round trip. A table of more than
        :data:`REFERENCE_ROWS` rows, or one whose read fails, is left to be asked by value."""
        tables: dict[System, dict[str, list[tuple[LookupSpec, str]]]] = {}
        for mapper in mappers:
            for spec in mapper.lookups():
                system = self.system_of(spec)
                entity = self.catalog.entity(system, spec.entity)
                if entity.reference and spec.key not in self._asked:
                    by = spec.by or entity.primary_key or (entity.key[-1] if entity.key else "")
                    uses = tables.setdefault(system, {}).setdefault(spec.entity, [])
                    if all(s.key != spec.key for s, _ in uses):
                        uses.append((spec, by))
        if not tables:
            return
        with ThreadPoolExecutor(len(tables), thread_name_prefix="p2c-reference") as pool:
            reads = {
                system: pool.submit(contextvars.copy_context().run, self._whole, system, names)
                for system, names in tables.items()
            }
        for system, read in reads.items():
            for name, rows in zip(tables[system], read.result(), strict=True):
                if rows is None:
                    continue
                with self._lock:
                    for spec, by in tables[system][name]:
                        table = self._cache.setdefault(spec.key, {})
                        asked = self._asked.setdefault(spec.key, set())
                        for row in rows:
                            if row.get(by) is not None:
                                table[row[by]] = row.get(spec.field)
                                asked.add(_fold(row[by]))

    def _whole(
        self, system: System, tables: Mapping[str, list[tuple[LookupSpec, str]]]
    ) -> list[list[dict[str, Any]] | None]:
        """The rows of each of ``tables`` (the columns its lookups need), None where a table is too
        large; every one None when the read fails (asked by value later, where a failure is
        reported with its rows)."""
        wanted = [
            (name, sorted({c for spec, by in uses for c in (by, spec.field)}))
            for name, uses in tables.items()
        ]
        try:
            return self.connectors[system].read_tables(wanted, limit=REFERENCE_ROWS)
        except P2CError as exc:
            log.debug(
                "reading %s whole ahead failed (their lookups are asked by value): %s", list(tables), exc
            )
            return [None] * len(wanted)

    def expect(self, entity: str, payloads: Iterable[Mapping[str, Any]]) -> None:
        """Records an earlier task of a *plan* would create in ``entity``: later tasks of the plan find
        them (``(new products D0001)`` where the service would give an id) instead of waiting."""
        self._expected.setdefault(entity, []).extend(payloads)
        for key, asked in self._asked.items():
            if key[0] == entity:
                asked.clear()  # look again, now with the expected records

    def system_of(self, spec: LookupSpec) -> System:
        if spec.system:
            return System(spec.system)
        found = self.catalog.find(spec.entity)
        if found is None:
            raise KeyError(f"lookup entity {spec.entity!r} is not in the catalog")
        return found.system

    def resolve(
        self, mapper: Mapper, rows: Iterable[Mapping[str, Any]]
    ) -> dict[tuple[str, str, str], Mapping[Any, Any]]:
        needed = mapper.lookup_values(rows)
        out: dict[tuple[str, str, str], Mapping[Any, Any]] = {}
        todos: list[tuple[LookupSpec, list[Any], dict[Any, Any]]] = []
        for spec in mapper.lookups():
            with self._lock:
                table = self._cache.setdefault(spec.key, {})
                asked = self._asked.setdefault(spec.key, set())
                todo = [v for v in needed.get(spec.key, ()) if _fold(v) not in asked]
            if todo and spec.key not in out:
                todos.append((spec, todo, table))
            out[spec.key] = table
        self._fetch(todos)
        for spec, todo, table in todos:
            self._asked[spec.key].update(_fold(v) for v in todo)
            if spec.entity in self._expected:
                self._planned(spec, todo, table)
        return out

    def forget(self, spec_key: tuple[str, str, str], values: Iterable[Any]) -> None:
        """Ask again next time (a parent written since, e.g. a product a price-list item waits for)."""
        asked = self._asked.get(spec_key)
        if asked:
            asked.difference_update(_fold(v) for v in values)

    def _planned(self, spec: LookupSpec, values: list[Any], table: dict[Any, Any]) -> None:
        folded = {_fold(k) for k in table}
        missing = {_fold(v): v for v in values if _fold(v) not in folded}
        by = spec.by or ""
        for payload in self._expected[spec.entity]:
            value = missing.get(_fold(payload.get(by)))
            if value is not None:
                table[value] = payload.get(spec.field) or f"(new {spec.entity} {value})"

    def _fetch(self, todos: Sequence[tuple[LookupSpec, list[Any], dict[Any, Any]]]) -> None:
        """The values of a chunk's lookups, those into one system asked together (Dataverse: one
        ``$batch`` for a product's currency, unit group and unit)."""
        by_system: dict[System, list[tuple[str, tuple[LookupSpec, list[Any], dict[Any, Any]]]]] = {}
        for todo in todos:
            spec = todo[0]
            system = self.system_of(spec)
            entity = self.catalog.entity(system, spec.entity)
            by = spec.by or entity.primary_key or (entity.key[-1] if entity.key else "")
            by_system.setdefault(system, []).append((by, todo))
        for system, asks in by_system.items():
            queries = [
                ValuesQuery(spec.entity, by, values, sorted({by, spec.field}))
                for by, (spec, values, _t) in asks
            ]
            answers = self.connectors[system].read_by_values_many(queries)
            for (by, (spec, _values, table)), rows in zip(asks, answers, strict=True):
                for row in rows:
                    if row.get(by) is not None:
                        table[row[by]] = row.get(spec.field)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value
