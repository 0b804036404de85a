"""Order life cycle, sales totals, charges and tax, invoicing (admin API under /sandbox/)."""

from __future__ import annotations

import pytest

HEADER = "CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{}')"
EM = "ExternallyMaintainedCustomerSalesInvoice"


def _new_order(erp, customer: str = "US-001", lines=(("D0001", 2), ("L0001", 3))) -> str:  # type: ignore[no-untyped-def]
    number = erp.post("CDSSalesOrderHeaders", json={"OrderingCustomerAccountNumber": customer}).json()[
        "SalesOrderNumber"
    ]
    for product, qty in lines:
        r = erp.post(
            "CDSSalesOrderLines",
            json={"SalesOrderNumber": number, "ProductNumber": product, "OrderedSalesQuantity": qty},
        )
        assert r.status_code == 201, r.text
    return str(number)


def _header(erp, number: str) -> dict:  # type: ignore[no-untyped-def]
    return erp.get(HEADER.format(number)).json()


def test_new_order_with_lines_is_an_open_order(erp) -> None:
    number = _new_order(erp)
    h = _header(erp, number)
    assert (h["SalesOrderProcessingStatus"], h["SalesOrderStatus"], h["AreTotalsUpdated"]) == (
        "Active",
        "Backorder",
        "No",
    )
    lines = erp.get(HEADER.format(number) + "/SalesOrderLines").json()["value"]
    assert [ln["LineCreationSequenceNumber"] for ln in lines] == [1, 2]
    assert {ln["SalesOrderLineStatus"] for ln in lines} == {"Backorder"}


def test_confirm_pick_deliver_invoice(erp, admin) -> None:
    number = _new_order(erp)
    r = admin.post(f"orders/usmf/{number}/confirm")
    assert r.status_code == 200 and r.json()["SalesOrderProcessingStatus"] == "Confirmed"
    assert r.json()["SalesOrderStatus"] == "Backorder"
    assert admin.post(f"orders/usmf/{number}/pick").json()["SalesOrderProcessingStatus"] == "Picked"
    partial = admin.post(f"orders/usmf/{number}/deliver", json={"lines": {"1": 1}}).json()
    assert partial["SalesOrderProcessingStatus"] == "PartiallyDelivered"
    full = admin.post(f"orders/usmf/{number}/deliver").json()
    assert (full["SalesOrderProcessingStatus"], full["SalesOrderStatus"]) == ("Delivered", "Delivered")
    inv = admin.post(f"orders/usmf/{number}/invoice", json={"lines": {"1": 2}}).json()
    assert inv["InvoiceNumber"] == "CIV-000001" and inv["LedgerVoucher"] == "ARI000001"
    assert _header(erp, number)["SalesOrderProcessingStatus"] == "DeliveredPartiallyInvoiced"
    inv2 = admin.post(f"orders/usmf/{number}/invoice").json()
    assert inv2["InvoiceNumber"] == "CIV-000002"
    h = _header(erp, number)
    assert (h["SalesOrderProcessingStatus"], h["SalesOrderStatus"]) == ("Invoiced", "Invoiced")
    assert admin.post(f"orders/usmf/{number}/invoice").status_code == 400


def test_invoice_without_delivery_and_partial_invoice(erp, admin) -> None:
    number = _new_order(erp)
    admin.post(f"orders/usmf/{number}/invoice", json={"lines": {"2": 1}}).raise_for_status()
    assert _header(erp, number)["SalesOrderProcessingStatus"] == "PartiallyInvoiced"


def test_totals_only_after_calculate_and_reset_by_changes(erp, admin) -> None:
    number = _new_order(erp)  # 2 × 219.00 + 3 × 12.50
    assert _header(erp, number)["OrderTotalAmount"] == 0
    h = admin.post(f"orders/usmf/{number}/calculate-totals").json()
    assert (h["OrderTotalAmount"], h["AreTotalsUpdated"]) == (475.5, "Yes")
    line = erp.get(
        f"CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='{number}',LineCreationSequenceNumber=1)"
    ).json()
    assert line["AreTotalsCalculated"] == "Yes" and line["AreSalesOrderTotalsUpdated"] == "Yes"
    erp.patch(
        f"CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='{number}',LineCreationSequenceNumber=1)",
        json={"OrderedSalesQuantity": 1},
    )
    assert _header(erp, number)["AreTotalsUpdated"] == "No"
    assert admin.post("calculate-totals", json={"company": "usmf"}).json()["orders"] >= 1
    assert _header(erp, number)["OrderTotalAmount"] == 256.5


def test_header_charge_and_tax_line_charge_and_tax(erp, admin) -> None:
    number = _new_order(erp)
    admin.post(
        f"orders/usmf/{number}/header-charge", json={"amount": "15.00", "tax": "1.50"}
    ).raise_for_status()
    admin.post(
        f"orders/usmf/{number}/lines/1/charge", json={"amount": "-0.01", "tax": "0"}
    ).raise_for_status()
    admin.post(f"orders/usmf/{number}/lines/2/tax", json={"amount": "3.00"}).raise_for_status()
    h = admin.post(f"orders/usmf/{number}/calculate-totals").json()
    assert h["OrderTotalChargesAmount"] == 14.99
    assert h["OrderHeaderTaxAmount"] == 1.5 and h["OrderTotalTaxAmount"] == 4.5
    assert h["OrderTotalAmount"] == pytest.approx(475.5 + 14.99 + 4.5)
    line1 = erp.get(
        f"CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='{number}',LineCreationSequenceNumber=1)"
    ).json()
    assert line1["TotalChargesAmount"] == -0.01 and line1["FixedPriceCharges"] == 0


