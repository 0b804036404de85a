"""Expression parsing: every YAML form, precise errors, and arithmetic equal to Python's Decimal."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2c.mapping.arithmetic import ExpressionError, evaluate_arithmetic, parse_arithmetic
from p2c.mapping.expression import (
    Arithmetic,
    Concat,
    Const,
    ContextValue,
    Defaulted,
    Lookup,
    LookupSpec,
    Missing,
    Source,
    Split,
    ValueMapped,
    lookups,
    parse_expression,
    replace_lookups,
    source_fields,
    value_maps_used,
)


def test_every_form() -> None:
    assert parse_expression("name") == Source("name")
    assert parse_expression({"source": "name"}) == Source("name")
    assert parse_expression({"const": "Yes"}) == Const("Yes")
    assert parse_expression({"const": None}) == Const(None)
    assert parse_expression({"context": "company"}) == ContextValue("company")
    assert parse_expression({"default": "10"}) == Defaulted(None, "10")
    assert parse_expression({"source": "c", "value_map": "country", "default": "US"}) == Defaulted(
        ValueMapped(Source("c"), "country"), "US"
    )
    assert parse_expression({"concat": ["a", {"const": "-"}, "b"], "sep": ""}) == Concat(
        (Source("a"), Const("-"), Source("b")), ""
    )
    assert parse_expression({"split": {"source": "full", "sep": ",", "index": -1}}) == Split(
        Source("full"), ",", -1
    )
    assert parse_expression({"split": {"source": "full"}}) == Split(Source("full"), " ", 0)
    arith = parse_expression({"expr": "quantity * priceperunit - manualdiscountamount"})
    assert isinstance(arith, Arithmetic) and arith.text == "quantity * priceperunit - manualdiscountamount"
    look = parse_expression({"lookup": {"source": "cur", "entity": "transactioncurrencies", "field": "isocurrencycode",
                                        "missing": "null", "value_map": "m"}})  # fmt: skip
    assert look == Lookup(
        LookupSpec("cur", "transactioncurrencies", "isocurrencycode", None, None, Missing.NULL, "m")
    )


def test_walkers() -> None:
    e = parse_expression(
        {"concat": [{"source": "a", "value_map": "m1"}, {"expr": "b + c"},
                    {"lookup": {"source": "d", "entity": "e", "field": "f", "value_map": "m2"}}]}
    )  # fmt: skip
    assert source_fields(e) == {"a", "b", "c", "d"}
    assert value_maps_used(e) == {"m1", "m2"}
    assert [s.entity for s in lookups(e)] == ["e"]
    filled = replace_lookups(e, lambda s: LookupSpec(s.source, s.entity, s.field, "id", "crm"))
    assert [(s.by, s.system) for s in lookups(filled)] == [("id", "crm")]


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        (42, (), "a bare value must be a source field name; write {const: 42} for a constant"),
        (None, (), "empty expression"),
        ("not a field", (), "'not a field' is not a field name"),
        ({"sorce": "x"}, ("sorce",), "unknown key 'sorce'"),
        ({"source": "a", "const": 1}, (), "one producer, not source and const"),
        ({"value_map": "m"}, (), "value_map needs a source"),
        ({"source": "a", "sep": ","}, ("sep",), "'sep' belongs to concat"),
        ({"const": [1, 2]}, ("const",), "a constant must be a single value"),
        ({"context": "tenant"}, ("context",), "unknown context value 'tenant'; known: company, business_unit"),
        ({"concat": []}, ("concat",), "concat takes a list"),
        ({"concat": ["a", 5]}, ("concat", 1), "a bare value must be a source field name"),
        ({"split": {"source": "a", "sep": ""}}, ("split", "sep"), "sep must be non-empty text"),
        ({"split": {"source": "a", "index": "1"}}, ("split", "index"), "index must be a whole number"),
        ({"split": {"source": "a", "pos": 1}}, ("split", "pos"), "unknown key 'pos'"),
        ({"lookup": {"source": "a", "entity": "e"}}, ("lookup",), "lookup needs 'field'"),
        ({"lookup": {"source": "a", "entity": "e", "field": "f", "missing": "skip"}}, ("lookup", "missing"),
         "missing must be wait, fail or null"),
        ({"expr": 5}, ("expr",), "expr takes arithmetic text"),
        ({"expr": "a +* b"}, ("expr",), "unexpected '*' at position 3 in 'a +* b'"),
    ],
)  # fmt: skip
def test_errors_name_the_place(raw: Any, path: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(raw)
    assert info.value.path == path
    assert message in info.value.message


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "empty expression"),
        ("a +", 3, "expected a number, a field or '(' but found the end"),
        ("(a + b", 6, "expected ')' but found the end"),
        ("a b", 2, "unexpected 'b'"),
        ("a + #", 4, "unexpected character '#'"),
        ("sqrt(a)", 0, "unknown function 'sqrt'"),
        ("round(a)", 0, "round() takes 2 arguments, not 1"),
        ("round(a, b)", 0, "round() takes a number of decimals"),
        ("qty * price)", 11, "unexpected ')'"),
        ("(" * 150 + "1" + ")" * 150, 100, "nested too deeply"),
    ],
)
def test_arithmetic_errors_have_positions(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_arithmetic(text)
    assert info.value.position == position
    assert message in info.value.message
    assert f"at position {position} in {text!r}" in info.value.message


def test_the_p2c_discount_round_trip() -> None:
    values = {"quantity": Decimal(3), "discount": Decimal("10.00")}
    per_unit = evaluate_arithmetic(parse_arithmetic("round(discount / quantity, 2)"), values.__getitem__)
    charge = evaluate_arithmetic(
        parse_arithmetic("discount - round(discount / quantity, 2) * quantity"), values.__getitem__
    )
    assert (per_unit, charge) == (Decimal("3.33"), Decimal("0.01"))
    back = evaluate_arithmetic(parse_arithmetic("3 * 3.33 + 0.01"), values.__getitem__)
    assert back == Decimal("10.00") and str(back) == "10.00"


# -- property: the parser + evaluator agree with Python's own Decimal arithmetic -----------------------------

NAMES = ["a", "b", "c", "qty", "price"]
numbers = st.decimals(min_value=-(10**6), max_value=10**6, allow_nan=False, allow_infinity=False, places=4)


def _leaf() -> st.SearchStrategy[tuple[str, Callable[[dict[str, Decimal]], Decimal]]]:
    def num(d: Decimal) -> tuple[str, Callable[[dict[str, Decimal]], Decimal]]:
        text = f"({d})" if d < 0 else str(d)
        return text, lambda env: d

    def var(name: str) -> tuple[str, Callable[[dict[str, Decimal]], Decimal]]:
        return name, lambda env: env[name]

    return st.one_of(numbers.map(num), st.sampled_from(NAMES).map(var))


def _combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    def binop(op: str, left: Any, right: Any) -> tuple[str, Callable[[dict[str, Decimal]], Decimal]]:
        lt, lf = left
        rt, rf = right
        python = {
            "+": lambda e: lf(e) + rf(e),
            "-": lambda e: lf(e) - rf(e),
            "*": lambda e: lf(e) * rf(e),
            "/": lambda e: lf(e) / rf(e),
        }[op]
        return f"({lt} {op} {rt})", python

    def neg(child: Any) -> tuple[str, Callable[[dict[str, Decimal]], Decimal]]:
        text, f = child
        return f"-{text}" if text.startswith("(") else f"-({text})", lambda e: -f(e)

    return st.one_of(
        st.builds(binop, st.sampled_from("+-*/"), children, children),
        children.map(neg),
    )


expressions = st.recursive(_leaf(), _combine, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(expressions, st.fixed_dictionaries({n: numbers for n in NAMES}))
def test_arithmetic_equals_python_decimal(expr: Any, env: dict[str, Decimal]) -> None:
    text, python = expr
    with decimal.localcontext(decimal.Context(prec=28)):
        try:
            expected: Decimal | type[Exception] = python(env)
        except decimal.DecimalException as exc:
            expected = type(exc)
    tree = parse_arithmetic(text)
    try:
        got: Decimal | type[Exception] = evaluate_arithmetic(tree, env.__getitem__)
    except decimal.DecimalException as exc:
        got = type(exc)
    assert got == expected, text
