"""Business rules on OData writes of sales quotations and sales orders, headers and lines.

Headers take their defaults from the customer (currency, language, site and warehouse, terms,
addresses), lines from the product (unit, price, name) and the header. A line's amounts are
computed on every write (:mod:`p2c_sandbox.fno.amounts`). Header totals are *not* computed on
write: they come from "calculate sales totals" (:mod:`p2c_sandbox.fno.actions`), and any write to
an order or its lines sets ``AreTotalsUpdated`` back to No.

Example::

    >>> sorted(sales_rules())
    ['SalesLine', 'SalesQuotationLine', 'SalesQuotationTable', 'SalesTable']
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from p2c_sandbox.clock import now_utc_text
from p2c_sandbox.fno.amounts import ZERO
from p2c_sandbox.fno.entities import EntitySet
from p2c_sandbox.fno.enums import NoYes, SalesOrderProcessingStatus, SalesQuotationStatus, SalesStatus
from p2c_sandbox.fno.errors import write_failed
from p2c_sandbox.fno.rules import Checker, Rules, company_currency, sync_country_codes

if TYPE_CHECKING:
    from p2c_sandbox.fno.data import Data
    from p2c_sandbox.store import Row

__all__ = ["sales_rules"]


_ADDRESS = ("City", "Street", "StreetNumber", "ZipCode", "CountryRegionId", "CountryRegionISOCode", "PostBox")
# the field names of an address by prefix, built once rather than per row
_ADDRESS_FIELDS = {
    prefix: tuple(prefix + part for part in _ADDRESS)
    for prefix in ("DeliveryAddress", "InvoiceAddress", "Address")
}
_LINE_ADDRESS = tuple(
    "DeliveryAddress" + part
    for part in ("City", "Street", "ZipCode", "CountryRegionId", "CountryRegionISOCode", "StateId", "Name")
)
_LINE_FROM_HEADER = (
    ("OrderingCustomerIsExternallyMaintained", "No"),
    ("InvoiceCustomerIsExternallyMaintained", "No"),
    ("SalesOrderOriginType", "NotSpecified"),
)
# member values as plain text (an enum's .value is a property lookup on every use)
_NO, _YES = NoYes.NO.value, NoYes.YES.value
_BACKORDER, _NONE = SalesStatus.BACKORDER.value, SalesStatus.NONE.value
_ACTIVE = SalesOrderProcessingStatus.ACTIVE.value
_ONE = Decimal(1)
_CLOSED_ORDER = {SalesOrderProcessingStatus.INVOICED, SalesOrderProcessingStatus.CANCELED}
_CLOSED_QUOTE = {SalesQuotationStatus.CONFIRMED, SalesQuotationStatus.LOST, SalesQuotationStatus.CANCELLED}


def _six_digits(n: int) -> str:
    return f"{n:06d}"


def _copy_address(
    values: dict[str, Any], customer: Row, target: str, source_prefixes: tuple[str, ...]
) -> None:
    targets = _ADDRESS_FIELDS[target]
    if any(map(values.get, targets)):
        return
    for prefix in source_prefixes:
        sources = _ADDRESS_FIELDS[prefix]
        if any(map(customer.get, sources)):
            for source, name in zip(sources, targets, strict=True):
                value = customer.get(source)
                if value:
                    values[name] = value
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


def _header_checks(check: Checker, row: dict[str, Any], customer_field: str) -> tuple[Row | None, Row | None]:
    """The checks of a header; the customer and the invoice customer found (None: not looked up or missing)."""
    customer = None
    if check.require(row, customer_field):
        customer = check.exists(row, customer_field, "CustomersV3")
    invoice = check.exists(row, "InvoiceCustomerAccountNumber", "CustomersV3")
    check.exists(row, "CurrencyCode", "Currencies", company=False)
    check.exists(row, "PaymentTermsName", "PaymentTerms")
    check.exists(row, "DefaultShippingSiteId", "OperationalSites")
    check.exists(row, "DefaultShippingWarehouseId", "Warehouses")
    return customer, invoice


def _maintained(data: Data, company: str, account: str, found: Row | None) -> Any:
    """IsExternallyMaintained of customer ``account``; ``found`` is that customer if the checks
    already looked it up (by the same key), None if they did not or it is missing."""
    customer = found if found is not None else data.get("CustomersV3", company, account)
    return customer.get("IsExternallyMaintained", "No") if customer else _NO


def _line_checks(check: Checker, row: dict[str, Any]) -> None:
    if check.require(row, "ProductNumber"):
        product = check.data.get("SellableReleasedProducts", check.company, row["ProductNumber"])
        if product is None:  # no such product, or not sellable
            check.fail_relation("ProductNumber", row["ProductNumber"], "SellableReleasedProducts")
        elif product.get("IsSalesStopped") == _YES:
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
    values.setdefault(qty_field, _ONE)
    values.setdefault("SalesPriceQuantity", _ONE)
    if header is not None:
        values["CurrencyCode"] = header.get("CurrencyCode", "")
        values.setdefault("ShippingSiteId", header.get("DefaultShippingSiteId", ""))
        values.setdefault("ShippingWarehouseId", header.get("DefaultShippingWarehouseId", ""))
        for name in _LINE_ADDRESS:
            value = header.get(name)
            if value:
                values.setdefault(name, value)


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
            values["SalesQuotationNumber"] = data.next_number(company, "SalesQuotationNumber", _six_digits)
        values.setdefault("SalesQuotationStatus", SalesQuotationStatus.CREATED.value)
        _header_defaults(data, company, values, "RequestingCustomerAccountNumber")

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        _header_checks(check, row, "RequestingCustomerAccountNumber")
        check.done()
        if old is not None:
            row["AreTotalsCalculated"] = _NO

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
        row["AreTotalsCalculated"] = _NO

    def after_write(self, data: Data, es: EntitySet, old: Row | None, new: Row | None) -> None:
        line = new or old
        assert line is not None
        header = data.get(
            "CDSSalesQuotationHeaders", line["dataAreaId"], line.get("SalesQuotationNumber", "")
        )
        if header is not None and header.get("AreTotalsCalculated") == _YES:
            data.update("SalesQuotationTable", header, {"AreTotalsCalculated": _NO})


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
            values["SalesOrderNumber"] = data.next_number(company, "SalesOrderNumber", _six_digits)
        values["SalesOrderProcessingStatus"] = _ACTIVE
        values["SalesOrderStatus"] = _NONE
        values["OrderCreationDateTime"] = now_utc_text()
        _header_defaults(data, company, values, "OrderingCustomerAccountNumber")

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        if old is not None and old.get("SalesOrderProcessingStatus") in _CLOSED_ORDER:
            check.warn(
                f"Sales order {old['SalesOrderNumber']} is {old['SalesOrderProcessingStatus']} and cannot be changed"
            )
        customer, invoice = _header_checks(check, row, "OrderingCustomerAccountNumber")
        check.exists(row, "QuotationNumber", "CDSSalesQuotationHeaders")
        check.done()
        row["OrderingCustomerIsExternallyMaintained"] = _maintained(
            data, company, row.get("OrderingCustomerAccountNumber", ""), customer
        )
        row["InvoiceCustomerIsExternallyMaintained"] = _maintained(
            data, company, row.get("InvoiceCustomerAccountNumber", ""), invoice
        )
        row["AreTotalsUpdated"] = _NO

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
            values["InventoryLotId"] = data.next_number(company, "InventTransId", _six_digits)
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
            for field, default in _LINE_FROM_HEADER:
                row[field] = header.get(field, default)
            if old is None:
                row["SalesOrderProcessingStatus"] = header.get("SalesOrderProcessingStatus", "Active")
                row["SalesOrderLineStatus"] = _BACKORDER
        row["AreTotalsCalculated"] = _NO
        row["AreSalesOrderTotalsUpdated"] = _NO

    def after_write(self, data: Data, es: EntitySet, old: Row | None, new: Row | None) -> None:
        line = new or old
        assert line is not None
        header = data.get("CDSSalesOrderHeaders", line["dataAreaId"], line.get("SalesOrderNumber", ""))
        if header is None:
            return
        changes: dict[str, Any] = {}
        if header.get("AreTotalsUpdated") == _YES:
            changes["AreTotalsUpdated"] = _NO
        if new is not None and header.get("SalesOrderStatus", "None") == _NONE:
            changes["SalesOrderStatus"] = _BACKORDER
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
