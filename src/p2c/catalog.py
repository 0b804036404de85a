"""The fields p2c knows for every entity its templates use, per system (data: ``templates/catalog.yaml``).

Load-time validation checks templates and projects against it, ``p2c setup`` provisions its
``custom`` columns and alternate keys, and ``p2c doctor`` compares it with the live metadata.

Example::

    >>> cat = load_catalog()
    >>> f = cat.entity(System.ERP, "CustomersV3").field("IsExternallyMaintained")
    >>> f.type, f.enum, cat.enum_members("NoYes")
    (<FieldType.ENUM: 'enum'>, 'NoYes', ('No', 'Yes'))
    >>> cat.entity(System.CRM, "accounts").field("_transactioncurrencyid_value").name
    'transactioncurrencyid'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from p2c.errors import ConfigError
from p2c.odata import Dialect, DictSchema, FieldInfo, FieldKind
from p2c.settings import System
from p2c.yaml_doc import parse_yaml

__all__ = [
    "NUMERIC_TYPES",
    "Catalog",
    "EntitySpec",
    "FieldSpec",
    "FieldType",
    "dialect_of",
    "field_from_data",
    "load_catalog",
]


def dialect_of(system: System) -> Dialect:
    """The ``$filter`` dialect of a system: Dataverse for the CRM, F&O for the ERP."""
    return Dialect.DATAVERSE if system is System.CRM else Dialect.FNO


class FieldType(StrEnum):
    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"
    MONEY = "money"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    GUID = "guid"
    LOOKUP = "lookup"
    CHOICE = "choice"
    ENUM = "enum"


NUMERIC_TYPES = frozenset({FieldType.INT, FieldType.DECIMAL, FieldType.MONEY})
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True)
class FieldSpec:
    """One field of one entity. ``targets`` (lookups) maps target entity set → navigation property."""

    name: str
    type: FieldType
    max_length: int | None = None
    read_only: bool = False
    create: bool = True
    update: bool = True
    #: written when p2c creates the record, left out of its updates (an owner a person may change)
    create_only: bool = False
    required: bool = False
    targets: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    options: Mapping[int, str] = field(default_factory=lambda: _EMPTY)
    enum: str | None = None
    min: int | None = None
    max: int | None = None
    precision: int | None = None
    custom: bool = False
    #: a column of Microsoft's P2C solution (``crm_schema: microsoft``): checked, never created
    solution: bool = False
    schema_name: str | None = None
    label: str = ""
    description: str = ""
    default: Any = None

    @property
    def read_name(self) -> str:
        """The name in rows read from Dataverse: ``_x_value`` for lookups."""
        return f"_{self.name}_value" if self.type is FieldType.LOOKUP else self.name

    @property
    def writable(self) -> bool:
        return not self.read_only and (self.create or self.update)


@dataclass(frozen=True)
class EntitySpec:
    """An entity set of one system: its key, fields and (CRM) the alternate keys p2c provisions."""

    system: System
    name: str
    fields: Mapping[str, FieldSpec] = field(repr=False)
    key: tuple[str, ...] = ()
    logical_name: str = ""
    primary_key: str = ""
    primary_name: str = ""
    alternate_keys: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _EMPTY)
    #: CRM documents: the states (statecode) a record never leaves and in which the CRM refuses
    #: changes to it and to its lines (an Invoiced order)
    closed_states: tuple[int, ...] = ()
    #: CRM document lines: the lookup to the document whose closed state locks the line
    closed_with: str | None = None
    #: a small table of reference data (currencies, units, price lists): the lookups into it on a
    #: task's first run read it whole beside the first source read (:meth:`RelatedResolver.preload`)
    reference: bool = False

    def state_label(self, state: Any) -> str:
        """The label of a ``statecode`` value (``Invoiced``), or the value as text."""
        spec = self.fields.get("statecode")
        try:
            return spec.options.get(int(state), str(state)) if spec is not None else str(state)
        except (TypeError, ValueError):
            return str(state)

    @functools.cached_property
    def lookups(self) -> Mapping[str, FieldSpec]:
        """The lookup fields, by each name a payload may give them (``x`` and ``_x_value``)."""
        found = {f.name: f for f in self.fields.values() if f.type is FieldType.LOOKUP}
        return {**found, **{f.read_name: f for f in found.values()}}

    def field(self, name: str) -> FieldSpec | None:
        """The field ``name``; CRM lookups are found by ``x`` and by ``_x_value``."""
        spec = self.fields.get(name)
        if spec is None and name.startswith("_") and name.endswith("_value"):
            spec = self.fields.get(name[1:-6])
            if spec is not None and spec.type is not FieldType.LOOKUP:
                spec = None
        return spec

    def names(self) -> list[str]:
        """Every field name a user may write, with CRM lookups also as ``_x_value``."""
        out = list(self.fields)
        out += [f.read_name for f in self.fields.values() if f.type is FieldType.LOOKUP]
        return out

    def custom_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if f.custom]

    def with_fields(self, extra: Iterable[FieldSpec]) -> EntitySpec:
        merged = dict(self.fields)
        merged.update({f.name: f for f in extra})
        return replace(self, fields=MappingProxyType(merged))

    def filter_schema(self, enums: Mapping[str, tuple[str, ...]]) -> Any:
        """A ``p2c.odata.filter.DictSchema`` of this entity's rows, for ``$filter``."""

        kinds = {
            FieldType.STRING: FieldKind.STRING,
            FieldType.INT: FieldKind.INT,
            FieldType.DECIMAL: FieldKind.DECIMAL,
            FieldType.MONEY: FieldKind.DECIMAL,
            FieldType.BOOL: FieldKind.BOOL,
            FieldType.DATETIME: FieldKind.DATETIME,
            FieldType.DATE: FieldKind.DATE,
            FieldType.GUID: FieldKind.GUID,
            FieldType.LOOKUP: FieldKind.GUID,
            FieldType.CHOICE: FieldKind.INT,
            FieldType.ENUM: FieldKind.ENUM,
        }
        infos = []
        for f in self.fields.values():
            kind = kinds[f.type]
            if self.system is System.ERP and f.type is FieldType.DATE:
                kind = FieldKind.DATETIME  # F&O dates are Edm.DateTimeOffset at noon UTC
            members = enums.get(f.enum, ()) if f.enum else ()
            infos.append(FieldInfo(f.read_name, kind, f.enum, tuple(members)))
        return DictSchema(self.logical_name or self.name, infos)


