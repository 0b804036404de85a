"""The Dataverse connector over HTTPS against the sandbox: paging, change tracking, bulk upserts."""

from __future__ import annotations

import uuid

import pytest

from p2c.connectors import DataverseConnector, OpKind, ValuesQuery, WriteAction, WriteOp, odata_bind
from p2c.errors import NotFoundError, PrerequisiteError, RecordError

OBRIEN = "O'Brien & Co"


def names(rows: list[dict]) -> set[str]:
    return {r["name"] for r in rows}


def test_reads_page_by_page_following_next_links(crm: DataverseConnector) -> None:
    total = sum(len(p) for p in crm.read("accounts", select=["name"]))
    before = crm.stats["requests"]
    pages = list(crm.read("accounts", select=["name", "accountnumber"], page_size=7))
    assert len(pages) == -(-total // 7) > 1
    assert all(len(p) <= 7 for p in pages)
    assert sum(len(p) for p in pages) == total
    assert crm.stats["requests"] - before == len(pages)


def test_reads_by_values_into_several_tables_go_in_one_request(crm: DataverseConnector) -> None:
    """A chunk's lookups (a product's currency, unit group and unit) in one ``$batch``, each
    answered with its own rows; a table read by many values still gets all of them."""
    many = [f"NOPE-{n:04d}" for n in range(450)] + ["Default Unit"]  # three In queries
    before = crm.stats["requests"]
    currencies, groups, units = crm.read_by_values_many(
        [
            ValuesQuery("transactioncurrencies", "isocurrencycode", ["USD", "XXX"], ["isocurrencycode"]),
            ValuesQuery("uomschedules", "name", many, ["name", "uomscheduleid"]),
            ValuesQuery("uoms", "name", ["Primary Unit", "ea"], ["name", "uomid"]),
        ]
    )
    assert crm.stats["requests"] - before == 1
    assert [r["isocurrencycode"] for r in currencies] == ["USD"]
    assert [r["name"] for r in groups] == ["Default Unit"] and uuid.UUID(groups[0]["uomscheduleid"])
    assert sorted(r["name"] for r in units) == ["Primary Unit", "ea"]
    assert crm.read_by_values_many([]) == []


def test_read_with_filter_and_orderby(crm: DataverseConnector) -> None:
    rows = [
        r
        for page in crm.read("accounts", select=["name"], filter="startswith(name,'A')", orderby="name desc")
        for r in page
    ]
    assert rows and all(r["name"].startswith("A") for r in rows)
    assert [r["name"] for r in rows] == sorted((r["name"] for r in rows), reverse=True)


def test_changes_need_change_tracking(crm: DataverseConnector) -> None:
    with pytest.raises(PrerequisiteError) as info:
        crm.changes("accounts", select=["name"])
    assert "account" in str(info.value) and "ChangeTrackingEnabled" in str(info.value)


def test_change_tracking_returns_changes_deletes_and_a_new_cursor(crm: DataverseConnector) -> None:
    crm.enable_change_tracking("account")
    assert crm.change_tracking_enabled("account")
    first = crm.changes("accounts", select=["name", "accountnumber"])
    rows = [r for page in first for r in page.rows]
    assert first.full and not first.resync and first.cursor
    assert len(rows) > 5

    nothing = crm.changes("accounts", select=["name"], cursor=first.cursor)
    assert [p.rows for p in nothing] == [[]] and not nothing.full

    victim, renamed = rows[0], rows[1]
    written = crm.write(
        "accounts",
        [
            WriteOp(OpKind.UPDATE, {"accountid": renamed["accountid"]}, {"name": "Renamed Ltd"}),
            WriteOp(OpKind.CREATE, {}, {"name": "Brand New Ltd"}),
            WriteOp(OpKind.DELETE, {"accountid": victim["accountid"]}),
        ],
    )
    assert [r.action for r in written] == ["updated", "created", "deleted"], written
    delta = crm.changes("accounts", select=["name"], cursor=first.cursor)
    pages = list(delta)
    assert names([r for p in pages for r in p.rows]) == {"Renamed Ltd", "Brand New Ltd"}
    assert [d for p in pages for d in p.deleted] == [victim["accountid"]]
    assert delta.cursor and delta.cursor != first.cursor


def test_change_tracking_pages_carry_the_cursor_on_the_last_page_only(crm: DataverseConnector) -> None:
    crm.enable_change_tracking("account")
    crm.page_size = 4
    feed = crm.changes("accounts", select=["name"])
    pages = list(feed)
    assert len(pages) > 1
    assert [p.cursor is not None for p in pages] == [False] * (len(pages) - 1) + [True]


def test_an_invalid_cursor_gives_a_full_resync(crm: DataverseConnector) -> None:
    crm.enable_change_tracking("account")
    first = crm.changes("accounts", select=["name"])
    list(first)
    assert first.cursor is not None
    broken = first.cursor.split("$deltatoken=")[0] + "$deltatoken=expired"
    again = crm.changes("accounts", select=["name"], cursor=broken)
    assert again.resync and again.full
    assert sum(len(p.rows) for p in again) > 5 and again.cursor


def test_cursors_are_relative_to_the_environment_and_refused_by_another(crm: DataverseConnector) -> None:
    crm.enable_change_tracking("account")
    first = crm.changes("accounts", select=["name"])
    list(first)
    assert first.cursor is not None
    org, _, link = first.cursor.partition("|")
    assert uuid.UUID(org) and link.startswith("accounts?") and "https://" not in first.cursor
    # a delta link stored whole, as earlier versions did, still works
    legacy = crm.changes("accounts", select=["name"], cursor=str(crm._session.root) + link)
    assert not legacy.full and sum(len(p.rows) for p in legacy) == 0
    # a cursor of another organisation is refused, pointing at --full
    with pytest.raises(PrerequisiteError) as info:
        crm.changes("accounts", select=["name"], cursor=f"{uuid.UUID(int=7)}|{link}")
    assert "--full" in str(info.value)
    assert str(uuid.UUID(int=7)) in str(info.value)


def test_upsert_multiple_by_alternate_key_creates_then_updates(
    crm: DataverseConnector, account_key: str
) -> None:
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"P2C-{n:04d}"}, {"name": f"Account {n}"}) for n in range(30)]
    ops.append(WriteOp(OpKind.UPSERT, {account_key: OBRIEN}, {"name": OBRIEN}))
    before = crm.stats["requests"]
    first = crm.write("accounts", ops)
    assert all(r.ok for r in first), [r.error for r in first if not r.ok]
    assert {r.action for r in first} == {WriteAction.CREATED}
    # existence read + UpsertMultiple (+ table metadata and the message probe, once)
    assert crm.stats["requests"] - before <= 4

    again = crm.write("accounts", [WriteOp(o.kind, o.key, {"name": o.payload["name"] + " v2"}) for o in ops])
    assert [r.action for r in again] == [WriteAction.UPDATED] * len(ops)
    assert again[-1].target_key is not None and uuid.UUID(again[-1].target_key["accountid"])
    row = crm.get("accounts", {account_key: OBRIEN}, select=["name"])
    assert row is not None and row["name"] == OBRIEN + " v2"


