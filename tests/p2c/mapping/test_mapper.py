"""The mapper: each expression form on literal rows, value maps, lookups, defaults, types, errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from p2c.catalog import FieldSpec, FieldType, load_catalog
from p2c.errors import RecordError, WaitingForParentError
from p2c.mapping.expression import parse_expression
from p2c.mapping.mapper import Mapper, SimpleTask
from p2c.mapping.wire import to_wire

CUR = ("transactioncurrencies", "transactioncurrencyid", "isocurrencycode")
UOM = ("uoms", "name", "uomid")


def mapper(fields: dict[str, Any], **kw: Any) -> Mapper:
    task = SimpleTask(
        "T", "CustomersV3", ("accountnumber",), {k: parse_expression(v) for k, v in fields.items()}
    )
    kw.setdefault("value_maps", {"country": {"": "US", "United States": "US", "Canada": "CA"}})
    return Mapper(task, kw.pop("value_maps"), kw.pop("defaults", None), kw.pop("context", None), **kw)


ROW = {
    "accountnumber": "ACC-01000-BVRCPS",
    "name": "Contoso Ltd",
    "address1_line1": "1 Main St",
    "address1_line2": "",
    "address1_line3": "Floor 3",
    "address1_country": "canada",
    "fullname": "Ada  King Lovelace",
    "quantity": 3,
    "priceperunit": Decimal("3.33"),
    "manualdiscountamount": None,
    "_transactioncurrencyid_value": "c-eur",
}


def test_source_const_and_context() -> None:
    m = mapper(
        {
            "A": "name",
            "B": {"source": "name"},
            "C": {"const": "Organization"},
            "D": {"const": None},
            "E": {"context": "company"},
        },
        context={"company": "usmf"},
    )
    assert m.map(ROW) == {"A": "Contoso Ltd", "B": "Contoso Ltd", "C": "Organization", "D": None, "E": "usmf"}
    assert m.map({}) == {"A": None, "B": None, "C": "Organization", "D": None, "E": "usmf"}


def test_defaults_in_expressions_and_for_the_task() -> None:
    m = mapper(
        {"A": {"source": "missing", "default": "x"}, "B": {"default": "10"}, "C": {"source": "name", "default": "x"},
         "D": {"source": "address1_line2", "default": "blank"}, "E": "address1_line2"},
        defaults={"E": "from-task", "F": "added", "C": "not used"},
    )  # fmt: skip
    assert m.map(ROW) == {
        "A": "x",
        "B": "10",
        "C": "Contoso Ltd",
        "D": "blank",
        "E": "from-task",
        "F": "added",
    }
    assert m.map({**ROW, "missing": 0})["A"] == 0  # 0 is a value, not empty


def test_value_maps_blank_entry_case_and_errors() -> None:
    m = mapper({"Country": {"source": "address1_country", "value_map": "country"}})
    assert m.map(ROW)["Country"] == "CA"
    assert m.map({**ROW, "address1_country": "  UNITED STATES "})["Country"] == "US"
    assert m.map({**ROW, "address1_country": None})["Country"] == "US"  # the blank entry
    assert m.map({**ROW, "address1_country": ""})["Country"] == "US"
    with pytest.raises(RecordError) as info:
        m.map({**ROW, "address1_country": "Narnia"})
    e = info.value
    assert (e.entity, e.key, e.field) == ("CustomersV3", "ACC-01000-BVRCPS", "Country")
    assert e.reason == "value 'Narnia' of address1_country is not in value map 'country'"
    assert str(e) == (
        "CustomersV3 'ACC-01000-BVRCPS' field Country: value 'Narnia' of address1_country is not in value map 'country'"
    )


def test_value_map_catch_all_and_no_blank_entry() -> None:
    m = mapper(
        {"A": {"source": "address1_country", "value_map": "m"}},
        value_maps={"m": {"Canada": "CA", "*": "OTHER"}},
    )
    assert m.map(ROW)["A"] == "CA"
    assert m.map({**ROW, "address1_country": "Narnia"})["A"] == "OTHER"
    assert m.map({**ROW, "address1_country": None})["A"] is None  # no "" entry: empty stays empty
    numeric = mapper(
        {"A": {"source": "code", "value_map": "terms"}}, value_maps={"terms": {1: "Net30", 3: "Net45"}}
    )
    assert numeric.map({"code": 3})["A"] == "Net45"
    assert numeric.map({"code": "1"})["A"] == "Net30"
    assert numeric.map({"code": Decimal("3.00")})["A"] == "Net45"


def test_concat_and_split() -> None:
    m = mapper(
        {
            "Street": {"concat": ["address1_line1", "address1_line2", "address1_line3"], "sep": ", "},
            "Label": {"concat": [{"const": "Account"}, "accountnumber", "nothing"]},
            "Empty": {"concat": ["nothing", "address1_line2"]},
            "First": {"split": {"source": "fullname", "sep": " ", "index": 0}},
            "Last": {"split": {"source": "fullname", "sep": " ", "index": -1}},
            "Tenth": {"split": {"source": "fullname", "sep": " ", "index": 9}},
        }
    )
    assert m.map(ROW) == {
        "Street": "1 Main St, Floor 3",
        "Label": "Account ACC-01000-BVRCPS",
        "Empty": None,
        "First": "Ada",
        "Last": "Lovelace",
        "Tenth": None,
    }


def test_arithmetic_is_decimal_and_exact() -> None:
    m = mapper(
        {
            "Amount": {"expr": "quantity * priceperunit + 0.01"},
            "Net": {"expr": "quantity * priceperunit - manualdiscountamount"},
            "PerUnit": {"expr": "round(10.00 / quantity, 2)"},
            "Charge": {"expr": "round(10.00 / quantity, 2) * quantity - 10.00"},
            "Half": {"expr": "round(2.345, 2) + round(-2.345, 2)"},
            "Parens": {"expr": "-(quantity - 5) * (2 + 1)"},
            "Fns": {"expr": "abs(-2) + min(quantity, 7) + max(1, 2, 3)"},
        }
    )
    out = m.map(ROW)
    assert out["Amount"] == Decimal("10.00") and str(out["Amount"]) == "10.00"
    assert isinstance(out["Amount"], Decimal)
    assert out["Net"] == Decimal("9.99")  # the empty discount counts as zero
    assert out["PerUnit"] == Decimal("3.33")
    assert out["Charge"] == Decimal("-0.01")  # P2C's discount split: 3 × 3.33 = 9.99, charge -0.01
    assert (
        out["Half"] == Decimal("0.00")
        and str(mapper({"X": {"expr": "round(2.345, 2)"}}).map({})["X"]) == "2.35"
    )
    assert out["Parens"] == Decimal("6")
    assert out["Fns"] == Decimal("8")  # 2 + 3 + 3
    assert mapper({"X": {"expr": "a * 3"}}).map({"a": 0.1})["X"] == Decimal("0.3")  # floats via their repr


def test_arithmetic_errors_are_record_errors() -> None:
    with pytest.raises(RecordError, match=r"arithmetic failed \(division by zero\) in 'quantity / 0'"):
        mapper({"X": {"expr": "quantity / 0"}}).map(ROW)
    with pytest.raises(RecordError, match="name: 'Contoso Ltd' is not a number"):
        mapper({"X": {"expr": "name * 2"}}).map(ROW)


def test_lookups_wait_fail_null() -> None:
    spec = {"source": "_transactioncurrencyid_value", "entity": "transactioncurrencies",
            "by": "transactioncurrencyid", "field": "isocurrencycode"}  # fmt: skip
    wait = mapper({"Cur": {"lookup": spec}})
    fail = mapper({"Cur": {"lookup": {**spec, "missing": "fail"}}})
    null = mapper({"Cur": {"lookup": {**spec, "missing": "null"}, "default": "USD"}})
    related = {CUR: {"c-eur": "EUR", "c-none": None}}
    for m in (wait, fail, null):
        assert m.map(ROW, related) == {"Cur": "EUR"}
        assert m.lookups()[0].key == CUR
    assert wait.map({**ROW, "_transactioncurrencyid_value": "C-EUR"}, related) == {
        "Cur": "EUR"
    }  # case-insensitive
    assert wait.map({**ROW, "_transactioncurrencyid_value": None}, {CUR: {}}) == {
        "Cur": None
    }  # nothing to look up
    assert null.map({**ROW, "_transactioncurrencyid_value": "c-none"}, related) == {"Cur": "USD"}
    with pytest.raises(WaitingForParentError) as waiting:
        wait.map({**ROW, "_transactioncurrencyid_value": "c-xxx"}, related)
    assert waiting.value.field == "Cur" and waiting.value.key == "ACC-01000-BVRCPS"
    assert "transactioncurrencies with transactioncurrencyid 'c-xxx'" in waiting.value.reason
    with pytest.raises(RecordError, match="no transactioncurrencies has transactioncurrencyid 'c-xxx'"):
        fail.map({**ROW, "_transactioncurrencyid_value": "c-xxx"}, related)
    assert null.map({**ROW, "_transactioncurrencyid_value": "c-xxx"}, related) == {"Cur": "USD"}
    with pytest.raises(ValueError, match="did not resolve lookup"):
        wait.map(ROW, {})


def test_a_chunks_lookup_values_map_each_distinct_source_value_once_and_keep_true_apart_from_1() -> None:
    """Bulk inputs are the source's distinct values, each through the value map once; ``True`` and
    ``1`` (one value in a set) are two keys of a value map, so both are asked; a refused value
    leaves the others."""
    fields = {"Unit": {"lookup": {"source": "unit", "value_map": "unit", "entity": "uoms", "by": "name",
                                  "field": "uomid"}}}  # fmt: skip
    m = mapper(fields, value_maps={"unit": {"ea": "Each", "true": "Flag", "1": "One", "pcs": "Piece"}})
    applied: list[Any] = []
    vmap = m.value_maps["unit"]
    original = vmap.apply
    vmap.apply = lambda value, source="": (applied.append(value), original(value, source))[1]  # type: ignore[method-assign]
    rows = [{"unit": "ea"}] * 500 + [{"unit": "pcs"}] * 500 + [{"unit": "box"}]
    assert m.lookup_values(rows) == {UOM: {"Each", "Piece"}}
    assert sorted(applied) == ["box", "ea", "pcs"]
    assert m.lookup_values([{"unit": True}, {"unit": 1}, {"unit": "ea"}]) == {UOM: {"Flag", "One", "Each"}}
    assert m.lookup_values([{"unit": 1}, {"unit": True}]) == {UOM: {"Flag", "One"}}


def test_lookup_with_value_map_and_bulk_inputs() -> None:
    m = mapper(
        {"Unit": {"lookup": {"source": "unit", "value_map": "unit", "entity": "uoms", "by": "name", "field": "uomid",
                             "missing": "fail"}}},
        value_maps={"unit": {"": "Primary Unit", "ea": "Each", "pcs": "Piece"}},
    )  # fmt: skip
    rows = [{"unit": "ea"}, {"unit": "EA"}, {"unit": None}, {"unit": "pcs"}, {"unit": "box"}]
    assert m.lookup_values(rows) == {UOM: {"Each", "Primary Unit", "Piece"}}
    related = {UOM: {"Each": "u1", "Primary Unit": "u0"}}
    assert m.map({"unit": "ea"}, related) == {"Unit": "u1"}
    assert m.map({"unit": None}, related) == {"Unit": "u0"}
    with pytest.raises(RecordError, match="no uoms has name 'Piece'"):
        m.map({"unit": "pcs"}, related)
    with pytest.raises(RecordError, match="value 'box' of unit is not in value map 'unit'"):
        m.map({"unit": "box"}, related)


def test_target_types() -> None:
    catalog = load_catalog()
    customers = catalog.entity("erp", "CustomersV3")
    m = mapper(
        {"IsExternallyMaintained": {"const": True}, "CreditLimit": "limit", "OnHoldStatus": "hold",
         "OrganizationName": "name", "CustomerAccount": "accountnumber"},
        target_fields=customers.fields,
        enums=catalog.enums,
    )  # fmt: skip
    out = m.map({"limit": 1500.25, "hold": "all", "name": 12, "accountnumber": "A"})
    assert out == {"IsExternallyMaintained": "Yes", "CreditLimit": Decimal("1500.25"), "OnHoldStatus": "All",
                   "OrganizationName": "12", "CustomerAccount": "A"}  # fmt: skip
    with pytest.raises(
        RecordError, match=r"'Sometimes' is not a member of enum CustVendorBlocked \(No, Invoice"
    ):
        m.map({"hold": "Sometimes", "accountnumber": "A"})
    with pytest.raises(RecordError, match="'x' is not a number"):
        m.map({"limit": "x", "accountnumber": "A"})
    short = {"CustomerAccount": FieldSpec("CustomerAccount", FieldType.STRING, max_length=5)}
    with pytest.raises(RecordError) as info:
        mapper({"CustomerAccount": "accountnumber"}, target_fields=short).map(ROW)
    assert (
        info.value.field == "CustomerAccount" and "16 characters long; the maximum is 5" in info.value.reason
    )
    choice = {"C": FieldSpec("C", FieldType.CHOICE, options={1: "Net 30", 3: "Net 45"})}
    cm = mapper({"C": "v"}, target_fields=choice)
    assert cm.map({"v": "net 45"}) == {"C": 3} and cm.map({"v": 1}) == {"C": 1}
    with pytest.raises(RecordError, match="2 is not an option of C"):
        cm.map({"v": 2})


def test_each_value_is_checked_against_its_fields_type_copied_or_evaluated() -> None:
    """A value that already has its field's type goes as it is; any other is coerced or refused,
    whether the field copies a source field or evaluates an expression (a default here)."""
    types = {
        "Name": FieldSpec("Name", FieldType.STRING, max_length=3),
        "Price": FieldSpec("Price", FieldType.MONEY),
        "On": FieldSpec("On", FieldType.BOOL),
        "Unit": FieldSpec("Unit", FieldType.LOOKUP, targets={"uoms": "defaultuomid"}),
        "Count": FieldSpec("Count", FieldType.INT, min=0),
    }
    for how in ("copied", "evaluated"):

        def field(name: str, how: str = how) -> Any:
            return name if how == "copied" else {"source": name, "default": None}

        m = mapper(
            {
                "Name": field("n"),
                "Price": field("p"),
                "On": field("o"),
                "Unit": field("u"),
                "Count": field("c"),
            },
            target_fields=types,
        )
        key = {"name": "pcs"}  # an alternate key: a lookup field takes any value as it is
        out = m.map({"n": "abc", "p": Decimal("1.50"), "o": False, "u": key, "c": 2})
        assert out == {"Name": "abc", "Price": Decimal("1.50"), "On": False, "Unit": key, "Count": 2}, how
        assert out["Unit"] is key
        out = m.map({"n": 12, "p": "2.5", "o": "yes", "u": "id-1", "c": "3"})
        assert out == {"Name": "12", "Price": Decimal("2.5"), "On": True, "Unit": "id-1", "Count": 3}, how
        for row, field_name, reason in (
            ({"n": "abcd"}, "Name", "'abcd' is 4 characters long; the maximum is 3"),
            ({"n": True}, "Name", "True is not text"),
            ({"p": True}, "Price", "True is not a number"),
            ({"o": "maybe"}, "On", "'maybe' is not true or false"),
            ({"c": -1}, "Count", "-1 is outside 0..None"),
        ):
            with pytest.raises(RecordError) as info:
                m.map(row)
            assert (info.value.field, info.value.reason) == (field_name, reason), how


def test_a_tasks_default_takes_its_fields_type_and_a_refused_one_fails_each_row_needing_it() -> None:
    types = {
        "Count": FieldSpec("Count", FieldType.INT),
        "Price": FieldSpec("Price", FieldType.MONEY),
        "Name": FieldSpec("Name", FieldType.STRING),
    }
    m = mapper(
        {"Count": "c", "Price": "p", "Name": "accountnumber"},
        defaults={"Count": "x", "Price": "2.50"},
        target_fields=types,
    )
    assert m.map({"c": 1, "accountnumber": "A"}) == {"Count": 1, "Price": Decimal("2.50"), "Name": "A"}
    for key in ("A", "B"):  # the default refused: every row that needs it fails, named
        with pytest.raises(RecordError) as info:
            m.map({"accountnumber": key, "p": Decimal(1)})
        assert (info.value.key, info.value.field, info.value.reason) == (key, "Count", "'x' is not a number")


def test_source_fields_and_lookups_for_the_select() -> None:
    task = SimpleTask(
        "T",
        "CustomersV3",
        ("accountnumber",),
        {
            "A": parse_expression({"concat": ["a1", {"source": "a2", "default": "x"}]}),
            "B": parse_expression({"expr": "qty * price"}),
            "C": parse_expression({"lookup": {"source": "cur", "entity": "e", "by": "id", "field": "f"}}),
            "D": parse_expression({"source": "$price_list"}),
            "E": parse_expression({"split": {"source": "full", "sep": ","}}),
        },
        extra_source_fields=("accountid",),
    )
    m = Mapper(task)
    assert m.source_fields() == {"accountnumber", "accountid", "a1", "a2", "qty", "price", "cur", "full"}
    assert [s.key for s in m.lookups()] == [("e", "id", "f")]


def test_mapper_refuses_missing_context_or_value_map() -> None:
    with pytest.raises(ValueError, match="context value 'company' was not given"):
        mapper({"A": {"context": "company"}})
    with pytest.raises(ValueError, match="value map 'nope' was not given"):
        mapper({"A": {"source": "x", "value_map": "nope"}})


def test_to_wire_turns_lookups_into_binds() -> None:
    products = load_catalog().entity("crm", "products")
    payload = {"name": "Speaker", "defaultuomid": "u-1", "transactioncurrencyid": None,
               "parentproductid": {"productnumber": "O'Brien"}}  # fmt: skip
    assert to_wire(payload, products) == {
        "name": "Speaker",
        "defaultuomid@odata.bind": "/uoms(u-1)",
        "transactioncurrencyid@odata.bind": None,
        "parentproductid@odata.bind": "/products(productnumber='O''Brien')",
    }
    orders = load_catalog().entity("crm", "salesorders")
    assert to_wire({"customerid": ("accounts", "a-1")}, orders) == {
        "customerid_account@odata.bind": "/accounts(a-1)"
    }
    with pytest.raises(ValueError, match="polymorphic"):
        to_wire({"customerid": "a-1"}, orders)


def test_polymorphic_lookups_carry_their_entity() -> None:
    orders = load_catalog().entity("crm", "salesorders")
    m = mapper(
        {"customerid": {"lookup": {"source": "OrderingCustomerAccountNumber", "entity": "accounts",
                                   "by": "accountnumber", "field": "accountid"}}},
        target_fields=orders.fields,
    )  # fmt: skip
    out = m.map(
        {"OrderingCustomerAccountNumber": "ACC-1"},
        {("accounts", "accountnumber", "accountid"): {"ACC-1": "a-1"}},
    )
    assert out == {"customerid": ("accounts", "a-1")}
    assert to_wire(out, orders) == {"customerid_account@odata.bind": "/accounts(a-1)"}
