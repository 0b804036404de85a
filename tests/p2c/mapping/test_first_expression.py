"""``first``: parsing, the walkers, evaluation (wait / fail / null inside it), load-time checks and
the ERP → CRM templates whose customer is a CRM account or a CRM contact."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from p2c.catalog import load_catalog
from p2c.errors import ConfigError, RecordError, WaitingForParentError
from p2c.mapping.arithmetic import ExpressionError
from p2c.mapping.expression import (
    Concat,
    Defaulted,
    First,
    Lookup,
    LookupSpec,
    Missing,
    Source,
    ValueMapped,
    iter_nodes,
    lookups,
    parse_expression,
    replace_lookups,
    replace_lookups_at,
    source_fields,
    value_maps_used,
)
from p2c.mapping.mapper import Mapper, SimpleTask
from p2c.mapping.wire import to_wire
from p2c.project import load_template

ACCOUNT = {"source": "CustomerNumber", "entity": "accounts", "by": "accountnumber", "field": "accountid"}
CONTACT = {"source": "CustomerNumber", "entity": "contacts", "by": "p2c_contactnumber", "field": "contactid"}
ACCOUNT_ID = ("accounts", "accountnumber", "accountid")
CONTACT_ID = ("contacts", "p2c_contactnumber", "contactid")
NUMBER = "CON-01000-XYZXYZ"
BOTH_MISSING = f"no accounts with accountnumber '{NUMBER}' and no contacts with p2c_contactnumber '{NUMBER}'"


def customer(*items: dict[str, Any], **modifiers: Any) -> Mapper:
    """A mapper of salesorders.customerid (polymorphic: accounts or contacts) = first of ``items``."""
    expr = parse_expression({"first": [{"lookup": item} for item in items], **modifiers})
    task = SimpleTask("T", "salesorders", ("CustomerNumber",), {"customerid": expr})
    return Mapper(task, target_fields=load_catalog().entity("crm", "salesorders").fields)


def related(accounts: dict[str, str] | None = None, contacts: dict[str, str] | None = None) -> Any:
    return {ACCOUNT_ID: accounts or {}, CONTACT_ID: contacts or {}}


# -- parsing and walking -----------------------------------------------------------------------------


def test_first_parses_items_and_takes_modifiers() -> None:
    assert parse_expression({"first": ["mobilephone", {"source": "telephone1"}]}) == First(
        (Source("mobilephone"), Source("telephone1"))
    )
    expr = parse_expression({"first": ["a", {"concat": ["b", "c"]}], "value_map": "m", "default": "x"})
    assert expr == Defaulted(ValueMapped(First((Source("a"), Concat((Source("b"), Source("c"))))), "m"), "x")
    look = parse_expression({"first": [{"lookup": ACCOUNT}, {"lookup": {**CONTACT, "missing": "fail"}}]})
    assert look == First(
        (
            Lookup(LookupSpec("CustomerNumber", "accounts", "accountid", "accountnumber")),
            Lookup(
                LookupSpec("CustomerNumber", "contacts", "contactid", "p2c_contactnumber", None, Missing.FAIL)
            ),
        )
    )


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ({"first": "a"}, ("first",), "first takes a list of source fields or expressions"),
        ({"first": {"source": "a"}}, ("first",), "first takes a list"),
        ({"first": []}, ("first",), "first needs at least one source field or expression"),
        ({"first": ["a", {"lookup": {"source": "x", "field": "y"}}]}, ("first", 1), "lookup needs 'entity'"),
        ({"first": ["a", 7]}, ("first", 1), "a bare value must be a source field name"),
        ({"first": ["a", None]}, ("first", 1), "empty expression"),
        ({"first": ["a"], "sep": ","}, ("sep",), "'sep' belongs to concat"),
        ({"first": ["a"], "concat": ["b"]}, (), "an expression has one producer, not concat and first"),
    ],
)
def test_malformed_first_names_the_place(raw: Any, path: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(raw)
    assert info.value.path[: len(path)] == path and message in info.value.message, (
        info.value.path,
        info.value.message,
    )


def test_every_walker_sees_inside_first() -> None:
    expr = parse_expression(
        {
            "first": [
                {"lookup": {**ACCOUNT, "value_map": "numbers"}},
                {"lookup": {**CONTACT, "source": "OtherNumber"}},
                {"source": "fallback", "value_map": "fallbacks"},
            ]
        }
    )
    assert source_fields(expr) == {"CustomerNumber", "OtherNumber", "fallback"}
    assert [s.entity for s in lookups(expr)] == ["accounts", "contacts"]
    assert value_maps_used(expr) == {"numbers", "fallbacks"}
    assert [type(n) for n in iter_nodes(expr)] == [First, Lookup, Lookup, ValueMapped, Source]
    filled = replace_lookups(expr, lambda s: LookupSpec(s.source, s.entity, s.field, s.by, "crm"))
    assert [s.system for s in lookups(filled)] == ["crm", "crm"]
    where: list[tuple[str | int, ...]] = []

    def note(spec: LookupSpec, at: tuple[str | int, ...]) -> LookupSpec:
        where.append(at)
        return spec

    assert replace_lookups_at(expr, note) == expr
    assert where == [("first", 0), ("first", 1)]  # the key paths load-time errors point at


# -- evaluation --------------------------------------------------------------------------------------


def test_the_first_value_wins_and_empty_items_are_skipped() -> None:
    task = SimpleTask(
        "T", "x", ("k",), {"phone": parse_expression({"first": ["mobile", "work"], "default": "-"})}
    )
    m = Mapper(task)
    assert m.map({"mobile": "1", "work": "2"}) == {"phone": "1"}
    assert m.map({"mobile": "", "work": "2"}) == {"phone": "2"}
    assert m.map({"mobile": None, "work": 0}) == {"phone": 0}  # 0 is a value
    assert m.map({"mobile": None, "work": ""}) == {"phone": "-"}  # nothing: the default


def test_a_missing_lookup_is_empty_for_first_and_the_winner_tags_the_customer() -> None:
    m = customer(ACCOUNT, CONTACT)
    assert m.lookups() == [
        LookupSpec("CustomerNumber", "accounts", "accountid", "accountnumber"),
        LookupSpec("CustomerNumber", "contacts", "contactid", "p2c_contactnumber"),
    ]
    assert m.lookup_values([{"CustomerNumber": NUMBER}]) == {ACCOUNT_ID: {NUMBER}, CONTACT_ID: {NUMBER}}
    as_contact = m.map({"CustomerNumber": NUMBER}, related(contacts={NUMBER.lower(): "k-1"}))
    assert as_contact == {"customerid": ("contacts", "k-1")}
    orders = load_catalog().entity("crm", "salesorders")
    assert to_wire(as_contact, orders) == {"customerid_contact@odata.bind": "/contacts(k-1)"}
    as_account = m.map({"CustomerNumber": "ACC-1"}, related({"ACC-1": "a-1"}, {"ACC-1": "k-9"}))
    assert as_account == {"customerid": ("accounts", "a-1")}  # in item order
    assert m.map({"CustomerNumber": None}, related()) == {"customerid": None}  # nothing to look up


def test_when_nothing_is_found_the_record_waits_naming_every_lookup() -> None:
    for m in (customer(ACCOUNT, CONTACT), customer(ACCOUNT, {**CONTACT, "missing": "fail"})):
        with pytest.raises(WaitingForParentError) as waiting:
            m.map({"CustomerNumber": NUMBER}, related({"ACC-1": "a-1"}))
        assert waiting.value.reason == f"{BOTH_MISSING} yet"
        assert (waiting.value.entity, waiting.value.key, waiting.value.field) == (
            "salesorders",
            NUMBER,
            "customerid",
        )


def test_failing_lookups_fail_only_when_none_waits() -> None:
    m = customer({**ACCOUNT, "missing": "null"}, {**CONTACT, "missing": "fail"})
    with pytest.raises(RecordError) as failed:
        m.map({"CustomerNumber": NUMBER}, related())
    assert failed.value.reason == BOTH_MISSING and failed.value.field == "customerid"
    assert m.map({"CustomerNumber": NUMBER}, related(contacts={NUMBER: "k-1"})) == {
        "customerid": ("contacts", "k-1")
    }


def test_null_lookups_give_an_empty_value_or_the_default() -> None:
    nulls = ({**ACCOUNT, "missing": "null"}, {**CONTACT, "missing": "null"})
    assert customer(*nulls).map({"CustomerNumber": NUMBER}, related()) == {"customerid": None}
    with_default = customer(*nulls, default="a-0").map({"CustomerNumber": NUMBER}, related())
    assert with_default == {"customerid": "a-0"}  # which entity a default is, first cannot tell


def test_other_errors_of_an_item_are_not_swallowed() -> None:
    """Only a lookup that finds nothing counts as empty: a value the item cannot map fails the
    record even when a later item has a value."""
    expr = parse_expression({"first": [{"source": "country", "value_map": "country"}, "fallback"]})
    m = Mapper(SimpleTask("T", "x", ("k",), {"c": expr}), {"country": {"Canada": "CA"}})
    assert m.map({"country": "", "fallback": "US"}) == {"c": "US"}
    with pytest.raises(RecordError, match="value 'Narnia' of country is not in value map 'country'"):
        m.map({"country": "Narnia", "fallback": "US"})


# -- load-time checks ---------------------------------------------------------------------------------

TEMPLATE = """\
name: mine
tasks:
  Orders:
    source: {system: erp, entity: CDSSalesOrderHeaders}
    target: {system: crm, entity: salesorders}
    key: {source: [dataAreaId, SalesOrderNumber], target: [ordernumber]}
    fields:
      ordernumber: SalesOrderNumber
      customerid:
        first:
          - lookup: {source: OrderingCustomerAccountNumber, entity: accounts, by: accountnumber, field: accountid}
          - lookup: {source: OrderingCustomerAccountNumber, entity: contacts, by: p2c_contactnumber, field: contactid}
