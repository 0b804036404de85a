"""Split ``$filter`` text into tokens, converting literals to Python values on the way.

Literal forms (OData ABNF, ``primitiveLiteral``): ``'text'`` with ``''`` for a quote, numbers
(``-5``, ``1.25``, ``2e3``), bare GUIDs, dates and date-times, ``Qualified.Enum'Member'``
(F&O), ``@alias``, and the ``"json"`` strings Dataverse accepts inside ``PropertyValues``.

    >>> [(t.kind.value, t.value or t.text) for t in tokenize("name eq 'O''Brien & Co'")][:3]
    [('word', 'name'), ('word', 'eq'), ('string', "O'Brien & Co")]
    >>> tokenize("2024-05-01T10:00:00Z")[0].value
    datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from p2c_sandbox.odata.filter_ast import FilterError

__all__ = ["Tok", "Token", "clip", "parse_timestamp", "syntax_error", "tokenize"]


class Tok(StrEnum):
    WORD = "word"  # names, keywords and qualified names (Microsoft.Dynamics.CRM.In)
    STRING = "string"
    JSON = "json"
    NUMBER = "number"
    GUID = "guid"
    DATETIME = "datetime"
    DATE = "date"
    ENUM = "enum"  # value: (type name, member)
    ALIAS = "alias"
    OPEN = "("
    CLOSE = ")"
    OPEN_BRACKET = "["
    CLOSE_BRACKET = "]"
    COMMA = ","
    SLASH = "/"
    COLON = ":"
    EQUALS = "="
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    text: str
    pos: int
    value: object = None

    def shown(self) -> str:
        return "the end of the expression" if self.kind is Tok.END else f"'{self.text}'"


_SINGLE = {"(": Tok.OPEN, ")": Tok.CLOSE, "[": Tok.OPEN_BRACKET, "]": Tok.CLOSE_BRACKET}
_SINGLE |= {",": Tok.COMMA, "/": Tok.SLASH, ":": Tok.COLON, "=": Tok.EQUALS}
# A literal must not run straight into more word characters: "2024-01-01x" is an error, not two tokens.
_END = r"(?![\w.:-])"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}" + _END)
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?" + _END)
_DAY = re.compile(r"\d{4}-\d\d-\d\d" + _END)
_NUMBER = re.compile(r"-?\d+(?P<frac>\.\d+)?(?P<exp>[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_RUN = re.compile(r"[\w.:+-]+")


def clip(text: str, limit: int = 200) -> str:
    """``text`` as quoted in an error message: one huge filter must not flood the answer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def syntax_error(text: str, pos: int, detail: str) -> FilterError:
    return FilterError(f"Syntax error at position {pos} in '{clip(text)}': {detail}", position=pos)


def _unterminated(text: str) -> FilterError:
    # The wording of the services' own message (ODataLib), which points at the end of the text.
    return FilterError(
        f"There is an unterminated literal at position {len(text)} in '{clip(text)}'.", position=len(text)
    )


def parse_timestamp(text: str) -> dt.datetime:
    """ISO 8601 text as an aware datetime, UTC when no offset is given; ValueError if invalid."""
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an END token; raises FilterError on a bad character or literal."""
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch == "'":
            value, stop = _quoted(text, pos)
            out.append(Token(Tok.STRING, text[pos:stop], pos, value))
        elif ch == '"':
            value, stop = _json_string(text, pos)
            out.append(Token(Tok.JSON, text[pos:stop], pos, value))
        elif ch in _SINGLE:
            stop = pos + 1
            out.append(Token(_SINGLE[ch], ch, pos))
        elif ch == "@":
            name = _NAME.match(text, pos + 1)
            if name is None or "." in name.group():
                raise syntax_error(text, pos, "'@' must start a parameter alias such as @p1.")
            stop = name.end()
            out.append(Token(Tok.ALIAS, text[pos:stop], pos))
        else:
            token = _word_or_value(text, pos)
            stop = pos + len(token.text)
            out.append(token)
        pos = stop
    out.append(Token(Tok.END, "", len(text)))
    return out


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted string at ``start`` and the offset after its closing quote."""
    pieces: list[str] = []
    pos = start + 1
    while True:
        close = text.find("'", pos)
        if close < 0:
            raise _unterminated(text)
        pieces.append(text[pos:close])
        if text[close + 1 : close + 2] != "'":
            return "".join(pieces), close + 1
        pieces.append("'")
        pos = close + 2


def _json_string(text: str, start: int) -> tuple[str, int]:
    pos = start + 1
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
        elif text[pos] == '"':
            try:
                return str(json.loads(text[start : pos + 1])), pos + 1
            except ValueError:
                raise syntax_error(text, start, "bad escape sequence in a double-quoted string.") from None
        else:
            pos += 1
    raise _unterminated(text)


def _word_or_value(text: str, pos: int) -> Token:
    # GUIDs first: "ab12cd34-..." would otherwise read as a name and "12345678-..." as a number.
    if m := _GUID.match(text, pos):
        return Token(Tok.GUID, m.group(), pos, uuid.UUID(m.group()))
    if text[pos].isdigit() or (text[pos] == "-" and text[pos + 1 : pos + 2].isdigit()):
        return _number_or_time(text, pos)
    m = _NAME.match(text, pos)
    if m is None:
        raise syntax_error(text, pos, f"the character '{text[pos]}' is not valid here.")
    word = m.group()
    if text[m.end() : m.end() + 1] != "'":
        return Token(Tok.WORD, word, pos)
    member, stop = _quoted(text, m.end())
    if "." not in word:
        raise syntax_error(
            text,
            pos,
            f"'{word}' is not a literal type: an enum value needs its qualified type name "
            "(Microsoft.Dynamics.DataEntities.NoYes'Yes'), while GUIDs and dates are written unquoted.",
        )
    return Token(Tok.ENUM, text[pos:stop], pos, (word, member))


def _number_or_time(text: str, pos: int) -> Token:
    if m := _TIMESTAMP.match(text, pos):
        try:
            return Token(Tok.DATETIME, m.group(), pos, parse_timestamp(m.group()))
        except ValueError:
            raise syntax_error(text, pos, f"'{m.group()}' is not a valid date and time.") from None
    if m := _DAY.match(text, pos):
        try:
            return Token(Tok.DATE, m.group(), pos, dt.date.fromisoformat(m.group()))
        except ValueError:
            raise syntax_error(text, pos, f"'{m.group()}' is not a valid date.") from None
    m = _NUMBER.match(text, pos)
    assert m is not None  # the caller saw a digit
    if re.match(r"[\w.:-]", text[m.end() : m.end() + 1]):
        run = _RUN.match(text, pos)
        shown = run.group() if run else m.group()
        raise syntax_error(text, pos, f"'{shown}' is not a valid number, date or GUID.")
    raw = m.group()
    value: int | Decimal = Decimal(raw) if m.group("frac") or m.group("exp") else int(raw)
    return Token(Tok.NUMBER, raw, pos, value)
