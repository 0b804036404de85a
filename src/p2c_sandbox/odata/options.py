"""``$select``, ``$orderby`` and ``$expand`` read into plain values, and rows sorted by ``$orderby``.

Each option is cut into items by :func:`_cut`, a character walk that knows quotes and
parentheses and remembers where each item starts, so errors give a position in the option text.

    >>> [e.nav for e in parse_expand("a($select=x;$top=1),b")]
    ['a', 'b']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from p2c_sandbox.odata.filter_tree import FilterError
from p2c_sandbox.odata.records import mutable_record

__all__ = ["Expand", "OrderBy", "QueryOption", "QueryOptionError"]
__all__ += ["parse_expand", "parse_orderby", "parse_select", "sort_rows"]


#: the options this module reads, named as in the URL
QueryOption = StrEnum(
    "QueryOption",
    [
        ("SELECT", "$select"),
        ("FILTER", "$filter"),
        ("ORDERBY", "$orderby"),
        ("TOP", "$top"),
        ("EXPAND", "$expand"),
    ],
)


class QueryOptionError(FilterError):
    """A malformed ``$select``/``$orderby``/``$expand``; ``option`` names it."""

    option: QueryOption

    def __init__(self, option: QueryOption, message: str, *, position: int | None = None) -> None:
        self.option = option
        FilterError.__init__(self, message, position=position)


@mutable_record
class OrderBy:
    """One ``$orderby`` key: a property path, ascending unless ``descending``."""

    path: tuple[str, ...]
    descending: bool = False


@mutable_record
class Expand:
    """One ``$expand`` item: the navigation property and its nested options (None/empty when not given)."""

    nav: str
    expand: list[Expand] = field(default_factory=list)
    top: int | None = None
    orderby: list[OrderBy] = field(default_factory=list)
    filter: str | None = None
    select: list[str] | None = None


_NESTED = {"$select", "$filter", "$orderby", "$top", "$expand"}


class _Text:
    """The whole text of one option, for messages and absolute positions."""

    def __init__(self, option: QueryOption, whole: str) -> None:
        self.option = option
        self.whole = whole

    def error(self, at: int, detail: str) -> QueryOptionError:
        return QueryOptionError(
            self.option,
            f"Invalid {self.option.value} at position {at} in '{self.whole}': {detail}.",
            position=at,
        )


def _cut(src: _Text, start: int, stop: int, sep: str) -> list[tuple[int, str]]:
    """``src.whole[start:stop]`` split on ``sep`` outside quotes and parentheses: ``(offset, piece)``."""
    pieces: list[tuple[int, str]] = []
    text = src.whole
    depth, quoted, begin = 0, False, start
    for i in range(start, stop):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise src.error(i, "unbalanced ')'")
        elif ch == sep and depth == 0:
            pieces.append((begin, text[begin:i]))
            begin = i + 1
    if quoted:
        raise src.error(stop, "unterminated quoted text")
    if depth > 0:
        raise src.error(stop, "expected ')'")
    pieces.append((begin, text[begin:stop]))
    return pieces


def _trimmed(offset: int, piece: str) -> tuple[int, str]:
    lead = len(piece) - len(piece.lstrip())
    return offset + lead, piece.strip()


def _is_name(word: str) -> bool:
    return bool(word) and not word[0].isdigit() and all(c.isalnum() or c == "_" for c in word)


def _path(src: _Text, at: int, text: str) -> tuple[str, ...]:
    segments = tuple(text.split("/"))
    if not all(_is_name(s) for s in segments):
        raise src.error(at, f"'{text}' is not a property name")
    return segments


def _items(src: _Text, start: int, stop: int) -> list[tuple[int, str]]:
    out = []
    for offset, piece in _cut(src, start, stop, ","):
        at, item = _trimmed(offset, piece)
        if not item:
            raise src.error(offset, "empty item")
        out.append((at, item))
    return out


def _select(src: _Text, start: int, stop: int) -> list[str]:
    out = []
    for at, item in _items(src, start, stop):
        if item != "*":
            _path(src, at, item)
        out.append(item)
    return out


def _orderby(src: _Text, start: int, stop: int) -> list[OrderBy]:
    out = []
    for at, item in _items(src, start, stop):
        words = item.split()
        if len(words) > 2:
            raise src.error(at, f"'{item}' is not a property optionally followed by asc or desc")
        descending = False
        if len(words) == 2:
            if words[1] not in ("asc", "desc"):
                raise src.error(at + item.rindex(words[1]), f"'{words[1]}' is not a sort direction")
            descending = words[1] == "desc"
        out.append(OrderBy(_path(src, at, words[0]), descending))
    return out


def _expand(src: _Text, start: int, stop: int) -> list[Expand]:
    out = []
    for at, item in _items(src, start, stop):
        paren = item.find("(")
        name = (item if paren < 0 else item[:paren]).strip()
        if not _is_name(name):
            raise src.error(at, f"'{name}' is not a navigation property name")
        entry = Expand(name)
        if paren >= 0:
            if not item.endswith(")"):
                raise src.error(at + len(item), "expected ')' to close the nested options")
            _nested(src, entry, at + paren + 1, at + len(item) - 1)
        out.append(entry)
    return out


def _nested(src: _Text, entry: Expand, start: int, stop: int) -> None:
    seen: set[str] = set()
    for offset, piece in _cut(src, start, stop, ";"):
        at, option = _trimmed(offset, piece)
        if not option:
            continue
        name, eq, value = option.partition("=")
        name = name.strip()
        if not eq:
            raise src.error(at, f"'{option}' is not '$option=value'")
        if name not in _NESTED:
            raise src.error(at, f"'{name}' is not supported inside $expand")
        if name in seen:
            raise src.error(at, f"{name} is given twice")
        seen.add(name)
        value_at = at + option.index("=") + 1
        value_stop = at + len(option)
        if name == "$select":
            entry.select = _select(src, value_at, value_stop)
        elif name == "$orderby":
            entry.orderby = _orderby(src, value_at, value_stop)
        elif name == "$expand":
            entry.expand = _expand(src, value_at, value_stop)
        elif name == "$filter":
            entry.filter = value.strip()
        else:
            if not value.strip().isdigit():
                raise src.error(value_at + len(value) - len(value.lstrip()), "$top must be a whole number")
            entry.top = int(value)


def parse_select(text: str) -> list[str]:
    """``$select`` items in order (``*`` kept, paths as written)."""
    return list(_parsed_select(text))


@lru_cache(maxsize=512)
def _parsed_select(text: str) -> tuple[str, ...]:
    # pure on the text: each of the 1 000 PATCHes of a $batch asks for the same $select
    return tuple(_select(_Text(QueryOption.SELECT, text), 0, len(text)))


def parse_orderby(text: str) -> list[OrderBy]:
    """``$orderby`` keys, most significant first."""
    return _orderby(_Text(QueryOption.ORDERBY, text), 0, len(text))


def parse_expand(text: str) -> list[Expand]:
    """``$expand`` items with their nested ``$select``/``$filter``/``$orderby``/``$top``/``$expand``."""
    return _expand(_Text(QueryOption.EXPAND, text), 0, len(text))


def _order_class(value: Any) -> tuple[int, Any]:
    """A total order across what rows hold: null first, then booleans, numbers, text (case-folded)."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float | Decimal):
        return (2, value)
    if isinstance(value, str):
        return (3, value.casefold())
    return (4, str(value))


def sort_rows(
    rows: Iterable[Mapping[str, Any]],
    orderby: list[OrderBy],
    get: Callable[[Mapping[str, Any], tuple[str, ...]], Any],
) -> list[Mapping[str, Any]]:
    """``rows`` in ``orderby`` order (null lowest, text case-insensitive); ties keep their input order.

    One stable key sort per ordering item, the last first: every read of a large set is sorted,
    and a key sort is many times faster than a comparator."""
    ordered = list(rows)
    for item in reversed(orderby):

        def key(row: Mapping[str, Any], path: tuple[str, ...] = item.path) -> tuple[int, Any]:
            return _order_class(get(row, path))

        ordered.sort(key=key, reverse=item.descending)
    return ordered
