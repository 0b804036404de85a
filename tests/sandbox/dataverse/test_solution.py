"""Microsoft's P2C solution in the emulated CRM: seed modifier ``+microsoft`` and the Activate button."""

from __future__ import annotations

import httpx

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.dataverse import DataverseService


def test_the_solution_columns_exist_with_their_types_and_defaults(
    crm: httpx.Client, admin: httpx.Client
) -> None:
    assert admin.post("reset", json={"seed": "demo+microsoft"}).status_code == 200
    attributes = crm.get(
        "EntityDefinitions(LogicalName='salesorder')/Attributes",
        params={"$select": "LogicalName,AttributeType"},
    ).json()["value"]
    kinds = {
        a["LogicalName"]: a["AttributeType"] for a in attributes if a["LogicalName"].startswith("msdynce_")
    }
    assert kinds == {
        "msdynce_hasexternallymaintainedproductsonly": "Boolean",
        "msdynce_ismaintainedexternally": "Boolean",
        "msdynce_processingstatus": "Picklist",
        "msdynce_misctax": "Money",
    }
    account = crm.get("accounts", params={"$select": "accountid", "$top": "1"}).json()["value"][0][
        "accountid"
    ]
    prices = crm.get("pricelevels", params={"$select": "pricelevelid", "$top": "1"}).json()["value"][0]
    body = {
        "name": "new",
        "customerid_account@odata.bind": f"/accounts({account})",
        "pricelevelid@odata.bind": f"/pricelevels({prices['pricelevelid']})",
    }
    created = crm.post("salesorders", json=body, headers={"Prefer": "return=representation"})
    assert created.status_code == 201, created.text
    order = created.json()["salesorderid"]
    select = "msdynce_processingstatus,msdynce_ismaintainedexternally"
    created = crm.get(f"salesorders({order})", params={"$select": select}).json()
    assert created["msdynce_processingstatus"] == 647390011  # Draft
    assert created["msdynce_ismaintainedexternally"] is False


def test_activate_sets_the_status_and_submits_every_line(crm: httpx.Client, admin: httpx.Client) -> None:
    assert admin.post("reset", json={"seed": "demo+microsoft"}).status_code == 200
    orders = crm.get("salesorders", params={"$select": "salesorderid"}).json()["value"]
    order = orders[0]["salesorderid"]
    answer = admin.post(f"salesorders/{order}/activate")
    assert answer.status_code == 200, answer.text
    header = crm.get(f"salesorders({order})", params={"$select": "msdynce_processingstatus"}).json()
    assert header["msdynce_processingstatus"] == 647390000
    lines = crm.get(
        "salesorderdetails",
        params={"$select": "msdynce_orderissubmitted", "$filter": f"_salesorderid_value eq {order}"},
    ).json()["value"]
    assert lines and all(line["msdynce_orderissubmitted"] is True for line in lines)
    assert answer.json()["lines"] == len(lines)
    unknown = admin.post("salesorders/00000000-0000-0000-0000-000000000001/activate")
    assert unknown.status_code == 404


def test_activate_without_the_solution_is_refused(crm: httpx.Client, admin: httpx.Client) -> None:
    order = crm.get("salesorders", params={"$select": "salesorderid"}).json()["value"][0]["salesorderid"]
    refused = admin.post(f"salesorders/{order}/activate")
    assert refused.status_code == 400 and "P2C solution" in refused.text


def test_the_solution_columns_keep_their_defaults_when_persisted() -> None:
    svc = DataverseService(SandboxConfig(data_dir=None, seed="empty+microsoft"), None)
    column = svc.org.catalog.table("salesorder").columns["msdynce_processingstatus"]
    assert column.default == 647390011 and len(column.options) == 12
    from p2c_sandbox.dataverse.schema import Column

    assert Column.from_dict(column.to_dict()).default == 647390011
