"""How the ``$filter`` compiler sees an entity: its fields and how to read them from a row.

Each emulator describes its tables with its own :class:`FilterSchema`; :class:`MappingSchema`
is the plain one for flat dict rows (the Dataverse metadata resources use it).

    >>> from p2c_sandbox.odata.filter_values import FieldKind
    >>> schema = MappingSchema("EntityMetadata", [Field("LogicalName", FieldKind.STRING)])
    >>> schema.field(("LogicalName",)).kind, schema.getter(("LogicalName",))({"LogicalName": "account"})
    (<FieldKind.STRING: 'string'>, 'account')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from p2c_sandbox.odata.filter_compare import Getter
from p2c_sandbox.odata.filter_values import Field

__all__ = ["CollectionSchema", "FilterSchema", "MappingSchema"]


class FilterSchema(Protocol):
    """An entity as ``compile_filter`` needs it; ``type_name`` appears in messages."""

    type_name: str

    def field(self, path: tuple[str, ...]) -> Field | None:
        """The property at ``path`` (navigation segments first), or None if there is none."""
        ...

    def getter(self, path: tuple[str, ...]) -> Getter:
        """A function reading the stored value at ``path`` from a row (None when absent)."""
        ...


class CollectionSchema(FilterSchema, Protocol):
    """A schema with collection-valued navigation, which ``any``/``all`` need."""

    def element_schema(self, path: tuple[str, ...]) -> FilterSchema | None:
        """The schema of the items of the collection at ``path``, or None if there is none."""
        ...

    def collection(self, row: Any, path: tuple[str, ...]) -> Iterable[Any]:
        """The related rows of the collection at ``path``."""
        ...


class MappingSchema:
    """A flat entity: each field is a key of the row mapping."""

    def __init__(self, type_name: str, fields: Iterable[Field]) -> None:
        self.type_name = type_name
        self.fields: dict[str, Field] = {f.name: f for f in fields}

    def __repr__(self) -> str:
        return f"MappingSchema({self.type_name!r}, {sorted(self.fields)})"

    def field(self, path: tuple[str, ...]) -> Field | None:
        return self.fields.get(path[0]) if len(path) == 1 else None

    def getter(self, path: tuple[str, ...]) -> Getter:
        name = path[0]
        return lambda row: row.get(name) if isinstance(row, Mapping) else None