def test_a_bad_row_fails_alone_and_its_neighbours_are_written(
    crm: DataverseConnector, account_key: str
) -> None:
    crm.isolate_at = 8
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"BULK-{n:03d}"}, {"name": f"Bulk {n}"}) for n in range(40)]
    bad = {5, 33}
    for n in bad:
        ops[n] = WriteOp(OpKind.UPSERT, ops[n].key, {"name": "x" * 200})  # name is 160 characters at most
    results = crm.write("accounts", ops)
    assert [n for n, r in enumerate(results) if not r.ok] == sorted(bad)
    for n in bad:
        error = results[n].error
        assert isinstance(error, RecordError)
        assert error.key == f"BULK-{n:03d}" and error.status == 400
        assert "length" in error.reason.lower()
    assert all(r.action == WriteAction.CREATED for n, r in enumerate(results) if n not in bad)
    found = [
        r
        for p in crm.read("accounts", select=["accountnumber"], filter="startswith(accountnumber,'BULK-')")
        for r in p
    ]
    assert len(found) == 38


def test_create_only_update_only_and_etags(crm: DataverseConnector, account_key: str) -> None:
    created = crm.write("accounts", [WriteOp(OpKind.CREATE, {account_key: "ONLY-1"}, {"name": "Only"})])
    assert created[0].action == WriteAction.CREATED
    duplicate = crm.write("accounts", [WriteOp(OpKind.CREATE, {account_key: "ONLY-1"}, {"name": "Again"})])
    assert isinstance(duplicate[0].error, RecordError) and duplicate[0].error.status == 412
    missing = crm.write("accounts", [WriteOp(OpKind.UPDATE, {account_key: "NOPE-1"}, {"name": "Ghost"})])
    assert isinstance(missing[0].error, NotFoundError)

    row = crm.get("accounts", {account_key: "ONLY-1"}, select=["name"])
    assert row is not None
    etag = row["@odata.etag"]
    ok = crm.write("accounts", [WriteOp(OpKind.UPDATE, {account_key: "ONLY-1"}, {"name": "Mine"}, etag=etag)])
    assert ok[0].action == WriteAction.UPDATED
    stale = crm.write(
        "accounts", [WriteOp(OpKind.UPDATE, {account_key: "ONLY-1"}, {"name": "Theirs"}, etag=etag)]
    )
    assert isinstance(stale[0].error, RecordError) and stale[0].error.status == 412
    assert crm.get("accounts", {account_key: "ONLY-1"}, select=["name"])["name"] == "Mine"  # type: ignore[index]


