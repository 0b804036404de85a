"""``$select``, ``$orderby`` and ``$expand`` (OData Part 2 §5.1.2-5.1.4) parsed, and rows sorted.

A nested ``$expand`` takes its own options after the navigation property, separated by ``;``
(``quote_details($select=quantity;$top=2)``); a nested ``$filter`` stays text for
:func:`~p2c_sandbox.odata.filter.parse_filter`. Errors are :class:`QueryOptionError`, a
FilterError, so callers turn every bad query option into the same kind of 400.

    >>> [(o.path, o.descending) for o in parse_orderby("name, createdon desc")]
    [(('name',), False), (('createdon',), True)]
    >>> e = parse_expand("primarycontactid($select=fullname),contact_customer_accounts($top=2;$orderby=fullname)")
    >>> [(x.nav, x.select, x.top) for x in e]
    [('primarycontactid', ['fullname'], None), ('contact_customer_accounts', None, 2)]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from p2c_sandbox.odata.filter_ast import FilterError
from p2c_sandbox.odata.filter_lex import clip

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

_PATH = re.compile(r"[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*")
_NAV = re.compile(r"([A-Za-z_]\w*)\s*(?:\((.*)\))?", re.DOTALL)


class QueryOption(StrEnum):
    SELECT = "$select"
    FILTER = "$filter"
    ORDERBY = "$orderby"
    TOP = "$top"
    EXPAND = "$expand"


class QueryOptionError(FilterError):
    """A malformed ``$select``/``$orderby``/``$expand``; ``option`` says which."""

    def __init__(self, option: QueryOption, message: str, *, position: int | None = None) -> None:
        super().__init__(message, position=position)
        self.option = option


@dataclass
class OrderBy:
    path: tuple[str, ...]
    descending: bool = False


@dataclass
class Expand:
    """An ``$expand`` item; options not given stay None (or empty)."""

    nav: str
    select: list[str] | None = None
    filter: str | None = None
    orderby: list[OrderBy] = field(default_factory=list)
    top: int | None = None
    expand: list[Expand] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A stripped item of a list and its offset in the whole option text (for messages)."""

    text: str
    at: int


