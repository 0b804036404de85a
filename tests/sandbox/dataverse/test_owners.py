"""Business units, teams and record owners: who owns a row, and the business unit it belongs to."""

from __future__ import annotations

from typing import Any

import httpx
from dv_helpers import ANNOTATIONS, entity_id, error_of, first

LOGICAL = "@Microsoft.Dynamics.CRM.lookuplogicalname"
OWNER_COLUMNS = "_ownerid_value,_owninguser_value,_owningteam_value,_owningbusinessunit_value"


def units(crm: httpx.Client) -> dict[str, dict[str, Any]]:
    rows = crm.get("businessunits?$select=name,_parentbusinessunitid_value").json()["value"]
    return {r["name"]: r for r in rows}


def team(crm: httpx.Client, name: str) -> dict[str, Any]:
    [row] = crm.get(
        f"teams?$select=name,_businessunitid_value,isdefault,teamtype&$filter=name eq '{name}'"
    ).json()["value"]
    return row  # type: ignore[no-any-return]


def test_the_seed_has_a_root_unit_and_contoso_us_and_de_each_with_its_default_team(crm: httpx.Client) -> None:
    found = units(crm)
    assert set(found) == {"Contoso (sandbox)", "Contoso US", "Contoso DE"}
    root = found["Contoso (sandbox)"]
    assert root["_parentbusinessunitid_value"] is None
    for name in ("Contoso US", "Contoso DE"):
        assert found[name]["_parentbusinessunitid_value"] == root["businessunitid"]
        t = team(crm, name)
        assert (t["_businessunitid_value"], t["isdefault"], t["teamtype"]) == (
            found[name]["businessunitid"],
            True,
            0,
        )
    users = crm.get("systemusers?$select=fullname,_businessunitid_value").json()["value"]
    by_unit = {u["fullname"]: u["_businessunitid_value"] for u in users}
    assert by_unit["# P2C Sandbox"] == root["businessunitid"]  # the application user
    assert {v for k, v in by_unit.items() if not k.startswith("#")} == {found["Contoso US"]["businessunitid"]}


def test_a_new_business_unit_gets_its_default_team(crm: httpx.Client) -> None:
    root = units(crm)["Contoso (sandbox)"]["businessunitid"]
    fr = entity_id(
        crm.post(
            "businessunits",
            json={"name": "Contoso FR", "parentbusinessunitid@odata.bind": f"/businessunits({root})"},
        )
    )
    t = team(crm, "Contoso FR")
    assert (t["_businessunitid_value"], t["isdefault"]) == (fr, True)
    resp = crm.post("teams", json={"name": "Rogue", "isdefault": True})
    assert resp.status_code == 400, resp.text  # isdefault is the platform's


def test_rows_owned_by_a_user_belong_to_the_users_business_unit(crm: httpx.Client) -> None:
    us = units(crm)["Contoso US"]["businessunitid"]
    account = first(crm, "accounts", f"$select=name,{OWNER_COLUMNS}")
    assert account["_owninguser_value"] == account["_ownerid_value"]
    assert account["_owningteam_value"] is None
    assert account["_owningbusinessunit_value"] == us


def test_a_team_owns_a_row_and_the_row_moves_to_the_teams_unit(crm: httpx.Client) -> None:
    de = team(crm, "Contoso DE")
    aid = entity_id(
        crm.post("accounts", json={"name": "Fabrikam GmbH", "ownerid@odata.bind": f"/teams({de['teamid']})"})
    )
    row = crm.get(f"accounts({aid})?$select={OWNER_COLUMNS}", headers=ANNOTATIONS).json()
    assert row["_ownerid_value"] == row["_owningteam_value"] == de["teamid"]
    assert row["_ownerid_value" + LOGICAL] == "team"
    assert row["_owninguser_value"] is None
    assert row["_owningbusinessunit_value"] == de["_businessunitid_value"]
    # assigned to a user: the user's business unit
    user = first(
        crm, "systemusers", "$select=fullname,_businessunitid_value&$filter=startswith(fullname,'Alex')"
    )
    assert crm.patch(
        f"accounts({aid})", json={"ownerid@odata.bind": f"/systemusers({user['systemuserid']})"}
    ).is_success
    row = crm.get(f"accounts({aid})?$select={OWNER_COLUMNS}", headers=ANNOTATIONS).json()
    assert row["_ownerid_value" + LOGICAL] == "systemuser"
    assert (row["_owninguser_value"], row["_owningteam_value"]) == (user["systemuserid"], None)
    assert row["_owningbusinessunit_value"] == user["_businessunitid_value"]
    found = crm.get(
        f"accounts?$select=name&$filter=_owningbusinessunit_value eq {de['_businessunitid_value']}"
    )
    assert aid not in {r["accountid"] for r in found.json()["value"]}


def test_owner_columns_are_read_only_and_an_owner_is_a_user_or_a_team(crm: httpx.Client) -> None:
    unit = units(crm)["Contoso DE"]["businessunitid"]
    bad = crm.post("accounts", json={"name": "X", "owningbusinessunit@odata.bind": f"/businessunits({unit})"})
    assert bad.status_code == 400, bad.text
    wrong = crm.post("accounts", json={"name": "X", "ownerid@odata.bind": f"/businessunits({unit})"})
    assert wrong.status_code == 400 and "ownerid" in error_of(wrong)[1], wrong.text
    missing = crm.post("accounts", json={"name": "X", "ownerid@odata.bind": f"/teams({unit})"})
    assert missing.status_code == 404, missing.text


def test_a_documents_lines_belong_to_its_owner(crm: httpx.Client) -> None:
    de = team(crm, "Contoso DE")
    account = first(crm, "accounts", "$select=name")
    level = first(crm, "pricelevels", "$select=name&$filter=name eq 'CRM Service USA (sample)'")
    oid = entity_id(
        crm.post(
            "salesorders",
            json={
                "name": "Team order",
                "customerid_account@odata.bind": f"/accounts({account['accountid']})",
                "pricelevelid@odata.bind": f"/pricelevels({level['pricelevelid']})",
                "ownerid@odata.bind": f"/teams({de['teamid']})",
            },
        )
    )
    line = entity_id(
        crm.post(
            "salesorderdetails",
            json={
                "salesorderid@odata.bind": f"/salesorders({oid})",
                "isproductoverridden": True,
                "productdescription": "Write-in",
                "quantity": 1,
                "priceperunit": 10,
            },
        )
    )
    row = crm.get(f"salesorderdetails({line})?$select={OWNER_COLUMNS}", headers=ANNOTATIONS).json()
    assert row["_ownerid_value"] == row["_owningteam_value"] == de["teamid"]
    assert row["_ownerid_value" + LOGICAL] == "team"
    assert row["_owningbusinessunit_value"] == de["_businessunitid_value"]


def test_metadata_describes_business_units_teams_and_owner_columns(crm: httpx.Client) -> None:
    for logical, pk in (("businessunit", "businessunitid"), ("team", "teamid")):
        meta = crm.get(f"EntityDefinitions(LogicalName='{logical}')?$select=EntitySetName,PrimaryIdAttribute")
        assert meta.status_code == 200, meta.text
        assert meta.json()["PrimaryIdAttribute"] == pk
    attrs = crm.get(
        "EntityDefinitions(LogicalName='account')/Attributes?$select=LogicalName,IsValidForCreate"
    )
    by_name = {a["LogicalName"]: a for a in attrs.json()["value"]}
    assert {"owningbusinessunit", "owningteam", "owninguser", "ownerid"} <= set(by_name)
    assert by_name["owningbusinessunit"]["IsValidForCreate"] is False