def test_lookups_bind_by_alternate_key(crm: DataverseConnector, account_key: str) -> None:
    crm.write("accounts", [WriteOp(OpKind.UPSERT, {account_key: OBRIEN}, {"name": "Parent"})])
    child = {"name": "Child", "parentaccountid@odata.bind": odata_bind("accounts", {account_key: OBRIEN})}
    results = crm.write("accounts", [WriteOp(OpKind.UPSERT, {account_key: "CHILD-1"}, child)])
    assert results[0].ok, results[0].error
    parent = crm.get("accounts", {account_key: OBRIEN}, select=["accountid"])
    row = crm.get("accounts", {account_key: "CHILD-1"}, select=["_parentaccountid_value"])
    assert parent and row and row["_parentaccountid_value"] == parent["accountid"]


def test_tables_without_upsert_multiple_fall_back_to_batch(
    sandbox, crm: DataverseConnector, account_key: str
) -> None:  # type: ignore[no-untyped-def]
    """A table the org gives no ``*Multiple`` messages: the probe says so and rows go in a ``$batch``
    of single upserts, each answered as created or updated."""
    assert crm.supports_message("UpsertMultiple", "salesorderdetail") is True  # as Dataverse's lines
    withdrawn = sandbox.admin("crm").post("settings", json={"bulk_messages": {"account": False}})
    assert withdrawn.status_code == 200 and withdrawn.json()["bulk_messages"]["account"] is False
    assert crm.supports_message("UpsertMultiple", "account") is False
    assert crm._bulk(crm.table("accounts")) is False
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"NB-{n}"}, {"name": f"No bulk {n}"}) for n in range(3)]
    before = crm.stats["requests"]
    assert [r.action for r in crm.write("accounts", ops)] == ["created"] * 3
    assert [r.action for r in crm.write("accounts", ops[:2])] == ["updated"] * 2
    assert crm.stats["requests"] - before == 2  # one $batch each
    refused = sandbox.crm().post(
        "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "x"}]},
    )
    assert refused.status_code == 400  # had p2c sent one, it would have been refused


