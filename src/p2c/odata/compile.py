"""Compile a ``$filter`` tree into a predicate over row mappings.

All checking happens here, once: unknown properties, type mismatches, dialect rules
(F&O wildcards and enums, Dataverse functions). Literals are coerced and lower-cased at
compile time, so the per-row work is a lookup, a normalisation and a compare. Example::

    >>> from p2c.odata.parse import parse_filter
    >>> from p2c.odata.schema import DictSchema, FieldInfo, FieldKind
    >>> schema = DictSchema("account", [FieldInfo("name", FieldKind.STRING)])
    >>> match = compile_filter(parse_filter("name eq 'CONTOSO'", Dialect.DATAVERSE), schema, Dialect.DATAVERSE)
    >>> match({"name": "Contoso"})
    True

Null semantics follow OData: ``x eq null`` matches missing values, ``ne`` matches them
too, ordering comparisons with null are false, and ``not`` is plain negation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from p2c.odata.ast import (
    Arith,
    BoolOp,
    BoolOperator,
    Call,
    Compare,
    CompareOp,
    CrmCall,
    Dialect,
    EnumLiteral,
    Feature,
    FilterError,
    InList,
    Lambda,
    LambdaKind,
    Literal,
    Node,
    Not,
    Property,
    dialect_violation,
    flatten,
)
from p2c.odata.compare import Operand, Predicate, compare, membership
from p2c.odata.crm import arithmetic, crm_predicate
from p2c.odata.schema import FieldInfo, FieldKind, FilterSchema, Row, RowGetter
from p2c.odata.values import describe_value, kind_of_value, normalizer

__all__ = ["Predicate", "compile_filter"]

_TYPE_PREFIX = {Dialect.DATAVERSE: "Microsoft.Dynamics.CRM.", Dialect.FNO: "Microsoft.Dynamics.DataEntities."}
_NUMERIC = (FieldKind.INT, FieldKind.DECIMAL)
_STRING_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda s, n: n in s,
    "startswith": str.startswith,
    "endswith": str.endswith,
}


def compile_filter(
    node: Node, schema: FilterSchema, dialect: Dialect, *, now: Callable[[], dt.datetime] | None = None
) -> Predicate:
    """A predicate ``row -> bool`` for ``node``; raises FilterError naming what is wrong.

    ``now`` is the clock of the Dataverse date functions (Today, LastXDays, ...); UTC by default.
    """
    dialect = Dialect(dialect)
    type_name = getattr(schema, "type_name", "") or "entity"
    scope = _Scope(schema, dialect, now, f"{_TYPE_PREFIX[dialect]}{type_name}", None)
    try:
        return _predicate(node, scope)
    except RecursionError:
        raise FilterError("The $filter expression is too complex.") from None


@dataclass(frozen=True, slots=True)
class _Scope:
    schema: FilterSchema
    dialect: Dialect
    now: Callable[[], dt.datetime] | None
    type_label: str
    var: str | None  # inside a lambda body: the range variable every path must start with

    def check(self, feature: Feature, name: str) -> None:
        message = dialect_violation(self.dialect, feature, name)
        if message is not None:
            raise FilterError(message)


def _predicate(node: Node, scope: _Scope) -> Predicate:
    if isinstance(node, BoolOp):
        return _bool_chain(node, scope)
    if isinstance(node, Not):
        inner = _predicate(node.operand, scope)
        return lambda row: not inner(row)
    if isinstance(node, Compare):
        return compare(node.op, _operand(node.left, scope), _operand(node.right, scope), scope.dialect)
    if isinstance(node, Call):
        return _string_function(node, scope)
    if isinstance(node, CrmCall):
        return _crm_call(node, scope)
    if isinstance(node, InList):
        scope.check(Feature.IN_OPERATOR, "in")
        return _membership(node.left, node.values, scope)
    if isinstance(node, Lambda):
        return _lambda(node, scope)
    operand = _operand(node, scope)
    if operand.kind is FieldKind.BOOL:
        if operand.is_const:
            result = operand.value is True
            return lambda row: result
        get = operand.get
        assert get is not None
        return lambda row: get(row) is True
    raise FilterError(f"The $filter expression must be a Boolean, but {operand.label} is {operand.edm}.")


def _bool_chain(node: BoolOp, scope: _Scope) -> Predicate:
    parts = flatten(node)
    preds: list[Predicate] = []
    if node.op == BoolOperator.OR:
        parts = _group_equalities(parts, scope, preds)
    preds.extend(_predicate(part, scope) for part in parts)
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        if node.op == BoolOperator.AND:
            return lambda row: first(row) and second(row)
        return lambda row: first(row) or second(row)
    if node.op == BoolOperator.AND:
        return lambda row: all(pred(row) for pred in preds)
    return lambda row: any(pred(row) for pred in preds)


def _group_equalities(parts: list[Node], scope: _Scope, preds: list[Predicate]) -> list[Node]:
    """Fold ``p eq 'a' or p eq 'b' or ...`` into one set lookup; return the other parts."""
    groups: dict[tuple[str, ...], list[Node]] = {}
    rest: list[Node] = []
    for part in parts:
        if (
            isinstance(part, Compare)
            and part.op == CompareOp.EQ
            and isinstance(part.left, Property)
            and isinstance(part.right, Literal | EnumLiteral)
            and not (
                scope.dialect is Dialect.FNO
                and isinstance(part.right, Literal)
                and "*" in str(part.right.value)
            )
        ):
            groups.setdefault(part.left.path, []).append(part.right)
        else:
            rest.append(part)
    for path, values in groups.items():
        if len(values) > 1:
            try:
                preds.append(_membership(Property(path), values, scope))
                continue
            except FilterError:
                pass  # compiled one by one below, which reports the precise error or promotes dates
        rest.extend(Compare(CompareOp.EQ, Property(path), value) for value in values)
    return rest


def _operand(node: Node, scope: _Scope) -> Operand:
    if isinstance(node, Literal):
        return Operand(kind_of_value(node.value), describe_value(node.value), value=node.value)
    if isinstance(node, EnumLiteral):
        scope.check(Feature.ENUM_LITERAL, describe_value(node))
        return Operand(FieldKind.ENUM, describe_value(node), value=node)
    if isinstance(node, Property):
        return _property(node.path, scope)
    if isinstance(node, Arith):
        return _arith(node, scope)
    return Operand(FieldKind.BOOL, "a Boolean expression", get=_predicate(node, scope))


def _property(path: tuple[str, ...], scope: _Scope) -> Operand:
    shown = "/".join(path)
    if scope.var is not None:
        if path[0] != scope.var or len(path) < 2:
            raise FilterError(
                f"Inside the lambda expression only properties of '{scope.var}' can be used, not '{shown}'."
            )
        path = path[1:]
        shown = "/".join(path)
    schema = scope.schema
    info = schema.field(path)
    if info is None:
        raise FilterError(f"Could not find a property named '{shown}' on type '{scope.type_label}'.")
    factory = getattr(schema, "getter", None)
    raw: RowGetter = factory(path) if factory is not None else (lambda row: schema.get(row, path))
    norm = normalizer(info.kind)
    return Operand(info.kind, f"property '{shown}'", get=lambda row: norm(raw(row)), raw=raw, field=info)


def _membership(left: Node, values: Iterable[Node], scope: _Scope) -> Predicate:
    return membership(_operand(left, scope), [_operand(value, scope) for value in values], scope.dialect)


def _string_function(node: Call, scope: _Scope) -> Predicate:
    scope.check(Feature.FUNCTION, node.name)
    if node.name not in _STRING_FUNCTIONS or len(node.args) != 2:
        raise FilterError(f"The function '{node.name}' is not supported in $filter.")
    subject, needle = (_operand(arg, scope) for arg in node.args)
    for arg in (subject, needle):
        if arg.kind is not FieldKind.STRING:
            raise FilterError(
                f"The function '{node.name}' needs string arguments, but {arg.label} is {arg.edm}."
            )
    test = _STRING_FUNCTIONS[node.name]
    if needle.is_const and subject.is_const:
        result = test(str(subject.value).lower(), str(needle.value).lower())
        return lambda row: result
    if needle.is_const:
        text = str(needle.value).lower()
        get = subject.get
        assert get is not None
        return lambda row: (s := get(row)) is not None and test(s, text)
    sget = subject.get if subject.get is not None else (lambda row, v=str(subject.value).lower(): v)
    nget = needle.get
    assert nget is not None
    return lambda row: (s := sget(row)) is not None and (n := nget(row)) is not None and test(s, n)


def _crm_call(node: CrmCall, scope: _Scope) -> Predicate:
    scope.check(Feature.CRM_FUNCTION, node.name)
    name = node.params.get("PropertyName")
    if not isinstance(name, str) or not name:
        raise FilterError(f"The function 'Microsoft.Dynamics.CRM.{node.name}' needs a PropertyName string.")
    path = tuple(name.split("/"))
    if scope.var is not None and path[0] != scope.var:
        path = (scope.var, *path)  # inside a lambda, PropertyName is a property of the item
    operand = _property(path, scope)
    assert operand.field is not None and operand.get is not None
    return crm_predicate(node.name, node.params, operand.field, operand.get, scope.now)


class _ItemSchema:
    """A lambda's item schema derived from the parent (used when it has no element_schema)."""

    def __init__(self, parent: FilterSchema, prefix: tuple[str, ...]) -> None:
        self.parent, self.prefix = parent, prefix

    def field(self, path: tuple[str, ...]) -> FieldInfo | None:
        return self.parent.field(self.prefix + path)

    def get(self, row: Row, path: tuple[str, ...]) -> Any:
        return self.parent.get(row, path)

    def collection(self, row: Row, path: tuple[str, ...]) -> Iterable[Row]:
        return self.parent.collection(row, path)


