"""Metadata (DATAVERSE.md §2.13): entity definitions, attributes, custom columns, keys, $metadata."""

from __future__ import annotations

import httpx
from dv_helpers import error_of, make_key

LABEL = {"LocalizedLabels": [{"Label": "Contact number", "LanguageCode": 1033}]}


def test_entity_definitions_as_the_sdk_asks(crm: httpx.Client) -> None:
    resp = crm.get(
        "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=LogicalName eq 'transactioncurrency'"
    )
    assert resp.status_code == 200
    (entity,) = resp.json()["value"]
    assert entity["EntitySetName"] == "transactioncurrencies"
    assert entity["PrimaryIdAttribute"] == "transactioncurrencyid"
    assert set(entity) == {"LogicalName", "EntitySetName", "PrimaryIdAttribute", "MetadataId"}
    one = crm.get("EntityDefinitions(LogicalName='account')").json()
    assert one["PrimaryNameAttribute"] == "name" and one["ChangeTrackingEnabled"] is False
    assert crm.get("EntityDefinitions(LogicalName='nothing')").status_code == 404


def test_attributes_and_picklist_options(crm: httpx.Client) -> None:
    attrs = crm.get(
        "EntityDefinitions(LogicalName='account')/Attributes?$select=LogicalName,AttributeType"
    ).json()["value"]
    by_name = {a["LogicalName"]: a for a in attrs}
    assert by_name["accountnumber"]["AttributeType"] == "String"
    assert by_name["parentaccountid"]["AttributeType"] == "Lookup"
    picklists = crm.get(
        "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet($select=Options)"
    ).json()["value"]
    terms = next(p for p in picklists if p["LogicalName"] == "paymenttermscode")
    labels = {o["Value"]: o["Label"]["LocalizedLabels"][0]["Label"] for o in terms["OptionSet"]["Options"]}
    assert labels == {1: "Net 30", 2: "2% 10, Net 30", 3: "Net 45", 4: "Net 60"}
    one = crm.get("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')").json()
    assert one["MaxLength"] == 160 and one["RequiredLevel"]["Value"] == "ApplicationRequired"


def test_custom_string_column_is_usable_everywhere(crm: httpx.Client) -> None:
    body = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "p2c_ContactNumber",
        "MaxLength": 20,
        "RequiredLevel": {"Value": "None"},
        "DisplayName": LABEL,
    }
    resp = crm.post("EntityDefinitions(LogicalName='contact')/Attributes", json=body)
    assert resp.status_code == 204
    assert "/Attributes(" in resp.headers["OData-EntityId"]
    created = crm.post("contacts", json={"lastname": "Custom", "p2c_contactnumber": "CON-01000-ABCDEF"})
    assert created.status_code == 204
    rows = crm.get(
        "contacts?$select=p2c_contactnumber&$filter=p2c_contactnumber eq 'CON-01000-ABCDEF'"
    ).json()["value"]
    assert len(rows) == 1
    too_long = crm.post("contacts", json={"lastname": "Custom", "p2c_contactnumber": "x" * 21})
    assert too_long.status_code == 400
    key = make_key(crm, "contact", ["p2c_contactnumber"])
    assert key["EntityKeyIndexStatus"] == "Active"
    assert (
        crm.get("contacts(p2c_contactnumber='CON-01000-ABCDEF')?$select=lastname").json()["lastname"]
        == "Custom"
    )
    again = crm.post("EntityDefinitions(LogicalName='contact')/Attributes", json=body)
    assert again.status_code == 400