def test_the_bulk_probe_goes_with_the_first_table_and_serves_every_later_one(
    crm: DataverseConnector, account_key: str
) -> None:
    """Metadata of a run: the first table's definition and which tables have UpsertMultiple in one
    request, every later table's definition alone (no probe per table), and the answers right."""
    before = crm.stats["requests"]
    accounts = crm.table("accounts")
    assert crm.stats["requests"] - before == 1
    lines = crm.table("salesorderdetails")
    assert crm.stats["requests"] - before == 2
    assert (accounts.logical_name, accounts.pk) == ("account", "accountid")
    assert (lines.logical_name, lines.set_name) == ("salesorderdetail", "salesorderdetails")
    written = crm.write("accounts", [WriteOp(OpKind.UPSERT, {account_key: "PROBE-1"}, {"name": "Probe"})])
    assert written[0].action is WriteAction.CREATED
    assert crm.stats["requests"] - before == 3  # the write only: the probe was answered already
    assert (accounts.bulk, lines.bulk) == (True, None)  # lines: told when written
    assert crm._bulk(lines) is True and crm.stats["requests"] - before == 3
    assert crm._bulk(crm.table("organizations")) is False and crm.stats["requests"] - before == 4


def test_get_missing_row_is_none(crm: DataverseConnector, account_key: str) -> None:
    assert crm.get("accounts", {account_key: "does not exist"}) is None
    assert crm.get("accounts", {"accountid": str(uuid.uuid4())}) is None


def test_batch_fallback_tells_created_from_updated_and_isolates_bad_rows(
    crm: DataverseConnector, account_key: str
) -> None:
    crm.table("accounts").bulk = False  # as learnt for a table without UpsertMultiple
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"FB-{n}"}, {"name": f"Fallback {n}"}) for n in range(5)]
    ops[3] = WriteOp(OpKind.UPSERT, ops[3].key, {"name": "y" * 161})
    before = crm.stats["requests"]
    first = crm.write("accounts", ops)
    assert crm.stats["requests"] - before == 1  # one $batch, continue-on-error
    assert [r.action for r in first] == ["created", "created", "created", "failed", "created"]
    assert isinstance(first[3].error, RecordError) and first[3].error.key == "FB-3"
    assert first[0].target_key and uuid.UUID(first[0].target_key["accountid"])
    second = crm.write("accounts", ops[:3])
    assert [r.action for r in second] == ["updated"] * 3


def test_metadata_columns_and_keys(crm: DataverseConnector) -> None:
    definition = crm.entity_definition("account", ["LogicalName", "EntitySetName"])
    assert definition and (definition["LogicalName"], definition["EntitySetName"]) == ("account", "accounts")
    assert crm.entity_definition("nosuchtable") is None
    crm.create_attribute(
        "account",
        {
            "@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
            "SchemaName": "p2c_IsExternallyMaintained",
            "DisplayName": {"LocalizedLabels": [{"Label": "Is externally maintained", "LanguageCode": 1033}]},
            "OptionSet": {
                "TrueOption": {
                    "Value": 1,
                    "Label": {"LocalizedLabels": [{"Label": "Yes", "LanguageCode": 1033}]},
                },
                "FalseOption": {
                    "Value": 0,
                    "Label": {"LocalizedLabels": [{"Label": "No", "LanguageCode": 1033}]},
                },
            },
        },
    )
    assert "p2c_isexternallymaintained" in {a["LogicalName"] for a in crm.attributes("account")}
    with pytest.raises(RecordError):
        crm.create_key("account", "p2c_bad", ["nosuchcolumn"])
    assert crm.keys("account") == []
    assert crm.whoami()["UserId"]
