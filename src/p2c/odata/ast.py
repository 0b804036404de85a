"""The vocabulary of OData ``$filter``: dialects, the error, the syntax tree, quoting.

Both parsers (``parse``) and the compiler (``compile``) speak
this tree; callers may also build it by hand. Example::

    >>> tree = Compare(CompareOp.EQ, Property(("name",)), Literal("O'Brien"))
    >>> quote_string("O'Brien")
    "'O''Brien'"

Exception tree (one class, raised by parsing and compiling alike)::

    ValueError
    └── FilterError              .position: char offset in the filter text, or None
        └── QueryOptionError     .option: "$select", "$orderby", "$expand", ...
            (defined in odata_query)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "CRM_FUNCTIONS",
    "STANDARD_FUNCTIONS",
    "Arith",
    "ArithOp",
    "BoolOp",
    "BoolOperator",
    "Call",
    "Compare",
    "CompareOp",
    "CrmCall",
    "Dialect",
    "EnumLiteral",
    "Feature",
    "FilterError",
    "InList",
    "Lambda",
    "LambdaKind",
    "Literal",
    "LiteralValue",
    "Node",
    "Not",
    "Property",
    "dialect_violation",
    "flatten",
    "quote_string",
]


class Dialect(StrEnum):
    """Which service's ``$filter`` rules apply."""

    DATAVERSE = "dataverse"
    FNO = "fno"


class FilterError(ValueError):
    """A ``$filter`` that cannot be parsed or compiled; the message is meant for the user.

    ``position`` is the character offset in the filter text when the parser knows it.

    >>> FilterError("Syntax error at position 3 in 'a b'.", position=3).position
    3
    """

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class CompareOp(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"


class BoolOperator(StrEnum):
    AND = "and"
    OR = "or"


class ArithOp(StrEnum):
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    DIV = "div"
    DIVBY = "divby"
    MOD = "mod"


class LambdaKind(StrEnum):
    ANY = "any"
    ALL = "all"


class Feature(StrEnum):
    """Syntax that only some dialects accept (see ``dialect_violation``)."""

    IN_OPERATOR = "in"
    HAS_OPERATOR = "has"
    ARITHMETIC = "arithmetic"
    FUNCTION = "function"
    CRM_FUNCTION = "crm_function"
    LAMBDA = "lambda"
    ENUM_LITERAL = "enum_literal"


# Standard OData functions the parser knows, with their (min, max) argument counts.
STANDARD_FUNCTIONS: Mapping[str, tuple[int, int]] = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "tolower": (1, 1),
    "toupper": (1, 1),
    "trim": (1, 1),
    "length": (1, 1),
    "indexof": (2, 2),
    "substring": (2, 3),
    "concat": (2, 2),
    "year": (1, 1),
    "month": (1, 1),
    "day": (1, 1),
    "hour": (1, 1),
    "minute": (1, 1),
    "second": (1, 1),
    "date": (1, 1),
    "now": (0, 0),
}

# Only these three are documented for Dataverse (PAD filter-rows.md "Use OData query functions").
DATAVERSE_FUNCTIONS = frozenset({"contains", "startswith", "endswith"})

CRM_NAMESPACE = "Microsoft.Dynamics.CRM."

# Dataverse query functions implemented, with the parameters each one takes besides PropertyName.
CRM_FUNCTIONS: Mapping[str, frozenset[str]] = {
    "In": frozenset({"PropertyValues"}),
    "NotIn": frozenset({"PropertyValues"}),
    "Between": frozenset({"PropertyValues"}),
    "NotBetween": frozenset({"PropertyValues"}),
    "On": frozenset({"PropertyValue"}),
    "OnOrAfter": frozenset({"PropertyValue"}),
    "OnOrBefore": frozenset({"PropertyValue"}),
    "LastXDays": frozenset({"PropertyValue"}),
    "NextXDays": frozenset({"PropertyValue"}),
    "Today": frozenset(),
    "Yesterday": frozenset(),
    "Tomorrow": frozenset(),
}

