"""The syntax tree of a ``$filter`` expression, its error, and which service's rules apply.

``and``/``or`` nodes are n-ary (``a or b or c`` is one :class:`BoolOp` with three operands), so
the long key lists clients send (``id eq 1 or id eq 2 or ...``) never make a deep tree. Example::

    >>> tree = BoolOp(BoolOperator.OR, (Compare(CompareOp.EQ, Property(("name",)), Literal("x")),) * 2)
    >>> len(tree.operands)
    2
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

__all__ = [
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
    "FilterError",
    "InList",
    "Lambda",
    "LambdaKind",
    "Literal",
    "LiteralValue",
    "Node",
    "Not",
    "Property",
    "make_bool",
]


class Dialect(StrEnum):
    """The service whose ``$filter`` rules apply."""

    DATAVERSE = "dataverse"
    FNO = "fno"


class FilterError(ValueError):
    """A ``$filter`` (or another query option) the service refuses; the message is for the caller.

    >>> FilterError("bad", position=4).position
    4
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


LiteralValue = str | int | Decimal | bool | None | dt.datetime | dt.date | uuid.UUID


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: datetimes are aware (UTC when the text had no offset), bare dates are ``date``."""

    value: LiteralValue


@dataclass(frozen=True, slots=True)
class EnumLiteral:
    """An F&O enum value ``Microsoft.Dynamics.DataEntities.NoYes'Yes'``."""

    type_name: str
    member: str


@dataclass(frozen=True, slots=True)
class Property:
    """A property or a navigation path (``primarycontactid/fullname``) as its segments."""

    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: BoolOperator
    operands: tuple[Node, ...]


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
    """A standard function: ``contains(name,'x')``."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class CrmCall:
    """A Dataverse query function: ``Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[...])``.

    ``name`` is the short name (``In``); arrays among ``params`` are tuples of literal values.
    """

    name: str
    params: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True, slots=True)
class InList:
    """``left in ('a','b')`` (OData 4.01)."""

    left: Node
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Lambda:
    """``path/any(var: body)``, ``path/all(var: body)``; ``body`` is None for ``path/any()``."""

    path: tuple[str, ...]
    kind: LambdaKind
    var: str
    body: Node | None


Node = Literal | EnumLiteral | Property | Compare | BoolOp | Not | Arith | Call | CrmCall | InList | Lambda


def make_bool(op: BoolOperator, items: list[Node]) -> Node:
    """``items`` joined by ``op``; operands that are ``op`` chains themselves are spliced in, so
    ``(a or b) or c`` is one flat node (a single item is returned as it is)."""
    operands: list[Node] = []
    for item in items:
        if isinstance(item, BoolOp) and item.op is op:
            operands.extend(item.operands)
        else:
            operands.append(item)
    return operands[0] if len(operands) == 1 else BoolOp(op, tuple(operands))
