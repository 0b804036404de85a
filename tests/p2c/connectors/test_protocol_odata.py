"""Literals, key segments, key filters and exact JSON numbers: pure."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import httpx
import pytest

from p2c.connectors.protocol_json import dumps, loads
from p2c.connectors.protocol_odata import (
    EnumLiteral,
    entity_path,
    key_filter,
    key_filters,
    key_predicate,
    literal,
    odata_bind,
    query_string,
    quote,
)

OBRIEN = "O'Brien & Co"


def test_quote_for_url_key_segments() -> None:
    assert quote(OBRIEN) == "'O''Brien%20%26%20Co'"
    assert quote("a/b(c),d=e+f#") == "'a%2Fb%28c%29%2Cd%3De%2Bf%23'"
    assert quote("Zürich") == "'Z%C3%BCrich'"


def test_literal_for_filter_values_only_doubles_quotes() -> None:
    assert literal(OBRIEN) == "'O''Brien & Co'"
    assert literal(3) == "3"
    assert literal(Decimal("12.50")) == "12.50"
    assert literal(True) == "true"
    assert literal(None) == "null"
    assert literal(dt.datetime(2017, 3, 21, 12, 0, tzinfo=dt.UTC)) == "2017-03-21T12:00:00Z"
    assert (
        literal(dt.datetime(2017, 3, 21, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))))
        == "2017-03-21T12:00:00Z"
    )
    guid = uuid.UUID("70bf4d48-34cb-ed11-b596-0022481d68cd")
    assert literal(guid) == "70bf4d48-34cb-ed11-b596-0022481d68cd"
    assert literal(EnumLiteral("NoYes", "Yes")) == "Microsoft.Dynamics.DataEntities.NoYes'Yes'"
    with pytest.raises(TypeError):
        literal(1.5)


def test_dataverse_key_segments() -> None:
    assert (
        entity_path("accounts", {"accountnumber": OBRIEN}) == "accounts(accountnumber='O''Brien%20%26%20Co')"
    )
    guid = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert entity_path("accounts", guid) == "accounts(00000000-0000-0000-0000-000000000001)"
    assert odata_bind("accounts", {"accountnumber": "A1"}) == "/accounts(accountnumber='A1')"


def test_fno_key_segments_put_the_company_first() -> None:
    key = {"CustomerAccount": OBRIEN, "dataAreaId": "usmf"}
    assert entity_path("CustomersV3", key, company_first=True) == (
        "CustomersV3(dataAreaId='usmf',CustomerAccount='O''Brien%20%26%20Co')"
    )
    invoice = {
        "dataAreaId": "usmf",
        "InvoiceNumber": "CIV-1",
        "InvoiceDate": dt.datetime(2017, 3, 21, 12, 0, tzinfo=dt.UTC),
        "LineCreationSequenceNumber": 3,
    }
    assert key_predicate(invoice, company_first=True) == (
        "dataAreaId='usmf',InvoiceNumber='CIV-1',InvoiceDate=2017-03-21T12:00:00Z,LineCreationSequenceNumber=3"
    )


def test_key_filters() -> None:
    assert key_filter([{"accountnumber": OBRIEN}]) == "accountnumber eq 'O''Brien & Co'"
    keys = [
        {"CustomerAccount": "A", "dataAreaId": "usmf"},
        {"CustomerAccount": "B", "dataAreaId": "usmf"},
        {"CustomerAccount": "C", "dataAreaId": "usrt"},
    ]
    assert key_filter(keys, company_first=True) == (
        "(dataAreaId eq 'usmf' and (CustomerAccount eq 'A' or CustomerAccount eq 'B')) or "
        "(dataAreaId eq 'usrt' and CustomerAccount eq 'C')"
    )
    many = [{"accountnumber": f"ACC-{n:05d}-ABCDEF"} for n in range(1000)]
    chunks = key_filters(many, max_chars=6000)
    assert len(chunks) > 1 and all(len(c) < 6500 for c in chunks)
    assert sum(c.count(" eq ") for c in chunks) == 1000


def test_key_filters_of_one_text_column_use_in_lists_that_fit_a_get() -> None:
    """Dataverse's In for keys of one text column: every key once, in order, each filter's URL as
    httpx sends it within the 32,768 characters of a GET — special characters included."""
    values = [f"P{n:07d}" for n in range(2500)] + [f'O\'Brien "Q" & Co/ä {n}' for n in range(1500)]
    chunks = key_filters([{"productnumber": v} for v in values], use_in=True)
    assert len(chunks) > 1
    assert all(
        c.startswith("Microsoft.Dynamics.CRM.In(PropertyName='productnumber',PropertyValues=[")
        for c in chunks
    )
    back = [v for c in chunks for v in json.loads(c[c.index("[") : -1])]
    assert back == values
    root = "https://org.crm.dynamics.com/api/data/v9.2/products"
    for c in chunks:
        url = httpx.URL(
            root, params={"$select": "productid,productnumber,statecode,statuscode", "$filter": c}
        )
        assert len(str(url)) < 32_768 - 4_000
    # short keys: cut at 1 000 values a list, though the length would allow more
    short = key_filters([{"n": f"{i}"} for i in range(2500)], use_in=True)
    assert [len(json.loads(c[c.index("[") : -1])) for c in short] == [1000, 1000, 500]
    # anything else is or-ed as before: several columns, a value that is not text, no value
    composite = [{"CustomerAccount": "A", "dataAreaId": "usmf"}]
    assert key_filters(composite, use_in=True) == key_filters(composite)
    assert key_filters([{"n": 5}, {"n": 6}], use_in=True) == ["n eq 5 or n eq 6"]
    assert key_filters([{"k": "a"}, {"k": None}], use_in=True) == ["k eq 'a' or k eq null"]


def test_query_string_encodes_values_for_verbatim_urls() -> None:
    qs = query_string({"cross-company": "true", "$filter": "Name eq 'O''Brien & Co+1'", "$select": "a,b"})
    assert qs == "cross-company=true&$filter=Name%20eq%20'O''Brien%20%26%20Co%2B1'&$select=a,b"


def test_numbers_are_decimals_both_ways() -> None:
    row = loads(b'{"revenue": 5000000.0000, "qty": 3, "rate": 0.1}')
    assert row == {"revenue": Decimal("5000000.0000"), "qty": 3, "rate": Decimal("0.1")}
    assert isinstance(row["revenue"], Decimal)
    payload = {
        "price": Decimal("1234.5600"),
        "tiny": Decimal("1E-7"),
        "name": OBRIEN,
        "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "nested": [Decimal("0.10")],
    }
    text = dumps(payload)
    assert text == (
        b'{"price":1234.5600,"tiny":0.0000001,"name":"O\'Brien & Co","when":"2024-01-02T03:04:05Z","nested":[0.10]}'
    )
    assert loads(text)["price"] == Decimal("1234.5600")
    with pytest.raises(ValueError):
        dumps({"x": Decimal("NaN")})


def test_a_string_that_looks_like_a_marker_is_left_alone() -> None:
    assert loads(dumps({"s": "\u0000abc:1\u0000"})) == {"s": "\u0000abc:1\u0000"}
