"""Query options of an F&O read (FNO.md §1.4): parse and check them against an entity set.

``$filter`` goes through the sandbox's own parser and compiler in the F&O dialect (wildcards in ``eq``,
enum literals with eq/ne only, no ``in``/``has``/functions); the other options are small enough
to parse here. Every mistake is a 400 in the F&O error shape.

Example::

    >>> from p2c_sandbox.fno.entities import ENTITY_SETS
    >>> es = ENTITY_SETS["CustomerGroups"]
    >>> q = parse_options(es, [("$select", "CustomerGroupId"), ("$top", "5")], list(es.by_name))
    >>> q.select, q.top
    (['CustomerGroupId'], 5)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from p2c_sandbox.fno.entities import ENTITY_SETS, EntitySet, Kind, Navigation
from p2c_sandbox.fno.enums import ENUMS
from p2c_sandbox.fno.errors import FnoError, bad_request
from p2c_sandbox.odata.filter import (
    Dialect,
    Field,
    FieldKind,
    FilterError,
    Node,
    compile_filter,
    parse_filter,
)
from p2c_sandbox.odata.text import split_top_level
from p2c_sandbox.store import Row

__all__ = ["Expand", "Options", "SetSchema", "parse_options", "sort_rows"]

_FIELD_KINDS = {
    Kind.STRING: FieldKind.STRING,
    Kind.INT32: FieldKind.INT,
    Kind.INT64: FieldKind.INT,
    Kind.DECIMAL: FieldKind.DECIMAL,
    Kind.DATE: FieldKind.DATETIME,
    Kind.UTC: FieldKind.DATETIME,
    Kind.ENUM: FieldKind.ENUM,
}
_KNOWN = {"$filter", "$select", "$top", "$skip", "$orderby", "$count", "$expand", "$format"}


class SetSchema:
    """The filter schema of an entity set: its visible properties, read from sparse rows."""

    def __init__(self, es: EntitySet, visible: Iterable[str]) -> None:
        self.type_name = es.type_name
        self._defaults: dict[str, Any] = {}
        self._fields: dict[str, Field] = {}
        for name in visible:
            p = es.prop(name)
            members = tuple(ENUMS[p.enum]) if p.enum else ()
            self._fields[name] = Field(name, _FIELD_KINDS[p.kind], p.enum, members)
            self._defaults[name] = p.default

    def field(self, path: tuple[str, ...]) -> Field | None:
        return self._fields.get(path[0]) if len(path) == 1 else None

    def get(self, row: Mapping[str, Any], path: tuple[str, ...]) -> Any:
        return row.get(path[0], self._defaults.get(path[0]))

    def getter(self, path: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
        name = path[0]
        default = self._defaults.get(name)
        return lambda row: row.get(name, default)


@dataclass
class Expand:
    nav: Navigation
    select: list[str] | None = None


@dataclass
class Options:
    predicate: Callable[[Row], bool] | None = None
    tree: Node | None = None  # the parsed $filter (keyfilter.py serves key-only filters by index)
    select: list[str] | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: list[Expand] = field(default_factory=list)


def _unknown_property(es: EntitySet, name: str) -> FnoError:
    return bad_request(f"Could not find a property named '{name}' on type '{es.qualified_type}'.")


def _non_negative(option: str, text: str) -> int:
    if not text.strip().isdigit():
        raise bad_request(
            f"Invalid value '{text}' for {option} query option found. The {option} query option requires "
            "a non-negative integer value."
        )
    return int(text)


def parse_select(es: EntitySet, text: str, visible: list[str]) -> list[str] | None:
    names: list[str] = []
    for item in split_top_level(text):
        name = item.strip()
        if name == "*":
            return None
        if name not in visible:
            raise _unknown_property(es, name)
        if name not in names:
            names.append(name)
    return names


def parse_options(
    es: EntitySet,
    query: list[tuple[str, str]],
    visible: list[str],
    visible_of: Callable[[EntitySet], list[str]] | None = None,
) -> Options:
    """Check and parse the ``$`` options of ``query`` for ``es``; ``visible`` = its properties in this release."""
    opts = Options()
    for name, value in query:
        if not name.startswith("$"):
            continue  # cross-company and other custom options
        if name not in _KNOWN:
            raise bad_request(f"The query parameter '{name}' is not supported.")
        if name == "$filter":
            try:
                tree = parse_filter(value, Dialect.FNO)
                opts.predicate = compile_filter(tree, SetSchema(es, visible), Dialect.FNO)
                opts.tree = tree
            except FilterError as exc:
                raise bad_request(f"The query specified in the URI is not valid. {exc.message}") from None
        elif name == "$select":
            opts.select = parse_select(es, value, visible)
        elif name == "$top":
            opts.top = _non_negative("$top", value)
        elif name == "$skip":
            opts.skip = _non_negative("$skip", value)
        elif name == "$count":
            if value.lower() not in ("true", "false"):
                raise bad_request(f"'{value}' is not a valid count option.")
            opts.count = value.lower() == "true"
        elif name == "$orderby":
            opts.orderby = _parse_orderby(es, value, visible)
        elif name == "$expand":
            opts.expand = _parse_expand(es, value, visible_of)
        elif name == "$format" and value.split(";")[0].strip().lower() not in ("json", "application/json"):
            raise bad_request(f"The requested format '{value}' is not supported.")
    return opts


def _parse_orderby(es: EntitySet, text: str, visible: list[str]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for item in split_top_level(text):
        words = item.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request(
                f"The query specified in the URI is not valid. Syntax error in $orderby '{text}'."
            )
        if words[0] not in visible:
            raise _unknown_property(es, words[0])
        out.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return out


def _parse_expand(
    es: EntitySet, text: str, visible_of: Callable[[EntitySet], list[str]] | None
) -> list[Expand]:
    out: list[Expand] = []
    for item in split_top_level(text):
        item = item.strip()
        name, paren, rest = item.partition("(")
        nav = es.navigation(name.strip())
        if nav is None:
            raise bad_request(
                f"Could not find a property named '{name.strip()}' on type '{es.qualified_type}'."
            )
        target = ENTITY_SETS[nav.target]
        target_visible = visible_of(target) if visible_of else list(target.by_name)
        exp = Expand(nav)
        if paren:
            if not rest.endswith(")"):
                raise bad_request(
                    f"The query specified in the URI is not valid. Syntax error in $expand '{text}'."
                )
            for option in split_top_level(rest[:-1], ";"):
                key, _, value = option.partition("=")
                if key.strip() == "$select":
                    exp.select = parse_select(target, value, target_visible)
                elif key.strip() == "$expand":
                    raise bad_request(
                        "The request includes a $expand path which is too deep. Only one level is supported."
                    )
                else:
                    raise bad_request(f"The query option '{key.strip()}' is not supported inside $expand.")
        out.append(exp)
    return out


def sort_rows(es: EntitySet, rows: list[Row], orderby: list[tuple[str, bool]]) -> list[Row]:
    """Stable multi-key sort; ``rows`` arrive in key order, which stays the final tie-break."""
    out = list(rows)
    for name, desc in reversed(orderby):
        out.sort(key=_sort_key(es, name), reverse=desc)
    return out


def _sort_key(es: EntitySet, name: str) -> Callable[[Row], Any]:
    p = es.prop(name)
    default = p.default
    if p.kind is Kind.ENUM:
        members = ENUMS[p.enum or ""]
        return lambda r: members.get(r.get(name, default) or "", -1)
    if p.kind is Kind.STRING:
        return lambda r: (r.get(name) or "").casefold()
    return lambda r: r.get(name, default)