def test_custom_boolean_picklist_integer_columns(crm: httpx.Client) -> None:
    columns = [
        {"@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata", "SchemaName": "p2c_IsExternallyMaintained",
         "OptionSet": {"TrueOption": {"Value": 1, "Label": {"LocalizedLabels": [{"Label": "Yes", "LanguageCode": 1033}]}},
                       "FalseOption": {"Value": 0, "Label": {"LocalizedLabels": [{"Label": "No", "LanguageCode": 1033}]}}}},
        {"@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata", "SchemaName": "p2c_ProcessingStatus",
         "OptionSet": {"IsGlobal": False, "OptionSetType": "Picklist", "Options": [
             {"Value": 100000000, "Label": {"LocalizedLabels": [{"Label": "Draft", "LanguageCode": 1033}]}},
             {"Value": 100000001, "Label": {"LocalizedLabels": [{"Label": "Confirmed", "LanguageCode": 1033}]}}]}},
        {"@odata.type": "Microsoft.Dynamics.CRM.IntegerAttributeMetadata", "SchemaName": "p2c_LineSequence",
         "MinValue": 0, "MaxValue": 1000},
    ]  # fmt: skip
    for column in columns:
        assert (
            crm.post("EntityDefinitions(LogicalName='salesorder')/Attributes", json=column).status_code == 204
        )
    order = crm.get("salesorders?$select=name&$top=1").json()["value"][0]
    url = f"salesorders({order['salesorderid']})"
    ok = crm.patch(
        url,
        json={"p2c_isexternallymaintained": True, "p2c_processingstatus": 100000001, "p2c_linesequence": 7},
    )
    assert ok.status_code == 204, ok.text
    row = crm.get(
        f"{url}?$select=p2c_processingstatus,p2c_isexternallymaintained",
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()
    assert row["p2c_processingstatus@OData.Community.Display.V1.FormattedValue"] == "Confirmed"
    assert row["p2c_isexternallymaintained"] is True
    assert crm.patch(url, json={"p2c_processingstatus": 5}).status_code == 400
    assert crm.patch(url, json={"p2c_linesequence": 5000}).status_code == 400
    assert crm.patch(url, json={"p2c_isexternallymaintained": "yes"}).status_code == 400


def test_custom_column_rules(crm: httpx.Client) -> None:
    no_prefix = crm.post(
        "EntityDefinitions(LogicalName='account')/Attributes",
        json={"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": "ContactNumber"},
    )
    assert no_prefix.status_code == 400 and "prefix" in error_of(no_prefix)[1]
    no_type = crm.post("EntityDefinitions(LogicalName='account')/Attributes", json={"SchemaName": "p2c_x"})
    assert no_type.status_code == 400


def test_keys_list_create_pending_then_active(crm: httpx.Client) -> None:
    assert crm.get("EntityDefinitions(LogicalName='product')/Keys").json()["value"] == []
    resp = crm.post(
        "EntityDefinitions(LogicalName='product')/Keys",
        json={"SchemaName": "p2c_productnumber", "KeyAttributes": ["productnumber"]},
    )
    assert resp.status_code == 204
    listed = crm.get("EntityDefinitions(LogicalName='product')/Keys").json()["value"]
    assert listed[0]["KeyAttributes"] == ["productnumber"]
    assert listed[0]["EntityKeyIndexStatus"] in ("Pending", "Active")
    key = make_key(crm, "account", ["accountnumber"])
    assert key["EntityKeyIndexStatus"] == "Active"
    bad = crm.post(
        "EntityDefinitions(LogicalName='account')/Keys",
        json={"SchemaName": "p2c_nope", "KeyAttributes": ["nope"]},
    )
    assert bad.status_code == 400
    same = crm.post(
        "EntityDefinitions(LogicalName='account')/Keys",
        json={"SchemaName": "p2c_again", "KeyAttributes": ["accountnumber"]},
    )
    assert same.status_code == 400


def test_csdl_and_service_document(crm: httpx.Client) -> None:
    resp = crm.get("$metadata")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/xml")
    text = resp.text
    assert '<EntitySet Name="accounts" EntityType="mscrm.account">' in text
    assert '<NavigationProperty Name="parentcustomerid_account" Type="mscrm.account"' in text
    assert '<Property Name="_parentcustomerid_value" Type="Edm.Guid"' in text


def _yes_no(schema: str, default: object) -> dict[str, object]:
    yes = {"Value": 1, "Label": {"LocalizedLabels": [{"Label": "Yes", "LanguageCode": 1033}]}}
    no = {"Value": 0, "Label": {"LocalizedLabels": [{"Label": "No", "LanguageCode": 1033}]}}
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
        "SchemaName": schema,
        "DefaultValue": default,
        "OptionSet": {"TrueOption": yes, "FalseOption": no},
    }


