"""The F&O connector over HTTPS against the sandbox: cross-company reads, upserts in $batch change sets."""

from __future__ import annotations

import gc
import weakref
from decimal import Decimal
from typing import Any

import pytest

from p2c.connectors import EnumLiteral, FnoConnector, OpKind, WriteAction, WriteOp, literal
from p2c.errors import NotFoundError, RecordError

OBRIEN = "O'Brien & Co"


def customer(account: str, company: str = "usmf", group: str = "10", **extra: Any) -> WriteOp:
    payload = {
        "OrganizationName": f"{account} Ltd",
        "CustomerGroupId": group,
        "SalesCurrencyCode": "USD",
        **extra,
    }
    return WriteOp(OpKind.UPSERT, {"dataAreaId": company, "CustomerAccount": account}, payload)


def test_reads_every_company_in_key_order(erp: FnoConnector) -> None:
    rows = [
        r
        for page in erp.read("CustomersV3", select=["dataAreaId", "CustomerAccount", "CreditLimit"])
        for r in page
    ]
    companies = {r["dataAreaId"] for r in rows}
    assert len(companies) > 1  # cross-company=true
    keys = [(r["dataAreaId"], r["CustomerAccount"]) for r in rows]
    assert keys == sorted(keys)
    assert all(
        isinstance(r["CreditLimit"], int | Decimal) and not isinstance(r["CreditLimit"], float) for r in rows
    )


def test_reads_follow_next_links(erp: FnoConnector, sandbox: Any) -> None:
    config = sandbox.sb.erp.config
    saved = config.erp_page_size
    config.erp_page_size = 2  # the emulated server's page size (10,000 in F&O)
    try:
        pages = list(erp.read("CustomerGroups", select=["dataAreaId", "CustomerGroupId"]))
    finally:
        config.erp_page_size = saved
    assert len(pages) > 2 and all(len(p) <= 2 for p in pages)
    keys = [(r["dataAreaId"], r["CustomerGroupId"]) for p in pages for r in p]
    assert len(keys) == len(set(keys)) and keys == sorted(keys)


def test_changes_are_a_full_read_without_cursor(erp: FnoConnector) -> None:
    feed = erp.changes("CustomerGroups", select=["dataAreaId", "CustomerGroupId"], cursor="ignored")
    pages = list(feed)
    assert feed.full and feed.cursor is None
    assert sum(len(p.rows) for p in pages) > 2 and all(p.deleted == [] for p in pages)


def test_upsert_creates_then_updates(erp: FnoConnector) -> None:
    ops = [customer(f"P2C-{n:03d}") for n in range(12)] + [customer(OBRIEN, company="USMF")]
    first = erp.write("CustomersV3", ops)
    assert [r.action for r in first] == [WriteAction.CREATED] * len(ops), [r.error for r in first]
    assert first[-1].target_key == {"dataAreaId": "usmf", "CustomerAccount": OBRIEN}

    ops2 = [WriteOp(o.kind, o.key, {**o.payload, "OrganizationName": "Renamed"}) for o in ops]
    before = erp.stats["requests"]
    second = erp.write("CustomersV3", ops2)
    assert [r.action for r in second] == [WriteAction.UPDATED] * len(ops)
    assert erp.stats["requests"] - before == 2  # one existence query, one $batch
    row = erp.get("CustomersV3", {"dataAreaId": "usmf", "CustomerAccount": OBRIEN})
    assert row is not None and row["OrganizationName"] == "Renamed"


def test_a_bad_customer_group_fails_alone_with_the_infolog_reason(erp: FnoConnector) -> None:
    ops = [customer(f"GRP-{n}") for n in range(6)]
    ops[2] = customer("GRP-2", group="99")
    results = erp.write("CustomersV3", ops)
    assert [r.ok for r in results] == [True, True, False, True, True, True]
    error = results[2].error
    assert isinstance(error, RecordError)
    assert error.key == "dataAreaId=usmf,CustomerAccount=GRP-2"
    assert "99" in error.reason and "Infolog" not in error.reason and "Warning:" not in error.reason
    assert "Infolog" in str(error.detail)
    filt = f"CustomerAccount eq {literal('GRP-*')}"
    written = [r for p in erp.read("CustomersV3", select=["CustomerAccount"], filter=filt) for r in p]
    assert sorted(r["CustomerAccount"] for r in written) == ["GRP-0", "GRP-1", "GRP-3", "GRP-4", "GRP-5"]


def test_create_update_and_delete_by_key(erp: FnoConnector) -> None:
    key = {"dataAreaId": "usmf", "CustomerAccount": "DEL-1"}
    payload = {"OrganizationName": "To delete", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}
    created = erp.write("CustomersV3", [WriteOp(OpKind.CREATE, key, payload)])
    assert created[0].action == WriteAction.CREATED
    duplicate = erp.write("CustomersV3", [WriteOp(OpKind.CREATE, key, payload)])
    assert isinstance(duplicate[0].error, RecordError)
    missing = erp.write(
        "CustomersV3", [WriteOp(OpKind.UPDATE, {**key, "CustomerAccount": "NOPE"}, {"OrganizationName": "x"})]
    )
    assert isinstance(missing[0].error, NotFoundError)
    gone = erp.write("CustomersV3", [WriteOp(OpKind.DELETE, key), WriteOp(OpKind.DELETE, key)])
    assert [r.action for r in gone] == [WriteAction.DELETED, WriteAction.UNCHANGED]
    assert erp.get("CustomersV3", key) is None


