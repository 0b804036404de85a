"""Business rules on OData writes of sales quotations and sales orders, headers and lines.

Headers take their defaults from the customer (currency, language, site and warehouse, terms,
addresses), lines from the product (unit, price, name) and the header. A line's amounts are
computed on every write (money is Decimal, rounded to 2 places)::

    LineAmount          = qty × (SalesPrice − LineDiscountAmount) × (100 − LineDiscount% − MultilineDiscount%) / 100
    TotalDiscountAmount = qty × SalesPrice − LineAmount
    TotalChargesAmount  = FixedPriceCharges + the line's misc. charges (admin endpoint)
    TotalTaxAmount      = the line's tax (admin endpoint) + the tax of its charges

A client may send LineAmount itself (F&O lets users override it); TotalChargesAmount sent by a
client sets FixedPriceCharges so that the sum above holds. Header totals are *not* computed on
write: they come from "calculate sales totals" (:mod:`p2c_sandbox.fno.actions`), and any write to
an order or its lines sets ``AreTotalsUpdated`` back to No.

Example::

    >>> line_amount(Decimal(3), Decimal("10.00"), Decimal("3.33"), Decimal(0))
    Decimal('20.01')
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from p2c_sandbox.fno.entities import ENTITY_SETS, EntitySet
from p2c_sandbox.fno.enums import NoYes, SalesOrderProcessingStatus, SalesQuotationStatus, SalesStatus
from p2c_sandbox.fno.errors import write_failed
from p2c_sandbox.fno.rules import Checker, Rules, company_currency, sync_country_codes
from p2c_sandbox.fno.values import now_utc_text

if TYPE_CHECKING:
    from p2c_sandbox.fno.data import Data
    from p2c_sandbox.store import Row

__all__ = ["CENT", "charges_of", "line_amount", "money", "recompute_line", "sales_rules"]

CENT = Decimal("0.01")
ZERO = Decimal(0)
CHARGES = "MarkupTrans"  # internal table: misc. charges and their tax, per header or line

_ADDRESS = ("City", "Street", "StreetNumber", "ZipCode", "CountryRegionId", "CountryRegionISOCode", "PostBox")
_CLOSED_ORDER = {SalesOrderProcessingStatus.INVOICED, SalesOrderProcessingStatus.CANCELED}
_CLOSED_QUOTE = {SalesQuotationStatus.CONFIRMED, SalesQuotationStatus.LOST, SalesQuotationStatus.CANCELLED}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(qty: Decimal, price: Decimal, discount: Decimal, percent: Decimal) -> Decimal:
    return money(qty * (price - discount) * (100 - percent) / 100)


def charges_of(data: Data, company: str, owner: str, recid: int) -> tuple[Decimal, Decimal]:
    """Sum of (amount, tax) of the misc. charges attached to a header or line (``owner`` = table name)."""
    amount = tax = ZERO
    for c in data.children(CHARGES, company, "Owner", f"{owner}:{recid}"):
        amount += Decimal(c["Amount"])
        tax += Decimal(c["Tax"])
    return amount, tax


def recompute_line(data: Data, table: str, row: dict[str, Any], explicit: set[str]) -> None:
    """Fill the computed amounts of an order or quotation line in place."""
    qty_field = "OrderedSalesQuantity" if table == "SalesLine" else "RequestedSalesQuantity"
    qty = row.get(qty_field, ZERO)
    price = row.get("SalesPrice", ZERO)
    discount = row.get("LineDiscountAmount", ZERO)
    percent = row.get("LineDiscountPercentage", ZERO) + row.get("MultilineDiscountPercentage", ZERO)
    if "LineAmount" not in explicit:
        row["LineAmount"] = line_amount(qty, price, discount, percent)
    row["TotalDiscountAmount"] = money(qty * price - row["LineAmount"])
    charge, charge_tax = (ZERO, ZERO)
    if "_recid" in row:
        charge, charge_tax = charges_of(data, row["dataAreaId"], table, row["_recid"])
    if "TotalChargesAmount" in explicit and "FixedPriceCharges" not in explicit:
        row["FixedPriceCharges"] = row["TotalChargesAmount"] - charge
    row["TotalChargesAmount"] = row.get("FixedPriceCharges", ZERO) + charge
    row["TotalTaxAmount"] = money(Decimal(row.get("_tax", "0")) + charge_tax)


def _copy_address(
    values: dict[str, Any], customer: Row, target: str, source_prefixes: tuple[str, ...]
) -> None:
    if any(values.get(f"{target}{part}") for part in _ADDRESS):
        return
    for prefix in source_prefixes:
        if any(customer.get(f"{prefix}{p}") for p in _ADDRESS):
            for part in _ADDRESS:
                value = customer.get(f"{prefix}{part}")
                if value:
                    values[f"{target}{part}"] = value
            if customer.get(f"{prefix}State"):
                values[f"{target}StateId"] = customer[f"{prefix}State"]
            return


def _header_defaults(data: Data, company: str, values: dict[str, Any], customer_field: str) -> None:
    customer = data.get("CustomersV3", company, values.get(customer_field, ""))
    if customer is None:
        values.setdefault("CurrencyCode", company_currency(company))
        return
    if not values.get("InvoiceCustomerAccountNumber"):
        values["InvoiceCustomerAccountNumber"] = customer.get("InvoiceAccount") or customer["CustomerAccount"]
    for target, source in (
        ("CurrencyCode", "SalesCurrencyCode"),
        ("LanguageId", "LanguageId"),
        ("DefaultShippingSiteId", "SiteId"),
        ("DefaultShippingWarehouseId", "WarehouseId"),
        ("PaymentTermsName", "PaymentTerms"),
        ("DeliveryModeCode", "DeliveryMode"),
        ("DeliveryTermsCode", "DeliveryTerms"),
        ("ContactPersonId", "ContactPersonId"),
    ):
        if not values.get(target) and customer.get(source):
            values[target] = customer[source]
    if not values.get("Email") and customer.get("PrimaryContactEmail"):
        values["Email"] = customer["PrimaryContactEmail"]
    _copy_address(values, customer, "DeliveryAddress", ("DeliveryAddress", "Address"))
    invoice = data.get("CustomersV3", company, values["InvoiceCustomerAccountNumber"]) or customer
    _copy_address(values, invoice, "InvoiceAddress", ("InvoiceAddress", "Address"))
    if not values.get("DeliveryAddressName"):
        values["DeliveryAddressName"] = customer.get("OrganizationName", "")
    for prefix in ("DeliveryAddress", "InvoiceAddress"):
        sync_country_codes(values, prefix)


def _header_checks(check: Checker, row: dict[str, Any], customer_field: str) -> None:
    if check.require(row, customer_field):
        check.exists(row, customer_field, "CustomersV3")
    check.exists(row, "InvoiceCustomerAccountNumber", "CustomersV3")
    check.exists(row, "CurrencyCode", "Currencies", company=False)
    check.exists(row, "PaymentTermsName", "PaymentTerms")
    check.exists(row, "DefaultShippingSiteId", "OperationalSites")
    check.exists(row, "DefaultShippingWarehouseId", "Warehouses")


def _line_checks(check: Checker, row: dict[str, Any]) -> None:
    if check.require(row, "ProductNumber"):
        product = check.data.get(
            "SellableReleasedProducts", check.company, row["ProductNumber"], visible=False
        )
        sellable = product is not None and check.data.visible(
            ENTITY_SETS["SellableReleasedProducts"], product
        )
        if not sellable:
            check.fail_relation("ProductNumber", row["ProductNumber"], "SellableReleasedProducts")
        elif product is not None and product.get("IsSalesStopped") == NoYes.YES:
            check.warn(f"Product {row['ProductNumber']} is stopped for sales")
    check.exists(row, "SalesUnitSymbol", "UnitsOfMeasure", company=False)
    check.exists(row, "ShippingSiteId", "OperationalSites")
    check.exists(row, "ShippingWarehouseId", "Warehouses")


def _line_defaults(
    data: Data, company: str, values: dict[str, Any], header: Row | None, qty_field: str
) -> None:
    product = data.get("SellableReleasedProducts", company, values.get("ProductNumber", ""), visible=False)
    if product is not None:
        values.setdefault("SalesUnitSymbol", product.get("SalesUnitSymbol", ""))
        values.setdefault("SalesPrice", product.get("SalesPrice", ZERO))
        values.setdefault("ProductName", product.get("ProductName", ""))
        values.setdefault("LineDescription", product.get("ProductName", ""))
    values.setdefault(qty_field, Decimal(1))
    values.setdefault("SalesPriceQuantity", Decimal(1))
    if header is not None:
        values["CurrencyCode"] = header.get("CurrencyCode", "")
        values.setdefault("ShippingSiteId", header.get("DefaultShippingSiteId", ""))
        values.setdefault("ShippingWarehouseId", header.get("DefaultShippingWarehouseId", ""))
        for part in (
            "City",
            "Street",
            "ZipCode",
            "CountryRegionId",
            "CountryRegionISOCode",
            "StateId",
            "Name",
        ):
            if header.get(f"DeliveryAddress{part}"):
                values.setdefault(f"DeliveryAddress{part}", header[f"DeliveryAddress{part}"])


def _next_line_number(data: Data, table: str, company: str, number_field: str, number: str) -> int:
    lines = data.children(table, company, number_field, number)
    return max((int(r.get("LineCreationSequenceNumber", 0)) for r in lines), default=0) + 1


class QuotationRules(Rules):
    computed = frozenset(
        {
            "QuotationTotalAmount",
            "QuotationTotalTaxAmount",
            "QuotationTotalDiscountAmount",
            "QuotationTotalChargesAmount",
            "QuotationHeaderTaxAmount",
            "AreTotalsCalculated",
            "GeneratedSalesOrderNumber",
        }
    )

    def defaults(self, data: Data, es: EntitySet, company: str, values: dict[str, Any]) -> None:
        if not values.get("SalesQuotationNumber"):
            values["SalesQuotationNumber"] = data.next_number(
                company, "SalesQuotationNumber", lambda n: f"{n:06d}"
            )
        values.setdefault("SalesQuotationStatus", SalesQuotationStatus.CREATED.value)
        _header_defaults(data, company, values, "RequestingCustomerAccountNumber")

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        _header_checks(check, row, "RequestingCustomerAccountNumber")
        check.done()
        if old is not None:
            row["AreTotalsCalculated"] = NoYes.NO.value

    def on_delete(self, data: Data, es: EntitySet, row: Row) -> None:
        for line in data.children(
            "SalesQuotationLine", row["dataAreaId"], "SalesQuotationNumber", row["SalesQuotationNumber"]
        ):
            data.delete("SalesQuotationLine", line)


class QuotationLineRules(Rules):
    computed = frozenset(
        {"TotalDiscountAmount", "TotalTaxAmount", "AreTotalsCalculated", "SalesQuotationStatus"}
    )

    def defaults(self, data: Data, es: EntitySet, company: str, values: dict[str, Any]) -> None:
        number = values.get("SalesQuotationNumber", "")
        header = data.get("CDSSalesQuotationHeaders", company, number) if number else None
        if not values.get("LineCreationSequenceNumber") and header is not None:
            values["LineCreationSequenceNumber"] = _next_line_number(
                data, "SalesQuotationLine", company, "SalesQuotationNumber", number
            )
        _line_defaults(data, company, values, header, "RequestedSalesQuantity")

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        header = (
            check.exists(row, "SalesQuotationNumber", "CDSSalesQuotationHeaders")
            if check.require(row, "SalesQuotationNumber")
            else None
        )
        if header is not None and header.get("SalesQuotationStatus") in _CLOSED_QUOTE:
            check.warn(
                f"Quotation {header['SalesQuotationNumber']} is {header['SalesQuotationStatus']} and cannot be changed"
            )
        _line_checks(check, row)
        check.done()
        if header is not None:
            row["SalesQuotationStatus"] = header.get("SalesQuotationStatus", "Created")
        row["AreTotalsCalculated"] = NoYes.NO.value

    def after_write(self, data: Data, es: EntitySet, old: Row | None, new: Row | None) -> None:
        line = new or old
        assert line is not None
        header = data.get(
            "CDSSalesQuotationHeaders", line["dataAreaId"], line.get("SalesQuotationNumber", "")
        )
        if header is not None and header.get("AreTotalsCalculated") == NoYes.YES:
            data.update("SalesQuotationTable", header, {"AreTotalsCalculated": NoYes.NO.value})


class OrderRules(Rules):
    computed = frozenset(
        {
            "SalesOrderProcessingStatus",
            "SalesOrderStatus",
            "AreTotalsUpdated",
            "OrderTotalAmount",
            "OrderTotalTaxAmount",
            "OrderTotalDiscountAmount",
            "OrderTotalChargesAmount",
            "OrderHeaderTaxAmount",
            "OrderingCustomerIsExternallyMaintained",
            "InvoiceCustomerIsExternallyMaintained",
            "OrderCreationDateTime",
        }
    )

    def defaults(self, data: Data, es: EntitySet, company: str, values: dict[str, Any]) -> None:
        if not values.get("SalesOrderNumber"):
            values["SalesOrderNumber"] = data.next_number(company, "SalesOrderNumber", lambda n: f"{n:06d}")
        values["SalesOrderProcessingStatus"] = SalesOrderProcessingStatus.ACTIVE.value
        values["SalesOrderStatus"] = SalesStatus.NONE.value
        values["OrderCreationDateTime"] = now_utc_text()
        _header_defaults(data, company, values, "OrderingCustomerAccountNumber")

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        if old is not None and old.get("SalesOrderProcessingStatus") in _CLOSED_ORDER:
            check.warn(
                f"Sales order {old['SalesOrderNumber']} is {old['SalesOrderProcessingStatus']} and cannot be changed"
            )
        _header_checks(check, row, "OrderingCustomerAccountNumber")
        check.exists(row, "QuotationNumber", "CDSSalesQuotationHeaders")
        check.done()
        for field, account in (
            ("OrderingCustomerIsExternallyMaintained", row.get("OrderingCustomerAccountNumber", "")),
            ("InvoiceCustomerIsExternallyMaintained", row.get("InvoiceCustomerAccountNumber", "")),
        ):
            customer = data.get("CustomersV3", company, account)
            row[field] = customer.get("IsExternallyMaintained", "No") if customer else NoYes.NO.value
        row["AreTotalsUpdated"] = NoYes.NO.value

    def on_delete(self, data: Data, es: EntitySet, row: Row) -> None:
        lines = data.children("SalesLine", row["dataAreaId"], "SalesOrderNumber", row["SalesOrderNumber"])
        if any(Decimal(line.get("_delivered", "0")) or Decimal(line.get("_invoiced", "0")) for line in lines):
            raise write_failed(
                es.aot,
                [
                    f"Sales order {row['SalesOrderNumber']} has been delivered or invoiced and cannot be deleted"
                ],
                level="Error",
            )
        for line in lines:
            data.delete("SalesLine", line)

    def after_write(self, data: Data, es: EntitySet, old: Row | None, new: Row | None) -> None:
        if old is None or new is None:
            return
        copied = (
            "OrderingCustomerIsExternallyMaintained",
            "InvoiceCustomerIsExternallyMaintained",
            "SalesOrderOriginType",
        )
        if any(old.get(f) != new.get(f) for f in copied) or old.get("CurrencyCode") != new.get(
            "CurrencyCode"
        ):
            for line in data.children(
                "SalesLine", new["dataAreaId"], "SalesOrderNumber", new["SalesOrderNumber"]
            ):
                changes = {f: new.get(f, "No") for f in copied}
                changes["CurrencyCode"] = new.get("CurrencyCode", "")
                data.update("SalesLine", line, changes)


class OrderLineRules(Rules):
    computed = frozenset(
        {
            "TotalDiscountAmount",
            "TotalTaxAmount",
            "SalesOrderLineStatus",
            "SalesOrderProcessingStatus",
            "AreTotalsCalculated",
            "AreSalesOrderTotalsUpdated",
            "PickedQuantity",
            "OrderingCustomerIsExternallyMaintained",
            "InvoiceCustomerIsExternallyMaintained",
            "SalesOrderNumberHeader",
            "DefaultLineNumberFromLineCreationSequenceNumber",
        }
    )

    def defaults(self, data: Data, es: EntitySet, company: str, values: dict[str, Any]) -> None:
        number = values.get("SalesOrderNumber", "")
        header = data.get("CDSSalesOrderHeaders", company, number) if number else None
        if not values.get("LineCreationSequenceNumber") and header is not None:
            values["LineCreationSequenceNumber"] = _next_line_number(
                data, "SalesLine", company, "SalesOrderNumber", number
            )
        if not values.get("InventoryLotId"):
            values["InventoryLotId"] = data.next_number(company, "InventTransId", lambda n: f"{n:06d}")
        _line_defaults(data, company, values, header, "OrderedSalesQuantity")

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        header = (
            check.exists(row, "SalesOrderNumber", "CDSSalesOrderHeaders")
            if check.require(row, "SalesOrderNumber")
            else None
        )
        if header is not None and header.get("SalesOrderProcessingStatus") in _CLOSED_ORDER:
            check.warn(
                f"Sales order {header['SalesOrderNumber']} is {header['SalesOrderProcessingStatus']} and cannot be changed"
            )
        if old is not None and old.get("SalesOrderLineStatus") == SalesStatus.INVOICED:
            check.warn("The line is invoiced and cannot be changed")
        _line_checks(check, row)
        check.done()
        row["SalesOrderNumberHeader"] = row["SalesOrderNumber"]
        row["DefaultLineNumberFromLineCreationSequenceNumber"] = Decimal(
            row.get("LineCreationSequenceNumber", 0)
        )
        if header is not None:
            for field in (
                "OrderingCustomerIsExternallyMaintained",
                "InvoiceCustomerIsExternallyMaintained",
                "SalesOrderOriginType",
            ):
                row[field] = header.get(field, "No" if field != "SalesOrderOriginType" else "NotSpecified")
            if old is None:
                row["SalesOrderProcessingStatus"] = header.get("SalesOrderProcessingStatus", "Active")
                row["SalesOrderLineStatus"] = SalesStatus.BACKORDER.value
        row["AreTotalsCalculated"] = NoYes.NO.value
        row["AreSalesOrderTotalsUpdated"] = NoYes.NO.value

    def after_write(self, data: Data, es: EntitySet, old: Row | None, new: Row | None) -> None:
        line = new or old
        assert line is not None
        header = data.get("CDSSalesOrderHeaders", line["dataAreaId"], line.get("SalesOrderNumber", ""))
        if header is None:
            return
        changes: dict[str, Any] = {}
        if header.get("AreTotalsUpdated") == NoYes.YES:
            changes["AreTotalsUpdated"] = NoYes.NO.value
        if new is not None and header.get("SalesOrderStatus", "None") == SalesStatus.NONE:
            changes["SalesOrderStatus"] = SalesStatus.BACKORDER.value
        if changes:
            data.update("SalesTable", header, changes)

    def on_delete(self, data: Data, es: EntitySet, row: Row) -> None:
        if Decimal(row.get("_delivered", "0")) or Decimal(row.get("_invoiced", "0")):
            raise write_failed(
                es.aot, ["The line has been delivered or invoiced and cannot be deleted"], level="Error"
            )


def sales_rules() -> dict[str, Rules]:
    return {
        "SalesQuotationTable": QuotationRules(),
        "SalesQuotationLine": QuotationLineRules(),
        "SalesTable": OrderRules(),
        "SalesLine": OrderLineRules(),
    }
