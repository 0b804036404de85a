"""The one-time Prospect-to-cash jobs of F&O and the product helper (FNO.md §2.1).

``SalesPopulateProspectToCash`` fills LineCreationSequenceNumber on existing sales, quotation and
invoice lines; "Populate distinct product table" makes released products visible in
SellableReleasedProducts. The sandbox can also undo both, to show p2c's prerequisite checks at work.

Example::

    jobs = Jobs(data)
    jobs.clear_line_sequence_numbers()
    jobs.populate_prospect_to_cash()   # number of lines filled
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from p2c_sandbox.fno.actions import ActionError
from p2c_sandbox.fno.amounts import ZERO
from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.entities import ENTITY_SETS
from p2c_sandbox.fno.values import coerce
from p2c_sandbox.store import Row

__all__ = ["Jobs"]


class Jobs:
    def __init__(self, data: Data) -> None:
        self.data = data

    def populate_prospect_to_cash(self) -> int:
        """``SalesPopulateProspectToCash``: number the lines whose LineCreationSequenceNumber is 0."""
        filled = 0
        with self.data.transaction():
            for table, field in (
                ("SalesLine", "SalesOrderNumber"),
                ("SalesQuotationLine", "SalesQuotationNumber"),
            ):
                groups: dict[tuple[str, str], list[Row]] = {}
                for row in self.data.table(table).rows.values():
                    groups.setdefault((row["dataAreaId"], row.get(field, "")), []).append(row)
                for rows in groups.values():
                    used = max((r.get("LineCreationSequenceNumber", 0) for r in rows), default=0)
                    for row in sorted(rows, key=lambda r: r["_recid"]):
                        if not row.get("LineCreationSequenceNumber"):
                            used += 1
                            changes: dict[str, Any] = {"LineCreationSequenceNumber": used}
                            if table == "SalesLine":
                                changes["DefaultLineNumberFromLineCreationSequenceNumber"] = Decimal(used)
                            self.data.update(table, row, changes)
                            filled += 1
            by_recid = {r["_recid"]: r for r in self.data.table("SalesLine").rows.values()}
            for row in list(self.data.table("CustInvoiceTrans").rows.values()):
                source = by_recid.get(row.get("_order_line"))
                if not row.get("LineCreationSequenceNumber") and source is not None:
                    self.data.update(
                        "CustInvoiceTrans",
                        row,
                        {"LineCreationSequenceNumber": source["LineCreationSequenceNumber"]},
                    )
                    filled += 1
        return filled

    def clear_line_sequence_numbers(self) -> int:
        """The state before ``SalesPopulateProspectToCash`` ran: every existing line has 0."""
        cleared = 0
        with self.data.transaction():
            for table in ("SalesLine", "SalesQuotationLine", "CustInvoiceTrans"):
                for row in list(self.data.table(table).rows.values()):
                    if row.get("LineCreationSequenceNumber"):
                        self.data.update(
                            table,
                            row,
                            {
                                "LineCreationSequenceNumber": 0,
                                "DefaultLineNumberFromLineCreationSequenceNumber": ZERO,
                            }
                            if table == "SalesLine"
                            else {"LineCreationSequenceNumber": 0},
                        )
                        cleared += 1
        return cleared

    def populate_distinct_products(self, populated: bool = True) -> int:
        """ "Populate distinct product table": products become visible in SellableReleasedProducts."""
        changed = 0
        with self.data.transaction():
            for row in list(self.data.table("InventTable").rows.values()):
                if bool(row.get("_distinct", True)) != populated:
                    self.data.update("InventTable", row, {"_distinct": populated})
                    changed += 1
        return changed

    def create_product(self, company: str, values: dict[str, Any]) -> Row:
        """A released product (admin helper; SellableReleasedProducts itself is read-only)."""
        es = ENTITY_SETS["SellableReleasedProducts"]
        co = company.lower()
        row: dict[str, Any] = {"dataAreaId": co}
        for name, value in values.items():
            if name == "dataAreaId":
                continue
            if name not in es.by_name:
                raise ActionError(f"unknown product property '{name}'")
            row[name] = coerce(es, es.prop(name), value)
        if not row.get("ProductNumber"):
            raise ActionError("ProductNumber is required")
        with self.data.transaction():
            if self.data.get("SellableReleasedProducts", co, row["ProductNumber"], visible=False) is not None:
                raise ActionError(f"Product {row['ProductNumber']} already exists in company {co}")
            row.setdefault("ProductName", row["ProductNumber"])
            row.setdefault("ProductType", "Item")
            row.setdefault("IsStockedProduct", "Yes" if row["ProductType"] == "Item" else "No")
            row.setdefault("CurrencyCode", {"demf": "EUR"}.get(co, "USD"))
            row.setdefault("SalesUnitSymbol", "ea")
            row.setdefault("InventoryUnitSymbol", row["SalesUnitSymbol"])
            row["_distinct"] = True
            return self.data.insert("InventTable", row)
