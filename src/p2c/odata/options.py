"""The OData query options besides ``$filter``: ``$select``, ``$orderby``, ``$expand``, and sorting.

Pure parsing, shared by the emulators and the engine. Nested ``$expand`` options are
separated by ``;`` and may nest further; a nested ``$filter`` is kept as text for
``parse_filter``. Example::

    >>> parse_orderby("name asc,createdon desc")
    [OrderBy(path=('name',), descending=False), OrderBy(path=('createdon',), descending=True)]
    >>> [e.nav for e in parse_expand("primarycontactid($select=fullname),quote_details($top=2)")]
    ['primarycontactid', 'quote_details']
    >>> sort_rows([{"n": "b"}, {"n": None}, {"n": "A"}], parse_orderby("n"), lambda r, p: r[p[0]])
    [{'n': None}, {'n': 'A'}, {'n': 'b'}]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from p2c.odata.ast import FilterError
from p2c.odata.lex import shorten

__all__ = [
    "Expand",
    "OrderBy",
    "QueryOption",
    "QueryOptionError",
    "parse_expand",
    "parse_orderby",
    "parse_select",
    "sort_rows",
]


class QueryOption(StrEnum):
    SELECT = "$select"
    FILTER = "$filter"
    ORDERBY = "$orderby"
    TOP = "$top"
    EXPAND = "$expand"


class QueryOptionError(FilterError):
    """A malformed ``$select``, ``$orderby`` or ``$expand``; ``option`` names which one.

    >>> QueryOptionError(QueryOption.SELECT, "empty item", position=2).option
    <QueryOption.SELECT: '$select'>
    """

    def __init__(self, option: QueryOption, message: str, *, position: int | None = None) -> None:
        super().__init__(message, position=position)
        self.option = option


@dataclass
class OrderBy:
    path: tuple[str, ...]
    descending: bool = False


@dataclass
class Expand:
    """One ``$expand`` item with its nested options (None/empty when not given)."""

    nav: str
    select: list[str] | None = None
    filter: str | None = None
    orderby: list[OrderBy] = field(default_factory=list)
    top: int | None = None
    expand: list[Expand] = field(default_factory=list)


_NAME = r"[A-Za-z_]\w*"
_SELECT_ITEM = re.compile(rf"\*|{_NAME}(?:/{_NAME})*")
_ORDERBY_ITEM = re.compile(rf"({_NAME}(?:/{_NAME})*)(?:\s+(\S+))?")
_EXPAND_ITEM = re.compile(rf"({_NAME})\s*(?:\((.*)\))?", re.DOTALL)
_EXPAND_OPTION = re.compile(r"(\$\w+)\s*=(.*)", re.DOTALL)


def parse_select(text: str) -> list[str]:
    """``"a,b, c"`` -> ``["a", "b", "c"]``; raises QueryOptionError on empty or invalid items."""
    return _select(text, text, 0)


def parse_orderby(text: str) -> list[OrderBy]:
    """``"name asc,createdon desc"`` -> OrderBy items; the direction defaults to ascending."""
    return _orderby(text, text, 0)


def parse_expand(text: str) -> list[Expand]:
    """``"a($select=x;$top=2),b"`` -> Expand items, with nested options parsed recursively."""
    return _expand(text, text, 0)


def sort_rows(
    rows: Iterable[Mapping[str, Any]],
    orderby: list[OrderBy],
    get: Callable[[Mapping[str, Any], tuple[str, ...]], Any],
) -> list[Mapping[str, Any]]:
    """``rows`` sorted by ``orderby`` as SQL Server would: nulls lowest, strings case-insensitive.

    Stable, so rows equal on every key keep their order (callers add the key fields last
    to make paging deterministic).
    """
    result = list(rows)
    # Sorting by the last key first and the first key last, each pass stable, gives a
    # multi-key order with an independent direction per key.
    for key in reversed(orderby):
        result.sort(key=_key_function(get, key.path), reverse=key.descending)
    return result


def _key_function(
    get: Callable[[Mapping[str, Any], tuple[str, ...]], Any], path: tuple[str, ...]
) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    return lambda row: _sort_key(get(row, path))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (1, value.lower())
    return (1, value)


def _error(option: QueryOption, text: str, position: int, detail: str) -> QueryOptionError:
    return QueryOptionError(
        option,
        f"Syntax error at position {position} in {option} '{shorten(text)}': {detail}",
        position=position,
    )


def _split(text: str, separator: str, option: QueryOption, whole: str, base: int) -> list[tuple[str, int]]:
    """Split at ``separator`` outside parentheses and quotes; items come with their offsets."""
    items: list[tuple[str, int]] = []
    depth, start, quote, index = 0, 0, "", 0
    while index < len(text):
        ch = text[index]
        if quote:
            if ch == "\\" and quote == '"':
                index += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise _error(option, whole, base + index, "unbalanced ')'.")
        elif ch == separator and depth == 0:
            items.append((text[start:index], base + start))
            start = index + 1
        index += 1
    if quote:
        raise _error(option, whole, base + len(text), "unterminated quoted text.")
    if depth:
        raise _error(option, whole, base + len(text), "expected ')' but found the end of the text.")
    items.append((text[start:], base + start))
    return items


def _items(text: str, separator: str, option: QueryOption, whole: str, base: int) -> list[tuple[str, int]]:
    items = []
    for raw, offset in _split(text, separator, option, whole, base):
        stripped = raw.strip()
        position = offset + len(raw) - len(raw.lstrip())
        if not stripped:
            raise _error(option, whole, position, f"empty item (is there a stray '{separator}'?).")
        items.append((stripped, position))
    return items


def _select(text: str, whole: str, base: int) -> list[str]:
    items = []
    for item, position in _items(text, ",", QueryOption.SELECT, whole, base):
        if not _SELECT_ITEM.fullmatch(item):
            raise _error(QueryOption.SELECT, whole, position, f"'{item}' is not a property name.")
        items.append(item)
    return items


def _orderby(text: str, whole: str, base: int) -> list[OrderBy]:
    items = []
    for item, position in _items(text, ",", QueryOption.ORDERBY, whole, base):
        m = _ORDERBY_ITEM.fullmatch(item)
        if m is None:
            raise _error(
                QueryOption.ORDERBY,
                whole,
                position,
                f"'{item}' is not a property optionally followed by asc or desc.",
            )
        direction = m.group(2) or "asc"
        if direction not in ("asc", "desc"):
            raise _error(
                QueryOption.ORDERBY,
                whole,
                position + m.start(2),
                f"'{direction}' is not a sort direction; use asc or desc (lowercase).",
            )
        items.append(OrderBy(tuple(m.group(1).split("/")), direction == "desc"))
    return items


def _expand(text: str, whole: str, base: int) -> list[Expand]:
    items = []
    for item, position in _items(text, ",", QueryOption.EXPAND, whole, base):
        m = _EXPAND_ITEM.fullmatch(item)
        if m is None:
            raise _error(
                QueryOption.EXPAND,
                whole,
                position,
                f"'{item}' is not a navigation property optionally followed by (options).",
            )
        expand = Expand(m.group(1))
        if m.group(2) is not None and m.group(2).strip():
            _expand_options(expand, m.group(2), whole, position + m.start(2))
        items.append(expand)
    return items


def _expand_options(expand: Expand, text: str, whole: str, base: int) -> None:
    seen: set[str] = set()
    for item, position in _items(text, ";", QueryOption.EXPAND, whole, base):
        m = _EXPAND_OPTION.fullmatch(item)
        if m is None:
            raise _error(
                QueryOption.EXPAND, whole, position, f"'{item}' is not an option such as $select=name."
            )
        name, value = m.group(1), m.group(2).strip()
        value_at = position + m.start(2) + len(m.group(2)) - len(m.group(2).lstrip())
        if name in seen:
            raise _error(
                QueryOption.EXPAND, whole, position, f"option '{name}' is given twice for '{expand.nav}'."
            )
        seen.add(name)
        if not value:
            raise _error(QueryOption.EXPAND, whole, value_at, f"option '{name}' has no value.")
        if name == QueryOption.SELECT:
            expand.select = _select(value, whole, value_at)
        elif name == QueryOption.FILTER:
            expand.filter = value
        elif name == QueryOption.ORDERBY:
            expand.orderby = _orderby(value, whole, value_at)
        elif name == QueryOption.TOP:
            if not re.fullmatch(r"[0-9]+", value):
                raise _error(
                    QueryOption.EXPAND, whole, value_at, f"$top must be a whole number, not '{value}'."
                )
            expand.top = int(value)
        elif name == QueryOption.EXPAND:
            expand.expand = _expand(value, whole, value_at)
        else:
            supported = ", ".join(o.value for o in QueryOption)
            raise _error(
                QueryOption.EXPAND,
                whole,
                position,
                f"option '{name}' is not supported inside $expand ({supported}).",
            )
