"""The sandbox's own ``$select``/``$orderby``/``$expand`` parsers and row sorting."""

from __future__ import annotations

import pytest

from p2c_sandbox.odata.filter import FilterError
from p2c_sandbox.odata.options import (
    OrderBy,
    QueryOption,
    QueryOptionError,
    parse_expand,
    parse_orderby,
    parse_select,
    sort_rows,
)


def test_select_keeps_order_paths_and_star() -> None:
    assert parse_select(" name,primarycontactid/fullname , *") == ["name", "primarycontactid/fullname", "*"]


def test_orderby_directions() -> None:
    assert parse_orderby("name,createdon desc, a/b asc") == [
        OrderBy(("name",)),
        OrderBy(("createdon",), True),
        OrderBy(("a", "b")),
    ]


def test_expand_with_nested_options_and_quoted_filter() -> None:
    [contact, lines] = parse_expand(
        "primarycontactid($select=fullname,emailaddress1),"
        "quote_details($filter=productdescription eq 'a;b,(c)' and quantity gt 1;$orderby=quantity desc;"
        "$top=2;$expand=productid($select=name))"
    )
    assert contact.nav == "primarycontactid" and contact.select == ["fullname", "emailaddress1"]
    assert lines.filter == "productdescription eq 'a;b,(c)' and quantity gt 1"
    assert lines.orderby == [OrderBy(("quantity",), True)] and lines.top == 2
    assert [e.nav for e in lines.expand] == ["productid"] and lines.expand[0].select == ["name"]


@pytest.mark.parametrize(
    ("parse", "text", "position", "message"),
    [
        (parse_select, "name,,x", 5, "empty item"),
        (parse_select, "na-me", 0, "'na-me' is not a property name"),
        (parse_orderby, "name DESC", 5, "'DESC' is not a sort direction"),
        (parse_orderby, "name asc extra", 0, "is not a property optionally followed by asc or desc"),
        (parse_expand, "a($top=x)", 7, "$top must be a whole number"),
        (parse_expand, "a($count=true)", 2, "'$count' is not supported inside $expand"),
        (parse_expand, "a($select=x;$select=y)", 12, "given twice"),
        (parse_expand, "a($filter='x)", 13, "unterminated quoted text"),
        (parse_expand, "a(($select=x)", 13, "expected ')'"),
        (parse_expand, "a)", 1, "unbalanced ')'"),
    ],
)
def test_malformed_options(parse: object, text: str, position: int, message: str) -> None:
    with pytest.raises(QueryOptionError) as caught:
        parse(text)  # type: ignore[operator]
    assert isinstance(caught.value, FilterError)
    assert caught.value.position == position and message in caught.value.message
    assert caught.value.option in set(QueryOption)


def test_sort_puts_null_first_ignores_case_and_is_stable() -> None:
    rows = [{"n": "b", "k": 1}, {"n": None, "k": 2}, {"n": "A", "k": 3}, {"n": "a", "k": 4}]
    by_name = sort_rows(rows, parse_orderby("n"), lambda r, p: r[p[0]])
    assert [r["k"] for r in by_name] == [2, 3, 4, 1]
    descending = sort_rows(rows, parse_orderby("n desc,k desc"), lambda r, p: r[p[0]])
    assert [r["k"] for r in descending] == [1, 4, 3, 2]
