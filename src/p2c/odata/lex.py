"""Tokenizer for OData ``$filter`` text (used by ``parse``).

Literals are converted here, so the parser sees Python values. Example::

    >>> [t.kind.value for t in tokenize("name eq 'O''Brien'")]
    ['ident', 'ident', 'string', 'end']
    >>> tokenize("2016-11-25T12:00:00Z")[0].value
    datetime.datetime(2016, 11, 25, 12, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from p2c.odata.ast import FilterError

__all__ = ["Token", "TokenKind", "parse_datetime_text", "shorten", "tokenize"]


class TokenKind(StrEnum):
    IDENT = "ident"  # also qualified names: Microsoft.Dynamics.CRM.In
    STRING = "string"
    JSON_STRING = "json_string"  # "..." inside Dataverse PropertyValues arrays
    NUMBER = "number"
    GUID = "guid"
    DATETIME = "datetime"
    DATE = "date"
    ENUM = "enum"  # value is (type_name, member)
    ALIAS = "alias"  # @p1
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    SLASH = "/"
    COLON = ":"
    EQUALS = "="
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    pos: int
    value: object = None

    def describe(self) -> str:
        return "the end of the expression" if self.kind is TokenKind.END else f"'{self.text}'"


_PUNCT = {
    "(": TokenKind.LPAREN,
    ")": TokenKind.RPAREN,
    "[": TokenKind.LBRACKET,
    "]": TokenKind.RBRACKET,
    ",": TokenKind.COMMA,
    "/": TokenKind.SLASH,
    ":": TokenKind.COLON,
    "=": TokenKind.EQUALS,
}

_HEX = "[0-9A-Fa-f]"
# A GUID may start with a letter (ab12cd34-...), so it is tried before identifiers.
_GUID = re.compile(rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![\w.-])")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?(?![\w.:-])"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w.:-])")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_WORD_CHAR = re.compile(r"[\w.:-]")


def shorten(text: str, limit: int = 200) -> str:
    """The filter text as quoted in messages, cut so one huge filter cannot flood a log."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def syntax_error(text: str, pos: int, detail: str) -> FilterError:
    return FilterError(f"Syntax error at position {pos} in '{shorten(text)}': {detail}", position=pos)


def parse_datetime_text(value: str) -> dt.datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; no offset means UTC (ValueError if bad)."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens ending with an END token; raises FilterError."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch == "'":
            value, stop = _read_string(text, pos)
            tokens.append(Token(TokenKind.STRING, text[pos:stop], pos, value))
        elif ch == '"':
            value, stop = _read_json_string(text, pos)
            tokens.append(Token(TokenKind.JSON_STRING, text[pos:stop], pos, value))
        elif ch in _PUNCT:
            stop = pos + 1
            tokens.append(Token(_PUNCT[ch], ch, pos))
        elif ch == "@":
            m = _IDENT.match(text, pos + 1)
            if m is None or "." in m.group():
                raise syntax_error(text, pos, "'@' must start a parameter alias such as @p1.")
            stop = m.end()
            tokens.append(Token(TokenKind.ALIAS, text[pos:stop], pos))
        else:
            token = _read_word(text, pos)
            stop = pos + len(token.text)
            tokens.append(token)
        pos = stop
    tokens.append(Token(TokenKind.END, "", end))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    parts: list[str] = []
    pos = start + 1
    while True:
        quote = text.find("'", pos)
        if quote < 0:
            # Same wording and position (end of text) as the real services' ODataLib.
            raise FilterError(
                f"There is an unterminated literal at position {len(text)} in '{shorten(text)}'.",
                position=len(text),
            )
        parts.append(text[pos:quote])
        if text.startswith("''", quote):
            parts.append("'")
            pos = quote + 2
            continue
        return "".join(parts), quote + 1


def _read_json_string(text: str, start: int) -> tuple[str, int]:
    pos = start + 1
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
            continue
        if text[pos] == '"':
            try:
                return str(json.loads(text[start : pos + 1])), pos + 1
            except ValueError:
                raise syntax_error(text, start, "invalid escape in a double-quoted string.") from None
        pos += 1
    raise FilterError(
        f"There is an unterminated literal at position {len(text)} in '{shorten(text)}'.",
        position=len(text),
    )


def _read_word(text: str, pos: int) -> Token:
    m = _GUID.match(text, pos)
    if m:
        return Token(TokenKind.GUID, m.group(), pos, uuid.UUID(m.group()))
    if text[pos].isdigit() or (text[pos] == "-" and text[pos + 1 : pos + 2].isdigit()):
        return _read_number_or_date(text, pos)
    m = _IDENT.match(text, pos)
    if m is None:
        raise FilterError(
            f"Syntax error: character '{text[pos]}' is not valid at position {pos} in '{shorten(text)}'.",
            position=pos,
        )
    word = m.group()
    if text.startswith("'", m.end()):
        member, stop = _read_string(text, m.end())  # an unterminated quote is reported first
        if "." not in word:
            raise syntax_error(
                text,
                pos,
                f"'{word}' is not a literal type: enum values need a qualified type name "
                "(Microsoft.Dynamics.DataEntities.NoYes'Yes'), GUIDs and dates are written bare.",
            )
        return Token(TokenKind.ENUM, text[pos:stop], pos, (word, member))
    return Token(TokenKind.IDENT, word, pos)


def _read_number_or_date(text: str, pos: int) -> Token:
    m = _DATETIME.match(text, pos)
    if m:
        try:
            value: object = parse_datetime_text(m.group())
        except ValueError:
            raise syntax_error(text, pos, f"'{m.group()}' is not a valid date and time.") from None
        return Token(TokenKind.DATETIME, m.group(), pos, value)
    m = _DATE.match(text, pos)
    if m:
        try:
            value = dt.date.fromisoformat(m.group())
        except ValueError:
            raise syntax_error(text, pos, f"'{m.group()}' is not a valid date.") from None
        return Token(TokenKind.DATE, m.group(), pos, value)
    m = _NUMBER.match(text, pos)
    assert m is not None  # the caller saw a digit
    if _WORD_CHAR.match(text, m.end()):
        bad = re.match(r"[\w.:+-]+", text[pos:])
        shown = bad.group() if bad else m.group()
        raise syntax_error(text, pos, f"'{shown}' is not a valid number, date or GUID literal.")
    raw = m.group()
    if m.group(1) or m.group(2):
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
            raise syntax_error(text, pos, f"'{raw}' is not a valid number.") from None
    else:
        value = int(raw)
    return Token(TokenKind.NUMBER, raw, pos, value)
