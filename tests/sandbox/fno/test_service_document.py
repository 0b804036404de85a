"""Service document, $metadata and unknown resources (FNO.md §1.1, §1.8)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def test_service_document_lists_the_entity_sets(erp) -> None:
    r = erp.get("")
    assert r.status_code == 200
    doc = r.json()
    names = {s["name"] for s in doc["value"]}
    assert {
        "CustomersV3",
        "CustomersV2",
        "CDSSalesOrderHeaders",
        "CDSSalesOrderLinesV2",
        "UnitsOfMeasure",
    } <= names
    assert {"ExternallyMaintainedCustomerSalesInvoiceHeaders", "SellableReleasedProducts"} <= names
    assert doc["@odata.context"].endswith("/data/$metadata")
    assert all(s["kind"] == "EntitySet" and s["url"] == s["name"] for s in doc["value"])


def test_metadata_is_edmx_with_enums_keys_and_nullability(erp) -> None:
    r = erp.get("$metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    schema = root.find(f".//{EDM}Schema")
    assert schema is not None and schema.get("Namespace") == "Microsoft.Dynamics.DataEntities"
    assert schema.find(f"{EDM}EntityContainer").get("Name") == "Resources"
    enums = {e.get("Name"): e for e in schema.findall(f"{EDM}EnumType")}
    members = {m.get("Name"): m.get("Value") for m in enums["SalesOrderProcessingStatus"]}
    assert members["Confirmed"] == "1" and members["DeliveredPartiallyInvoiced"] == "8"
    assert {m.get("Name"): m.get("Value") for m in enums["NoYes"]} == {"No": "0", "Yes": "1"}
    types = {t.get("Name"): t for t in schema.findall(f"{EDM}EntityType")}
    lines = types["CDSSalesOrderLine"]
    assert [k.get("Name") for k in lines.find(f"{EDM}Key")] == [
        "dataAreaId",
        "SalesOrderNumber",
        "LineCreationSequenceNumber",
    ]
    props = {p.get("Name"): p for p in lines.findall(f"{EDM}Property")}
    assert props["LineAmount"].get("Type") == "Edm.Decimal" and props["LineAmount"].get("Nullable") == "false"
    assert props["ProductNumber"].get("Nullable") is None
    assert props["SalesOrderLineStatus"].get("Type") == "Microsoft.Dynamics.DataEntities.SalesStatus"
    assert props["LineCreationSequenceNumber"].get("Type") == "Edm.Int32"
    header = types["CDSSalesOrderHeader"]
    navs = {n.get("Name"): n.get("Type") for n in header.findall(f"{EDM}NavigationProperty")}
    assert navs["SalesOrderLines"] == "Collection(Microsoft.Dynamics.DataEntities.CDSSalesOrderLine)"
    customer = {p.get("Name"): p for p in types["CustomerV3"].findall(f"{EDM}Property")}
    assert customer["CustomerAccount"].get("MaxLength") == "20"
    assert len(customer) > 100


def test_unknown_entity_set_is_a_web_api_404(erp, erp_env) -> None:
    r = erp.get("NoSuchEntities")
    assert r.status_code == 404
    assert r.json() == {
        "Message": f"No HTTP resource was found that matches the request URI '{erp_env.root}NoSuchEntities'."
    }


def test_entity_set_names_are_case_sensitive(erp) -> None:
    assert erp.get("customersv3").status_code == 404


def test_requests_without_a_token_are_refused(erp_env) -> None:
    r = erp_env.client(token=None).get("CustomerGroups")
    assert r.status_code == 401
