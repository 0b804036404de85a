"""The sandbox's ``$filter`` and p2c's (``p2c.mapping``) are written apart; here they check each other."""

from __future__ import annotations

from decimal import Decimal

import pytest

from p2c import odata
from p2c_sandbox.odata import filter as own

ROWS = [
    {
        "name": "O'Brien & Co",
        "n": 12,
        "amount": Decimal("150.5"),
        "flag": "Yes",
        "on": "2024-03-01T10:00:00Z",
    },
    {"name": "Contoso", "n": 3000, "amount": None, "flag": "No", "on": "2023-01-01T00:00:00Z"},
    {"name": "Fabrikam*", "n": None, "amount": 99.0, "flag": "No", "on": None},
]
KINDS = {"name": "STRING", "n": "INT", "amount": "DECIMAL", "flag": "ENUM", "on": "DATETIME"}
ENUM = "Microsoft.Dynamics.DataEntities.NoYes"

FILTERS = [
    ("dataverse", "name eq 'o''brien & co' or n gt 100"),
    ("dataverse", "not (amount ge 100) and n ne null"),
    ("dataverse", "name in ('contoso','x') or contains(name,'&')"),
    ("dataverse", "Microsoft.Dynamics.CRM.In(PropertyName='n',PropertyValues=['12','3000'])"),
    ("dataverse", "Microsoft.Dynamics.CRM.NotBetween(PropertyName='n',PropertyValues=[1,100])"),
    ("dataverse", "on lt 2024-01-01 or on eq null"),
    ("dataverse", "n eq 12 or n eq 3000 or n eq 7"),
    ("fno", f"flag eq {ENUM}'Yes' or name eq '*BRIK*'"),
    ("fno", "n mul 2 add 1 gt 25 and amount eq null"),
    ("fno", "name ne 'Fabrikam*' and (n div 5 eq 2 or n mod 7 eq 4)"),
    ("fno", "amount sub 50 ge 49"),
    ("fno", "name in ('Contoso')"),
    ("dataverse", "n add 1 gt 2"),
    ("dataverse", "name eq 'x' AND n eq 1"),
]


def _own(dialect: str, text: str) -> list[str] | str:
    fields = [
        own.Field(
            name,
            own.FieldKind[kind],
            "NoYes" if kind == "ENUM" else None,
            ("No", "Yes") if kind == "ENUM" else (),
        )
        for name, kind in KINDS.items()
    ]
    try:
        match = own.compile_filter(own.parse_filter(text, dialect), own.MappingSchema("t", fields), dialect)
    except own.FilterError:
        return "refused"
    return [r["name"] for r in ROWS if match(r)]


def _p2c(dialect: str, text: str) -> list[str] | str:
    fields = [
        odata.FieldInfo(
            name,
            odata.FieldKind[kind],
            "NoYes" if kind == "ENUM" else None,
            ("No", "Yes") if kind == "ENUM" else (),
        )
        for name, kind in KINDS.items()
    ]
    d = odata.Dialect(dialect)
    try:
        match = odata.compile_filter(odata.parse_filter(text, d), odata.DictSchema("t", fields), d)
    except odata.FilterError:
        return "refused"
    return [r["name"] for r in ROWS if match(r)]


@pytest.mark.parametrize(("dialect", "text"), FILTERS)
def test_both_implementations_agree(dialect: str, text: str) -> None:
    assert _own(dialect, text) == _p2c(dialect, text)
