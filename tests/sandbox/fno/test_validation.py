"""Business validation on writes: related records must exist (FNO.md §5 item 5)."""

from __future__ import annotations

import pytest


def _message(r) -> str:  # type: ignore[no-untyped-def]
    assert r.status_code == 400, r.text
    return str(r.json()["error"]["innererror"]["message"])


def test_customer_group_is_required_and_must_exist(erp) -> None:
    assert "Field 'Customer group' must be filled in" in _message(
        erp.post("CustomersV3", json={"OrganizationName": "x"})
    )
    msg = _message(erp.post("CustomersV3", json={"CustomerGroupId": "99"}))
    assert msg == (
        "Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value '99' in field "
        "'Customer group' is not found in the relating table 'Customer groups'.; Warning: validateWrite failed on "
        "data source 'CustTable (CustTable)'."
    )
    assert "Customer group" in _message(
        erp.patch("CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')", json={"CustomerGroupId": "77"})
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("SalesCurrencyCode", "XYZ"),
        ("PaymentTerms", "Net99"),
        ("SiteId", "9"),
        ("WarehouseId", "99"),
        ("InvoiceAccount", "US-999"),
        ("LanguageId", "not a language"),
    ],
)
def test_customer_references_must_exist(erp, field: str, value: str) -> None:
    assert value in _message(erp.post("CustomersV3", json={"CustomerGroupId": "10", field: value}))


def test_warehouse_must_belong_to_the_site(erp) -> None:
    assert "not associated with site 2" in _message(
        erp.post("CustomersV3", json={"CustomerGroupId": "10", "SiteId": "2", "WarehouseId": "13"})
    )


def test_order_and_quote_customers_must_exist(erp) -> None:
    assert "US-999" in _message(
        erp.post("CDSSalesOrderHeaders", json={"OrderingCustomerAccountNumber": "US-999"})
    )
    assert "must be filled in" in _message(erp.post("CDSSalesOrderHeaders", json={}))
    assert "US-999" in _message(
        erp.post(
            "CDSSalesOrderHeaders",
            json={"OrderingCustomerAccountNumber": "US-001", "InvoiceCustomerAccountNumber": "US-999"},
        )
    )
    assert "US-999" in _message(
        erp.post("CDSSalesQuotationHeaders", json={"RequestingCustomerAccountNumber": "US-999"})
    )


def test_lines_need_an_existing_header_and_a_sellable_product(erp) -> None:
    assert "999999" in _message(
        erp.post("CDSSalesOrderLines", json={"SalesOrderNumber": "999999", "ProductNumber": "D0001"})
    )
    assert "NOPE" in _message(
        erp.post("CDSSalesOrderLines", json={"SalesOrderNumber": "000001", "ProductNumber": "NOPE"})
    )
    assert "X0001" in _message(
        erp.post("CDSSalesOrderLines", json={"SalesOrderNumber": "000001", "ProductNumber": "X0001"})
    )
    assert "stopped" in _message(
        erp.post("CDSSalesOrderLines", json={"SalesOrderNumber": "000001", "ProductNumber": "D0007"})
    )
    assert "X0001" in _message(
        erp.post("CDSSalesQuotationLines", json={"SalesQuotationNumber": "000001", "ProductNumber": "X0001"})
    )


@pytest.mark.parametrize(
    ("field", "value"), [("SalesUnitSymbol", "box"), ("ShippingSiteId", "7"), ("ShippingWarehouseId", "77")]
)
def test_line_unit_site_and_warehouse_must_exist(erp, field: str, value: str) -> None:
    body = {"SalesOrderNumber": "000001", "ProductNumber": "D0001", field: value}
    assert value in _message(erp.post("CDSSalesOrderLines", json=body))


def test_products_of_another_company_are_not_sellable_here(erp) -> None:
    order = erp.post(
        "CDSSalesOrderHeaders", json={"dataAreaId": "demf", "OrderingCustomerAccountNumber": "DE-001"}
    ).json()
    assert order["CurrencyCode"] == "EUR"
    assert "P0001" in _message(
        erp.post(
            "CDSSalesOrderLines",
            json={
                "dataAreaId": "demf",
                "SalesOrderNumber": order["SalesOrderNumber"],
                "ProductNumber": "P0001",
            },
        )
    )


def test_contacts_need_their_customer(erp) -> None:
    assert "US-999" in _message(erp.post("CDSContactPersonsV2", json={"AssociatedContactNumber": "US-999"}))
    party = erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-003')").json()["PartyNumber"]
    r = erp.post("CDSContactPersons", json={"AssociatedPartyNumber": party, "FirstName": "Ann"})
    assert r.status_code == 201
    v2 = erp.get("CDSContactPersonsV2", params={"$filter": "FirstName eq 'Ann'"}).json()["value"]
    assert v2[0]["AssociatedContactNumber"] == "US-003"
    assert "not a customer" in _message(erp.post("CDSContactPersons", json={"AssociatedPartyNumber": "123"}))


def test_closed_orders_cannot_be_changed(erp, admin) -> None:
    admin.post("orders/usmf/000002/invoice").raise_for_status()
    url = "CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='000002')"
    assert "Invoiced" in _message(erp.patch(url, json={"SalesOrderName": "late"}))
    assert "Invoiced" in _message(
        erp.post("CDSSalesOrderLines", json={"SalesOrderNumber": "000002", "ProductNumber": "D0001"})
    )
    r = erp.delete(
        "CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='000002',LineCreationSequenceNumber=1)"
    )
    assert r.status_code == 400


def test_customer_with_orders_cannot_be_deleted(erp) -> None:
    assert "transactions" in _message(erp.delete("CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"))
    assert erp.delete("CustomersV3(dataAreaId='usmf',CustomerAccount='US-005')").status_code == 204
