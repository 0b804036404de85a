"""Dynamics 365 Sales behaviour on writes (DATAVERSE.md §3): states, numbering, pricing.

The writer calls these hooks around every create, update and delete:

- products start Draft (2/0) unless ``organization.createproductswithoutparentinactivestate``;
- only Draft quotes, Active orders and Active invoices (and their lines) can be edited; state
  changes go through ``statecode``/``statuscode`` pairs that :data:`TRANSITIONS` allows;
- quote/order/invoice numbers ``QUO-01000-XXXXXX`` when not given; price list required, its
  currency becomes the document's;
- a product line takes ``priceperunit`` from the price list item of the header's price list and
  the line's unit (unless ``ispriceoverridden``); write-in lines name the product in
  ``productdescription``; line amounts and header totals are recomputed on every change.

Example::

    >>> TRANSITIONS["quote"][0]
    frozenset({0, 1})
"""

from __future__ import annotations

import random
import string
from decimal import Decimal
from typing import Any

from p2c_sandbox.dataverse.errors import Code, DataverseError, validation
from p2c_sandbox.dataverse.org import ORGANIZATION_ID, Org
from p2c_sandbox.dataverse.pricing import (
    base_twins,
    header_totals,
    line_amounts,
    list_price,
    reprice_needed,
    same_totals_inputs,
)
from p2c_sandbox.dataverse.schema import Kind, TableDef
from p2c_sandbox.dataverse.tables_sales import HEADERS, LINE_PARENT
from p2c_sandbox.dataverse.values import quantize
from p2c_sandbox.store import Row

__all__ = ["EDITABLE_STATES", "TRANSITIONS", "Sales"]

#: header table -> states in which it and its lines can be edited
EDITABLE_STATES = {"quote": frozenset({0}), "salesorder": frozenset({0}), "invoice": frozenset({0})}
_ONLY = {
    "quote": "Only draft quotes can be edited.",
    "salesorder": "Only active orders can be edited.",
    "invoice": "Only active invoices can be edited.",
}
#: table -> statecode -> statecodes a PATCH may move it to (tables not listed: any valid pair)
TRANSITIONS: dict[str, dict[int, frozenset[int]]] = {
    "quote": {0: frozenset({0, 1}), 1: frozenset({1, 2, 3}), 2: frozenset({2}), 3: frozenset({3})},
    "salesorder": {
        0: frozenset({0, 1, 2, 3, 4}),
        1: frozenset({0, 1, 2, 3, 4}),
        2: frozenset({2}),
        3: frozenset({3, 4}),
        4: frozenset({4}),
    },
    "invoice": {0: frozenset({0, 2, 3}), 1: frozenset({1}), 2: frozenset({2}), 3: frozenset({3})},
}
#: columns that may change on a record that is not editable (state change and assignment)
_ALWAYS_WRITABLE = frozenset({"statecode", "statuscode", "_ownerid_value", "~ownerid"})
_NUMBERS = {
    "quote": ("quotenumber", "quoteprefix", "QUO"),
    "salesorder": ("ordernumber", "orderprefix", "ORD"),
    "invoice": ("invoicenumber", "invoiceprefix", "INV"),
}


