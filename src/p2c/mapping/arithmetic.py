"""Arithmetic of ``expr`` field expressions: a tokenizer, a small AST and Decimal evaluation.

``{expr: "round(quantity * priceperunit - manualdiscountamount, 2)"}`` in a task mapping is parsed
here once at load time (:mod:`p2c.mapping.expression` wraps the tree in an ``Arithmetic`` node) and
evaluated per record by the mapper. ``+ - * /``, parentheses, numbers, field names (``$`` pseudo
fields of rules included) and ``round``/``abs``/``min``/``max``; nothing else, so no ``eval``.

:class:`ExpressionError` lives here, the lowest layer of the expression language, and is what
:mod:`p2c.mapping.expression` raises too.

Example::

    >>> tree = parse_arithmetic("round(qty * price, 2)")
    >>> sorted(arithmetic_names(tree))
    ['price', 'qty']
    >>> evaluate_arithmetic(tree, {"qty": Decimal(3), "price": Decimal("3.335")}.__getitem__)
    Decimal('10.01')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

__all__ = [
    "DECIMAL_CONTEXT",
    "FUNCTIONS",
    "ANode",
    "BinOp",
    "ExpressionError",
    "Func",
    "Neg",
    "Num",
    "Var",
    "arithmetic_names",
    "evaluate_arithmetic",
    "parse_arithmetic",
]

# Decimal arithmetic of p2c: 28 significant digits, banker's rounding inside operations (as
# Python's default context); round() in expressions rounds half away from zero, as money does.
DECIMAL_CONTEXT = Context(prec=28)


class ExpressionError(ValueError):
    """A malformed expression. ``path`` is the key path inside it, ``position`` the offset in ``expr`` text."""

    def __init__(self, message: str, path: tuple[str | int, ...] = (), position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.position = position


@dataclass(frozen=True, slots=True)
class Num:
    value: Decimal


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: ANode
    right: ANode


@dataclass(frozen=True, slots=True)
class Neg:
    operand: ANode


@dataclass(frozen=True, slots=True)
class Func:
    name: str
    args: tuple[ANode, ...]


ANode = Num | Var | BinOp | Neg | Func
FUNCTIONS = {"round": (2, 2), "abs": (1, 1), "min": (2, 99), "max": (2, 99)}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/(),]))"
)
_MAX_DEPTH = 100


def parse_arithmetic(text: str) -> ANode:
    """Parse ``+ - * /``, parentheses, numbers, field names and round/abs/min/max.

    >>> parse_arithmetic("2 * (a + 1)")
    BinOp(op='*', left=Num(value=Decimal('2')), right=BinOp(op='+', left=Var(name='a', position=5), right=Num(value=Decimal('1'))))
    """
    return _ArithParser(text).parse()


class _ArithParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                bad = len(text) - len(text[pos:].lstrip())
                raise self.error(f"unexpected character {text[bad]!r}", bad)
            kind = m.lastgroup or ""
            start = m.start(kind)
            self.tokens.append((kind, m.group(kind), start))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def error(self, what: str, position: int) -> ExpressionError:
        return ExpressionError(f"{what} at position {position} in {self.text!r}", position=position)

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] == value:
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            tok = self.peek()
            where = tok[2] if tok else len(self.text)
            found = repr(tok[1]) if tok else "the end"
            raise self.error(f"expected {value!r} but found {found}", where)

    def parse(self) -> ANode:
        if not self.tokens:
            raise self.error("empty expression", 0)
        node = self.additive()
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {tok[1]!r}", tok[2])
        return node

    def additive(self) -> ANode:
        node = self.multiplicative()
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in "+-":
            self.i += 1
            node = BinOp(tok[1], node, self.multiplicative())
        return node

    def multiplicative(self) -> ANode:
        node = self.unary()
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in "*/":
            self.i += 1
            node = BinOp(tok[1], node, self.unary())
        return node

    def unary(self) -> ANode:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            tok = self.peek()
            raise self.error("expression nested too deeply", tok[2] if tok else len(self.text))
        try:
            if self.take("-"):
                return Neg(self.unary())
            if self.take("+"):
                return self.unary()
            return self.primary()
        finally:
            self.depth -= 1

    def primary(self) -> ANode:
        tok = self.peek()
        if tok is None:
            raise self.error("expected a number, a field or '(' but found the end", len(self.text))
        kind, value, pos = tok
        self.i += 1
        if kind == "num":
            return Num(Decimal(value))
        if kind == "name":
            if self.take("("):
                return self.call(value, pos)
            return Var(value, pos)
        if value == "(":
            node = self.additive()
            self.expect(")")
            return node
        raise self.error(f"unexpected {value!r}", pos)

    def call(self, name: str, pos: int) -> ANode:
        if name not in FUNCTIONS:
            raise self.error(f"unknown function {name!r} (known: {', '.join(FUNCTIONS)})", pos)
        args: list[ANode] = []
        if not self.take(")"):
            args.append(self.additive())
            while self.take(","):
                args.append(self.additive())
            self.expect(")")
        lo, hi = FUNCTIONS[name]
        if not lo <= len(args) <= hi:
            count = str(lo) if lo == hi else f"{lo} or more"
            raise self.error(f"{name}() takes {count} arguments, not {len(args)}", pos)
        if name == "round" and not isinstance(args[1], Num):
            raise self.error("round() takes a number of decimals, e.g. round(x, 2)", pos)
        return Func(name, tuple(args))


def arithmetic_names(node: ANode) -> set[str]:
    if isinstance(node, Var):
        return {node.name}
    if isinstance(node, BinOp):
        return arithmetic_names(node.left) | arithmetic_names(node.right)
    if isinstance(node, Neg):
        return arithmetic_names(node.operand)
    if isinstance(node, Func):
        return set().union(*(arithmetic_names(a) for a in node.args))
    return set()


def evaluate_arithmetic(node: ANode, value_of: Callable[[str], Decimal]) -> Decimal:
    """Evaluate with Decimal only; raises ``decimal.DecimalException`` (e.g. division by zero)."""
    ctx = DECIMAL_CONTEXT
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Var):
        return value_of(node.name)
    if isinstance(node, Neg):
        return ctx.minus(evaluate_arithmetic(node.operand, value_of))
    if isinstance(node, BinOp):
        a = evaluate_arithmetic(node.left, value_of)
        b = evaluate_arithmetic(node.right, value_of)
        if node.op == "+":
            return ctx.add(a, b)
        if node.op == "-":
            return ctx.subtract(a, b)
        if node.op == "*":
            return ctx.multiply(a, b)
        return ctx.divide(a, b)
    args = [evaluate_arithmetic(a, value_of) for a in node.args]
    if node.name == "abs":
        return ctx.abs(args[0])
    if node.name == "min":
        return min(args)
    if node.name == "max":
        return max(args)
    places = int(args[1])
    return args[0].quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=ctx)
