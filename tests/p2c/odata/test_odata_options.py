"""Tests for $select, $orderby, $expand parsing and row sorting (p2c.odata.options)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from p2c.odata import (
    Expand,
    FilterError,
    OrderBy,
    QueryOption,
    QueryOptionError,
    parse_expand,
    parse_orderby,
    parse_select,
    sort_rows,
)


def field(row: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = row
    for segment in path:
        value = value.get(segment) if isinstance(value, Mapping) else None
    return value


# -- $select ---------------------------------------------------------------------------------------


def test_select_splits_and_strips() -> None:
    assert parse_select("a,b, c") == ["a", "b", "c"]
    assert parse_select("_parentcustomerid_value") == ["_parentcustomerid_value"]
    assert parse_select("*") == ["*"]


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a,,b", 2, "empty item"),
        ("a,b,", 4, "empty item"),
        ("a, b c", 3, "'b c' is not a property name"),
        ("", 0, "empty item"),
    ],
)
def test_select_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryOptionError) as caught:
        parse_select(text)
    assert caught.value.option is QueryOption.SELECT
    assert caught.value.position == position
    assert fragment in str(caught.value)
    assert isinstance(caught.value, FilterError)


# -- $orderby --------------------------------------------------------------------------------------


def test_orderby_directions_and_paths() -> None:
    assert parse_orderby("name asc,createdon desc, primarycontactid/fullname") == [
        OrderBy(("name",), False),
        OrderBy(("createdon",), True),
        OrderBy(("primarycontactid", "fullname"), False),
    ]


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("name DESC", 5, "'DESC' is not a sort direction"),
        ("name asc,", 9, "empty item"),
        ("name asc desc", 0, "optionally followed by asc or desc"),
    ],
)
def test_orderby_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryOptionError) as caught:
        parse_orderby(text)
    assert caught.value.option is QueryOption.ORDERBY
    assert caught.value.position == position
    assert fragment in str(caught.value)


# -- $expand ---------------------------------------------------------------------------------------


def test_expand_with_nested_options() -> None:
    assert parse_expand("primarycontactid($select=fullname),quote_details($select=a,b;$top=2)") == [
        Expand("primarycontactid", select=["fullname"]),
        Expand("quote_details", select=["a", "b"], top=2),
    ]


def test_expand_without_options_and_with_empty_parentheses() -> None:
    assert parse_expand("SalesOrderLines, primarycontactid()") == [
        Expand("SalesOrderLines"),
        Expand("primarycontactid"),
    ]


def test_expand_nested_expand_orderby_and_filter_with_quotes() -> None:
    (item,) = parse_expand(
        "primarycontactid($select=fullname,_createdby_value;"
        "$expand=createdby($select=fullname);"
        "$filter=contains(fullname,'a;b) (c') and statecode eq 0;"
        "$orderby=fullname desc)"
    )
    assert item.nav == "primarycontactid"
    assert item.select == ["fullname", "_createdby_value"]
    assert item.expand == [Expand("createdby", select=["fullname"])]
    assert item.filter == "contains(fullname,'a;b) (c') and statecode eq 0"
    assert item.orderby == [OrderBy(("fullname",), True)]


def test_expand_filter_with_json_array() -> None:
    (item,) = parse_expand(
        """lines($filter=Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=["a)","b\\";"]))"""
    )
    assert item.filter == """Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=["a)","b\\";"])"""


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a($select=x", 11, "expected ')'"),
        ("a($select=x))", 12, "unbalanced ')'"),
        ("a($count=true)", 2, "'$count' is not supported inside $expand"),
        ("a($top=x)", 7, "$top must be a whole number"),
        ("a($top=1;$top=2)", 9, "given twice"),
        ("a($select=)", 10, "has no value"),
        ("a(select=x)", 2, "not an option such as $select=name"),
        ("a,,b", 2, "empty item"),
        ("a b", 0, "not a navigation property"),
        ("a($filter='x)", 13, "unterminated quoted text"),
        ("a($select=b;$expand=c($select=,))", 30, "empty item"),
    ],
)
def test_expand_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryOptionError) as caught:
        parse_expand(text)
    assert caught.value.option in (QueryOption.EXPAND, QueryOption.SELECT)
    assert caught.value.position == position
    assert fragment in str(caught.value)


# -- sorting ---------------------------------------------------------------------------------------


def ids(rows: list[Mapping[str, Any]]) -> list[Any]:
    return [row["id"] for row in rows]


def test_sort_nulls_first_ascending_and_last_descending() -> None:
    rows: list[dict[str, Any]] = [
        {"id": 1, "n": "b"},
        {"id": 2, "n": None},
        {"id": 3, "n": "A"},
        {"id": 4, "n": "a"},
    ]
    assert ids(sort_rows(rows, parse_orderby("n"), field)) == [2, 3, 4, 1]
    assert ids(sort_rows(rows, parse_orderby("n desc"), field)) == [1, 3, 4, 2]


def test_sort_is_stable_and_multi_key() -> None:
    rows: list[dict[str, Any]] = [
        {"id": 1, "group": "x", "amount": Decimal("5")},
        {"id": 2, "group": "y", "amount": 7},
        {"id": 3, "group": "X", "amount": 9.5},
        {"id": 4, "group": "y", "amount": 7},
        {"id": 5, "group": None, "amount": 1},
    ]
    assert ids(sort_rows(rows, parse_orderby("group asc,amount desc"), field)) == [5, 3, 1, 2, 4]
    assert ids(sort_rows(rows, parse_orderby("amount"), field)) == [5, 1, 2, 4, 3]
    assert ids(sort_rows(rows, [], field)) == [1, 2, 3, 4, 5]


def test_sort_by_navigation_path_and_datetimes() -> None:
    rows: list[dict[str, Any]] = [
        {"id": 1, "c": {"when": dt.datetime(2024, 5, 1, tzinfo=dt.UTC)}},
        {"id": 2, "c": None},
        {"id": 3, "c": {"when": dt.datetime(2023, 5, 1, tzinfo=dt.UTC)}},
    ]
    assert ids(sort_rows(rows, parse_orderby("c/when desc"), field)) == [1, 3, 2]
