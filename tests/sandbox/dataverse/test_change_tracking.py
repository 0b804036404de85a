"""Change tracking (DATAVERSE.md §2.8): track-changes, delta links, deleted rows, refusals."""

from __future__ import annotations

import httpx
from dv_helpers import entity_id, error_of

TRACK = {"Prefer": "odata.track-changes"}


def enable(crm: httpx.Client, table: str) -> None:
    resp = crm.put(f"EntityDefinitions(LogicalName='{table}')", json={"ChangeTrackingEnabled": True})
    assert resp.status_code == 204


def test_refused_while_disabled(crm: httpx.Client) -> None:
    resp = crm.get("accounts?$select=name", headers=TRACK)
    assert resp.status_code == 400
    assert "Change tracking is not enabled for the entity 'account'" in error_of(resp)[1]


def test_initial_then_delta_with_changes_and_deletes(crm: httpx.Client, dv) -> None:
    enable(crm, "account")
    first = crm.get("accounts?$select=name,accountnumber", headers=TRACK)
    assert first.status_code == 200
    assert first.headers["Preference-Applied"] == "odata.track-changes"
    body = first.json()
    assert len(body["value"]) == 30
    delta = body["@odata.deltaLink"]
    assert delta.startswith(dv.root + "accounts?$select=name,accountnumber&$deltatoken=")

    nothing = crm.get(delta).json()
    assert nothing["value"] == []
    assert nothing["@odata.context"].endswith("$metadata#accounts(name,accountnumber)/$delta")

    existing = body["value"][0]["accountid"]
    crm.patch(f"accounts({existing})", json={"name": "Changed"})
    created = entity_id(crm.post("accounts", json={"name": "Brand new"}))
    doomed = body["value"][1]["accountid"]
    crm.delete(f"accounts({doomed})")
    ephemeral = entity_id(crm.post("accounts", json={"name": "Here and gone"}))
    crm.delete(f"accounts({ephemeral})")

    changes = crm.get(nothing["@odata.deltaLink"]).json()
    upserts = [r for r in changes["value"] if "@odata.etag" in r]
    deleted = [r for r in changes["value"] if r.get("reason") == "deleted"]
    assert {r["accountid"] for r in upserts} == {existing, created}
    assert {r["id"] for r in deleted} == {doomed, ephemeral}
    assert changes["value"][-len(deleted) :] == deleted  # deletes come last
    assert deleted[0]["@odata.context"] == f"{dv.root}$metadata#accounts/$deletedEntity"
    assert set(upserts[0]) == {"@odata.etag", "name", "accountnumber", "accountid"}
    assert crm.get(changes["@odata.deltaLink"]).json()["value"] == []


def test_paged_initial_read_only_last_page_has_delta_link(crm: httpx.Client) -> None:
    enable(crm, "contact")
    headers = {"Prefer": "odata.track-changes,odata.maxpagesize=15"}
    page = crm.get("contacts?$select=fullname", headers=headers).json()
    seen = len(page["value"])
    assert "@odata.deltaLink" not in page
    # a change while paging is delivered by the next delta read
    crm.patch(f"contacts({page['value'][0]['contactid']})", json={"jobtitle": "Changed mid-read"})
    while "@odata.nextLink" in page:
        page = crm.get(page["@odata.nextLink"], headers=headers).json()
        seen += len(page["value"])
    assert seen == 40
    delta = crm.get(page["@odata.deltaLink"]).json()
    assert [r["contactid"] for r in delta["value"]] == [delta["value"][0]["contactid"]]


def test_query_options_refused_with_tracking(crm: httpx.Client) -> None:
    enable(crm, "account")
    for option in ("$filter=name eq 'x'", "$orderby=name", "$top=1", "$expand=primarycontactid"):
        resp = crm.get(f"accounts?$select=name&{option}", headers=TRACK)
        assert resp.status_code == 400
        name = option.split("=")[0]
        assert (
            error_of(resp)[1]
            == f"The {name} query parameter isn't supported when Change Tracking is enabled."
        )


def test_metadata_lists_tracked_tables_and_cannot_disable(crm: httpx.Client) -> None:
    enable(crm, "salesorder")
    tracked = crm.get("EntityDefinitions?$select=LogicalName&$filter=ChangeTrackingEnabled eq true").json()
    assert [e["LogicalName"] for e in tracked["value"]] == ["salesorder"]
    off = crm.put("EntityDefinitions(LogicalName='salesorder')", json={"ChangeTrackingEnabled": False})
    assert off.status_code == 400


def test_delta_count(crm: httpx.Client) -> None:
    enable(crm, "account")
    link = crm.get("accounts?$select=name", headers=TRACK).json()["@odata.deltaLink"]
    crm.post("accounts", json={"name": "Counted"})
    token = link.split("$deltatoken=")[1]
    assert crm.get(f"accounts/$count?$deltatoken={token}").text == "1"


def test_paged_delta_in_creation_order_whatever_the_order_of_changes(crm: httpx.Client) -> None:
    """Few changes in a larger table (the delta read finds them by version, not by a scan): pages in
    creation order, not the order of the writes, and the same count."""
    enable(crm, "contact")
    body = crm.get("contacts?$select=fullname", headers=TRACK).json()
    ids = [r["contactid"] for r in body["value"]]
    assert len(ids) == 40
    crm.patch(f"contacts({ids[7]})", json={"jobtitle": "Second in the feed"})
    crm.patch(f"contacts({ids[3]})", json={"jobtitle": "First in the feed"})
    crm.patch(f"contacts({ids[3]})", json={"jobtitle": "Changed twice"})
    created = entity_id(crm.post("contacts", json={"lastname": "Newest"}))
    headers = {"Prefer": "odata.maxpagesize=2"}
    first = crm.get(body["@odata.deltaLink"], headers=headers).json()
    assert [r["contactid"] for r in first["value"]] == [ids[3], ids[7]]
    assert "@odata.deltaLink" not in first
    last = crm.get(first["@odata.nextLink"], headers=headers).json()
    assert [r["contactid"] for r in last["value"]] == [created]
    assert "@odata.nextLink" not in last
    token = body["@odata.deltaLink"].split("$deltatoken=")[1]
    assert crm.get(f"contacts/$count?$deltatoken={token}").text == "3"
    assert crm.get(last["@odata.deltaLink"]).json()["value"] == []


def test_the_initial_read_builds_the_index_a_delta_read_uses(crm: httpx.Client, dv) -> None:
    """The rows by version band (how a delta read finds what changed without a scan) are built
    by the initial read, as tracking begins, so the first delta read of a large table costs what
    changed, not the table's size."""
    enable(crm, "account")
    table = dv.service.org.rows("account")
    table.groups.pop("@versionband", None)  # as a sandbox just started has it
    table._group_fns.pop("@versionband", None)
    delta = crm.get("accounts?$select=name", headers=TRACK).json()["@odata.deltaLink"]
    assert table.has_group("@versionband")
    existing = crm_first_account(crm)
    crm.patch(f"accounts({existing})", json={"name": "Changed"})
    assert [r["name"] for r in crm.get(delta).json()["value"]] == ["Changed"]


def crm_first_account(crm: httpx.Client) -> str:
    return str(crm.get("accounts?$select=accountid&$top=1").json()["value"][0]["accountid"])