def test_invoice_rows_copy_the_order_and_show_only_for_externally_maintained_customers(erp, admin) -> None:
    number = _new_order(erp, "US-004")
    admin.post(f"orders/usmf/{number}/header-charge", json={"amount": "10", "tax": "1"}).raise_for_status()
    admin.post(f"orders/usmf/{number}/lines/2/tax", json={"amount": "2.5"}).raise_for_status()
    inv = admin.post(f"orders/usmf/{number}/invoice").json()
    assert erp.get(f"{EM}Headers").json()["value"] == []  # US-004 is not externally maintained
    erp.patch(
        "CustomersV3(dataAreaId='usmf',CustomerAccount='US-004')", json={"IsExternallyMaintained": "Yes"}
    )
    headers = erp.get(f"{EM}Headers").json()["value"]
    assert len(headers) == 1
    h = headers[0]
    assert h["InvoiceNumber"] == inv["InvoiceNumber"] and h["SalesOrderNumber"] == number
    assert h["InvoiceDate"].endswith("T12:00:00Z") and h["LedgerVoucher"].startswith("ARI")
    assert h["InvoiceCustomerAccountNumber"] == "US-004" and h["CurrencyCode"] == "USD"
    assert (h["TotalChargeAmount"], h["InvoiceHeaderTaxAmount"], h["TotalTaxAmount"]) == (10, 1, 3.5)
    assert h["TotalInvoiceAmount"] == 475.5 + 10 + 3.5
    lines = erp.get(f"{EM}Lines", params={"$orderby": "LineCreationSequenceNumber"}).json()["value"]
    assert [
        (ln["LineCreationSequenceNumber"], ln["ProductNumber"], ln["InvoicedQuantity"], ln["LineAmount"])
        for ln in lines
    ] == [(1, "D0001", 2, 438), (2, "L0001", 3, 37.5)]
    assert lines[1]["LineTotalTaxAmount"] == 2.5
    expanded = erp.get(f"{EM}Headers", params={"$expand": "SalesInvoiceLines($select=ProductNumber)"}).json()
    assert len(expanded["value"][0]["SalesInvoiceLines"]) == 2
    filtered = erp.get(f"{EM}Headers", params={"$filter": f"InvoiceDate ge {h['InvoiceDate']}"}).json()[
        "value"
    ]
    assert len(filtered) == 1


def test_cancel(erp, admin) -> None:
    number = _new_order(erp)
    h = admin.post(f"orders/usmf/{number}/cancel").json()
    assert (h["SalesOrderProcessingStatus"], h["SalesOrderStatus"]) == ("Canceled", "Canceled")
    assert admin.post(f"orders/usmf/{number}/confirm").status_code == 400


def test_admin_errors(admin) -> None:
    assert admin.post("orders/usmf/999999/confirm").status_code == 404
    assert admin.post("orders/usmf/000001/deliver", json={"lines": {"9": 1}}).status_code == 404
    assert admin.post("orders/usmf/000001/deliver", json={"lines": {"1": 99}}).status_code == 400
    assert admin.post("orders/usmf/000001/fly").status_code == 404
    assert admin.post("orders/usmf/000001/header-charge", json={"amount": "x"}).status_code == 400
    assert admin.post("orders/usmf/000001/confirm", content=b"{").status_code == 400


def test_quotation_totals_and_status(erp, admin) -> None:
    q = admin.post("quotations/usmf/000001/calculate-totals").json()
    assert q["AreTotalsCalculated"] == "Yes" and q["QuotationTotalAmount"] == 4 * 129 + 8 * 45
    assert (
        admin.post("quotations/usmf/000001/status", json={"status": "Sent"}).json()["SalesQuotationStatus"]
        == "Sent"
    )
    line = erp.get("CDSSalesQuotationLines", params={"$top": "1"}).json()["value"][0]
    assert line["SalesQuotationStatus"] == "Sent"


def test_tables_and_products_helpers(erp, admin) -> None:
    counts = admin.get("tables").json()
    assert counts["sets"]["CustomersV3"] == {"usmf": 5, "demf": 2}
    assert counts["sets"]["UnitsOfMeasure"] == {"*": 4}
    r = admin.post("products", json={"ProductNumber": "Z0001", "ProductName": "Zeta", "SalesPrice": 9.5})
    assert r.status_code == 200 and r.json()["ProductNumber"] == "Z0001"
    assert (
        erp.get("SellableReleasedProducts(dataAreaId='usmf',ProductNumber='Z0001')").json()["SalesPrice"]
        == 9.5
    )
    assert admin.post("products", json={"ProductNumber": "Z0001"}).status_code == 400
    c = admin.post("customers", json={"OrganizationName": "Via admin", "CustomerGroupId": "10"})
    assert c.status_code == 200 and c.json()["CustomerAccount"] == "US-006"


def test_python_methods(erp_service) -> None:
    number = erp_service.create_customer({"CustomerGroupId": "20", "OrganizationName": "Py"})[
        "CustomerAccount"
    ]
    assert number == "US-006"
    row = erp_service.confirm_order("usmf", "000001")
    assert row["SalesOrderProcessingStatus"] == "Confirmed"
    invoice = erp_service.invoice_order("usmf", "000001")
    assert invoice["InvoiceNumber"] == "CIV-000001"
