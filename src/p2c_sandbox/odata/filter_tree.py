"""The ``$filter`` tree, its errors and the text scanner that feeds :mod:`~p2c_sandbox.odata.filter_parse`.

The scanner walks the text with an index and classifies each lexeme by hand (no regular
expressions): words, quoted text, numbers, dates, timestamps, GUIDs, ``@`` aliases and
punctuation. A lexeme is a plain tuple ``(kind, text, start, value)``.

    >>> [lx[0] for lx in scan("a/b eq 2024-01-01 and @p")]
    ['word', '/', 'word', 'word', 'date', 'word', 'alias', 'end']
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from p2c_sandbox.odata.records import value_type

__all__ = ["Dialect", "FilterError", "Lexeme", "scan"]
__all__ += ["ArithOp", "BoolOperator", "CompareOp", "LambdaKind"]
__all__ += ["Arith", "BoolOp", "Call", "Compare", "CrmCall", "EnumLiteral", "InList", "Lambda", "Literal"]
__all__ += ["Node", "Not", "Property"]


class Dialect(StrEnum):
    """Whose rules apply: Dataverse's or Finance and Operations'."""

    DATAVERSE = "dataverse"
    FNO = "fno"


class FilterError(ValueError):
    """A query option the emulated service answers with 400; ``position`` is an index into the text.

    >>> FilterError("bad", position=4).position
    4
    """

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# Operators: each member's value is the operator's keyword in the filter text.
CompareOp = StrEnum(
    "CompareOp", [("EQ", "eq"), ("NE", "ne"), ("GT", "gt"), ("GE", "ge"), ("LT", "lt"), ("LE", "le")]
)
BoolOperator = StrEnum("BoolOperator", [("AND", "and"), ("OR", "or")])
ArithOp = StrEnum(
    "ArithOp",
    [("ADD", "add"), ("SUB", "sub"), ("MUL", "mul"), ("DIV", "div"), ("DIVBY", "divby"), ("MOD", "mod")],
)
LambdaKind = StrEnum("LambdaKind", [("ANY", "any"), ("ALL", "all")])


@value_type
class Literal:
    value: Any


@value_type
class EnumLiteral:
    type_name: str
    member: str


@value_type
class Property:
    path: tuple[str, ...]


@value_type
class Compare:
    op: CompareOp
    left: Node
    right: Node


@value_type
class BoolOp:
    op: BoolOperator
    operands: tuple[Node, ...]


@value_type
class Not:
    operand: Node


@value_type
class Arith:
    op: ArithOp
    left: Node
    right: Node


@value_type
class Call:
    name: str
    args: tuple[Node, ...]


@value_type
class CrmCall:
    name: str  # short name, e.g. "In"; list parameters are tuples
    params: Mapping[str, object] = field(hash=False)


@value_type
class InList:
    left: Node
    values: tuple[Node, ...]


@value_type
class Lambda:
    path: tuple[str, ...]
    kind: LambdaKind
    var: str
    body: Node | None


Node = Literal | EnumLiteral | Property | Compare | BoolOp | Not | Arith | Call | CrmCall | InList | Lambda

# -- scanning ---------------------------------------------------------------------------------------

Lexeme = tuple[str, str, int, Any]
_PUNCT = "()[],/:="
_HEX = frozenset("0123456789abcdefABCDEF")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789")
_VALUE_CHARS = _WORD_CHARS | frozenset(".:+-")


def shown(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


def syntax_error(text: str, pos: int, detail: str) -> FilterError:
    return FilterError(f"Syntax error at position {pos} in '{shown(text)}': {detail}.", position=pos)


def _looks_like_guid(run: str) -> bool:
    if len(run) != 36:
        return False
    return all((ch == "-") if i in (8, 13, 18, 23) else (ch in _HEX) for i, ch in enumerate(run))


def _digits(s: str) -> bool:
    return s != "" and all("0" <= c <= "9" for c in s)


def _number(run: str) -> int | Decimal | None:
    body = run[1:] if run.startswith("-") else run
    mantissa, _, exponent = body.lower().partition("e")
    whole, dot, frac = mantissa.partition(".")
    if not _digits(whole) or (dot and not _digits(frac)):
        return None
    if exponent:
        digits = exponent[1:] if exponent[0] in "+-" else exponent
        if not _digits(digits):
            return None
    if not dot and not exponent:
        return int(run)
    try:
        return Decimal(run)
    except InvalidOperation:  # pragma: no cover - shapes above are all valid
        return None


def _is_day(run: str) -> bool:
    return len(run) == 10 and run[4] == "-" and run[7] == "-" and _digits(run[:4] + run[5:7] + run[8:])


def parse_moment(run: str) -> dt.datetime | None:
    """An ISO timestamp as an aware datetime (UTC when no offset is written), or None."""
    if len(run) < 16 or not _is_day(run[:10]) or run[10] not in "Tt":
        return None
    try:
        moment = dt.datetime.fromisoformat(run[:-1] + "+00:00" if run[-1] in "Zz" else run)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _value(text: str, start: int, run: str) -> Lexeme:
    """A lexeme that starts with a digit or '-': a number, a date, a timestamp or a GUID."""
    if _looks_like_guid(run):
        return ("guid", run, start, uuid.UUID(run))
    if _is_day(run[:10]) and (len(run) == 10 or run[10] in "Tt"):
        if len(run) == 10:
            try:
                return ("date", run, start, dt.date.fromisoformat(run))
            except ValueError:
                raise syntax_error(text, start, f"'{run}' is not a valid date") from None
        moment = parse_moment(run)
        if moment is None:
            raise syntax_error(text, start, f"'{run}' is not a valid date and time")
        return ("datetime", run, start, moment)
    number = _number(run)
    if number is None:
        raise syntax_error(text, start, f"'{run}' is not a valid number, date or GUID")
    return ("number", run, start, number)


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The text of the ``'...'`` literal opening at ``start`` (``''`` is one quote) and the index after it."""
    pieces: list[str] = []
    i = start + 1
    while True:
        close = text.find("'", i)
        if close < 0:
            n = len(text)
            raise FilterError(
                f"There is an unterminated literal at position {n} in '{shown(text)}'.", position=n
            )
        pieces.append(text[i:close])
        if text.startswith("''", close):
            pieces.append("'")
            i = close + 2
        else:
            return "".join(pieces), close + 1


