"""What the write stage tells a connector about the table it writes (:class:`p2c.connectors.TargetTable`).

Built from the catalog once per task; the connector decides how to address rows (Dataverse: a key
of lookups, a key set only on create, closed documents; F&O: upserts by natural key).
"""

from __future__ import annotations

from collections.abc import Sequence

from p2c.catalog import Catalog, EntitySpec, FieldType
from p2c.connectors import ParentTable, TargetTable
from p2c.settings import System

__all__ = ["target_table"]


def _labels(spec: EntitySpec) -> dict[int, str]:
    return {s: spec.state_label(s) for s in spec.closed_states}


def target_table(spec: EntitySpec, key: Sequence[str], catalog: Catalog) -> TargetTable:
    """The target of a task writing ``spec`` by ``key``."""
    if spec.system is System.ERP:  # upserts by natural key; create-only fields left out of updates
        once = frozenset(f.name for f in spec.fields.values() if f.create_only)
        return TargetTable(spec.name, spec.primary_key, tuple(key), fixed_fields=once)
    lookups = tuple(k for k in key if (f := spec.field(k)) is not None and f.type is FieldType.LOOKUP)
    fixed_key = any((f := spec.field(k)) is not None and not f.update for k in key)
    fixed: set[str] = set()
    for f in spec.fields.values():
        if not f.update or f.create_only:  # a lookup is written as "<navigation property>@odata.bind"
            fixed |= {f.name, *f.targets.values()}
    parent = None
    lookup = spec.field(spec.closed_with) if spec.closed_with else None
    if lookup is not None and lookup.targets:
        pspec = catalog.entity(System.CRM, next(iter(lookup.targets)))
        parent = ParentTable(pspec.name, pspec.primary_key, pspec.closed_states, _labels(pspec))
    return TargetTable(
        spec.name,
        spec.primary_key,
        tuple(key),
        lookup_keys=lookups,
        fixed_key=fixed_key,
        fixed_fields=frozenset(fixed),
        closed_states=spec.closed_states,
        state_labels=_labels(spec),
        closed_with=spec.closed_with,
        parent=parent,
    )
