"""Keys and URL literals (FNO.md §1.3)."""

from __future__ import annotations

from urllib.parse import quote


def test_named_key_pairs_in_any_order(erp) -> None:
    a = erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-002')")
    b = erp.get("CustomersV3(CustomerAccount='US-002',dataAreaId='usmf')")
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()


def test_every_key_field_is_required(erp) -> None:
    r = erp.get("CustomersV3(CustomerAccount='US-002')")
    assert r.status_code == 400
    assert "number of keys" in r.json()["error"]["innererror"]["message"]
    assert erp.get("CustomersV3('US-002')").status_code == 400
    assert erp.get("CustomersV3(dataAreaId='usmf',Bogus='x')").status_code == 400


def test_malformed_key_predicates_are_400(erp) -> None:
    assert erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-002)").status_code == 400
    assert erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount=US-002)").status_code == 400
    assert (
        erp.get(
            "CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='000002',LineCreationSequenceNumber='1')"
        ).status_code
        == 400
    )


def test_quotes_are_doubled_and_values_percent_encoded(erp) -> None:
    r = erp.post("CustomersV3", json={"CustomerAccount": "O'Brien & Co/1", "CustomerGroupId": "10"})
    assert r.status_code == 201
    literal = quote("O''Brien & Co/1", safe="'")
    got = erp.get(f"CustomersV3(dataAreaId='usmf',CustomerAccount='{literal}')")
    assert got.status_code == 200
    assert got.json()["CustomerAccount"] == "O'Brien & Co/1"
    assert "O''Brien" in r.headers["location"] or "O%27%27Brien" in r.headers["location"]


def test_string_keys_match_case_insensitively(erp) -> None:
    r = erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='us-001')")
    assert r.status_code == 200
    assert r.json()["CustomerAccount"] == "US-001"


def test_int_keys_are_bare(erp) -> None:
    r = erp.get(
        "CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='000002',LineCreationSequenceNumber=3)"
    )
    assert r.status_code == 200
    assert r.json()["ProductNumber"] == "P0001"
    assert r.json()["LineCreationSequenceNumber"] == 3


def test_date_time_offset_keys_are_bare(erp, admin) -> None:
    erp.patch(
        "CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')", json={"IsExternallyMaintained": "Yes"}
    )
    invoice = admin.post("orders/usmf/000002/invoice", json={"date": "2017-03-21"}).json()
    assert invoice["InvoiceDate"] == "2017-03-21T12:00:00Z"
    key = f"dataAreaId='usmf',InvoiceNumber='{invoice['InvoiceNumber']}',InvoiceDate=2017-03-21T12:00:00Z,LedgerVoucher='{invoice['LedgerVoucher']}'"
    r = erp.get(f"ExternallyMaintainedCustomerSalesInvoiceHeaders({key})")
    assert r.status_code == 200
    assert r.json()["SalesOrderNumber"] == "000002"
    line = erp.get(
        "ExternallyMaintainedCustomerSalesInvoiceLines("
        f"dataAreaId='usmf',InvoiceNumber='{invoice['InvoiceNumber']}',InvoiceDate=2017-03-21T12:00:00Z,"
        f"LineCreationSequenceNumber=1,LedgerVoucher='{invoice['LedgerVoucher']}')"
    )
    assert line.status_code == 200 and line.json()["ProductNumber"] == "D0001"


def test_enum_key_literal(erp) -> None:
    contacts = erp.get("CDSContactPersonsV2").json()["value"]
    c = contacts[0]
    key = (
        f"dataAreaId='usmf',ContactPersonPartyNumber='{c['ContactPersonPartyNumber']}',"
        "AssociatedContactType=Microsoft.Dynamics.DataEntities.SmmContactPersonCdsAssociatedContactType'Customer',"
        "AssociatedContactNumber='US-001'"
    )
    r = erp.get(f"CDSContactPersonsV2({key})")
    assert r.status_code == 200 and r.json()["LastName"] == "Chapman"


def test_navigation_and_property_paths(erp) -> None:
    lines = erp.get(
        "CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='000002')/SalesOrderLines"
    ).json()
    assert [ln["ProductNumber"] for ln in lines["value"]] == ["D0001", "L0001", "P0001", "D0003", "D0004"]
    count = erp.get(
        "CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='000002')/SalesOrderLines/$count"
    )
    assert count.text == "5"
    prop = erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')/OrganizationName")
    assert prop.json()["value"] == "Contoso Retail San Diego"
    raw = erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')/OrganizationName/$value")
    assert raw.text == "Contoso Retail San Diego"
    assert erp.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')/Nope").status_code == 404