def test_a_new_row_gets_the_default_of_a_yes_no_column(crm: httpx.Client) -> None:
    """A product typed into the CRM reads No, not blank; rows that existed before stay blank."""
    before = crm.get("products?$select=name&$top=1").json()["value"][0]["productid"]
    for schema, default in (
        ("p2c_IsExternallyMaintained", False),
        ("p2c_IsFeatured", True),
        ("p2c_Plain", None),
    ):
        posted = crm.post(
            "EntityDefinitions(LogicalName='product')/Attributes", json=_yes_no(schema, default)
        )
        assert posted.status_code == 204, posted.text
    shape = crm.get(
        "EntityDefinitions(LogicalName='product')/Attributes(LogicalName='p2c_isexternallymaintained')"
    ).json()
    assert shape["DefaultValue"] is False
    unit = crm.get("uoms?$select=_uomscheduleid_value&$filter=name eq 'Primary Unit'").json()["value"][0]
    created = crm.post(
        "products",
        json={
            "name": "Typed in",
            "productnumber": "TYPED-1",
            "defaultuomscheduleid@odata.bind": f"/uomschedules({unit['_uomscheduleid_value']})",
            "defaultuomid@odata.bind": f"/uoms({unit['uomid']})",
            "quantitydecimal": 0,
        },
        headers={"Prefer": "return=representation"},
    )
    assert created.status_code == 201, created.text
    row = created.json()
    assert (row["p2c_isexternallymaintained"], row["p2c_isfeatured"], row["p2c_plain"]) == (False, True, None)
    given = crm.post(
        "products",
        json={**{k: v for k, v in row.items() if k in ("name", "quantitydecimal")}, "productnumber": "TYPED-2",
              "defaultuomscheduleid@odata.bind": f"/uomschedules({unit['_uomscheduleid_value']})",
              "defaultuomid@odata.bind": f"/uoms({unit['uomid']})", "p2c_isexternallymaintained": True},
        headers={"Prefer": "return=representation"},
    )  # fmt: skip
    assert given.json()["p2c_isexternallymaintained"] is True  # a value given wins over the default
    old = crm.get(f"products({before})?$select=p2c_isexternallymaintained").json()
    assert old["p2c_isexternallymaintained"] is None  # existed before the column: blank
    bad = crm.post("EntityDefinitions(LogicalName='product')/Attributes", json=_yes_no("p2c_Bad", "no"))
    assert bad.status_code == 400


def test_a_new_row_gets_the_default_form_value_of_a_choice_column(crm: httpx.Client) -> None:
    options = [
        {"Value": 100000000, "Label": {"LocalizedLabels": [{"Label": "Draft", "LanguageCode": 1033}]}},
        {"Value": 100000001, "Label": {"LocalizedLabels": [{"Label": "Active", "LanguageCode": 1033}]}},
    ]
    column = {
        "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        "SchemaName": "p2c_ProcessingStatus",
        "DefaultFormValue": 100000000,
        "OptionSet": {"IsGlobal": False, "OptionSetType": "Picklist", "Options": options},
    }
    wrong = crm.post(
        "EntityDefinitions(LogicalName='salesorder')/Attributes", json={**column, "DefaultFormValue": 7}
    )
    assert wrong.status_code == 400 and "DefaultFormValue" in error_of(wrong)[1]
    assert crm.post("EntityDefinitions(LogicalName='salesorder')/Attributes", json=column).status_code == 204
    shape = crm.get(
        "EntityDefinitions(LogicalName='salesorder')/Attributes(LogicalName='p2c_processingstatus')"
    ).json()
    assert shape["DefaultFormValue"] == 100000000
    existing = crm.get(
        "salesorders?$select=p2c_processingstatus,_customerid_value,_pricelevelid_value"
        "&$filter=_customerid_value ne null and customerid_account/accountid ne null&$top=1"
    ).json()["value"][0]
    assert existing["p2c_processingstatus"] is None  # orders from before the column: none
    created = crm.post(
        "salesorders",
        json={
            "name": "New order",
            "customerid_account@odata.bind": f"/accounts({existing['_customerid_value']})",
            "pricelevelid@odata.bind": f"/pricelevels({existing['_pricelevelid_value']})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["p2c_processingstatus"] == 100000000  # Draft: a new order can be activated
