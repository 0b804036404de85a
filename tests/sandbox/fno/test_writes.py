"""Create, update, delete and their errors (FNO.md §1.6, §1.8)."""

from __future__ import annotations

import re

import pytest

CUSTOMER = "CustomersV3(dataAreaId='usmf',CustomerAccount='US-002')"
WRITE_EXC = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"


def _inner(r) -> dict:  # type: ignore[no-untyped-def]
    body = r.json()
    assert body["error"]["code"] == "" and body["error"]["message"] == "An error has occurred."
    return body["error"]["innererror"]


def test_post_returns_201_with_the_full_entity_and_location(erp, erp_env) -> None:
    r = erp.post(
        "CustomersV3",
        json={"OrganizationName": "Litware", "CustomerGroupId": "20", "SalesCurrencyCode": "USD"},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["@odata.context"] == f"{erp_env.root}$metadata#CustomersV3/$entity"
    assert body["CustomerAccount"] == "US-006"
    assert r.headers["location"] == f"{erp_env.root}CustomersV3(dataAreaId='usmf',CustomerAccount='US-006')"
    again = erp.post("CustomersV3", json={"OrganizationName": "Litware 2", "CustomerGroupId": "20"}).json()
    assert again["CustomerAccount"] == "US-007"


def test_post_asked_for_minimal_returns_204_with_the_location_only(erp, erp_env) -> None:
    r = erp.post(
        "CustomersV3",
        json={"OrganizationName": "Litware", "CustomerGroupId": "20", "SalesCurrencyCode": "USD"},
        headers={"Prefer": "return=minimal"},
    )
    assert r.status_code == 204 and r.content == b""
    url = f"{erp_env.root}CustomersV3(dataAreaId='usmf',CustomerAccount='US-006')"
    assert (r.headers["location"], r.headers["odata-entityid"]) == (url, url)
    assert r.headers["preference-applied"] == "return=minimal"
    created = erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-006')")
    assert created.json()["OrganizationName"] == "Litware"
    assert r.headers["etag"] == created.json()["@odata.etag"]


def test_number_sequences_for_orders_and_quotes(erp) -> None:
    order = erp.post("CDSSalesOrderHeaders", json={"OrderingCustomerAccountNumber": "US-001"}).json()
    assert re.fullmatch(r"\d{6}", order["SalesOrderNumber"]) and order["SalesOrderNumber"] == "000003"
    assert order["SalesOrderProcessingStatus"] == "Active" and order["SalesOrderStatus"] == "None"
    quote = erp.post("CDSSalesQuotationHeaders", json={"RequestingCustomerAccountNumber": "US-001"}).json()
    assert quote["SalesQuotationNumber"] == "000002"
    contact = erp.post(
        "CDSContactPersonsV2", json={"AssociatedContactNumber": "US-002", "LastName": "Doe"}
    ).json()
    assert contact["ContactPersonId"].startswith("CP-") and contact["ContactPersonPartyNumber"]


def test_patch_204_and_keys_cannot_change(erp) -> None:
    r = erp.patch(CUSTOMER, json={"OrganizationName": "Renamed", "CustomerAccount": "US-002"})
    assert r.status_code == 204 and r.content == b""
    assert erp.get(CUSTOMER).json()["OrganizationName"] == "Renamed"
    bad = erp.patch(CUSTOMER, json={"CustomerAccount": "US-999"})
    assert bad.status_code == 400 and "cannot be changed" in _inner(bad)["message"]
    assert erp.put(CUSTOMER, json={"SalesMemo": "put works like patch"}).status_code == 204


def test_delete_204_then_404(erp) -> None:
    url = "CustomerGroups(dataAreaId='usmf',CustomerGroupId='30')"
    assert erp.delete(url).status_code == 204
    assert erp.get(url).status_code == 404
    assert erp.delete(url).status_code == 404
    assert erp.patch(url, json={"Description": "x"}).status_code == 404


def test_duplicate_post_fails_with_the_infolog_text(erp) -> None:
    r = erp.post("CustomersV3", json={"CustomerAccount": "US-001", "CustomerGroupId": "10"})
    assert r.status_code == 400
    inner = _inner(r)
    assert inner["type"] == WRITE_EXC
    assert inner["message"] == (
        "Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Info: Cannot create a record in "
        "Customers (CustTable). Customer account: US-001. The record already exists.."
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            {"Bogus": 1, "CustomerGroupId": "10"},
            "The property 'Bogus' does not exist on type 'Microsoft.Dynamics.DataEntities.CustomerV3'",
        ),
        ({"CreditLimit": "lots", "CustomerGroupId": "10"}, "'CreditLimit'"),
        ({"CreditLimit": True, "CustomerGroupId": "10"}, "'CreditLimit'"),
        ({"OrganizationName": 5, "CustomerGroupId": "10"}, "'OrganizationName'"),
        ({"IsExternallyMaintained": "Maybe", "CustomerGroupId": "10"}, "'IsExternallyMaintained'"),
        ({"CustomerAccount": "X" * 21, "CustomerGroupId": "10"}, "'CustomerAccount' is too long"),
        ({"CreditLimit": None, "CustomerGroupId": "10"}, "'CreditLimit'"),
        ({"AddressValidFrom": "yesterday", "CustomerGroupId": "10"}, "'AddressValidFrom'"),
    ],
)
def test_bad_bodies_are_400_naming_the_property(erp, body: dict, needle: str) -> None:
    r = erp.post("CustomersV3", json=body)
    assert r.status_code == 400
    assert needle in _inner(r)["message"]