def test_enum_literals_filter(erp: FnoConnector) -> None:
    erp.write("CustomersV3", [customer("EXT-1", IsExternallyMaintained="Yes")])
    filt = f"IsExternallyMaintained eq {EnumLiteral('NoYes', 'Yes')}"
    rows = [r for p in erp.read("CustomersV3", select=["CustomerAccount"], filter=filt) for r in p]
    assert "EXT-1" in {r["CustomerAccount"] for r in rows}


def test_unknown_entity_set(erp: FnoConnector) -> None:
    with pytest.raises(NotFoundError):
        list(erp.read("NoSuchEntities", orderby="x"))


def test_both_connectors_meet_the_contract(erp: FnoConnector, crm: Any) -> None:
    from p2c.connectors import Connector

    assert isinstance(erp, Connector) and isinstance(crm, Connector)
    assert set(erp.stats) >= {"requests", "retries", "throttled", "bytes"}


def _hinted(op: WriteOp, exists: bool) -> WriteOp:
    return WriteOp(op.kind, op.key, op.payload, exists=exists)


def _customer_names(erp: FnoConnector, prefix: str) -> dict[str, str]:
    filt = f"CustomerAccount eq {literal(prefix + '*')}"
    rows = erp.read("CustomersV3", select=["CustomerAccount", "OrganizationName"], filter=filt)
    return {r["CustomerAccount"]: r["OrganizationName"] for page in rows for r in page}


def test_upserts_the_caller_knows_go_without_an_existence_read(erp: FnoConnector) -> None:
    """A row p2c never wrote is POSTed, a linked one PATCHed: one $batch each time, no lookup."""
    ops = [_hinted(customer(f"HNT-{n:02d}"), exists=False) for n in range(10)]
    before = erp.stats["requests"]
    first = erp.write("CustomersV3", ops)
    assert [r.action for r in first] == [WriteAction.CREATED] * 10, [r.error for r in first]
    assert erp.stats["requests"] - before == 1
    again = [_hinted(customer(o.key["CustomerAccount"], OrganizationName="Renamed"), True) for o in ops]
    before = erp.stats["requests"]
    second = erp.write("CustomersV3", again)
    assert [r.action for r in second] == [WriteAction.UPDATED] * 10
    assert erp.stats["requests"] - before == 1
    assert set(_customer_names(erp, "HNT-").values()) == {"Renamed"}


def test_a_row_there_already_is_updated_and_the_entity_then_reads_first(erp: FnoConnector) -> None:
    """A row p2c never wrote that exists (a user's customer) is PATCHed after its POST is refused,
    never doubled; the entity's later unlinked rows are looked up first, until a read finds none."""
    assert erp.write("CustomersV3", [customer("USR-01", OrganizationName="The user's")])[0].ok
    ops = [_hinted(customer(f"USR-{n:02d}"), exists=False) for n in range(4)]
    results = erp.write("CustomersV3", ops)
    created, updated = WriteAction.CREATED, WriteAction.UPDATED
    assert [r.action for r in results] == [created, updated, created, created], [r.error for r in results]
    names = _customer_names(erp, "USR-")
    assert sorted(names) == ["USR-00", "USR-01", "USR-02", "USR-03"] and names["USR-01"] == "USR-01 Ltd"
    # read first now: one lookup (finding USR-02, which exists) and one $batch, no refused POST
    before = erp.stats["requests"]
    results = erp.write("CustomersV3", [_hinted(customer("USR-02", OrganizationName="Again"), False)])
    assert results[0].action is WriteAction.UPDATED and erp.stats["requests"] - before == 2
    # a read that finds none of the unlinked rows there ends it: the next batch goes unread
    assert erp.write("CustomersV3", [_hinted(customer("USR-04"), False)])[0].action is WriteAction.CREATED
    before = erp.stats["requests"]
    assert erp.write("CustomersV3", [_hinted(customer("USR-05"), False)])[0].action is WriteAction.CREATED
    assert erp.stats["requests"] - before == 1


def test_a_linked_row_deleted_in_the_erp_is_created_again(erp: FnoConnector) -> None:
    op = customer("GONE-1")
    assert erp.write("CustomersV3", [op])[0].action is WriteAction.CREATED
    assert erp.write("CustomersV3", [WriteOp(OpKind.DELETE, op.key)])[0].action is WriteAction.DELETED
    result = erp.write("CustomersV3", [_hinted(customer("GONE-1", OrganizationName="Back"), True)])[0]
    assert result.action is WriteAction.CREATED, result.error
    assert _customer_names(erp, "GONE-") == {"GONE-1": "Back"}


def test_an_answer_is_freed_as_soon_as_it_is_dropped_not_by_the_cyclic_collector(erp: FnoConnector) -> None:
    """httpx binds a response's stream to the response: a cycle that kept every body read (a page
    of 5 000 rows, a 700 KB ``$batch`` answer) until the collector ran; with the collector run
    seldom (:data:`p2c.engine.flight.GC_YOUNG`) a full cycle's peak memory grew by 150 MiB."""
    reply = erp._session.send("GET", "CustomerGroups", params={"cross-company": "true"})
    assert reply.response.status_code == 200 and reply.response.json()["value"]
    gone = weakref.ref(reply.response)
    gc.disable()
    try:
        del reply
        assert gone() is None
    finally:
        gc.enable()
