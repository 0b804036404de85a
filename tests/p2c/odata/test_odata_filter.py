"""Tests for parsing OData $filter text (p2c.mapping.parse_filter) and quote_string."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2c.odata import (
    Arith,
    ArithOp,
    BoolOp,
    BoolOperator,
    Call,
    Compare,
    CompareOp,
    CrmCall,
    Dialect,
    DictSchema,
    EnumLiteral,
    FieldInfo,
    FieldKind,
    FilterError,
    InList,
    Lambda,
    LambdaKind,
    Literal,
    Not,
    Property,
    compile_filter,
    filter_fields,
    parse_filter,
    quote_string,
)

DV = Dialect.DATAVERSE
FNO = Dialect.FNO
UTC = dt.UTC
NAMED = DictSchema("account", [FieldInfo("name", FieldKind.STRING)])


def right(text: str, dialect: Dialect = DV, aliases: dict[str, str] | None = None) -> Any:
    """The right operand of the comparison ``text`` parses to."""
    tree: Any = parse_filter(text, dialect, aliases)
    return tree.right


# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", list(CompareOp))
def test_each_comparison_operator_parses(op: CompareOp) -> None:
    assert parse_filter(f"revenue {op} 5", DV) == Compare(op, Property(("revenue",)), Literal(5))


def test_and_binds_tighter_than_or() -> None:
    tree = parse_filter("a eq 1 or b eq 2 and c eq 3", DV)
    a, b, c = (Compare(CompareOp.EQ, Property((n,)), Literal(v)) for n, v in (("a", 1), ("b", 2), ("c", 3)))
    assert tree == BoolOp(BoolOperator.OR, a, BoolOp(BoolOperator.AND, b, c))
    assert parse_filter("(a eq 1 or b eq 2) and c eq 3", DV) == BoolOp(
        BoolOperator.AND, BoolOp(BoolOperator.OR, a, b), c
    )


def test_not_binds_tighter_than_and() -> None:
    tree = parse_filter("not contains(name,'x') and revenue gt 5", DV)
    assert isinstance(tree, BoolOp) and tree.op == BoolOperator.AND
    assert tree.left == Not(Call("contains", (Property(("name",)), Literal("x"))))


def test_arithmetic_precedence_in_fno() -> None:
    tree = parse_filter("A add B mul C eq 7", FNO)
    product = Arith(ArithOp.MUL, Property(("B",)), Property(("C",)))
    assert tree == Compare(CompareOp.EQ, Arith(ArithOp.ADD, Property(("A",)), product), Literal(7))


def test_quotes_are_doubled_in_string_literals() -> None:
    assert right("name eq 'O''Brien & Co'") == Literal("O'Brien & Co")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("70bf4d48-34cb-ed11-b596-0022481d68cd", uuid.UUID("70bf4d48-34cb-ed11-b596-0022481d68cd")),
        ("ab12cd34-34CB-ed11-b596-0022481d68cd", uuid.UUID("ab12cd34-34cb-ed11-b596-0022481d68cd")),
        ("2016-11-25T12:00:00Z", dt.datetime(2016, 11, 25, 12, tzinfo=UTC)),
        ("2016-11-25T12:00:00.1234567Z", dt.datetime(2016, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2016-11-25T12:00:00+02:00", dt.datetime(2016, 11, 25, 10, tzinfo=UTC)),
        ("2016-11-25", dt.date(2016, 11, 25)),
        ("1.5", Decimal("1.5")),
        ("1e3", Decimal("1E+3")),
        ("-2", -2),
        ("42", 42),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_bare_literals(text: str, value: object) -> None:
    literal = right(f"x eq {text}")
    assert literal == Literal(value)  # type: ignore[arg-type]
    assert type(literal.value) is type(value)


def test_datetime_literal_is_utc_aware() -> None:
    value = right("x eq 2016-11-25T12:00:00-05:00").value
    assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0)
    assert value.hour == 17


def test_enum_literal_in_fno_and_not_in_dataverse() -> None:
    text = "IsExternallyMaintained eq Microsoft.Dynamics.DataEntities.NoYes'Yes'"
    assert right(text, FNO) == EnumLiteral("Microsoft.Dynamics.DataEntities.NoYes", "Yes")
    with pytest.raises(FilterError, match="not supported by Dataverse"):
        parse_filter(text, DV)


def test_crm_function_parameters_and_arrays() -> None:
    tree = parse_filter(
        """Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=["O'Brian",'Men''s',5])""", DV
    )
    assert tree == CrmCall("In", {"PropertyName": "lastname", "PropertyValues": ("O'Brian", "Men's", 5)})


def test_parameter_aliases_as_in_the_dataverse_docs() -> None:
    aliases = {"@p1": "'lastname'", "@p2": '["OBrian","O\'Bryan"]'}
    tree = parse_filter("Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)", DV, aliases)
    assert tree == CrmCall("In", {"PropertyName": "lastname", "PropertyValues": ("OBrian", "O'Bryan")})
    assert right("name eq @v", DV, {"v": "'x'"}) == Literal("x")


def test_undefined_alias_is_an_error_with_position() -> None:
    with pytest.raises(FilterError, match="'@p9' is not defined") as caught:
        parse_filter("name eq @p9", DV, {"@p1": "1"})
    assert caught.value.position == 8


def test_in_list_parses_in_dataverse() -> None:
    assert parse_filter("name in ('a','b')", DV) == InList(Property(("name",)), (Literal("a"), Literal("b")))


def test_lambda_parses_nested() -> None:
    tree = parse_filter(
        "contact_customer_accounts/any(c:c/jobtitle eq 'x' and c/opps/all(o:o/description ne 'N/A'))", DV
    )
    assert isinstance(tree, Lambda) and tree.kind is LambdaKind.ANY and tree.var == "c"
    assert isinstance(tree.body, BoolOp) and isinstance(tree.body.right, Lambda)
    assert tree.body.right.path == ("c", "opps") and tree.body.right.kind is LambdaKind.ALL
    assert parse_filter("contact_customer_accounts/any()", DV) == Lambda(
        ("contact_customer_accounts",), "", LambdaKind.ANY, None
    )


def test_navigation_path() -> None:
    tree: Any = parse_filter("primarycontactid/fullname eq 'x'", DV)
    assert tree.left == Property(("primarycontactid", "fullname"))


# -- syntax errors -------------------------------------------------------------------------------


def test_unterminated_literal_matches_the_service_message() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter("lastname eq 'O'Bryan'", DV)
    assert str(caught.value) == "There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''."
    assert caught.value.position == 21


def test_uppercase_operator_is_named_with_its_position() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter("name eq 'x' AND revenue gt 1", DV)
    assert caught.value.position == 12
    message = str(caught.value)
    assert message.startswith("Syntax error at position 12 in 'name eq 'x' AND revenue gt 1'")
    assert "found 'AND'" in message and "lowercase: 'and'" in message


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("(name eq 'x'", 12, "expected ')' but found the end of the expression"),
        ("name eq", 7, "expected a property, a literal or '('"),
        ("name eq #", 8, "character '#' is not valid"),
        ("frobnicate(name)", 0, "unknown function 'frobnicate'"),
        ("contains(name)", 0, "takes 2 arguments, not 1"),
        ("name has 'x'", 5, "'has' operator is not supported"),
        ("x eq NoYes'Yes'", 5, "enum values need a qualified type name"),
        ("x eq guid'70bf4d48-34cb-ed11-b596-0022481d68cd'", 5, "GUIDs and dates are written bare"),
        ("revenue eq 12abc", 11, "'12abc' is not a valid number"),
        ("x eq 2016-13-01", 5, "not a valid date"),
        ("Microsoft.Dynamics.CRM.In(PropertyName='a')", 42, "needs parameter(s) PropertyValues"),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='a',Bogus=1,PropertyValues=[1])",
            43,
            "has no parameter 'Bogus'",
        ),
    ],
)
def test_syntax_errors_have_positions(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text, DV)
    assert caught.value.position == position
    assert fragment in str(caught.value)


def test_empty_filter_is_an_error() -> None:
    with pytest.raises(FilterError, match="empty"):
        parse_filter("  ", DV)


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("Name in ('a','b')", 5, "'in' operator is not supported"),
        ("contains(Name,'x')", 0, "'contains' is not supported"),
        ("startswith(Name,'x')", 0, "'startswith' is not supported"),
        ("Microsoft.Dynamics.CRM.Today(PropertyName='x')", 0, "Dataverse function"),
        ("Lines/any(l: l/Qty gt 1)", 6, "lambda operator 'any' is not supported"),
    ],
)
def test_fno_rejects_what_fno_does_not_support(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text, FNO)
    assert caught.value.position == position
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("The query specified in the URI is not valid.")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("revenue add 1 gt 5", "arithmetic operator 'add' is not supported by Dataverse"),
        ("tolower(name) eq 'x'", "'tolower' is not supported by Dataverse"),
        ("Microsoft.Dynamics.CRM.Above(PropertyName='x')", "'Microsoft.Dynamics.CRM.Above' is not supported"),
    ],
)
def test_dataverse_rejects_what_dataverse_does_not_support(text: str, fragment: str) -> None:
    with pytest.raises(FilterError, match=fragment):
        parse_filter(text, DV)


def test_deep_nesting_is_refused_not_crashing() -> None:
    with pytest.raises(FilterError, match="nested too deeply"):
        parse_filter("(" * 500 + "name eq 'x'" + ")" * 500, DV)


@given(st.text())
def test_quote_string_round_trips_and_cannot_inject(value: str) -> None:
    text = f"name eq {quote_string(value)}"
    assert parse_filter(text, DV) == Compare(CompareOp.EQ, Property(("name",)), Literal(value))
    match = compile_filter(parse_filter(text, DV), NAMED, DV)
    assert match({"name": value.upper()}) is (value.upper().lower() == value.lower())
    assert match({"name": value}) is True


def test_filter_fields_reads_both_dialects() -> None:
    assert filter_fields("statecode eq 0 and contains(name,'x')", Dialect.DATAVERSE) == {"statecode", "name"}
    assert filter_fields(
        "IsSalesStopped eq Microsoft.Dynamics.DataEntities.NoYes'No' or SalesPrice gt 3", Dialect.FNO
    ) == {"IsSalesStopped", "SalesPrice"}
    assert filter_fields(None) == set()
    assert filter_fields("name eq") == set()  # does not parse: reads nothing, load-time checks report it