_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _double_quoted(text: str, start: int) -> tuple[str, int]:
    close = text.find('"', start + 1)
    if close >= 0 and "\\" not in text[start + 1 : close]:  # no escapes: the text as it stands
        return text[start + 1 : close], close + 1
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < len(text):
            code = text[i + 1]
            if code == "u" and i + 6 <= len(text):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_JSON_ESCAPES.get(code, code))
            i += 2
            continue
        out.append(ch)
        i += 1
    n = len(text)
    raise FilterError(f"There is an unterminated literal at position {n} in '{shown(text)}'.", position=n)


def scan(text: str) -> list[Lexeme]:
    """Every lexeme of ``text``, ending with an ``end`` lexeme; raises FilterError on bad characters."""
    out: list[Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _PUNCT:
            out.append((ch, ch, i, None))
            i += 1
        elif ch == "'":
            value, end = _quoted(text, i)
            out.append(("string", text[i:end], i, value))
            i = end
        elif ch == '"':
            value, end = _double_quoted(text, i)
            out.append(("json", text[i:end], i, value))
            i = end
        elif ch == "@":
            j = i + 1
            while j < n and text[j] in _WORD_CHARS:
                j += 1
            out.append(("alias", text[i:j], i, None))
            i = j
        elif ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()) or ch in _HEX:
            j = i + 1
            while j < n and text[j] in _VALUE_CHARS:
                j += 1
            run = text[i:j]
            if ch in _WORD_START and not _looks_like_guid(run):
                i = _word(text, i, out)
            else:
                out.append(_value(text, i, run))
                i = j
        elif ch in _WORD_START:
            i = _word(text, i, out)
        else:
            raise syntax_error(text, i, f"the character '{ch}' is not valid")
    out.append(("end", "", n, None))
    return out


def _word(text: str, start: int, out: list[Lexeme]) -> int:
    """A (possibly dotted) name; a name glued to a quote is a typed literal (an enum member)."""
    j = start
    while j < len(text) and (text[j] in _WORD_CHARS or (text[j] == "." and j + 1 < len(text))):
        j += 1
    name = text[start:j]
    if j < len(text) and text[j] == "'":
        member, end = _quoted(text, j)  # an unterminated quote is the first thing to report
        if "." not in name:
            raise syntax_error(text, start, f"'{name}' is not a literal type")
        out.append(("enum", text[start:end], start, (name, member)))
        return end
    out.append(("word", name, start, None))
    return j
