"""Field expressions of a task mapping: parsed once at load time into small immutable nodes.

The YAML forms (``docs/templates.md`` has the full story)::

    OrganizationName: name                              # a source field
    PartyType: {const: Organization}                    # a constant
    dataAreaId: {context: company}                      # filled by the engine per legal entity
    AddressCountryRegionISOCode: {source: address1_country, value_map: country}
    SalesCurrencyCode:                                  # the key of a related record
      lookup: {source: _transactioncurrencyid_value, entity: transactioncurrencies, field: isocurrencycode}
      default: USD                                      # used when the value is empty
    AddressStreet: {concat: [address1_line1, address1_line2], sep: "\\n"}
    AddressCity: {split: {source: address1_composite, sep: ",", index: 1}}
    LineAmount: {expr: "round(quantity * priceperunit - manualdiscountamount, 2)"}
    telephone1: {first: [Phone, {lookup: {...}}]}       # the first item with a value wins

``value_map`` and ``default`` are modifiers applied, in that order, to what the one producer
(``source``, ``const``, ``context``, ``concat``, ``split``, ``expr``, ``lookup``, ``first``) yields.
The text of ``expr`` is parsed and evaluated by :mod:`p2c.mapping.arithmetic`.

Example::

    >>> e = parse_expression({"source": "address1_country", "value_map": "country", "default": "US"})
    >>> e
    Defaulted(input=ValueMapped(input=Source(field='address1_country'), map='country'), default='US')
    >>> sorted(source_fields(parse_expression({"expr": "round(qty * price, 2)"})))
    ['price', 'qty']
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from p2c.mapping.arithmetic import ANode, ExpressionError, arithmetic_names, parse_arithmetic

__all__ = [
    "CONTEXT_NAMES",
    "Arithmetic",
    "Concat",
    "Const",
    "ContextValue",
    "Defaulted",
    "Expr",
    "First",
    "Lookup",
    "LookupSpec",
    "Missing",
    "Source",
    "Split",
    "ValueMapped",
    "iter_nodes",
    "lookups",
    "parse_expression",
    "replace_lookups",
    "replace_lookups_at",
    "source_fields",
    "value_maps_used",
]

# What the engine fills per run: the ERP company (dataAreaId) and the CRM business unit of the
# legal entity being synchronised.
CONTEXT_NAMES = ("company", "business_unit")
PRODUCERS = ("source", "const", "context", "concat", "split", "expr", "lookup", "first")
MODIFIERS = ("value_map", "default")
_FIELD_NAME = re.compile(r"^\$?[A-Za-z_][A-Za-z0-9_]*$")
_SCALARS = (str, int, Decimal, bool, dt.date, dt.datetime)
_Path = tuple[str | int, ...]  # a key path inside a YAML expression: ("first", 1, "lookup")


class Missing(StrEnum):
    """What a lookup does when the related record is not in the table the engine handed over."""

    WAIT = "wait"  # WaitingForParentError: retried on a later run (the parent is not synced yet)
    FAIL = "fail"  # RecordError: the record fails with the reason
    NULL = "null"  # the value is empty (a default may apply)


@dataclass(frozen=True, slots=True)
class LookupSpec:
    """A related record's value, resolved by the engine in bulk before mapping.

    The engine reads ``entity`` in ``system`` where ``by`` is one of the input values and hands
    the mapper ``related[spec.key][input value] = record[field]``. ``value_map`` maps the input
    first (an ERP unit symbol → the CRM unit name to look up).
    """

    source: str
    entity: str
    field: str
    by: str | None = None
    system: str | None = None
    missing: Missing = Missing.WAIT
    value_map: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """``(entity, by, field)``: where the engine puts this lookup's table in ``related``."""
        return (self.entity, self.by or "", self.field)


@dataclass(frozen=True, slots=True)
class Source:
    field: str


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(frozen=True, slots=True)
class ContextValue:
    name: str


@dataclass(frozen=True, slots=True)
class Concat:
    items: tuple[Expr, ...]
    sep: str = " "


@dataclass(frozen=True, slots=True)
class Split:
    input: Expr
    sep: str
    index: int


@dataclass(frozen=True, slots=True)
class Arithmetic:
    text: str
    tree: ANode


@dataclass(frozen=True, slots=True)
class Lookup:
    spec: LookupSpec