class _Reader:
    """Parses one option's text; ``whole`` is quoted in errors, offsets point into it."""

    def __init__(self, option: QueryOption, whole: str) -> None:
        self.option, self.whole = option, whole

    def error(self, at: int, detail: str, option: QueryOption | None = None) -> QueryOptionError:
        shown = option or self.option
        return QueryOptionError(
            shown,
            f"Syntax error at position {at} in {self.option} '{clip(self.whole)}': {detail}",
            position=at,
        )

    def pieces(self, text: str, at: int, sep: str) -> list[_Piece]:
        """``text`` split at ``sep`` outside quotes and parentheses; empty items are errors."""
        out: list[_Piece] = []
        depth, start, quote, i = 0, 0, "", 0
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == "\\" and quote == '"':
                    i += 1
                elif ch == quote:
                    quote = ""  # a doubled '' closes and reopens: still balanced
            elif ch in "'\"":
                quote = ch
            elif ch in "()":
                depth += 1 if ch == "(" else -1
                if depth < 0:
                    raise self.error(at + i, "unbalanced ')'.")
            elif ch == sep and depth == 0:
                out.append(self._piece(text[start:i], at + start, sep))
                start = i + 1
            i += 1
        if quote:
            raise self.error(at + len(text), "unterminated quoted text.")
        if depth:
            raise self.error(at + len(text), "expected ')' but found the end of the text.")
        out.append(self._piece(text[start:], at + start, sep))
        return out

    def _piece(self, raw: str, at: int, sep: str) -> _Piece:
        stripped = raw.strip()
        offset = at + len(raw) - len(raw.lstrip())
        if not stripped:
            raise self.error(offset, f"empty item (is there a stray '{sep}'?).")
        return _Piece(stripped, offset)

    def select(self, text: str, at: int) -> list[str]:
        names = []
        for piece in self.pieces(text, at, ","):
            if piece.text != "*" and not _PATH.fullmatch(piece.text):
                raise self.error(piece.at, f"'{piece.text}' is not a property name.")
            names.append(piece.text)
        return names

    def orderby(self, text: str, at: int) -> list[OrderBy]:
        out = []
        for piece in self.pieces(text, at, ","):
            words = piece.text.split()
            if not _PATH.fullmatch(words[0]) or len(words) > 2:
                raise self.error(
                    piece.at, f"'{piece.text}' is not a property optionally followed by asc or desc."
                )
            direction = words[1] if len(words) == 2 else "asc"
            if direction not in ("asc", "desc"):
                where = piece.at + piece.text.rindex(direction)
                raise self.error(
                    where, f"'{direction}' is not a sort direction; use asc or desc (lowercase)."
                )
            out.append(OrderBy(tuple(words[0].split("/")), direction == "desc"))
        return out

    def expand(self, text: str, at: int) -> list[Expand]:
        out = []
        for piece in self.pieces(text, at, ","):
            m = _NAV.fullmatch(piece.text)
            if m is None:
                raise self.error(
                    piece.at, f"'{piece.text}' is not a navigation property optionally followed by (options)."
                )
            item = Expand(m.group(1))
            if m.group(2) is not None and m.group(2).strip():
                self.nested(item, m.group(2), piece.at + m.start(2))
            out.append(item)
        return out

    def nested(self, item: Expand, text: str, at: int) -> None:
        seen: set[str] = set()
        for piece in self.pieces(text, at, ";"):
            name, equals, value = piece.text.partition("=")
            name = name.strip()
            if not equals or not re.fullmatch(r"\$\w+", name):
                raise self.error(piece.at, f"'{piece.text}' is not an option such as $select=name.")
            if name in seen:
                raise self.error(piece.at, f"option '{name}' is given twice for '{item.nav}'.")
            seen.add(name)
            value_at = piece.at + len(piece.text) - len(value.lstrip())
            self.nested_option(item, name, value.strip(), value_at, piece.at)

    def nested_option(self, item: Expand, name: str, value: str, value_at: int, at: int) -> None:
        if not value:
            raise self.error(value_at, f"option '{name}' has no value.")
        if name == QueryOption.SELECT:
            item.select = self.select(value, value_at)
        elif name == QueryOption.FILTER:
            item.filter = value
        elif name == QueryOption.ORDERBY:
            item.orderby = self.orderby(value, value_at)
        elif name == QueryOption.TOP:
            if not value.isascii() or not value.isdigit():
                raise self.error(value_at, f"$top must be a whole number, not '{value}'.")
            item.top = int(value)
        elif name == QueryOption.EXPAND:
            item.expand = self.expand(value, value_at)
        else:
            allowed = ", ".join(option.value for option in QueryOption)
            raise self.error(at, f"option '{name}' is not supported inside $expand ({allowed}).")


def parse_select(text: str) -> list[str]:
    """``"a, b/c,*"`` -> ``["a", "b/c", "*"]``."""
    return _Reader(QueryOption.SELECT, text).select(text, 0)


def parse_orderby(text: str) -> list[OrderBy]:
    """``"name asc,createdon desc"`` -> OrderBy items (ascending unless ``desc``)."""
    return _Reader(QueryOption.ORDERBY, text).orderby(text, 0)


def parse_expand(text: str) -> list[Expand]:
    """``"a($select=x;$top=2),b"`` -> Expand items with their nested options."""
    return _Reader(QueryOption.EXPAND, text).expand(text, 0)


def sort_rows(
    rows: Iterable[Mapping[str, Any]],
    orderby: list[OrderBy],
    get: Callable[[Mapping[str, Any], tuple[str, ...]], Any],
) -> list[Mapping[str, Any]]:
    """``rows`` in ``orderby`` order as SQL Server sorts: null first, text case-insensitively.

    Stable: rows equal on every key keep their order (callers sort by key first for paging).
    """
    out = list(rows)
    for item in reversed(orderby):  # least significant key first; each stable pass keeps the rest
        out.sort(key=_sort_key(get, item.path), reverse=item.descending)
    return out


def _sort_key(
    get: Callable[[Mapping[str, Any], tuple[str, ...]], Any], path: tuple[str, ...]
) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    return lambda row: _rank(get(row, path))


def _rank(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    return (1, value.lower() if isinstance(value, str) else value)
