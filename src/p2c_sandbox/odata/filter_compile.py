"""Turn a ``$filter`` tree into a row predicate, checking it against the entity's schema once.

Unknown properties, type mismatches and dialect rules are reported here as FilterError; the
returned predicate only reads, normalises and compares. An ``or`` of equalities on one property
(``id eq 1 or id eq 2 ...``, what clients send to read a batch of keys) becomes one set lookup.

    >>> from p2c_sandbox.odata.filter_parse import parse_filter
    >>> from p2c_sandbox.odata.filter_schema import MappingSchema
    >>> from p2c_sandbox.odata.filter_values import Field
    >>> schema = MappingSchema("account", [Field("name", FieldKind.STRING)])
    >>> match = compile_filter(parse_filter("name eq 'O''BRIEN & CO'", Dialect.DATAVERSE), schema, Dialect.DATAVERSE)
    >>> match({"name": "O'Brien & Co"}), match({"name": None})
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from p2c_sandbox.odata.filter_ast import (
    Arith,
    BoolOp,
    BoolOperator,
    Call,
    Compare,
    CompareOp,
    CrmCall,
    Dialect,
    EnumLiteral,
    FilterError,
    InList,
    Lambda,
    LambdaKind,
    Literal,
    Node,
    Not,
    Property,
)
from p2c_sandbox.odata.filter_compare import Getter, Predicate, Term, compare, membership
from p2c_sandbox.odata.filter_functions import Clock, arithmetic, crm_function, string_test
from p2c_sandbox.odata.filter_rules import CRM_PREFIX, STRING_FUNCTIONS, violation
from p2c_sandbox.odata.filter_schema import FilterSchema
from p2c_sandbox.odata.filter_values import NUMBERS, FieldKind, comparable, kind_of_literal, show_literal

__all__ = ["compile_filter"]

_TYPE_NAMESPACE = {
    Dialect.DATAVERSE: "Microsoft.Dynamics.CRM.",
    Dialect.FNO: "Microsoft.Dynamics.DataEntities.",
}


def compile_filter(
    tree: Node, schema: FilterSchema, dialect: Dialect | str, *, clock: Clock | None = None
) -> Predicate:
    """The predicate ``row -> bool`` of ``tree``; raises FilterError naming the problem.

    ``clock`` gives "now" for the Dataverse day functions (Today, LastXDays ...); UTC now by default.
    """
    dialect = Dialect(dialect)
    scope = _Scope(schema, dialect, _type_label(dialect, schema.type_name or "entity"), None, clock)
    try:
        return _predicate(tree, scope)
    except RecursionError:
        raise FilterError("The $filter expression is too complex.") from None


def _type_label(dialect: Dialect, type_name: str) -> str:
    return _TYPE_NAMESPACE[dialect] + type_name


@dataclass(frozen=True, slots=True)
class _Scope:
    schema: FilterSchema
    dialect: Dialect
    type_label: str
    var: str | None  # inside a lambda body: the variable every property path starts with
    clock: Clock | None

    def refuse(self, feature: str, name: str) -> None:
        # The parser refuses these too; checked again for trees built by hand.
        message = violation(self.dialect, feature, name)
        if message is not None:
            raise FilterError(message)

    def local(self, path: tuple[str, ...]) -> tuple[str, ...]:
        """``path`` relative to the lambda item (the variable stripped), or as is outside lambdas."""
        if self.var is None:
            return path
        if path[0] != self.var or len(path) < 2:
            raise FilterError(
                f"Inside the lambda expression only properties of '{self.var}' can be used, not '{'/'.join(path)}'."
            )
        return path[1:]


def _predicate(node: Node, scope: _Scope) -> Predicate:
    if isinstance(node, BoolOp):
        return _junction(node, scope)
    if isinstance(node, Not):
        inner = _predicate(node.operand, scope)
        return lambda row: not inner(row)
    if isinstance(node, Compare):
        return compare(node.op, _term(node.left, scope), _term(node.right, scope), scope.dialect)
    if isinstance(node, InList):
        scope.refuse("in", "in")
        return membership(_term(node.left, scope), [_term(v, scope) for v in node.values], scope.dialect)
    if isinstance(node, Call):
        return _string_call(node, scope)
    if isinstance(node, CrmCall):
        return _crm_call(node, scope)
    if isinstance(node, Lambda):
        return _lambda(node, scope)
    return _boolean_term(_term(node, scope))


def _boolean_term(term: Term) -> Predicate:
    if term.kind is not FieldKind.BOOL:
        raise FilterError(f"The $filter expression must be a Boolean, but {term.label} is {term.edm}.")
    if term.read is None:
        outcome = term.const is True
        return lambda row: outcome
    read = term.read
    return lambda row: read(row) is True


def _junction(node: BoolOp, scope: _Scope) -> Predicate:
    preds: list[Predicate] = []
    operands = list(node.operands)
    if node.op is BoolOperator.OR:
        operands = _fold_equalities(operands, scope, preds)
    preds += [_predicate(operand, scope) for operand in operands]
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:  # the common case, without a generator per row
        first, second = preds
        if node.op is BoolOperator.AND:
            return lambda row: first(row) and second(row)
        return lambda row: first(row) or second(row)
    if node.op is BoolOperator.AND:
        return lambda row: all(p(row) for p in preds)
    return lambda row: any(p(row) for p in preds)


def _fold_equalities(operands: list[Node], scope: _Scope, preds: list[Predicate]) -> list[Node]:
    """Add one set lookup to ``preds`` per property compared for equality with several literals;
    return the operands left to compile one by one."""
    by_path: dict[tuple[str, ...], list[Node]] = {}
    rest: list[Node] = []
    for node in operands:
        if (
            isinstance(node, Compare)
            and node.op is CompareOp.EQ
            and isinstance(node.left, Property)
            and isinstance(node.right, Literal | EnumLiteral)
            and not (
                scope.dialect is Dialect.FNO and isinstance(node.right, Literal) and _starred(node.right)
            )
        ):
            by_path.setdefault(node.left.path, []).append(node)
        else:
            rest.append(node)
    for path, group in by_path.items():
        if len(group) > 1:
            try:
                values = [_term(n.right, scope) for n in group if isinstance(n, Compare)]
                preds.append(membership(_term(Property(path), scope), values, scope.dialect))
                continue
            except FilterError:
                pass  # one by one below: that reports the exact comparison, or promotes a date
        rest += group
    return rest


def _starred(literal: Literal) -> bool:
    return isinstance(literal.value, str) and "*" in literal.value


def _term(node: Node, scope: _Scope) -> Term:
    if isinstance(node, Literal):
        return Term(kind_of_literal(node.value), show_literal(node.value), const=node.value)
    if isinstance(node, EnumLiteral):
        shown = show_literal(node)
        scope.refuse("enum", shown)
        return Term(FieldKind.ENUM, shown, const=node)
    if isinstance(node, Property):
        return _property(scope.local(node.path), scope)
    if isinstance(node, Arith):
        return _arith(node, scope)
    return Term(FieldKind.BOOL, "a Boolean expression", read=_predicate(node, scope))


def _property(path: tuple[str, ...], scope: _Scope) -> Term:
    shown = "/".join(path)
    field = scope.schema.field(path)
    if field is None:
        raise FilterError(f"Could not find a property named '{shown}' on type '{scope.type_label}'.")
    raw = scope.schema.getter(path)
    norm = comparable(field.kind)
    return Term(field.kind, f"property '{shown}'", read=lambda row: norm(raw(row)), raw=raw, field=field)


def _string_call(node: Call, scope: _Scope) -> Predicate:
    scope.refuse("function", node.name)
    if node.name not in STRING_FUNCTIONS or len(node.args) != 2:
        raise FilterError(f"The function '{node.name}' is not supported in $filter.")
    subject, part = (_term(arg, scope) for arg in node.args)
    for arg in (subject, part):
        if arg.kind is not FieldKind.STRING:
            raise FilterError(
                f"The function '{node.name}' needs string arguments, but {arg.label} is {arg.edm}."
            )
    test = string_test(node.name)
    sread = subject.read or _constant_text(subject)
    pread = part.read or _constant_text(part)
    return lambda row: (s := sread(row)) is not None and (p := pread(row)) is not None and test(s, p)


def _constant_text(term: Term) -> Getter:
    text = str(term.const).lower()
    return lambda row: text


def _crm_call(node: CrmCall, scope: _Scope) -> Predicate:
    scope.refuse("crm", node.name)
    name = node.params.get("PropertyName")
    if not isinstance(name, str) or not name:
        raise FilterError(f"The function '{CRM_PREFIX}{node.name}' needs a PropertyName string.")
    path = tuple(name.split("/"))
    if scope.var is not None and path[0] != scope.var:
        path = (scope.var, *path)  # inside a lambda, PropertyName names a property of the item
    term = _property(scope.local(path), scope)
    assert term.field is not None and term.read is not None
    return crm_function(node.name, node.params, term.field, term.read, scope.clock)


def _lambda(node: Lambda, scope: _Scope) -> Predicate:
    scope.refuse("lambda", node.kind)
    path = scope.local(node.path)
    element_schema = getattr(scope.schema, "element_schema", None)
    items_schema: FilterSchema | None = element_schema(path) if element_schema is not None else None
    if items_schema is None:
        raise FilterError(
            f"Could not find a collection named '{'/'.join(path)}' on type '{scope.type_label}'."
        )
    items = scope.schema.collection  # type: ignore[attr-defined]  # schemas with element_schema have it
    if node.body is None:
        return lambda row: any(True for _ in items(row, path))
    label = _type_label(scope.dialect, items_schema.type_name) if items_schema.type_name else scope.type_label
    body = _predicate(node.body, replace(scope, schema=items_schema, var=node.var, type_label=label))
    if node.kind is LambdaKind.ANY:
        return lambda row: any(body(item) for item in items(row, path))
    return lambda row: all(body(item) for item in items(row, path))


def _arith(node: Arith, scope: _Scope) -> Term:
    scope.refuse("arithmetic", node.op)
    left, right = _term(node.left, scope), _term(node.right, scope)
    for side in (left, right):
        if side.kind not in NUMBERS:
            raise FilterError(f"The operator '{node.op}' needs numbers, but {side.label} is {side.edm}.")
    integers = left.kind is right.kind is FieldKind.INT and node.op != "divby"
    kind = FieldKind.INT if integers else FieldKind.DECIMAL
    label = f"'{left.label} {node.op} {right.label}'"
    apply = arithmetic(node.op, integers=integers)
    lread, rread = left.read or _fixed(left.const), right.read or _fixed(right.const)
    if left.read is None and right.read is None:
        value = apply(left.const, right.const)
        return Term(None if value is None else kind, label, const=value)
    return Term(kind, label, read=lambda row: apply(lread(row), rread(row)))


def _fixed(value: object) -> Getter:
    return lambda row: value