class Sales:
    """Sales rules, called by the writer."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._money: dict[str, list[tuple[str, str]]] = {}  # table -> (money column, its _base twin)

    # -- state -----------------------------------------------------------------------------------

    def apply_state(self, t: TableDef, row: Row, fields: dict[str, Any], old: Row | None) -> None:
        """Set a valid statecode/statuscode pair in ``row`` from what ``fields`` asks for."""
        if "statecode" not in t.columns:
            return
        state_col, status_col = t.columns["statecode"], t.columns.get("statuscode")
        if old is None:
            state = t.default_state
            if t.name == "product":
                state = 0 if self.org.setting("createproductswithoutparentinactivestate") else 2
                fields = {k: v for k, v in fields.items() if k not in ("statecode", "statuscode")}
        else:
            state = old.get("statecode")
        new_state = fields.get("statecode", state)
        status = fields.get("statuscode")
        if new_state is None:
            raise validation("A validation error occurred.  The value of 'statecode' can't be null.")
        if status is None:
            if "statecode" not in fields and old is not None and "statuscode" not in fields:
                return
            status = t.default_status.get(new_state)
        if status_col is not None and status is not None and status_col.state_of.get(status) != new_state:
            raise DataverseError(
                400,
                Code.STATE_TRANSITION,
                f"{status} is not a valid status code for state code {t.name}State.{state_col.options[new_state]}"
                f" on {t.name} with Id {row.get(t.pk)}.",
            )
        if old is not None and state is not None and new_state != state:
            allowed = TRANSITIONS.get(t.name, {}).get(state)
            if allowed is not None and new_state not in allowed:
                raise DataverseError(
                    400,
                    Code.STATE_TRANSITION,
                    f"A {t.name} in state {state_col.options[state]} can't be set to "
                    f"{state_col.options[new_state]}.",
                )
        row["statecode"] = new_state
        if status is not None:
            row["statuscode"] = status

    def check_editable(self, t: TableDef, old: Row, fields: dict[str, Any]) -> None:
        """Refuse changes to documents (and lines of documents) that are not in an editable state."""
        if t.name in EDITABLE_STATES:
            if old.get("statecode") not in EDITABLE_STATES[t.name] and set(fields) - _ALWAYS_WRITABLE:
                raise self._not_editable(t.name, old)
        elif t.name in LINE_PARENT:
            self.check_line_parent(t, old)

    def check_line_parent(self, t: TableDef, line: Row) -> Row:
        header_table, parent_col, _ = LINE_PARENT[t.name]
        header = self.org.get(header_table, line.get(f"_{parent_col}_value"))
        if header is None:
            raise validation(f"A validation error occurred.  The '{parent_col}' of the {t.name} is missing.")
        if header.get("statecode") not in EDITABLE_STATES[header_table]:
            raise self._not_editable(header_table, header, line=t.label)
        return header

    def _not_editable(self, table: str, header: Row, line: str | None = None) -> DataverseError:
        state = self.org.catalog.table(table).columns["statecode"].options.get(header.get("statecode") or 0)
        what = (
            f"This {line.lower()} can't be added, changed or deleted"
            if line
            else f"This {table} can't be edited"
        )
        return DataverseError(
            400, Code.INVALID_STATE, f"{what} because the {table} is in state {state}. {_ONLY[table]}"
        )

    # -- create / update hooks -----------------------------------------------------------------

    def before_write(self, t: TableDef, row: Row, old: Row | None) -> None:
        name = t.name
        if name == "product":
            self._product(row, old)
        elif name == "productpricelevel":
            self._price_list_item(row, old)
        elif name in HEADERS:
            self._header(t, row, old)
        elif name in LINE_PARENT:
            self._line(t, row, old)
        elif name == "uom" and old is None and row.get("_baseuom_value") is None:
            schedule = self.org.get("uomschedule", row.get("_uomscheduleid_value")) or {}
            base = next(
                (
                    u
                    for u in self.org.children(
                        "uom", "_uomscheduleid_value", schedule.get("uomscheduleid", "")
                    )
                    if u.get("isschedulebaseuom")
                ),
                None,
            )
            if base is not None:
                row["_baseuom_value"] = base["uomid"]
        if name in ("contact", "systemuser"):
            full = " ".join(p for p in (row.get("firstname"), row.get("lastname")) if p)
            if full:
                row["fullname"] = full
            else:
                row.pop("fullname", None)

    def _product(self, row: Row, old: Row | None) -> None:
        schedule, unit = row.get("_defaultuomscheduleid_value"), row.get("_defaultuomid_value")
        if unit is not None:
            uom = self.org.get("uom", unit) or {}
            if schedule is not None and uom.get("_uomscheduleid_value") != schedule:
                raise validation(
                    "The default unit must belong to the product's unit group (defaultuomscheduleid)."
                )
        if row.get("_transactioncurrencyid_value") is None:
            row["_transactioncurrencyid_value"] = self.org.base_currency_id
        if old is not None and row.get("_pricelevelid_value") not in (None, old.get("_pricelevelid_value")):
            items = self.org.children("productpricelevel", "_productid_value", row["productid"])
            if not any(i.get("_pricelevelid_value") == row["_pricelevelid_value"] for i in items):
                raise validation(
                    "The default price list must contain the product: add a price list item for it first."
                )

    def _price_list_item(self, row: Row, old: Row | None) -> None:
        product = self.org.get("product", row.get("_productid_value"))
        price_list = self.org.get("pricelevel", row.get("_pricelevelid_value"))
        if product is None or price_list is None:
            return  # the required-column check names what is missing
        unit = self.org.get("uom", row.get("_uomid_value"))
        if unit is not None and unit.get("_uomscheduleid_value") != product.get(
            "_defaultuomscheduleid_value"
        ):
            raise validation("The unit of a price list item must belong to the product's unit group.")
        row["_uomscheduleid_value"] = product.get("_defaultuomscheduleid_value")
        row["_transactioncurrencyid_value"] = price_list.get("_transactioncurrencyid_value")
        row["productnumber"] = product.get("productnumber")
        if old is None:
            key = (row.get("_pricelevelid_value"), row.get("_productid_value"), row.get("_uomid_value"))
            if self.org.rows("productpricelevel").lookup("ppl", key) is not None:
                raise DataverseError(
                    400,
                    Code.DUPLICATE_RECORD,
                    "This product and unit combination has a price defined for this price list already.",
                )
        method = row.get("pricingmethodcode") or 1
        if method == 1 and row.get("amount") is None:
            raise validation(
                "A validation error occurred.  The 'amount' of a price list item priced by "
                "Currency Amount is required."
            )
        if method != 1 and row.get("percentage") is None:
            raise validation(
                "A validation error occurred.  The 'percentage' of this price list item is required."
            )

    def _header(self, t: TableDef, row: Row, old: Row | None) -> None:
        price_list = self.org.get("pricelevel", row.get("_pricelevelid_value"))
        if price_list is not None and (
            old is None or old.get("_pricelevelid_value") != row["_pricelevelid_value"]
        ):
            if price_list.get("statecode") != 0:
                raise validation(f"The price list '{price_list.get('name')}' is inactive and can't be used.")
            currency = price_list.get("_transactioncurrencyid_value")
            given = row.get("_transactioncurrencyid_value")
            if (
                given is not None
                and given != currency
                and (old is None or given != old.get("_transactioncurrencyid_value"))
            ):
                raise validation(
                    f"The currency of the price list '{price_list.get('name')}' doesn't match the currency of the {t.name}."
                )
            row["_transactioncurrencyid_value"] = currency
        if old is None:
            number_col, prefix_setting, default_prefix = _NUMBERS[t.name]
            if not row.get(number_col):
                row[number_col] = self._next_number(t.name, prefix_setting, default_prefix)
            if t.name == "quote":
                row["revisionnumber"] = 0
            if t.name != "quote" and row.get("ispricelocked") is None:
                row["ispricelocked"] = False
        lines = [] if old is None else self._lines_of(t.name, row[t.pk])
        self._set_totals(row, lines)

    def _next_number(self, table: str, prefix_setting: str, default_prefix: str) -> str:
        org = self.org.org_row
        counter = {
            "quote": "currentquotenumber",
            "salesorder": "currentordernumber",
            "invoice": "currentinvoicenumber",
        }[table]
        number = int(org.get(counter) or 1000)
        prefix = org.get(prefix_setting) or default_prefix
        rng = random.Random(f"{table}:{number}")
        suffix = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        if org:
            new = dict(org)
            new[counter] = number + 1
            self.org.rows("organization").put(ORGANIZATION_ID, new)
        return f"{prefix}-{number:05d}-{suffix}"

    def _lines_of(self, header_table: str, header_id: str) -> list[Row]:
        line_table = next(k for k, v in LINE_PARENT.items() if v[0] == header_table)
        return self.org.children(line_table, f"_{LINE_PARENT[line_table][1]}_value", header_id)

    def _set_totals(self, header: Row, lines: list[Row]) -> None:
        precision = self.org.precision(header.get("_transactioncurrencyid_value"))
        header.update(
            header_totals(
                lines,
                header.get("discountpercentage"),
                header.get("discountamount"),
                header.get("freightamount"),
                precision,
            )
        )

    def _line(self, t: TableDef, row: Row, old: Row | None) -> None:
        header = self.check_line_parent(t, row)
        currency = header.get("_transactioncurrencyid_value")
        precision = self.org.precision(currency)
        row["_transactioncurrencyid_value"] = currency
        if header.get("_ownerid_value"):  # a line belongs to its document's owner (parental)
            row["_ownerid_value"] = header["_ownerid_value"]
            row["~ownerid"] = header.get("~ownerid") or "systemuser"
        if row.get("isproductoverridden"):
            if row.get("_productid_value") is not None:
                raise validation(
                    "A write-in product line (isproductoverridden = true) can't have a productid."
                )
            if not row.get("productdescription"):
                raise validation(
                    "A validation error occurred.  A write-in product line needs productdescription."
                )
            row.pop("_uomid_value", None)
            row.setdefault("priceperunit", Decimal(0))
        elif old is None or reprice_needed(row, old):
            self._price_line(t, row, header, precision)
        if old is None and row.get("sequencenumber") is None:
            header_table, parent_col, _ = LINE_PARENT[t.name]
            siblings = self.org.children(t.name, f"_{parent_col}_value", header[f"{header_table}id"])
            row["sequencenumber"] = max((s.get("sequencenumber") or 0 for s in siblings), default=0) + 1
        row.update(
            line_amounts(
                row.get("priceperunit"),
                row.get("quantity"),
                row.get("manualdiscountamount"),
                row.get("volumediscountamount"),
                row.get("tax"),
                precision,
            )
        )
        if row.get("priceperunit") is not None:
            row["priceperunit"] = quantize(Decimal(row["priceperunit"]), precision)

    def _price_line(self, t: TableDef, row: Row, header: Row, precision: int) -> None:
        product = self.org.get("product", row.get("_productid_value"))
        if product is None:
            raise validation(
                f"A validation error occurred.  The {t.label.lower()} needs a productid (or isproductoverridden = "
                "true and productdescription for a write-in product)."
            )
        if row.get("_uomid_value") is None:
            raise validation(f"A validation error occurred.  The {t.label.lower()} needs a unit (uomid).")
        if product.get("statecode") != 0:
            raise validation(
                f"The product '{product.get('productnumber')}' is not active. Only active products can be "
                "added; publish it first (statecode 0, statuscode 1)."
            )
        unit = self.org.get("uom", row["_uomid_value"]) or {}
        if unit.get("_uomscheduleid_value") != product.get("_defaultuomscheduleid_value"):
            raise validation(
                f"The unit '{unit.get('name')}' isn't in the unit group of product '{product.get('productnumber')}'."
            )
        if row.get("ispriceoverridden"):
            row.setdefault("priceperunit", Decimal(0))
            return
        key = (header.get("_pricelevelid_value"), product["productid"], row["_uomid_value"])
        item_id = self.org.rows("productpricelevel").lookup("ppl", key)
        item = self.org.get("productpricelevel", item_id)
        if item is None:
            price_list = self.org.primary_name("pricelevel", header.get("_pricelevelid_value"))
            raise validation(
                f"The product '{product.get('productnumber')}' with unit '{unit.get('name')}' is not in the price "
                f"list '{price_list}'. Add a price list item, or set ispriceoverridden and priceperunit."
            )
        row["priceperunit"] = list_price(item, product, precision)

    def after_write(self, t: TableDef, row: Row | None, old: Row | None) -> None:
        """Recompute the header totals after a line changed (``row`` None: deleted)."""
        if t.name not in LINE_PARENT:
            return
        header_table, parent_col, _ = LINE_PARENT[t.name]
        source = row if row is not None else old
        assert source is not None
        parent = f"_{parent_col}_value"
        if (
            row is not None
            and old is not None
            and row.get(parent) == old.get(parent)
            and same_totals_inputs(row, old)
        ):
            return  # nothing the header totals are computed from changed (a line renumbered)
        header = self.org.get(header_table, source.get(parent))
        if header is None:
            return
        updated = dict(header)
        self._set_totals(updated, self._lines_of(header_table, header[f"{header_table}id"]))
        if any(updated[k] != header.get(k) for k in updated if k.startswith("total")):
            ht = self.org.catalog.table(header_table)
            updated["versionnumber"] = self.org.catalog.next_version()
            self.org.put(ht, updated, header)

    def base_amounts(self, t: TableDef, row: Row) -> None:
        """Set ``exchangerate`` and every ``<money>_base`` twin from the row's currency."""
        if "exchangerate" not in t.columns or t.name == "transactioncurrency":
            return
        currency = self.org.currency(row.get("_transactioncurrencyid_value"))
        rate = Decimal(currency.get("exchangerate") or 1)
        row["exchangerate"] = rate
        money = self._money.get(t.name)
        if money is None:
            money = self._money[t.name] = [
                (c.name, f"{c.name}_base")
                for c in t.columns.values()
                if c.kind is Kind.MONEY and not c.name.endswith("_base")
            ]
        base_twins(row, money, rate)