@dataclass(frozen=True)
class Catalog:
    """All entities of both systems plus the F&O enum types."""

    entities: Mapping[tuple[System, str], EntitySpec]
    enums: Mapping[str, tuple[str, ...]]

    def entity(self, system: System | str, name: str) -> EntitySpec:
        spec = self.entities.get((System(system), name))
        if spec is None:
            raise KeyError(f"{system} entity {name!r} is not in the catalog")
        return spec

    def get(self, system: System | str, name: str) -> EntitySpec | None:
        return self.entities.get((System(system), name))

    def find(self, name: str) -> EntitySpec | None:
        """The entity ``name`` in whichever system has it (set names do not collide)."""
        for system in System:
            spec = self.entities.get((system, name))
            if spec is not None:
                return spec
        return None

    def names(self, system: System | str) -> list[str]:
        return [n for (s, n) in self.entities if s == System(system)]

    def enum_members(self, enum: str) -> tuple[str, ...]:
        return self.enums.get(enum, ())

    def custom_columns(self) -> list[tuple[EntitySpec, FieldSpec]]:
        """The CRM columns ``p2c setup`` provisions, with their definitions."""
        return [(e, f) for e in self.entities.values() if e.system is System.CRM for f in e.custom_fields()]

    def alternate_keys(self) -> list[tuple[EntitySpec, str, tuple[str, ...]]]:
        """The CRM alternate keys ``p2c setup`` provisions: (entity, key name, columns)."""
        return [(e, k, cols) for e in self.entities.values() for k, cols in e.alternate_keys.items()]

    def with_fields(self, extra: Mapping[tuple[System, str], Iterable[FieldSpec]]) -> Catalog:
        """A catalog that also knows ``extra`` fields (a project's declared custom columns)."""
        entities = dict(self.entities)
        for key, fields in extra.items():
            entities[key] = entities[key].with_fields(fields)
        return replace(self, entities=MappingProxyType(entities))


def field_from_data(name: str, raw: Mapping[str, Any]) -> FieldSpec:
    """Build a FieldSpec from its catalog (or project ``custom_fields``) mapping."""
    allowed = set(FieldSpec.__dataclass_fields__) - {"name"}
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"unknown attribute {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(allowed))}")
    try:
        ftype = FieldType(str(raw.get("type")))
    except ValueError:
        raise ValueError(
            f"type must be one of {', '.join(t.value for t in FieldType)}, not {raw.get('type')!r}"
        ) from None
    values = dict(raw)
    values["type"] = ftype
    if "targets" in values:
        values["targets"] = MappingProxyType({str(k): str(v) for k, v in dict(values["targets"]).items()})
    if "options" in values:
        values["options"] = MappingProxyType({int(k): str(v) for k, v in dict(values["options"]).items()})
    for attr in ("label", "description"):
        if attr in values:
            values[attr] = str(values[attr])
    return FieldSpec(name=name, **values)


def _build(data: Mapping[str, Any]) -> Catalog:
    entities: dict[tuple[System, str], EntitySpec] = {}
    for system in System:
        for set_name, raw in (data.get(system.value) or {}).items():
            fields = {str(n): field_from_data(str(n), f) for n, f in raw["fields"].items()}
            entities[(system, set_name)] = EntitySpec(
                system=system,
                name=set_name,
                fields=MappingProxyType(fields),
                key=tuple(raw.get("key") or ([raw["primary_key"]] if raw.get("primary_key") else [])),
                logical_name=raw.get("logical_name", ""),
                primary_key=raw.get("primary_key", ""),
                primary_name=raw.get("primary_name", ""),
                alternate_keys=MappingProxyType(
                    {k: tuple(v) for k, v in (raw.get("alternate_keys") or {}).items()}
                ),
                closed_states=tuple(int(s) for s in raw.get("closed_states") or ()),
                closed_with=raw.get("closed_with"),
                reference=bool(raw.get("reference", False)),
            )
    enums = {str(k): tuple(str(m) for m in v) for k, v in (data.get("enums") or {}).items()}
    return Catalog(MappingProxyType(entities), MappingProxyType(enums))


@functools.cache
def load_catalog(path: Path | None = None) -> Catalog:
    """The shipped catalog (or the one at ``path``); parsed once per process."""
    if path is None:
        text = resources.files("p2c.templates").joinpath("catalog.yaml").read_text(encoding="utf-8")
        name = "p2c/templates/catalog.yaml"
    else:
        text, name = path.read_text(encoding="utf-8"), str(path)
    doc = parse_yaml(text, name, path)
    try:
        return _build(doc.data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"invalid catalog: {exc}", entity=name) from None
