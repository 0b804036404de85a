"""What a project needs from both environments, derived from its tasks and the catalog (no I/O).

``p2c setup`` provisions the CRM part of it and ``p2c doctor`` checks all of it; both start here so
they can never disagree. Nothing is a hard-coded list: a template added later brings its own needs.

* **fields**: every field a task uses, per entity of either system — source fields (mapped, keys,
  rule inputs, filters), target fields (mapped, defaults, keys) and the ``by``/``field`` of every
  lookup on the related entity.
* **columns**: the CRM fields among them that the catalog marks ``custom`` (p2c's own columns).
* **solution_columns**: the CRM fields among them that belong to Microsoft's P2C solution
  (``crm_schema: microsoft``): setup and doctor check them, nothing creates them.
* **keys**: an alternate key on the target key of every task that writes *into* the CRM (an upsert
  by natural key needs one). The catalog names it (``alternate_keys``); a key the catalog does not
  list is named ``p2c_<table>_<columns>_key``. Keys on tables p2c only reads (accounts in the
  shipped templates) are not created: the sync never addresses them by key, and the CRM would then
  refuse duplicate numbers the accounts flow is meant to *report*.
* **tracking**: change tracking on every CRM table a task reads (incremental reads use delta links).

Example::

    >>> from p2c.project import load_project        # doctest: +SKIP
    >>> req = requirements(load_project("p2c.yaml"))  # doctest: +SKIP
    >>> [(k.entity.name, k.name, k.columns) for k in req.keys]  # doctest: +SKIP
    [('products', 'p2c_productnumber_key', ('productnumber',)), ...]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from p2c.catalog import Catalog, EntitySpec, FieldSpec, dialect_of
from p2c.mapping import LookupSpec, Missing, lookups
from p2c.odata import filter_fields
from p2c.rules import RuleName
from p2c.settings import System

if TYPE_CHECKING:
    from p2c.project import Project, Task

__all__ = [
    "ColumnNeed",
    "FieldUse",
    "KeyNeed",
    "LookupNeed",
    "Requirements",
    "TrackingNeed",
    "requirements",
]

EntityRef = tuple[System, str]


@dataclass(frozen=True)
class FieldUse:
    """One field of one entity and the tasks that use it (and how: source, target, filter, lookup)."""

    spec: FieldSpec
    tasks: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ColumnNeed:
    """A custom CRM column p2c provisions (the catalog's definition)."""

    entity: EntitySpec
    spec: FieldSpec
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class KeyNeed:
    """An alternate key p2c provisions: its schema name and its columns (logical names)."""

    entity: EntitySpec
    name: str
    columns: tuple[str, ...]
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class TrackingNeed:
    entity: EntitySpec
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class LookupNeed:
    """A lookup a task resolves on its target side, which fails the record when nothing matches."""

    task: str
    target_field: str
    spec: LookupSpec


@dataclass(frozen=True)
class Requirements:
    entities: Mapping[EntityRef, EntitySpec]
    fields: Mapping[EntityRef, Mapping[str, FieldUse]]
    columns: tuple[ColumnNeed, ...]
    keys: tuple[KeyNeed, ...]
    tracking: tuple[TrackingNeed, ...]
    lookups: tuple[LookupNeed, ...] = field(default=())
    solution_columns: tuple[ColumnNeed, ...] = field(default=())

    def entity_tasks(self, ref: EntityRef) -> tuple[str, ...]:
        """Tasks that use entity ``ref`` in any way, in project order."""
        seen: dict[str, None] = {}
        for use in self.fields.get(ref, {}).values():
            seen.update(dict.fromkeys(use.tasks))
        return tuple(seen)


class _Collector:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.entities: dict[EntityRef, EntitySpec] = {}
        self.uses: dict[EntityRef, dict[str, tuple[FieldSpec, dict[str, None], dict[str, None]]]] = {}

    def entity(self, system: System | str, name: str) -> EntitySpec:
        spec = self.catalog.entity(system, name)
        self.entities.setdefault((spec.system, spec.name), spec)
        self.uses.setdefault((spec.system, spec.name), {})
        return spec

    def use(self, entity: EntitySpec, name: str, task: str, role: str) -> None:
        spec = entity.field(name)
        if spec is None:  # $ pseudo-fields, navigation paths: nothing to provision or check
            return
        _, tasks, roles = self.uses[(entity.system, entity.name)].setdefault(spec.name, (spec, {}, {}))
        tasks[task] = None
        roles[role] = None

    def result(self) -> Mapping[EntityRef, Mapping[str, FieldUse]]:
        return MappingProxyType(
            {
                ref: MappingProxyType({n: FieldUse(s, tuple(t), tuple(r)) for n, (s, t, r) in fields.items()})
                for ref, fields in self.uses.items()
            }
        )


def _task_lookups(task: Task) -> Iterator[tuple[str, LookupSpec]]:
    for target, expr in task.fields.items():
        for spec in lookups(expr):
            yield target, spec


def requirements(project: Project) -> Requirements:
    """Everything the project's enabled tasks need; see the module docstring."""
    col = _Collector(project.catalog)
    keys: dict[tuple[str, str], KeyNeed] = {}
    tracking: dict[str, TrackingNeed] = {}
    needs_lookup: list[LookupNeed] = []
    for task in project.enabled_tasks():
        src = col.entity(task.source.system, task.source.entity)
        tgt = col.entity(task.target.system, task.target.entity)
        for name in task.source_fields():
            col.use(src, name, task.name, "source")
        for name in filter_fields(task.filter, dialect_of(src.system)):
            col.use(src, name, task.name, "filter")
        for name in (*task.fields, *task.defaults, *task.key_target):
            col.use(tgt, name, task.name, "target")
        for target_field, spec in _task_lookups(task):
            related = col.entity(spec.system or tgt.system, spec.entity)
            for name in (spec.by or related.primary_key, spec.field):
                col.use(related, name, task.name, "lookup")
            if (
                related.system is tgt.system
                and spec.missing is Missing.FAIL
                and not spec.source.startswith("$")
            ):
                needs_lookup.append(LookupNeed(task.name, target_field, spec))
        tracked = [src] if src.system is System.CRM else []
        if RuleName.DERIVE_IS_ACTIVE_CUSTOMER in task.rules:  # their customers are read from change feeds
            tracked += [col.entity(System.CRM, e) for e in ("quotes", "salesorders", "invoices")]
        for entity in tracked:
            old = tracking.get(entity.name)
            tracking[entity.name] = TrackingNeed(entity, (*(old.tasks if old else ()), task.name))
        if tgt.system is System.CRM:
            need = _key_need(tgt, task)
            old_key = keys.get((tgt.name, need.name))
            if old_key is not None:
                need = dataclasses.replace(need, tasks=(*old_key.tasks, task.name))
            keys[(tgt.name, need.name)] = need
    fields = col.result()
    crm = [(ref, use) for ref, uses in fields.items() if ref[0] is System.CRM for use in uses.values()]
    columns = tuple(ColumnNeed(col.entities[ref], use.spec, use.tasks) for ref, use in crm if use.spec.custom)
    solution = tuple(ColumnNeed(col.entities[ref], u.spec, u.tasks) for ref, u in crm if u.spec.solution)
    return Requirements(
        entities=MappingProxyType(dict(col.entities)),
        fields=fields,
        columns=columns,
        keys=tuple(keys.values()),
        tracking=tuple(tracking.values()),
        lookups=tuple(needs_lookup),
        solution_columns=solution,
    )


def _key_need(entity: EntitySpec, task: Task) -> KeyNeed:
    columns = tuple((entity.field(n) or _missing(entity, n)).name for n in task.key_target)
    for name, cols in entity.alternate_keys.items():
        if set(cols) == set(columns):
            return KeyNeed(entity, name, tuple(cols), (task.name,))
    base = entity.logical_name or entity.name
    return KeyNeed(entity, f"p2c_{base}_{'_'.join(columns)}_key", columns, (task.name,))


def _missing(entity: EntitySpec, name: str) -> FieldSpec:
    raise KeyError(f"{entity.name} has no field {name!r}")  # load-time validation prevents this