"""


def template_error(tmp_path: Path, old: str, new: str) -> ConfigError:
    text = TEMPLATE.replace(old, new)
    assert text != TEMPLATE
    path = tmp_path / "mine.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as info:
        load_template(path)
    assert info.value.detail["line"] == 12, info.value.detail  # the second lookup's line
    return info.value


def test_the_lookups_inside_first_are_checked_where_they_are(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(TEMPLATE)
    [task] = load_template(path).tasks
    assert [(s.entity, s.system) for s in lookups(task.fields["customerid"])] == [
        ("accounts", "crm"),
        ("contacts", "crm"),
    ]

    at = "tasks.Orders.fields.customerid.first[1].lookup"
    cases = [
        ("entity: contacts", "entity: contactz", f"{at}.entity", "unknown entity 'contactz' in lookup"),
        ("by: p2c_contactnumber", "by: p2c_contactnumbr", f"{at}.by", "unknown field 'p2c_contactnumbr' on contacts (crm)"),
        ("field: contactid", "field: contactidd", f"{at}.field", "unknown field 'contactidd' on contacts"),
        ("entity: contacts, by: p2c_contactnumber, field: contactid", "entity: products, by: productnumber, field: productid",
         f"{at}.entity", "customerid refers to accounts, contacts, not products"),
        ("field: contactid", "field: fullname", f"{at}.field", "the lookup must give the id of a contacts record"),
        ("{source: OrderingCustomerAccountNumber, entity: contacts", "{source: OrderingCustomerAcountNumber, entity: contacts",
         f"{at}.source", "unknown source field 'OrderingCustomerAcountNumber' on CDSSalesOrderHeaders"),
    ]  # fmt: skip
    for old, new, key_path, reason in cases:
        error = template_error(tmp_path, old, new)
        assert error.detail["path"] == key_path and reason in error.reason, (error.detail, error.reason)


def test_malformed_first_in_a_template_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        TEMPLATE.replace(
            "      customerid:\n        first:", "      customerid:\n        first: []\n        x:"
        )
    )
    with pytest.raises(ConfigError) as info:
        load_template(path)
    assert info.value.detail["path"] == "tasks.Orders.fields.customerid.x", info.value.detail
    path.write_text(TEMPLATE.split("        first:")[0] + "        first: []\n")
    with pytest.raises(ConfigError) as info:
        load_template(path)
    assert info.value.detail["path"] == "tasks.Orders.fields.customerid.first"
    assert "first needs at least one source field or expression" in info.value.reason


# -- the shipped ERP → CRM templates -------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "task", "number_field", "key"),
    [
        ("orders_from_erp", "OrderHeaderFromERP", "OrderingCustomerAccountNumber", "usmf,000042"),
        ("invoices", "SalesInvoiceHeader", "InvoiceCustomerAccountNumber", "usmf,CIV-1,2025-05-02,ARI-1"),
    ],
)
def test_erp_documents_find_account_or_contact_customers(
    template: str, task: str, number_field: str, key: str
) -> None:
    shipped = load_template(template)
    t = next(x for x in shipped.tasks if x.name == task)
    catalog = load_catalog()
    m = Mapper(t, shipped.value_maps, t.defaults, {"company": "usmf", "business_unit": "usmf"},
               target_fields=catalog.entity("crm", t.target.entity).fields, enums=catalog.enums)  # fmt: skip
    row = {"dataAreaId": "usmf", "SalesOrderNumber": "000042", "InvoiceNumber": "CIV-1", "InvoiceDate": "2025-05-02",
           "LedgerVoucher": "ARI-1", number_field: NUMBER, "CurrencyCode": "USD", "$processing_status": "Confirmed"}  # fmt: skip
    tables = {
        ("transactioncurrencies", "isocurrencycode", "transactioncurrencyid"): {"USD": "c-usd"},
        ("pricelevels", "name", "pricelevelid"): {"CRM Service USA (sample)": "pl-usa"},
        ("salesorders", "ordernumber", "salesorderid"): {"000042": "o-1"},
    }
    assert {s.key for s in m.lookups()} >= {ACCOUNT_ID, CONTACT_ID}
    assert m.map(row, {**tables, **related(contacts={NUMBER: "k-1"})})["customerid"] == ("contacts", "k-1")
    assert m.map({**row, number_field: "ACC-1"}, {**tables, **related({"ACC-1": "a-1"})})["customerid"] == (
        "accounts",
        "a-1",
    )
    with pytest.raises(WaitingForParentError) as waiting:
        m.map(row, {**tables, **related()})
    assert (waiting.value.key, waiting.value.field, waiting.value.reason) == (
        key,
        "customerid",
        f"{BOTH_MISSING} yet",
    )