def _lambda(node: Lambda, scope: _Scope) -> Predicate:
    scope.check(Feature.LAMBDA, node.kind)
    path, shown = node.path, "/".join(node.path)
    if scope.var is not None:
        if path[0] != scope.var or len(path) < 2:
            raise FilterError(
                f"Inside the lambda expression only properties of '{scope.var}' can be used, not '{shown}'."
            )
        path = path[1:]
    element = getattr(scope.schema, "element_schema", None)
    item_schema: FilterSchema | None = (
        element(path) if element is not None else _ItemSchema(scope.schema, path)
    )
    if item_schema is None:
        raise FilterError(
            f"Could not find a collection named '{'/'.join(path)}' on type '{scope.type_label}'."
        )
    collection = scope.schema.collection
    if node.body is None:
        return lambda row: any(True for _ in collection(row, path))
    item_type = getattr(item_schema, "type_name", "")
    item_label = f"{_TYPE_PREFIX[scope.dialect]}{item_type}" if item_type else scope.type_label
    body = _predicate(node.body, replace(scope, schema=item_schema, var=node.var, type_label=item_label))
    if node.kind == LambdaKind.ANY:
        return lambda row: any(body(item) for item in collection(row, path))
    return lambda row: all(body(item) for item in collection(row, path))


def _arith(node: Arith, scope: _Scope) -> Operand:
    scope.check(Feature.ARITHMETIC, node.op)
    left, right = _operand(node.left, scope), _operand(node.right, scope)
    for side in (left, right):
        if side.kind not in _NUMERIC:
            raise FilterError(f"The operator '{node.op}' needs numbers, but {side.label} is {side.edm}.")
    integers = left.kind == right.kind == FieldKind.INT and node.op != "divby"
    kind = FieldKind.INT if integers else FieldKind.DECIMAL
    label = f"'{left.label} {node.op} {right.label}'"
    compute = arithmetic(node.op, integers=integers)
    lget, rget = left.get, right.get
    if lget is not None and rget is not None:
        return Operand(kind, label, get=lambda row: compute(lget(row), rget(row)))
    if lget is not None:
        c = right.value
        return Operand(kind, label, get=lambda row: compute(lget(row), c))
    if rget is not None:
        c = left.value
        return Operand(kind, label, get=lambda row: compute(c, rget(row)))
    value = compute(left.value, right.value)
    return Operand(None if value is None else kind, label, value=value)
