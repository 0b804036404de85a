"""What Microsoft's ERP → CRM templates brought back in the ``migrated`` seed: every ERP order of
an externally maintained customer that is confirmed or later with its totals calculated (status,
addresses, line prices and tax; the Freight Tax line for header tax) and every invoice of such a
customer with its lines; the order of an invoice is marked Invoiced.

Example::

    Returns(migration).run()
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from p2c_sandbox.dataverse.seed_data import USD_ID
from p2c_sandbox.migrated.crm import PROCESSING

if TYPE_CHECKING:
    from p2c_sandbox.migrated.world import Migration
    from p2c_sandbox.store import Row

__all__ = ["FREIGHT_TAX", "Returns"]

FREIGHT_TAX = "Freight Tax"


def _dec(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def _split(text: Any, prefix: str) -> dict[str, Any]:
    parts = str(text or "").split("\n")
    return {f"{prefix}line{i + 1}": (parts[i] if i < len(parts) and parts[i] else None) for i in range(3)}


class Returns:
    def __init__(self, world: Migration) -> None:
        self.w = world
        self.crm = world.crm
        self.erp = world.erp

    def run(self) -> None:
        customers = {
            r["CustomerAccount"]
            for r in self.erp.rows("CustomersV3")
            if r.get("IsExternallyMaintained") == "Yes"
        }
        for h in self.erp.rows("CDSSalesOrderHeaders"):
            if (
                h.get("OrderingCustomerAccountNumber") in customers
                and h.get("SalesOrderProcessingStatus") != "Active"
                and h.get("AreTotalsUpdated") == "Yes"
            ):
                self.order(h)
        for inv in self.erp.rows("ExternallyMaintainedCustomerSalesInvoiceHeaders"):
            self.invoice(inv)

    def _customer(self, number: Any) -> tuple[str, str]:
        for table, field in (("account", "accountnumber"), ("contact", "msdynce_contactnumber")):
            found = [r for r in self.crm.rows(table) if r.get(field) == number]
            if found:
                return str(found[0][f"{table}id"]), table
        raise LookupError(f"migrated seed: no CRM customer {number}")

    def _addresses(self, h: Row) -> dict[str, Any]:
        return {
            "billto_city": h.get("InvoiceAddressCity"),
            "billto_stateorprovince": h.get("InvoiceAddressStateId") or h.get("InvoiceAddressState"),
            "billto_postalcode": h.get("InvoiceAddressZipCode"),
            "billto_country": "United States" if h.get("InvoiceAddressCountryRegionId") else None,
            **_split(h.get("InvoiceAddressStreet"), "billto_"),
        }

    def order(self, h: Row) -> None:
        number = str(h["SalesOrderNumber"])
        status = PROCESSING[str(h["SalesOrderProcessingStatus"])]
        existing = [r for r in self.crm.rows("salesorder") if r.get("ordernumber") == number]
        fields = {
            "msdynce_processingstatus": status,
            "msdynce_ismaintainedexternally": True,
            **self._addresses(h),
        }
        if existing:
            oid = str(existing[0]["salesorderid"])
            self.crm.update("salesorder", oid, fields)
        else:
            customer, ctype = self._customer(h["OrderingCustomerAccountNumber"])
            oid = str(
                self.crm.create(
                    "salesorder",
                    {
                        "ordernumber": number,
                        "name": h.get("SalesOrderName") or "(no name)",
                        "_customerid_value": customer,
                        "~customerid": ctype,
                        "_transactioncurrencyid_value": USD_ID,
                        "_pricelevelid_value": self.w.price_list,
                        "_ownerid_value": self.w.team,
                        "~ownerid": "team",
                        "shipto_name": h.get("DeliveryAddressName"),
                        "shipto_city": h.get("DeliveryAddressCity"),
                        "shipto_stateorprovince": h.get("DeliveryAddressStateId"),
                        "shipto_postalcode": h.get("DeliveryAddressZipCode"),
                        "shipto_country": "United States",
                        **_split(h.get("DeliveryAddressStreet"), "shipto_"),
                        **fields,
                    },
                )["salesorderid"]
            )
        lines = {
            int(r.get("sequencenumber") or 0): r
            for r in self.crm.children("salesorderdetail", "_salesorderid_value", oid)
        }
        for line in self.erp.order_lines(number):
            seq = int(line["LineCreationSequenceNumber"])
            values = {
                "ispriceoverridden": True,
                "priceperunit": _dec(line.get("SalesPrice")),
                "tax": _dec(line.get("TotalTaxAmount")),
                "manualdiscountamount": _dec(line.get("LineDiscountAmount"))
                * _dec(line.get("OrderedSalesQuantity")),
                "description": line.get("LineDescription"),
                # the line's delivery address, as the order template carries it (ship-to per line)
                "shipto_name": line.get("DeliveryAddressName"),
                "shipto_city": line.get("DeliveryAddressCity"),
                "shipto_stateorprovince": line.get("DeliveryAddressStateId"),
                "shipto_postalcode": line.get("DeliveryAddressZipCode"),
                "shipto_country": "United States" if line.get("DeliveryAddressCountryRegionId") else None,
                **_split(line.get("DeliveryAddressStreet"), "shipto_"),
            }
            if seq in lines:
                self.crm.update("salesorderdetail", lines[seq]["salesorderdetailid"], values)
                continue
            product = self.crm.one("product", productnumber=line["ProductNumber"])
            self.crm.create(
                "salesorderdetail",
                {
                    "_salesorderid_value": oid,
                    "sequencenumber": seq,
                    "isproductoverridden": False,
                    "_productid_value": product["productid"],
                    "_uomid_value": self.crm.one("uom", name=line["SalesUnitSymbol"])["uomid"],
                    "quantity": _dec(line.get("OrderedSalesQuantity")),
                    **values,
                },
            )
        tax = _dec(h.get("OrderHeaderTaxAmount"))
        if tax:
            self.crm.create(
                "salesorderdetail",
                {
                    "_salesorderid_value": oid,
                    "isproductoverridden": True,
                    "productdescription": FREIGHT_TAX,
                    "quantity": Decimal(1),
                    "priceperunit": tax,
                    "ispriceoverridden": True,
                },
            )

    def invoice(self, inv: Row) -> None:
        number = str(inv["InvoiceNumber"])
        order = self.crm.one("salesorder", ordernumber=inv.get("SalesOrderNumber"))
        customer, ctype = self._customer(inv["InvoiceCustomerAccountNumber"])
        row = self.crm.create(
            "invoice",
            {
                "invoicenumber": number,
                "name": f"Invoice {number}",
                "_customerid_value": customer,
                "~customerid": ctype,
                "_salesorderid_value": order["salesorderid"],
                "_transactioncurrencyid_value": USD_ID,
                "_pricelevelid_value": self.w.price_list,
                "_ownerid_value": order.get("_ownerid_value"),
                "~ownerid": "team" if order.get("_ownerid_value") == self.w.team else "systemuser",
                "msdynce_invoicedate": str(inv.get("InvoiceDate") or "")[:10] or None,
                **self._addresses(inv),
            },
        )
        lines = [
            r
            for r in self.erp.rows("ExternallyMaintainedCustomerSalesInvoiceLines")
            if r.get("InvoiceNumber") == number
        ]
        for line in sorted(lines, key=lambda r: int(r.get("LineCreationSequenceNumber") or 0)):
            product = self.crm.one("product", productnumber=line["ProductNumber"])
            self.crm.create(
                "invoicedetail",
                {
                    "_invoiceid_value": row["invoiceid"],
                    "sequencenumber": int(line["LineCreationSequenceNumber"]),
                    "isproductoverridden": False,
                    "_productid_value": product["productid"],
                    "_uomid_value": self.crm.one("uom", name=line["SalesUnitSymbol"])["uomid"],
                    "quantity": _dec(line.get("InvoicedQuantity")),
                    "ispriceoverridden": True,
                    "priceperunit": _dec(line.get("SalesPrice")),
                    "tax": _dec(line.get("LineTotalTaxAmount")),
                    "manualdiscountamount": _dec(line.get("LineTotalDiscountAmount")),
                    "description": line.get("ProductDescription"),
                },
            )
        self.crm.update(
            "salesorder", order["salesorderid"], {"msdynce_processingstatus": PROCESSING["Invoiced"]}
        )