LiteralValue = str | int | Decimal | bool | None | dt.datetime | dt.date | uuid.UUID


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant. Datetimes are tz-aware UTC; ``2016-11-25`` is a ``datetime.date``."""

    value: LiteralValue


@dataclass(frozen=True, slots=True)
class EnumLiteral:
    """An F&O enum constant: ``Microsoft.Dynamics.DataEntities.NoYes'Yes'``."""

    type_name: str
    member: str


@dataclass(frozen=True, slots=True)
class Property:
    """A property, or a navigation path ``primarycontactid/fullname`` as its segments."""

    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: BoolOperator
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Arith:
    op: ArithOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A standard OData function such as ``contains(name,'x')``."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class CrmCall:
    """``Microsoft.Dynamics.CRM.<name>(PropertyName='x',PropertyValues=["a","b"])``.

    ``params`` maps parameter names to literal values; arrays become tuples.
    """

    name: str
    params: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True, slots=True)
class InList:
    """OData 4.01 ``left in ('a','b')``."""

    left: Node
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Lambda:
    """``path/any(var: body)``; ``body`` is None for the argument-less ``path/any()``."""

    path: tuple[str, ...]
    var: str
    kind: LambdaKind
    body: Node | None


Node = Literal | EnumLiteral | Property | Compare | BoolOp | Not | Arith | Call | CrmCall | InList | Lambda


def quote_string(value: str) -> str:
    """Quote ``value`` as an OData string literal, doubling single quotes.

    The result cannot end the literal early, so it is safe to splice into a filter. It is
    not URL-encoded: ``httpx`` params (or ``urllib.parse.quote``) must do that.

    >>> quote_string("O'Brien & Co")
    "'O''Brien & Co'"
    """
    return "'" + value.replace("'", "''") + "'"


def dialect_violation(dialect: Dialect, feature: Feature, name: str = "") -> str | None:
    """Why ``dialect`` rejects ``feature`` (``name`` = the operator or function), or None.

    The parser calls this with a position to report, the compiler again for hand-built trees.
    """
    if dialect is Dialect.FNO:
        invalid = "The query specified in the URI is not valid."
        if feature is Feature.IN_OPERATOR:
            return f"{invalid} The 'in' operator is not supported by Finance and Operations."
        if feature is Feature.HAS_OPERATOR:
            return f"{invalid} The 'has' operator is not supported by Finance and Operations."
        if feature is Feature.FUNCTION:
            return (
                f"{invalid} The function '{name}' is not supported by Finance and Operations; "
                "use a wildcard in an 'eq' comparison instead, e.g. Name eq '*text*'."
            )
        if feature is Feature.CRM_FUNCTION:
            return f"{invalid} The function '{name}' is a Dataverse function, not an F&O one."
        if feature is Feature.LAMBDA:
            return f"{invalid} The lambda operator '{name}' is not supported by Finance and Operations."
        return None
    if feature is Feature.HAS_OPERATOR:
        return "The 'has' operator is not supported by Dataverse."
    if feature is Feature.ARITHMETIC:
        return f"The arithmetic operator '{name}' is not supported by Dataverse."
    if feature is Feature.ENUM_LITERAL:
        return f"Enum literal {name} is not supported by Dataverse; compare choice columns with integers."
    if feature is Feature.FUNCTION and name not in DATAVERSE_FUNCTIONS:
        return (
            f"The function '{name}' is not supported by Dataverse; "
            "only contains, startswith and endswith are."
        )
    if feature is Feature.CRM_FUNCTION and name not in CRM_FUNCTIONS:
        supported = ", ".join(CRM_FUNCTIONS)
        return f"The query function '{CRM_NAMESPACE}{name}' is not supported (supported: {supported})."
    return None


def flatten(node: BoolOp) -> list[Node]:
    """The operands of a chain of one operator; iterative, as long chains are normal (id eq a or ...)."""
    parts: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, BoolOp) and item.op == node.op:
            stack.extend((item.right, item.left))
        else:
            parts.append(item)
    return parts
