"""What the ``$filter`` compiler needs to know about an entity: its fields and how to read rows.

An emulator or the engine describes each entity with a ``FilterSchema``; ``DictSchema`` is
the ready-made one for plain dict rows. Example::

    >>> account = DictSchema("account", [FieldInfo("name", FieldKind.STRING)])
    >>> account.field(("name",)).kind
    <FieldKind.STRING: 'string'>
    >>> account.get({"name": "Contoso"}, ("name",))
    'Contoso'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

__all__ = ["DictSchema", "FieldInfo", "FieldKind", "FilterSchema", "Row", "RowGetter"]

Row = Mapping[str, Any]
RowGetter = Callable[[Row], Any]


class FieldKind(StrEnum):
    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    GUID = "guid"
    ENUM = "enum"


_EDM_TYPES = {
    FieldKind.STRING: "Edm.String",
    FieldKind.INT: "Edm.Int32",
    FieldKind.DECIMAL: "Edm.Decimal",
    FieldKind.BOOL: "Edm.Boolean",
    FieldKind.DATETIME: "Edm.DateTimeOffset",
    FieldKind.DATE: "Edm.Date",
    FieldKind.GUID: "Edm.Guid",
    FieldKind.ENUM: "Edm.Enum",
}


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One filterable property. Enum fields (F&O) hold member names such as ``"Yes"`` in rows.

    >>> FieldInfo("IsActive", FieldKind.ENUM, "NoYes", ("No", "Yes")).edm_type
    'NoYes'
    """

    name: str
    kind: FieldKind
    enum_type: str | None = None
    enum_members: tuple[str, ...] = ()

    @property
    def edm_type(self) -> str:
        """The type name used in error messages."""
        if self.kind is FieldKind.ENUM and self.enum_type:
            return self.enum_type
        return _EDM_TYPES[self.kind]


class FilterSchema(Protocol):
    """How ``compile_filter`` sees an entity.

    Optional members, looked up with ``getattr`` so simple schemas can omit them:

    - ``type_name: str`` - the entity's name in messages (``account``, ``CustomersV3``);
    - ``getter(path) -> Callable[[row], value]`` - a fast accessor, called once per path at
      compile time (otherwise every row goes through ``get``);
    - ``element_schema(path) -> FilterSchema | None`` - the schema of a collection's items
      for lambda bodies; None means no such collection. Without it, ``c/x`` inside
      ``path/any(c: ...)`` is typed as ``field(path + ("x",))`` and read with ``get(item, ("x",))``.
    """

    def field(self, path: tuple[str, ...]) -> FieldInfo | None:
        """The property at ``path``, or None when the entity has no such property."""
        ...

    def get(self, row: Row, path: tuple[str, ...]) -> Any:
        """The value at ``path`` in ``row`` (following navigation), or None."""
        ...

    def collection(self, row: Row, path: tuple[str, ...]) -> Iterable[Row]:
        """The related rows of a collection-valued navigation property (for lambdas)."""
        ...


class DictSchema:
    """A ``FilterSchema`` over dict rows; navigation properties hold nested dicts or lists.

    ``navigation`` gives the schemas of single-valued navigation properties (``a/b`` reads
    ``row["a"]["b"]``), ``collections`` those of collection-valued ones (for ``any``/``all``).
    """

    def __init__(
        self,
        type_name: str,
        fields: Iterable[FieldInfo],
        *,
        navigation: Mapping[str, DictSchema] | None = None,
        collections: Mapping[str, DictSchema] | None = None,
    ) -> None:
        self.type_name = type_name
        self.fields: dict[str, FieldInfo] = {f.name: f for f in fields}
        self.navigation = dict(navigation or {})
        self.collections = dict(collections or {})

    def __repr__(self) -> str:
        return f"DictSchema({self.type_name!r}, {len(self.fields)} fields)"

    def field(self, path: tuple[str, ...]) -> FieldInfo | None:
        if len(path) == 1:
            return self.fields.get(path[0])
        nav = self.navigation.get(path[0])
        return nav.field(path[1:]) if nav is not None and path[1:] else None

    def get(self, row: Row, path: tuple[str, ...]) -> Any:
        value: Any = row
        for segment in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(segment)
        return value

    def getter(self, path: tuple[str, ...]) -> RowGetter:
        if len(path) == 1:
            key = path[0]
            return lambda row: row.get(key)
        return lambda row: self.get(row, path)

    def collection(self, row: Row, path: tuple[str, ...]) -> Iterable[Row]:
        value = self.get(row, path)
        if isinstance(value, list | tuple):
            return [item for item in value if isinstance(item, Mapping)]
        return ()

    def element_schema(self, path: tuple[str, ...]) -> DictSchema | None:
        if len(path) == 1:
            return self.collections.get(path[0])
        nav = self.navigation.get(path[0])
        return nav.element_schema(path[1:]) if nav is not None and path[1:] else None
