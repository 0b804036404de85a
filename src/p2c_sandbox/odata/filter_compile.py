"""A ``$filter`` tree turned into a row predicate, checked against a schema as it is built.

Every sub-expression becomes a :class:`_Value`: its kind, a reader ``row -> value`` (already in the
comparable form of :func:`filter_types.normalise`), and whether it is a constant. Boolean
expressions are values of kind BOOL whose reader is the predicate itself, so ``contains(a,'x') eq
true`` needs nothing special. Logic is two-valued: a comparison that involves a null is false
(``eq``/``ne`` treat null as a value: ``null eq null``, ``x ne null``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from p2c_sandbox.odata import filter_tree as ft
from p2c_sandbox.odata.filter_calls import ARITH, ORDER, Clock, crm_test, show, wildcard
from p2c_sandbox.odata.filter_tree import Dialect, FilterError
from p2c_sandbox.odata.filter_types import (
    Field,
    FieldKind,
    FilterSchema,
    Getter,
    edm_name,
    field_type,
    kind_of,
    normalise,
)

__all__ = ["Predicate", "compile_filter"]

Predicate = Callable[[Any], bool]
_NAMESPACE = {Dialect.DATAVERSE: "Microsoft.Dynamics.CRM.", Dialect.FNO: "Microsoft.Dynamics.DataEntities."}
_NUMERIC = (FieldKind.INT, FieldKind.DECIMAL)
_TEMPORAL = (FieldKind.DATE, FieldKind.DATETIME)
_FROM_TEXT = (FieldKind.GUID, FieldKind.DATE, FieldKind.DATETIME, FieldKind.ENUM)


@dataclass
class _Value:
    kind: FieldKind | None  # None: the null literal
    read: Getter
    label: str
    const: bool = False
    field: Field | None = None
    enum: ft.EnumLiteral | None = None

    @property
    def edm(self) -> str:
        if self.enum is not None:
            return self.enum.type_name
        return field_type(self.field) if self.field is not None else edm_name(self.kind)


@dataclass
class _Scope:
    schema: Any
    dialect: Dialect
    clock: Clock
    var: str | None = None

    def relative(self, path: tuple[str, ...]) -> tuple[str, ...]:
        return path[1:] if self.var is not None and path[:1] == (self.var,) else path

    def type_label(self) -> str:
        name = str(self.schema.type_name)
        return name if "." in name else _NAMESPACE[self.dialect] + name

    def unknown(self, path: tuple[str, ...], what: str = "property") -> FilterError:
        return FilterError(f"Could not find a {what} named '{'/'.join(path)}' on type '{self.type_label()}'.")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def compile_filter(
    tree: ft.Node, schema: FilterSchema, dialect: Dialect | str, *, clock: Clock | None = None
) -> Predicate:
    """A predicate ``row -> bool`` for ``tree`` over rows described by ``schema``; raises FilterError."""
    scope = _Scope(schema, Dialect(dialect), clock or _utc_now)
    return _truth(tree, scope)


def _truth(node: ft.Node, scope: _Scope) -> Predicate:
    value = _value(node, scope)
    if value.kind is not FieldKind.BOOL:
        raise FilterError(f"The $filter expression must be a Boolean, but {value.label} is {value.edm}.")
    read = value.read
    return lambda row: read(row) is True


def _value(node: ft.Node, scope: _Scope) -> _Value:
    if isinstance(node, ft.Literal):
        kind = kind_of(node.value)
        fixed = None if kind is None else normalise(kind, node.value)
        return _Value(kind, lambda row: fixed, show(node.value), const=True)
    if isinstance(node, ft.EnumLiteral):
        member = node.member
        return _Value(FieldKind.ENUM, lambda row: member, f"{node.type_name}'{member}'", True, enum=node)
    if isinstance(node, ft.Property):
        return _property(scope.relative(node.path), scope)
    if isinstance(node, ft.Arith):
        return _arith(node, scope)
    return _Value(FieldKind.BOOL, _condition(node, scope), "the expression")


def _property(path: tuple[str, ...], scope: _Scope) -> _Value:
    found = scope.schema.field(path) if path else None
    if found is None:
        raise scope.unknown(path)
    raw, kind = scope.schema.getter(path), found.kind
    return _Value(kind, lambda row: normalise(kind, raw(row)), f"property '{'/'.join(path)}'", field=found)


def _one_of(node: ft.BoolOp, scope: _Scope) -> Getter | None:
    """``p eq 'a' or p eq 'b' or ...`` as one set lookup (clients read records by key this way, with
    hundreds of values), or None when the chain is any other shape and takes the general path."""
    if node.op is not ft.BoolOperator.OR or len(node.operands) < 2:
        return None
    path: tuple[str, ...] | None = None
    literals: list[Any] = []
    for item in node.operands:
        if not (
            isinstance(item, ft.Compare)
            and item.op is ft.CompareOp.EQ
            and isinstance(item.left, ft.Property)
            and isinstance(item.right, ft.Literal)
            and (path is None or item.left.path == path)
        ):
            return None
        path = item.left.path
        literals.append(item.right.value)
    assert path is not None
    column = _value(ft.Property(path), scope)
    if column.kind not in (FieldKind.STRING, FieldKind.GUID, FieldKind.INT):
        return None
    folds = column.kind is FieldKind.STRING
    wanted: set[Any] = set()
    for literal in literals:
        if kind_of(literal) is not column.kind:
            return None  # a literal of another type: the general comparison decides (or refuses)
        value = normalise(column.kind, literal)
        if value is None or (folds and scope.dialect is Dialect.FNO and "*" in value):
            return None
        wanted.add(value.casefold() if folds else value)
    read = column.read

    def member(row: Any) -> bool:
        value = read(row)
        return value is not None and (value.casefold() if folds else value) in wanted

    return member


def _condition(node: ft.Node, scope: _Scope) -> Getter:
    if isinstance(node, ft.BoolOp):
        fast = _one_of(node, scope)
        if fast is not None:
            return fast
        parts = [_truth(item, scope) for item in node.operands]
        if node.op is ft.BoolOperator.AND:  # loops, not all(generator): a filter runs once per row

            def every(row: Any) -> bool:
                for part in parts:  # noqa: SIM110 (no generator per row)
                    if not part(row):
                        return False
                return True

            return every

        def some(row: Any) -> bool:
            for part in parts:  # noqa: SIM110 (no generator per row)
                if part(row):
                    return True
            return False

        return some
    if isinstance(node, ft.Not):
        inner = _truth(node.operand, scope)
        return lambda row: not inner(row)
    if isinstance(node, ft.Compare):
        return _compare(node.op, _value(node.left, scope), _value(node.right, scope), scope.dialect)
    if isinstance(node, ft.InList):
        left = _value(node.left, scope)
        tests = [_compare(ft.CompareOp.EQ, left, _value(v, scope), scope.dialect) for v in node.values]
        return lambda row: any(t(row) for t in tests)
    if isinstance(node, ft.Call):
        return _text_test(node, scope)
    if isinstance(node, ft.CrmCall):
        return _crm(node, scope)
    if isinstance(node, ft.Lambda):
        return _lambda(node, scope)
    raise FilterError(f"Unsupported expression {node!r}.")  # pragma: no cover - every node is handled


# -- comparisons ------------------------------------------------------------------------------------


def _mismatch(left: _Value, right: _Value, why: str = "") -> FilterError:
    tail = f": {why}" if why else ""
    return FilterError(f"Cannot compare {left.label} ({left.edm}) with {right.label} ({right.edm}){tail}.")


def _as_constant(value: _Value, kind: FieldKind, other: _Value) -> _Value:
    """The text constant ``value`` read as ``kind`` (a GUID, a date, ...), or a mismatch error."""
    converted = normalise(kind, value.read(None))
    if converted is None:
        raise _mismatch(other, value)
    return _Value(kind, lambda row: converted, value.label, const=True)


def _unify(left: _Value, right: _Value) -> tuple[_Value, _Value]:
    a, b = left.kind, right.kind
    if a is b or (a in _NUMERIC and b in _NUMERIC):
        return left, right
    if a in _TEMPORAL and b in _TEMPORAL:
        return _promote(left), _promote(right)
    if b is FieldKind.STRING and right.const and a in _FROM_TEXT:
        return left, _as_constant(right, a, left)
    if a is FieldKind.STRING and left.const and b in _FROM_TEXT:
        return _as_constant(left, b, right), right
    raise _mismatch(left, right)


def _promote(value: _Value) -> _Value:
    if value.kind is FieldKind.DATETIME:
        return value
    read = value.read
    return _Value(
        FieldKind.DATETIME, lambda row: normalise(FieldKind.DATETIME, read(row)), value.label, value.const
    )


def _check_enum(left: _Value, right: _Value, op: ft.CompareOp) -> tuple[_Value, _Value]:
    if op not in (ft.CompareOp.EQ, ft.CompareOp.NE):
        raise _mismatch(left, right, "Enum values can only be compared with 'eq' and 'ne'")
    column, constant = (left, right) if right.const else (right, left)
    if column.field is None or column.kind is not FieldKind.ENUM:
        raise _mismatch(left, right)
    if constant.kind is FieldKind.ENUM or constant.kind is FieldKind.STRING:
        enum_type = column.field.enum_type or ""
        if constant.enum is not None and constant.enum.type_name.rpartition(".")[2] != enum_type:
            raise _mismatch(left, right, f"the enum type '{constant.enum.type_name}' is not '{enum_type}'")
        given = str(constant.read(None))
        matches = [m for m in column.field.members if m.casefold() == given.casefold()]
        if column.field.members and not matches:
            listed = ", ".join(column.field.members)
            raise _mismatch(left, right, f"'{given}' is not a member of {enum_type} ({listed})")
        member = matches[0] if matches else given
        constant = _Value(FieldKind.ENUM, lambda row: member, constant.label, True, enum=constant.enum)
    elif not constant.const or constant.kind is not None:
        raise _mismatch(left, right)
    return (column, constant) if column is left else (constant, column)


def _compare(op: ft.CompareOp, left: _Value, right: _Value, dialect: Dialect) -> Getter:
    if left.kind is None or right.kind is None:  # the null literal
        other = right if left.kind is None else left
        read = other.read
        if op is ft.CompareOp.EQ:
            return lambda row: read(row) is None
        if op is ft.CompareOp.NE:
            return lambda row: read(row) is not None
        return lambda row: False
    if FieldKind.ENUM in (left.kind, right.kind) and not (
        left.kind is right.kind and left.field is not None and right.field is not None
    ):
        left, right = _check_enum(left, right, op)
    else:
        left, right = _unify(left, right)
    if dialect is Dialect.FNO and op in (ft.CompareOp.EQ, ft.CompareOp.NE) and left.kind is FieldKind.STRING:
        for column, constant in ((left, right), (right, left)):
            pattern = constant.read(None) if constant.const else None
            if isinstance(pattern, str) and "*" in pattern:
                return wildcard(column.read, pattern, op is ft.CompareOp.EQ)
    folds = left.kind in (FieldKind.STRING, FieldKind.ENUM)
    if left.const is not right.const and (fixed := (right if right.const else left).read(None)) is not None:
        return _against(
            op, left if right.const else right, fixed.casefold() if folds else fixed, right.const, folds
        )
    lread, rread = left.read, right.read

    def decide(row: Any) -> bool:
        a, b = lread(row), rread(row)
        if a is None or b is None:
            same = a is None and b is None
            return same if op is ft.CompareOp.EQ else (not same if op is ft.CompareOp.NE else False)
        if folds:
            a, b = a.casefold(), b.casefold()
        return ORDER[op](a, b)

    return decide


def _against(op: ft.CompareOp, column: _Value, fixed: Any, column_left: bool, folds: bool) -> Getter:
    """A column compared with a constant (most filters): the constant read and folded once, not on
    every row. A null in the column is false for every operator but ``ne``, as in :func:`_compare`."""
    read, test, ne = column.read, ORDER[op], op is ft.CompareOp.NE

    def decide(row: Any) -> bool:
        a = read(row)
        if a is None:
            return ne
        if folds:
            a = a.casefold()
        return test(a, fixed) if column_left else test(fixed, a)

    return decide


# -- functions, lambdas, arithmetic -----------------------------------------------------------------


def _text_test(node: ft.Call, scope: _Scope) -> Getter:
    subject, needle = (_value(arg, scope) for arg in node.args)
    for arg in (subject, needle):
        if arg.kind is not FieldKind.STRING:
            raise FilterError(f"The function '{node.name}' needs text, but {arg.label} is {arg.edm}.")
    sread, nread = subject.read, needle.read
    test: Callable[[str, str], bool] = {
        "contains": lambda s, n: n in s,
        "startswith": lambda s, n: s.startswith(n),
        "endswith": lambda s, n: s.endswith(n),
    }[node.name]

    def run(row: Any) -> bool:
        s, n = sread(row), nread(row)
        return s is not None and n is not None and test(s.casefold(), n.casefold())

    return run


def _crm(node: ft.CrmCall, scope: _Scope) -> Getter:
    path = scope.relative(tuple(str(node.params["PropertyName"]).split("/")))
    target = _property(path, scope)
    assert target.field is not None
    return crm_test(node, target.field, target.read, target.label, scope.clock)


def _lambda(node: ft.Lambda, scope: _Scope) -> Getter:
    path = scope.relative(node.path)
    find = getattr(scope.schema, "element_schema", None)
    inner_schema = find(path) if find is not None else None
    if inner_schema is None:
        raise scope.unknown(path, "collection")
    items_of = scope.schema.collection
    if node.body is None:
        return lambda row: any(True for _ in items_of(row, path))
    body = _truth(node.body, _Scope(inner_schema, scope.dialect, scope.clock, node.var))
    if node.kind is ft.LambdaKind.ANY:
        return lambda row: any(body(item) for item in items_of(row, path))
    return lambda row: all(body(item) for item in items_of(row, path))


def _arith(node: ft.Arith, scope: _Scope) -> _Value:
    left, right = _value(node.left, scope), _value(node.right, scope)
    for side in (left, right):
        if side.kind is not None and side.kind not in _NUMERIC:
            raise FilterError(
                f"The arithmetic operator '{node.op}' needs numbers, but {side.label} is {side.edm}."
            )
    ints = (
        left.kind is not FieldKind.DECIMAL
        and right.kind is not FieldKind.DECIMAL
        and node.op != ft.ArithOp.DIVBY
    )
    apply, lread, rread = ARITH[node.op], left.read, right.read
    dividing = node.op in (ft.ArithOp.DIV, ft.ArithOp.DIVBY, ft.ArithOp.MOD)

    def compute(row: Any) -> Any:
        a, b = lread(row), rread(row)
        if a is None or b is None or (dividing and b == 0):
            return None
        return apply(a, b)

    kind = FieldKind.INT if ints else FieldKind.DECIMAL
    return _Value(kind, compute, f"'{left.label} {node.op} {right.label}'", left.const and right.const)
