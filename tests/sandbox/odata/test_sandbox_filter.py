"""The sandbox's own ``$filter`` parser and compiler, on literal rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest

from p2c_sandbox.odata.filter import (
    BoolOp,
    BoolOperator,
    Compare,
    CrmCall,
    Dialect,
    EnumLiteral,
    Field,
    FieldKind,
    FilterError,
    Lambda,
    Literal,
    MappingSchema,
    Property,
    compile_filter,
    parse_filter,
)

ENUM = "Microsoft.Dynamics.DataEntities"
DV, FNO = Dialect.DATAVERSE, Dialect.FNO


class AccountSchema(MappingSchema):
    """Accounts with a ``contacts`` collection and a ``primarycontactid`` navigation."""

    def __init__(self) -> None:
        super().__init__(
            "account",
            [
                Field("name", FieldKind.STRING),
                Field("revenue", FieldKind.DECIMAL),
                Field("employees", FieldKind.INT),
                Field("active", FieldKind.BOOL),
                Field("createdon", FieldKind.DATETIME),
                Field("founded", FieldKind.DATE),
                Field("accountid", FieldKind.GUID),
            ],
        )
        self.contacts = MappingSchema(
            "contact", [Field("fullname", FieldKind.STRING), Field("age", FieldKind.INT)]
        )

    def field(self, path: tuple[str, ...]) -> Field | None:
        if path[0] == "primarycontactid" and len(path) == 2:
            return self.contacts.field(path[1:])
        return super().field(path)

    def getter(self, path: tuple[str, ...]) -> Any:
        if path[0] == "primarycontactid":
            return lambda row: (row.get("primarycontactid") or {}).get(path[1])
        return super().getter(path)

    def element_schema(self, path: tuple[str, ...]) -> MappingSchema | None:
        return self.contacts if path == ("contacts",) else None

    def collection(self, row: Any, path: tuple[str, ...]) -> Iterable[Any]:
        return row.get("contacts") or ()


ROWS = [
    {
        "name": "O'Brien & Co",
        "revenue": 150.5,
        "employees": 12,
        "active": True,
        "createdon": "2024-03-01T10:00:00Z",
        "founded": "1999-12-31",
        "accountid": "AAAAAAAA-0000-0000-0000-000000000001",
        "primarycontactid": {"fullname": "Ann Lee"},
        "contacts": [{"fullname": "Ann Lee", "age": 40}, {"fullname": "Bo Wu", "age": 20}],
    },
    {
        "name": "Contoso",
        "revenue": None,
        "employees": 3000,
        "active": False,
        "createdon": "2023-01-01T00:00:00Z",
        "contacts": [],
    },
    {
        "name": "Fabrikam",
        "revenue": Decimal("99"),
        "employees": None,
        "active": None,
        "contacts": [{"age": 70}],
    },
]


def names(text: str, dialect: Dialect = DV, aliases: dict[str, str] | None = None) -> list[str]:
    match = compile_filter(parse_filter(text, dialect, aliases), AccountSchema(), dialect)
    return [row["name"] for row in ROWS if match(row)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name eq 'o''brien & co'", ["O'Brien & Co"]),
        ("name ne 'Contoso'", ["O'Brien & Co", "Fabrikam"]),
        ("revenue gt 100", ["O'Brien & Co"]),
        ("revenue eq null", ["Contoso"]),
        ("revenue ne null and employees eq null", ["Fabrikam"]),
        ("not (revenue lt 100)", ["O'Brien & Co", "Contoso"]),
        ("active", ["O'Brien & Co"]),
        ("active eq false", ["Contoso"]),
        ("100 lt revenue", ["O'Brien & Co"]),
        ("createdon ge 2024-01-01", ["O'Brien & Co"]),
        ("createdon lt 2024-01-01T00:00:00+02:00", ["Contoso"]),
        ("founded eq 1999-12-31", ["O'Brien & Co"]),
        ("accountid eq aaaaaaaa-0000-0000-0000-000000000001", ["O'Brien & Co"]),
        ("accountid eq '{AAAAAAAA-0000-0000-0000-000000000001}'", ["O'Brien & Co"]),
        ("contains(name,'RIE')", ["O'Brien & Co"]),
        ("startswith(name,'con') or endswith(name,'kam')", ["Contoso", "Fabrikam"]),
        ("primarycontactid/fullname eq 'ann lee'", ["O'Brien & Co"]),
        ("contacts/any(c: c/age gt 60)", ["Fabrikam"]),
        ("contacts/all(c: c/age lt 50)", ["O'Brien & Co", "Contoso"]),
        ("contacts/any()", ["O'Brien & Co", "Fabrikam"]),
        ("name in ('contoso', 'Fabrikam')", ["Contoso", "Fabrikam"]),
        ("employees eq 12 or employees eq 3000 or employees eq 5", ["O'Brien & Co", "Contoso"]),
        ("name eq @n", ["Contoso"]),
    ],
)
def test_dataverse_filters_select_the_expected_rows(text: str, expected: list[str]) -> None:
    assert names(text, aliases={"@n": "'Contoso'"}) == expected


def test_and_binds_tighter_than_or_and_parentheses_override_it() -> None:
    assert names("name eq 'Contoso' or name eq 'Fabrikam' and active eq true") == ["Contoso"]
    assert names("(name eq 'Contoso' or name eq 'Fabrikam') and active eq true") == []
    assert names("((((name eq 'Contoso'))) or ((employees gt 1 and (revenue gt 100))))") == [
        "O'Brien & Co",
        "Contoso",
    ]


def test_or_chains_stay_flat() -> None:
    tree = parse_filter(" or ".join(f"employees eq {n}" for n in range(5000)), DV)
    assert isinstance(tree, BoolOp) and tree.op is BoolOperator.OR and len(tree.operands) == 5000
    assert names(" or ".join(f"employees eq {n}" for n in range(5000))) == ["O'Brien & Co", "Contoso"]


def test_the_tree_of_a_simple_comparison() -> None:
    assert parse_filter("name eq 'O''Brien & Co'", DV) == Compare(
        "eq", Property(("name",)), Literal("O'Brien & Co")
    )  # type: ignore[arg-type]


def test_crm_in_with_many_values() -> None:
    values = ",".join(f'"{n}"' for n in range(1, 400)) + ',"3000"'
    text = f"Microsoft.Dynamics.CRM.In(PropertyName='employees',PropertyValues=[{values}])"
    tree = parse_filter(text, DV)
    assert isinstance(tree, CrmCall) and len(tree.params["PropertyValues"]) == 400  # type: ignore[arg-type]
    assert names(text) == ["O'Brien & Co", "Contoso"]
    assert names(text.replace(".In(", ".NotIn(")) == ["Fabrikam"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Microsoft.Dynamics.CRM.Between(PropertyName='employees',PropertyValues=['10','100'])",
            ["O'Brien & Co"],
        ),
        ("Microsoft.Dynamics.CRM.On(PropertyName='createdon',PropertyValue='2024-03-01')", ["O'Brien & Co"]),
        (
            "Microsoft.Dynamics.CRM.OnOrBefore(PropertyName='createdon',PropertyValue='2023-06-01')",
            ["Contoso"],
        ),
        ("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=@list)", ["Fabrikam"]),
        (
            "contacts/any(c: Microsoft.Dynamics.CRM.In(PropertyName='fullname',PropertyValues=['bo wu']))",
            ["O'Brien & Co"],
        ),
    ],
)
def test_crm_query_functions(text: str, expected: list[str]) -> None:
    assert names(text, aliases={"@list": '["fabrikam"]'}) == expected


def test_crm_day_functions_use_the_clock() -> None:
    tree = parse_filter("Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=3)", DV)
    clock = lambda: dt.datetime(2024, 3, 3, 12, tzinfo=dt.UTC)  # noqa: E731
    match = compile_filter(tree, AccountSchema(), DV, clock=clock)
    assert [r["name"] for r in ROWS if match(r)] == ["O'Brien & Co"]


def fno_rows(text: str) -> list[str]:
    schema = MappingSchema(
        "CustomerGroups",
        [
            Field("Id", FieldKind.STRING),
            Field("Tax", FieldKind.ENUM, "NoYes", ("No", "Yes")),
            Field("Days", FieldKind.INT),
            Field("Rate", FieldKind.DECIMAL),
        ],
    )
    rows = [
        {"Id": "10", "Tax": "Yes", "Days": 7, "Rate": Decimal("2.5")},
        {"Id": "20", "Tax": "No", "Days": 30, "Rate": Decimal("1")},
        {"Id": "ab*", "Tax": "No", "Days": None, "Rate": None},
    ]
    match = compile_filter(parse_filter(text, FNO), schema, FNO)
    return [r["Id"] for r in rows if match(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Tax eq {ENUM}.NoYes'Yes'", ["10"]),
        (f"Tax ne {ENUM}.NoYes'Yes'", ["20", "ab*"]),
        (f"Tax eq {ENUM}.NoYes'no'", ["20", "ab*"]),
        ("Tax eq 'Yes'", ["10"]),
        ("Id eq '1*'", ["10"]),
        ("Id eq '*0'", ["10", "20"]),
        ("Id ne '*0'", ["ab*"]),
        ("Days mul 2 gt 20", ["20"]),
        ("Days div 2 eq 3", ["10"]),
        ("Days mod 4 eq 3", ["10"]),
        ("Rate add 1 eq 3.5", ["10"]),
        ("Days sub 10 lt 0", ["10"]),
    ],
)
def test_fno_filters(text: str, expected: list[str]) -> None:
    assert fno_rows(text) == expected


def test_fno_enum_literal_is_parsed_with_its_type() -> None:
    tree = parse_filter(f"Tax eq {ENUM}.NoYes'Yes'", FNO)
    assert isinstance(tree, Compare) and tree.right == EnumLiteral(f"{ENUM}.NoYes", "Yes")


def test_lambda_tree() -> None:
    tree = parse_filter("contacts/any(c: c/age gt 1)", DV)
    assert isinstance(tree, Lambda) and tree.path == ("contacts",) and tree.var == "c"


@pytest.mark.parametrize(
    ("text", "dialect", "message"),
    [
        ("", DV, "The $filter expression is empty."),
        (
            "lastname eq 'O'Bryan'",
            DV,
            "There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''.",
        ),
        ("name eq 'x' AND revenue gt 1", DV, "Syntax error at position 12 in"),
        ("name eq 'x' AND revenue gt 1", DV, "(operators and keywords are lowercase: 'and')"),
        ("name eq", DV, "expected a property, a literal or '(' but found the end of the expression"),
        ("(name eq 'x'", DV, "expected ')'"),
        ("name eq 'x')", DV, "expected an operator or the end of the expression but found ')'"),
        ("name eq #", DV, "the character '#' is not valid"),
        ("employees eq 12abc", DV, "'12abc' is not a valid number, date or GUID"),
        ("createdon eq 2024-02-30", DV, "'2024-02-30' is not a valid date"),
        ("name eq guid'x'", DV, "'guid' is not a literal type"),
        (
            "bogus eq 1",
            DV,
            "Could not find a property named 'bogus' on type 'Microsoft.Dynamics.CRM.account'",
        ),
        ("employees eq 'x'", DV, "Cannot compare property 'employees' (Edm.Int32) with 'x' (Edm.String)"),
        ("name has 'x'", DV, "The 'has' operator is not supported by Dataverse."),
        ("employees add 1 gt 5", DV, "arithmetic operator 'add' is not supported by Dataverse"),
        ("tolower(name) eq 'x'", DV, "'tolower' is not supported by Dataverse"),
        ("frobnicate(name)", DV, "Unknown function 'frobnicate'"),
        (
            "Microsoft.Dynamics.CRM.Above(PropertyName='name')",
            DV,
            "'Microsoft.Dynamics.CRM.Above' is not supported",
        ),
        ("Microsoft.Dynamics.CRM.In(PropertyName='name')", DV, "needs the parameter(s) PropertyValues"),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='employees',PropertyValues=['x'])",
            DV,
            "'x' is not a number",
        ),
        ("name eq @missing", DV, "The parameter alias '@missing' is not defined."),
        (
            f"active eq {ENUM}.NoYes'Yes'",
            DV,
            "is not supported by Dataverse; compare choice columns with integers",
        ),
        ("contacts/all()", DV, "'all' needs a lambda expression"),
        ("contacts/any(c: age gt 1)", DV, "only properties of 'c' can be used, not 'age'"),
        ("name/any(c: c/age gt 1)", DV, "Could not find a collection named 'name'"),
        ("name", DV, "must be a Boolean, but property 'name' is Edm.String"),
        ("not " * 150 + "active", DV, "nested too deeply"),
        ("Id in ('a','b')", FNO, "The 'in' operator is not supported by Finance and Operations."),
        ("contains(Id,'1')", FNO, "use a wildcard in an 'eq' comparison instead"),
        (
            "Lines/any(l: l/Qty gt 1)",
            FNO,
            "The lambda operator 'any' is not supported by Finance and Operations.",
        ),
        (f"Tax gt {ENUM}.NoYes'No'", FNO, "Enum values can only be compared with 'eq' and 'ne'"),
        (f"Tax eq {ENUM}.NoYes'Maybe'", FNO, "'Maybe' is not a member of NoYes (No, Yes)"),
        (
            f"Tax eq {ENUM}.Other'Yes'",
            FNO,
            "the enum type 'Microsoft.Dynamics.DataEntities.Other' is not 'NoYes'",
        ),
        ("Nope eq 1", FNO, "on type 'Microsoft.Dynamics.DataEntities.CustomerGroups'"),
    ],
)
def test_malformed_filters_say_what_is_wrong(text: str, dialect: Dialect, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        if dialect is DV:
            names(text)
        else:
            fno_rows(text)
    assert message in caught.value.message


def test_syntax_errors_carry_the_position() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter("name eq 'x' AND revenue gt 1", DV)
    assert caught.value.position == 12


def test_a_long_chain_of_equalities_on_one_property_keeps_every_rule_of_eq() -> None:
    schema = MappingSchema("t", [Field("code", FieldKind.STRING), Field("n", FieldKind.INT)])
    rows = [{"code": "ABC", "n": 1}, {"code": "abd", "n": 2}, {"code": None, "n": 3}, {"code": "x", "n": 4}]

    def matching(text: str, dialect: Dialect) -> list[int]:
        match = compile_filter(parse_filter(text, dialect), schema, dialect)
        return [r["n"] for r in rows if match(r)]

    chain = " or ".join(f"code eq '{c}'" for c in ("abc", "ABD", "zzz"))
    assert matching(chain, DV) == [1, 2]  # case-insensitive, a null matches nothing
    assert matching(chain + " or code eq null", DV) == [1, 2, 3]  # null: the general path
    assert matching("code eq 'ab*' or code eq 'x'", FNO) == [1, 2, 4]  # an F&O wildcard still matches
    assert matching(" or ".join(f"n eq {i}" for i in (2, 4, 9)), DV) == [2, 4]
