"""Response conventions (FNO.md §1.5): every property, "", enums as names, numbers, noon dates, ETags."""

from __future__ import annotations

import base64
import re

from p2c_sandbox.fno.entities import ENTITY_SETS

CUSTOMER = "CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"


def test_every_property_is_returned_in_metadata_order(erp) -> None:
    body = erp.get(CUSTOMER).json()
    names = [k for k in body if not k.startswith("@")]
    assert names == [p.name for p in ENTITY_SETS["CustomersV3"].props]
    line = erp.get("CDSSalesOrderLinesV2", params={"$top": "1"}).json()["value"][0]
    assert len([k for k in line if not k.startswith("@")]) == 74


def test_value_shapes(erp) -> None:
    body = erp.get(CUSTOMER).json()
    assert body["KnownAs"] == ""  # empty strings, not null
    assert body["IsExternallyMaintained"] == "No" and body["OnHoldStatus"] == "No"
    assert body["CreditLimit"] == 0 and isinstance(body["CreditLimit"], int)
    assert body["AddressTimeZone"] is None  # nullable enum
    assert body["AddressValidFrom"] == "1900-01-01T00:00:00Z"  # empty UtcDateTime
    order = erp.get("CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='000002')").json()
    assert order["OrderTotalAmount"] == 2287.5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT12:00:00Z", order["ConfirmedShippingDate"])  # date-only at noon
    assert order["PaymentTermsBaseDate"] == "1900-01-01T12:00:00Z"  # empty date
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", order["OrderCreationDateTime"])
    assert order["SalesOrderStatus"] == "Backorder"


def test_context_and_etags(erp, erp_env) -> None:
    r = erp.get(CUSTOMER, params={"$select": "CustomerAccount"})
    body = r.json()
    assert body["@odata.context"] == f"{erp_env.root}$metadata#CustomersV3(CustomerAccount)/$entity"
    etag = body["@odata.etag"]
    assert etag.startswith('W/"') and r.headers["etag"] == etag
    assert base64.b64decode(etag[3:-1]).decode().startswith("'1,")
    coll = erp.get("CustomerGroups").json()
    assert coll["@odata.context"] == f"{erp_env.root}$metadata#CustomerGroups"
    assert all(row["@odata.etag"].startswith('W/"') for row in coll["value"])
    assert r.headers["content-type"].startswith("application/json; odata.metadata=minimal")


def test_etag_changes_with_the_row_version(erp) -> None:
    before = erp.get(CUSTOMER).json()["@odata.etag"]
    assert erp.patch(CUSTOMER, json={"SalesMemo": "x"}).status_code == 204
    after = erp.get(CUSTOMER).json()["@odata.etag"]
    assert after != before


def test_normalisation_on_write(erp) -> None:
    r = erp.post(
        "CustomersV3",
        json={
            "OrganizationName": "A name that is longer than twenty",
            "CustomerGroupId": "10",
            "LanguageId": "en-us",
        },
    )
    body = r.json()
    assert body["LanguageId"] == "en-US"
    assert body["NameAlias"] == "A name that is longe"
    assert body["PartyType"] == "Organization"
    assert re.fullmatch(r"\d{9}", body["PartyNumber"])
    assert body["SalesCurrencyCode"] == "USD"


def test_country_codes_fill_each_other(erp) -> None:
    body = erp.post("CustomersV3", json={"CustomerGroupId": "10", "AddressCountryRegionISOCode": "DE"}).json()
    assert body["AddressCountryRegionId"] == "DEU"