@dataclass(frozen=True, slots=True)
class First:
    """The first item whose value is not empty: one key looked up in several entities (an ERP
    customer is a CRM account or a CRM contact). A lookup finding nothing is only empty here; when
    no item gives a value, a ``wait`` (then a ``fail``) among them decides the outcome."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ValueMapped:
    input: Expr
    map: str


@dataclass(frozen=True, slots=True)
class Defaulted:
    input: Expr | None
    default: Any


Expr = Source | Const | ContextValue | Concat | Split | Arithmetic | Lookup | First | ValueMapped | Defaulted


_NODES = (Source, Const, ContextValue, Concat, Split, Arithmetic, Lookup, First, ValueMapped, Defaulted)

# -- YAML value -> Expr ------------------------------------------------------------------------


def parse_expression(raw: Any, path: tuple[str | int, ...] = ()) -> Expr:
    """Parse one field expression; ExpressionError names the key path inside it and why.

    An expression already parsed (a project's ``crm_schema`` renames them) is returned as it is."""
    if isinstance(raw, _NODES):
        return raw
    if isinstance(raw, str):
        return Source(_field_name(raw, path))
    if raw is None:
        raise ExpressionError("empty expression; write {const: null} to send an empty value", path)
    if not isinstance(raw, Mapping):
        raise ExpressionError(
            f"a bare value must be a source field name; write {{const: {raw}}} for a constant", path
        )
    allowed = (*PRODUCERS, *MODIFIERS, "sep")
    for key in raw:
        if key not in allowed:
            raise ExpressionError(
                f"unknown key '{key}'; an expression has one of {', '.join(PRODUCERS)}"
                f" and optionally {', '.join(MODIFIERS)}",
                (*path, str(key)),
            )
    producers = [k for k in PRODUCERS if k in raw]
    if len(producers) > 1:
        raise ExpressionError(f"an expression has one producer, not {' and '.join(producers)}", path)
    if "sep" in raw and producers != ["concat"]:
        raise ExpressionError("'sep' belongs to concat", (*path, "sep"))
    if not producers:
        if "value_map" in raw:
            raise ExpressionError("value_map needs a source: {source: field, value_map: name}", path)
        return Defaulted(None, _scalar(raw["default"], (*path, "default")))
    node = _producer(producers[0], raw, path)
    if "value_map" in raw:
        node = ValueMapped(node, _name(raw["value_map"], (*path, "value_map"), "value map"))
    if "default" in raw:
        node = Defaulted(node, _scalar(raw["default"], (*path, "default")))
    return node


def _producer(kind: str, raw: Mapping[str, Any], path: tuple[str | int, ...]) -> Expr:
    value = raw[kind]
    sub = (*path, kind)
    if kind == "source":
        if not isinstance(value, str):
            raise ExpressionError("source must be a field name", sub)
        return Source(_field_name(value, sub))
    if kind == "const":
        return Const(_scalar(value, sub))
    if kind == "context":
        if value not in CONTEXT_NAMES:
            raise ExpressionError(f"unknown context value {value!r}; known: {', '.join(CONTEXT_NAMES)}", sub)
        return ContextValue(str(value))
    if kind == "concat":
        if not isinstance(value, list) or not value:
            raise ExpressionError("concat takes a list of source fields or expressions", sub)
        sep = raw.get("sep", " ")
        if not isinstance(sep, str):
            raise ExpressionError("sep must be text", (*path, "sep"))
        return Concat(tuple(parse_expression(item, (*sub, i)) for i, item in enumerate(value)), sep)
    if kind == "split":
        return _split(value, sub)
    if kind == "first":
        return _first(value, sub)
    if kind == "expr":
        if not isinstance(value, str):
            raise ExpressionError("expr takes arithmetic text such as 'quantity * priceperunit'", sub)
        try:
            return Arithmetic(value, parse_arithmetic(value))
        except ExpressionError as exc:
            raise ExpressionError(exc.message, sub, exc.position) from None
    return Lookup(_lookup(value, sub))


def _first(value: Any, path: tuple[str | int, ...]) -> First:
    if not isinstance(value, list):
        raise ExpressionError(
            "first takes a list of source fields or expressions; the first non-empty value wins", path
        )
    if not value:
        raise ExpressionError("first needs at least one source field or expression", path)
    return First(tuple(parse_expression(item, (*path, i)) for i, item in enumerate(value)))


def _split(value: Any, path: tuple[str | int, ...]) -> Split:
    if not isinstance(value, Mapping):
        raise ExpressionError("split takes {source: field, sep: ',', index: 0}", path)
    _only(value, ("source", "sep", "index"), path)
    if "source" not in value:
        raise ExpressionError("split needs a source", path)
    sep = value.get("sep", " ")
    if not isinstance(sep, str) or not sep:
        raise ExpressionError("sep must be non-empty text", (*path, "sep"))
    index = value.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise ExpressionError("index must be a whole number (negative counts from the end)", (*path, "index"))
    return Split(parse_expression(value["source"], (*path, "source")), sep, index)


def _lookup(value: Any, path: tuple[str | int, ...]) -> LookupSpec:
    if not isinstance(value, Mapping):
        raise ExpressionError("lookup takes {source: field, entity: set, field: name}", path)
    _only(value, ("source", "entity", "field", "by", "system", "missing", "value_map"), path)
    for req in ("source", "entity", "field"):
        if req not in value:
            raise ExpressionError(f"lookup needs '{req}'", path)
    missing = value.get("missing", "wait")
    try:
        how = Missing(missing)
    except ValueError:
        raise ExpressionError("missing must be wait, fail or null", (*path, "missing")) from None
    system = value.get("system")
    if system is not None and system not in ("crm", "erp"):
        raise ExpressionError("system must be crm or erp", (*path, "system"))
    vmap = value.get("value_map")
    return LookupSpec(
        source=_field_name(value["source"], (*path, "source")),
        entity=_name(value["entity"], (*path, "entity"), "entity"),
        field=_field_name(value["field"], (*path, "field")),
        by=_field_name(value["by"], (*path, "by")) if value.get("by") is not None else None,
        system=system,
        missing=how,
        value_map=_name(vmap, (*path, "value_map"), "value map") if vmap is not None else None,
    )


def _only(value: Mapping[str, Any], keys: tuple[str, ...], path: tuple[str | int, ...]) -> None:
    for key in value:
        if key not in keys:
            raise ExpressionError(f"unknown key '{key}'; allowed: {', '.join(keys)}", (*path, str(key)))


def _field_name(value: Any, path: tuple[str | int, ...]) -> str:
    if not isinstance(value, str) or not _FIELD_NAME.match(value):
        raise ExpressionError(f"{value!r} is not a field name", path)
    return value


def _name(value: Any, path: tuple[str | int, ...], what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ExpressionError(f"{what} must be a name", path)
    return value


def _scalar(value: Any, path: tuple[str | int, ...]) -> Any:
    if value is None or isinstance(value, _SCALARS):
        return value
    raise ExpressionError("a constant must be a single value (text, number, true/false or null)", path)


# -- walking -----------------------------------------------------------------------------------


def iter_nodes(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, outermost first."""
    yield expr
    if isinstance(expr, Concat | First):
        for item in expr.items:
            yield from iter_nodes(item)
    elif isinstance(expr, Split | ValueMapped | Defaulted) and expr.input is not None:
        yield from iter_nodes(expr.input)


def source_fields(expr: Expr) -> set[str]:
    """The source fields ``expr`` reads (``$`` pseudo-fields of rules included)."""
    out: set[str] = set()
    for node in iter_nodes(expr):
        if isinstance(node, Source):
            out.add(node.field)
        elif isinstance(node, Arithmetic):
            out.update(arithmetic_names(node.tree))
        elif isinstance(node, Lookup):
            out.add(node.spec.source)
    return out


def value_maps_used(expr: Expr) -> set[str]:
    out: set[str] = set()
    for node in iter_nodes(expr):
        if isinstance(node, ValueMapped):
            out.add(node.map)
        elif isinstance(node, Lookup) and node.spec.value_map:
            out.add(node.spec.value_map)
    return out


def lookups(expr: Expr) -> list[LookupSpec]:
    return [node.spec for node in iter_nodes(expr) if isinstance(node, Lookup)]


def replace_lookups(expr: Expr, fn: Callable[[LookupSpec], LookupSpec]) -> Expr:
    """``expr`` with every lookup spec replaced by ``fn(spec)`` (load time fills ``by``/``system``)."""
    return replace_lookups_at(expr, lambda spec, _path: fn(spec))


def replace_lookups_at(expr: Expr, fn: Callable[[LookupSpec, _Path], LookupSpec], path: _Path = ()) -> Expr:
    """As :func:`replace_lookups`, and ``fn`` is told where the lookup sits in the YAML expression
    (``("first", 1)`` for ``{first: [..., {lookup: ...}]}``) so load-time errors point at it."""
    if isinstance(expr, Lookup):
        return Lookup(fn(expr.spec, path))
    if isinstance(expr, Concat):
        items = (replace_lookups_at(e, fn, (*path, "concat", i)) for i, e in enumerate(expr.items))
        return replace(expr, items=tuple(items))
    if isinstance(expr, First):
        items = (replace_lookups_at(e, fn, (*path, "first", i)) for i, e in enumerate(expr.items))
        return replace(expr, items=tuple(items))
    if isinstance(expr, Split):
        return replace(expr, input=replace_lookups_at(expr.input, fn, (*path, "split", "source")))
    if isinstance(expr, ValueMapped):
        return replace(expr, input=replace_lookups_at(expr.input, fn, path))
    if isinstance(expr, Defaulted) and expr.input is not None:
        return replace(expr, input=replace_lookups_at(expr.input, fn, path))
    return expr
