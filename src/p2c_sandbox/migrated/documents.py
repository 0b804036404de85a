"""Quotes, orders and invoices of the ``migrated`` seed, as Microsoft's templates moved them.

Made in the CRM (on the ERP's products) and sent to the ERP: two active quotes (a third is still a
draft), five activated orders. The ERP leaves one open, confirms one, invoices one, and puts a
taxed freight charge on two (one of them invoiced, for a contact customer); it also takes an order
of its own, confirmed. What the ERP confirmed comes back to the CRM: processing status, price and
tax of each line, the invoices with their lines, and — for an order with header tax — the write-in
line ``Freight Tax`` the solution makes (quantity 1, the tax as its price; its sequence number is
the CRM's next one, not p2c's reserved 1000000000).

Example::

    docs = Documents(migration)
    docs.create_in_crm(); docs.send_to_erp(); docs.process_in_erp(); docs.bring_back()
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from p2c_sandbox.dataverse.seed_data import OWNERS, USD_ID
from p2c_sandbox.migrated.erp import COMPANY, iso_country

if TYPE_CHECKING:
    from p2c_sandbox.migrated.world import Migration
    from p2c_sandbox.store import Row

__all__ = ["ERP_ORDER", "ORDERS", "QUOTES", "Documents"]

# (account index, lines (product, quantity), active)
QUOTES: tuple[tuple[int, tuple[tuple[str, int], ...], bool], ...] = (
    (2, (("D0001", 2), ("L0001", 10)), True),
    (6, (("P0001", 1), ("P0002", 1)), True),
    (10, (("T0001", 3),), False),
)
# (name, customer: account index or "contact", lines, what the ERP did: open, confirmed,
# invoiced, taxed (a freight charge with tax, confirmed), taxed+invoiced)
ORDERS: tuple[tuple[str, int | str, tuple[tuple[str, int], ...], str], ...] = (
    ("Speakers for the lobby", 0, (("D0003", 4), ("L0002", 25)), "open"),
    ("Woofer refit", 4, (("D0004", 2), ("M0001", 8)), "confirmed"),
    ("Installation and speaker", 8, (("D0001", 1), ("S0001", 6)), "invoiced"),
    ("Televisions for the showroom", 12, (("T0002-BLK", 2), ("H0001-WHT", 4)), "taxed"),
    ("Home cinema", "contact", (("P0001", 1), ("D0005", 1)), "taxed+invoiced"),
)
#: the contact (by creation order) who buys for herself: no company, so a person customer
CONTACT_CUSTOMER = 36
#: an order taken in the ERP, for the customer of this account, confirmed
ERP_ORDER: tuple[int, tuple[tuple[str, int], ...]] = (16, (("D0005", 1), ("L0001", 4)))
FREIGHT = (Decimal("40.00"), Decimal("3.30"))  # header charge, its tax


class Documents:
    def __init__(self, world: Migration) -> None:
        self.w = world
        self.crm = world.crm
        self.erp = world.erp
        self.quotes: list[str] = []
        self.orders: list[tuple[str, str]] = []  # (CRM order id, what the ERP did)

    # -- CRM -----------------------------------------------------------------------------------

    def _customer(self, who: int | str) -> tuple[Row, str]:
        if who == "contact":
            return self.crm.rows("contact")[CONTACT_CUSTOMER], "contact"
        return self.crm.rows("account")[int(who)], "account"

    def _header(self, kind: str, name: str, who: int | str, i: int) -> str:
        customer, ctype = self._customer(who)
        cname = customer.get("name") or f"{customer.get('firstname')} {customer.get('lastname')}"
        row = self.crm.create(
            kind,
            {
                "name": name,
                "_customerid_value": customer[f"{ctype}id"],
                "~customerid": ctype,
                "_pricelevelid_value": self.w.price_list,
                "_transactioncurrencyid_value": USD_ID,
                "shipto_name": cname,
                "shipto_line1": customer.get("address1_line1") or "1 Main Street",
                "shipto_city": customer.get("address1_city"),
                "shipto_stateorprovince": customer.get("address1_stateorprovince"),
                "shipto_postalcode": customer.get("address1_postalcode"),
                "shipto_country": "United States",
                "_ownerid_value": OWNERS[i % len(OWNERS)][0],
            },
        )
        return str(row[f"{kind}id"])

    def _lines(self, kind: str, header: str, lines: tuple[tuple[str, int], ...]) -> None:
        line_table = "quotedetail" if kind == "quote" else "salesorderdetail"
        for number, qty in lines:
            product = self.crm.one("product", productnumber=number)
            self.crm.create(
                line_table,
                {
                    f"_{kind}id_value": header,
                    "_productid_value": product["productid"],
                    "_uomid_value": product["_defaultuomid_value"],
                    "quantity": Decimal(qty),
                },
            )

    def create_in_crm(self) -> None:
        for i, (account, lines, active) in enumerate(QUOTES):
            qid = self._header("quote", f"Quotation {i + 1} (sent by the templates)", account, i)
            self._lines("quote", qid, lines)
            if active:
                for line in self.crm.children("quotedetail", "_quoteid_value", qid):
                    self.crm.update(
                        "quotedetail",
                        line["quotedetailid"],
                        {"msdynce_quotehasexternalmaintainedproductsonly": True},
                    )
                self.crm.update("quote", qid, {"msdynce_hasexternallymaintainedproductsonly": True})
                self.crm.update("quote", qid, {"statecode": 1, "statuscode": 2})
                self.quotes.append(qid)
        for i, (name, who, lines, fate) in enumerate(ORDERS):
            oid = self._header("salesorder", name, who, i)
            self._lines("salesorder", oid, lines)
            for line in self.crm.children("salesorderdetail", "_salesorderid_value", oid):
                self.crm.update(
                    "salesorderdetail",
                    line["salesorderdetailid"],
                    {"msdynce_orderhasexternalmaintainedproductsonly": True},
                )
            self.crm.update("salesorder", oid, {"msdynce_hasexternallymaintainedproductsonly": True})
            self.w.activate(oid)
            self.orders.append((oid, fate))

    # -- CRM → ERP -----------------------------------------------------------------------------

    def _customer_number(self, header: Row) -> str:
        cid = header.get("_customerid_value")
        account = self.crm.org.get("account", cid)
        if account is not None:
            return str(account["accountnumber"])
        return str((self.crm.org.get("contact", cid) or {})["msdynce_contactnumber"])

    def _delivery(self, h: Row) -> dict[str, Any]:
        return {
            "DeliveryAddressName": h.get("shipto_name"),
            "DeliveryAddressStreet": h.get("shipto_line1"),
            "DeliveryAddressCity": h.get("shipto_city"),
            "DeliveryAddressStateId": h.get("shipto_stateorprovince"),
            "DeliveryAddressZipCode": h.get("shipto_postalcode"),
            "DeliveryAddressCountryRegionISOCode": iso_country(h.get("shipto_country")),
        }

    def _erp_line(self, line: Row) -> dict[str, Any]:
        product = self.crm.org.get("product", line.get("_productid_value")) or {}
        unit = self.crm.org.get("uom", line.get("_uomid_value")) or {}
        return {
            "LineCreationSequenceNumber": line["sequencenumber"],
            "ProductNumber": product.get("productnumber"),
            "LineDescription": line.get("description"),
            "SalesUnitSymbol": unit.get("name"),
            "SalesPrice": line.get("priceperunit"),
            "LineDiscountAmount": Decimal(0),
            "FixedPriceCharges": Decimal(0),
        }

    def send_to_erp(self) -> None:
        for qid in self.quotes:
            h = self.crm.org.get("quote", qid) or {}
            customer = self._customer_number(h)
            self.erp.post(
                "CDSSalesQuotationHeaders",
                {
                    "SalesQuotationNumber": h["quotenumber"],
                    "SalesQuotationName": h.get("name"),
                    "RequestingCustomerAccountNumber": customer,
                    "InvoiceCustomerAccountNumber": customer,
                    "CurrencyCode": "USD",
                    "ReceiptDateRequested": self.w.no_date,
                    "SalesQuotationExpiryDate": self.w.no_date,
                    **self._delivery(h),
                },
            )
            for line in self.crm.children("quotedetail", "_quoteid_value", qid):
                self.erp.post(
                    "CDSSalesQuotationLines",
                    {
                        "SalesQuotationNumber": h["quotenumber"],
                        "RequestedSalesQuantity": line.get("quantity"),
                        **self._erp_line(line),
                    },
                )
        for oid, _ in self.orders:
            h = self.crm.org.get("salesorder", oid) or {}
            customer = self._customer_number(h)
            self.erp.post(
                "CDSSalesOrderHeaders",
                {
                    "SalesOrderNumber": h["ordernumber"],
                    "SalesOrderName": h.get("name"),
                    "OrderingCustomerAccountNumber": customer,
                    "InvoiceCustomerAccountNumber": customer,
                    "CurrencyCode": "USD",
                    "RequestedReceiptDate": self.w.no_date,
                    **self._delivery(h),
                },
            )
            for line in self.crm.children("salesorderdetail", "_salesorderid_value", oid):
                self.erp.post(
                    "CDSSalesOrderLines",
                    {
                        "SalesOrderNumber": h["ordernumber"],
                        "OrderedSalesQuantity": line.get("quantity"),
                        **self._erp_line(line),
                    },
                )

    # -- in the ERP ----------------------------------------------------------------------------

    def process_in_erp(self) -> None:
        actions = self.w.erp_service.actions
        for oid, fate in self.orders:
            number = str((self.crm.org.get("salesorder", oid) or {})["ordernumber"])
            if fate == "open":
                continue
            if fate.startswith("taxed"):
                actions.add_charge(COMPANY, number, FREIGHT[0], FREIGHT[1])
            actions.confirm(COMPANY, number)
            actions.calculate_totals(COMPANY, number)
            if fate.endswith("invoiced"):
                actions.invoice(COMPANY, number)
                actions.calculate_totals(COMPANY, number)
        account, lines = ERP_ORDER
        customer = str(self.crm.rows("account")[account]["accountnumber"])
        self.erp.post("CDSSalesOrderHeaders", {"OrderingCustomerAccountNumber": customer})
        number = max(
            str(r["SalesOrderNumber"])
            for r in self.erp.rows("CDSSalesOrderHeaders")
            if r.get("OrderingCustomerAccountNumber") == customer
        )
        for product, qty in lines:
            self.erp.post(
                "CDSSalesOrderLines",
                {"SalesOrderNumber": number, "ProductNumber": product, "OrderedSalesQuantity": qty},
            )
        actions.confirm(COMPANY, number)
        actions.calculate_totals(COMPANY, number)

    # -- ERP → CRM -----------------------------------------------------------------------------

    def bring_back(self) -> None:
        from p2c_sandbox.migrated.returns import Returns

        Returns(self.w).run()