def test_malformed_json_and_non_objects_are_400(erp) -> None:
    r = erp.post(
        "CustomersV3", content=b'{"CustomerGroupId": "10",', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "Invalid JSON" in _inner(r)["message"]
    assert erp.post("CustomersV3", json=[1, 2]).status_code == 400
    assert erp.patch(CUSTOMER, content=b"nope").status_code == 400


def test_enum_values_may_be_given_by_number(erp) -> None:
    r = erp.post("CustomersV3", json={"CustomerGroupId": "10", "IsExternallyMaintained": 1})
    assert r.json()["IsExternallyMaintained"] == "Yes"


def test_date_only_values_are_stored_at_noon(erp) -> None:
    r = erp.post(
        "CDSSalesOrderHeaders",
        json={"OrderingCustomerAccountNumber": "US-001", "RequestedReceiptDate": "2026-07-30T00:00:00Z"},
    )
    assert r.json()["RequestedReceiptDate"] == "2026-07-30T12:00:00Z"


def test_if_match(erp) -> None:
    etag = erp.get(CUSTOMER).json()["@odata.etag"]
    assert erp.patch(CUSTOMER, json={"SalesMemo": "a"}, headers={"If-Match": 'W/"stale"'}).status_code == 412
    assert erp.patch(CUSTOMER, json={"SalesMemo": "a"}, headers={"If-Match": etag}).status_code == 204
    assert erp.patch(CUSTOMER, json={"SalesMemo": "b"}, headers={"If-Match": "*"}).status_code == 204


def test_read_only_sets_refuse_writes(erp) -> None:
    assert erp.post("SellableReleasedProducts", json={"ProductNumber": "Z1"}).status_code == 405
    assert (
        erp.patch("SellableReleasedProducts(dataAreaId='usmf',ProductNumber='D0001')", json={}).status_code
        == 405
    )
    assert erp.post("ExternallyMaintainedCustomerSalesInvoiceHeaders", json={}).status_code == 405


def test_computed_fields_are_ignored_on_write(erp) -> None:
    order = erp.post(
        "CDSSalesOrderHeaders",
        json={
            "OrderingCustomerAccountNumber": "US-001",
            "SalesOrderProcessingStatus": "Invoiced",
            "AreTotalsUpdated": "Yes",
        },
    ).json()
    assert order["SalesOrderProcessingStatus"] == "Active" and order["AreTotalsUpdated"] == "No"


def test_line_amount_and_discount_rounding(erp) -> None:
    number = erp.post("CDSSalesOrderHeaders", json={"OrderingCustomerAccountNumber": "US-001"}).json()[
        "SalesOrderNumber"
    ]
    line = erp.post(
        "CDSSalesOrderLines",
        json={
            "SalesOrderNumber": number,
            "ProductNumber": "D0003",
            "OrderedSalesQuantity": 3,
            "SalesPrice": 10,
            "LineDiscountAmount": 3.33,
            "FixedPriceCharges": -0.01,
        },
    ).json()
    assert line["LineCreationSequenceNumber"] == 1
    assert line["LineAmount"] == 20.01 and line["TotalDiscountAmount"] == 9.99
    assert line["TotalChargesAmount"] == -0.01
    assert line["LineAmount"] + line["TotalDiscountAmount"] - line["TotalChargesAmount"] == pytest.approx(
        30.01
    )
    url = f"CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='{number}',LineCreationSequenceNumber=1)"
    erp.patch(url, json={"OrderedSalesQuantity": 4})
    assert erp.get(url).json()["LineAmount"] == 26.68
    erp.patch(url, json={"TotalChargesAmount": 0.02})
    assert erp.get(url).json()["FixedPriceCharges"] == 0.02
