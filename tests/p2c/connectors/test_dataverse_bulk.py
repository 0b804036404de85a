"""Dataverse bulk messages chosen from what the caller knows, and the HTTP semaphore.

Rows the caller never wrote go as ``CreateMultiple``, rows it wrote before as ``UpsertMultiple``
without an existence read; updates by id as ``UpdateMultiple``. Each bad row still gets its own
error, and no row is lost or written twice. Against the sandbox over HTTPS.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from connector_helpers import admin, faults

from p2c.connectors import DataverseConnector, OpKind, WriteAction, WriteOp
from p2c.errors import NotFoundError, RecordError


def _rows(crm: DataverseConnector, prefix: str) -> dict[str, str]:
    flt = f"startswith(accountnumber,'{prefix}')"
    return {
        r["accountnumber"]: r["name"]
        for p in crm.read("accounts", select=["accountnumber", "name"], filter=flt)
        for r in p
    }


def _warm(crm: DataverseConnector, key: str, *, new_rows_exist: bool | None = False) -> None:
    """Table metadata and the message probe, read once per connector, out of the counts; then
    what the table is to have learnt about rows new to the caller (``False``: they are new)."""
    crm.write("accounts", [WriteOp(OpKind.UPSERT, {key: "WARM-0"}, {"name": "Warm"})])
    crm.table("accounts").new_rows_exist = new_rows_exist


def test_known_new_rows_are_created_and_known_rows_updated_in_one_request_each(
    crm: DataverseConnector, account_key: str
) -> None:
    _warm(crm, account_key)
    new = [
        WriteOp(OpKind.UPSERT, {account_key: f"HINT-{n:03d}"}, {"name": f"Hint {n}"}, exists=False)
        for n in range(50)
    ]
    before = crm.stats["requests"]
    first = crm.write("accounts", new)
    assert crm.stats["requests"] - before == 1  # one CreateMultiple, no existence read
    assert [r.action for r in first] == [WriteAction.CREATED] * 50
    assert all(r.target_key and uuid.UUID(r.target_key["accountid"]) for r in first)  # the Ids answered

    linked = [WriteOp(o.kind, o.key, {"name": o.payload["name"] + " v2"}, exists=True) for o in new]
    before = crm.stats["requests"]
    again = crm.write("accounts", linked)
    assert crm.stats["requests"] - before == 1  # one UpsertMultiple, no existence read
    assert [r.action for r in again] == [WriteAction.UPDATED] * 50
    assert _rows(crm, "HINT-") == {f"HINT-{n:03d}": f"Hint {n} v2" for n in range(50)}


def test_a_row_that_exists_unknown_to_the_caller_falls_back_without_loss_or_duplicate(
    crm: DataverseConnector, account_key: str
) -> None:
    _warm(crm, account_key)
    # rows a user made, or a run killed after writing and before saving its links
    there = crm.write(
        "accounts", [WriteOp(OpKind.UPSERT, {account_key: f"FALL-{n:02d}"}, {"name": "Old"}) for n in (3, 11)]
    )
    assert all(r.ok for r in there)
    ops = [
        WriteOp(OpKind.UPSERT, {account_key: f"FALL-{n:02d}"}, {"name": f"Fall {n}"}, exists=False)
        for n in range(20)
    ]
    before = crm.stats["requests"]
    results = crm.write("accounts", ops)
    # CreateMultiple refused (duplicate key: the table had shown new rows to be new), then the
    # read of the chunk's keys and the UpsertMultiple in one $batch
    assert crm.stats["requests"] - before == 2
    assert crm.table("accounts").new_rows_exist is True  # the next chunks read first
    actions = {n: r.action for n, r in enumerate(results)}
    assert actions == {n: WriteAction.UPDATED if n in (3, 11) else WriteAction.CREATED for n in range(20)}
    assert _rows(crm, "FALL-") == {f"FALL-{n:02d}": f"Fall {n}" for n in range(20)}  # 20 rows, once each


def test_a_create_multiple_whose_answer_was_lost_is_created_once_and_reported_created(
    sandbox: Any, crm: DataverseConnector, account_key: str
) -> None:
    _warm(crm, account_key)
    ops = [
        WriteOp(OpKind.UPSERT, {account_key: f"LOST-{n:02d}"}, {"name": f"Lost {n}"}, exists=False)
        for n in range(12)
    ]
    faults(sandbox, "crm", drop_every=2)  # every second answer cut off, once the request was done
    try:
        crm.get("accounts", {account_key: "WARM-0"}, select=["name"])  # the first request goes through
        results = crm.write("accounts", ops)  # its answer dropped: sent again, "already exists"
    finally:
        faults(sandbox, "crm")
    assert crm.stats["retries"] > 0
    assert [r.action for r in results] == [WriteAction.CREATED] * 12
    assert all(r.target_key and r.target_key.get("accountid") for r in results)
    assert _rows(crm, "LOST-") == {f"LOST-{n:02d}": f"Lost {n}" for n in range(12)}


def test_after_new_rows_were_found_existing_chunks_read_first_until_they_are_new_again(
    crm: DataverseConnector, account_key: str
) -> None:
    """A CRM that held the records before the first sync: not a refused CreateMultiple per chunk."""
    _warm(crm, account_key, new_rows_exist=None)  # as for a new connector: not learnt yet

    def chunk(prefix: str, n: int = 10) -> list[WriteOp]:
        return [
            WriteOp(OpKind.UPSERT, {account_key: f"SEEN{prefix}-{i}"}, {"name": prefix}, exists=False)
            for i in range(n)
        ]

    crm.write(
        "accounts", [WriteOp(OpKind.UPSERT, {account_key: f"SEEN{p}-0"}, {"name": "Old"}) for p in "AB"]
    )
    spent = []
    for prefix in ("A", "B", "C", "D"):  # A and B hold a row already, C and D do not
        before = crm.stats["requests"]
        results = crm.write("accounts", chunk(prefix))
        spent.append(crm.stats["requests"] - before)
        assert [r.action for r in results][:2] == [
            WriteAction.UPDATED if prefix in "AB" else WriteAction.CREATED,
            WriteAction.CREATED,
        ]
    # A: not learnt yet, read + upsert in one $batch (a row there); B: read + upsert; C: read (none
    # there) + upsert; D: CreateMultiple alone, no read
    assert spent == [1, 1, 1, 1]
    assert crm.table("accounts").new_rows_exist is False
    assert all(len(_rows(crm, f"SEEN{p}-")) == 10 for p in "ABCD")


def test_upserts_without_the_hint_read_and_write_in_one_request_and_say_created_or_updated(
    crm: DataverseConnector, account_key: str
) -> None:
    """The existence read goes in the UpsertMultiple's $batch, before it: it sees the rows as they were."""
    _warm(crm, account_key)
    crm.write(
        "accounts",
        [WriteOp(OpKind.UPSERT, {account_key: f"FOLD-{n:04d}"}, {"name": "Old"}) for n in (7, 900)],
    )
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"FOLD-{n:04d}"}, {"name": f"Fold {n}"}) for n in range(1000)]
    before = crm.stats["requests"]
    results = crm.write("accounts", ops)
    assert crm.stats["requests"] - before == 1  # reads of 1 000 keys and the UpsertMultiple: one $batch
    actions = {n: r.action for n, r in enumerate(results)}
    assert actions == {n: WriteAction.UPDATED if n in (7, 900) else WriteAction.CREATED for n in range(1000)}
    assert results[7].target_key and uuid.UUID(results[7].target_key["accountid"])  # the id read
    assert _rows(crm, "FOLD-") == {f"FOLD-{n:04d}": f"Fold {n}" for n in range(1000)}


def test_the_existence_read_asks_by_in_and_finds_keys_in_any_case_and_spelling(
    crm: DataverseConnector, http: httpx.Client, account_key: str
) -> None:
    """The folded existence read names the keys in one Microsoft.Dynamics.CRM.In list, not a chain
    of ``or``-ed equalities; it finds rows whose key differs only in case, and keys holding quotes,
    an ampersand, a slash and non-ASCII letters."""
    _warm(crm, account_key)
    odd = [f'IN-O\'B "Q"&/ä-{n}' for n in range(6)]  # accountnumber holds 20 characters
    crm.write(
        "accounts", [WriteOp(OpKind.UPSERT, {account_key: k.upper()}, {"name": "Old"}) for k in odd[:3]]
    )
    bodies: list[bytes] = []
    http.event_hooks = {"request": [lambda r: bodies.append(r.read())], "response": []}
    try:
        results = crm.write(
            "accounts",
            [WriteOp(OpKind.UPSERT, {account_key: k}, {"name": f"New {n}"}) for n, k in enumerate(odd)],
        )
    finally:
        http.event_hooks = {"request": [], "response": []}
    assert [r.action for r in results] == [WriteAction.UPDATED] * 3 + [WriteAction.CREATED] * 3, [
        str(r.error) for r in results
    ]
    sent = b"".join(bodies)
    assert b"Microsoft.Dynamics.CRM.In(" in sent and b"%20or%20" not in sent and b" or " not in sent
    held = _rows(crm, "IN-")
    assert sorted(held.values()) == [f"New {n}" for n in range(6)]  # the existing three updated, none doubled


def test_a_bad_row_in_a_folded_upsert_fails_alone_and_the_others_say_created_or_updated(
    crm: DataverseConnector, account_key: str
) -> None:
    crm.isolate_at = 4
    _warm(crm, account_key)
    crm.write("accounts", [WriteOp(OpKind.UPSERT, {account_key: "FBAD-02"}, {"name": "Old"})])
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"FBAD-{n:02d}"}, {"name": f"Bad {n}"}) for n in range(16)]
    ops[9] = WriteOp(OpKind.UPSERT, ops[9].key, {"name": "x" * 500})  # longer than the column allows
    results = crm.write("accounts", ops)
    assert not results[9].ok and isinstance(results[9].error, RecordError)
    expected = {n: WriteAction.UPDATED if n == 2 else WriteAction.CREATED for n in range(16) if n != 9}
    assert {n: r.action for n, r in enumerate(results) if n != 9} == expected
    assert set(_rows(crm, "FBAD-")) == {f"FBAD-{n:02d}" for n in range(16) if n != 9}


def test_a_bad_row_among_new_ones_fails_alone(crm: DataverseConnector, account_key: str) -> None:
    crm.isolate_at = 4
    ops = [
        WriteOp(OpKind.UPSERT, {account_key: f"NEWBAD-{n:02d}"}, {"name": f"New {n}"}, exists=False)
        for n in range(24)
    ]
    ops[17] = WriteOp(OpKind.UPSERT, ops[17].key, {"name": "z" * 200}, exists=False)  # 160 at most
    results = crm.write("accounts", ops)
    assert [n for n, r in enumerate(results) if not r.ok] == [17]
    assert isinstance(results[17].error, RecordError) and results[17].error.key == "NEWBAD-17"
    assert all(r.action is WriteAction.CREATED for n, r in enumerate(results) if n != 17)
    assert len(_rows(crm, "NEWBAD-")) == 23


def test_updates_by_id_go_as_update_multiple_and_a_bad_row_gets_its_own_error(
    crm: DataverseConnector, account_key: str
) -> None:
    _warm(crm, account_key)  # rows new to the caller are new: CreateMultiple, which answers their ids
    crm.isolate_at = 4
    created = crm.write(
        "accounts",
        [
            WriteOp(OpKind.UPSERT, {account_key: f"UPD-{n:02d}"}, {"name": f"Upd {n}"}, exists=False)
            for n in range(30)
        ],
    )
    ids = [r.target_key["accountid"] for r in created if r.target_key]
    assert len(ids) == 30

    def update(n: int, name: str) -> WriteOp:
        return WriteOp(OpKind.UPDATE, {"accountid": ids[n]}, {"name": name}, ref=n)

    before = crm.stats["requests"]
    good = crm.write("accounts", [update(n, f"Upd {n} v2") for n in range(30)])
    assert crm.stats["requests"] - before == 1  # one UpdateMultiple
    assert [r.action for r in good] == [WriteAction.UPDATED] * 30

    ops = [update(n, f"Upd {n} v3") for n in range(30)]
    ops[8] = update(8, "q" * 200)  # too long
    ghost = str(uuid.UUID(int=99))
    ops[25] = WriteOp(OpKind.UPDATE, {"accountid": ghost}, {"name": "Ghost"}, ref=25)  # no such row
    results = crm.write("accounts", ops)
    assert [n for n, r in enumerate(results) if not r.ok] == [8, 25]
    # the refused UpdateMultiple fell back to single PATCHes, which ask no row back: each result
    # still names the row it updated
    assert all(
        r.action is WriteAction.UPDATED and r.target_key == {"accountid": ids[n]}
        for n, r in enumerate(results)
        if r.ok
    )
    assert isinstance(results[8].error, RecordError) and "length" in results[8].error.reason.lower()
    assert isinstance(results[25].error, NotFoundError)
    expected = {f"UPD-{n:02d}": f"Upd {n} v3" for n in range(30)}
    expected["UPD-08"], expected["UPD-25"] = "Upd 8 v2", "Upd 25 v2"
    assert _rows(crm, "UPD-") == expected
    assert crm.get("accounts", {"accountid": ghost}) is None  # an update never creates


def test_requests_in_flight_never_exceed_concurrency(
    sandbox: Any, crm: DataverseConnector, account_key: str
) -> None:
    """Several writes at once, each on its own worker threads: the service still sees at most
    ``concurrency`` requests at a time (the sandbox counts them; its added latency keeps each
    request in flight long enough to overlap)."""
    crm.concurrency, crm.batch_size = 2, 5
    _warm(crm, account_key)
    faults(sandbox, "crm", latency_ms=150)

    def write(w: int) -> list[bool]:
        ops = [
            WriteOp(OpKind.UPSERT, {account_key: f"SEM-{w}-{n:02d}"}, {"name": "S"}, exists=False)
            for n in range(15)
        ]
        return [r.ok for r in crm.write("accounts", ops)]  # 3 requests, on 2 worker threads

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(write, range(4)))
    assert all(all(ok) for ok in done)
    with admin(sandbox, "crm") as c:
        limits = c.get("limits").json()
    assert limits["peak_in_flight"] == 2, limits  # not 8, and the slots were used
    assert len(_rows(crm, "SEM-")) == 60


def test_reads_by_many_values_are_one_request(
    crm: DataverseConnector, http: httpx.Client, account_key: str
) -> None:
    """An ``In`` query per 1 000 values, every one of them in one ``$batch``."""
    _warm(crm, account_key)
    numbers = [f"MANY-{n:04d}" for n in range(1200)]
    created = crm.write(
        "accounts", [WriteOp(OpKind.UPSERT, {account_key: k}, {"name": k}, exists=False) for k in numbers]
    )
    assert all(r.ok for r in created)
    bodies: list[bytes] = []
    http.event_hooks = {"request": [lambda r: bodies.append(r.read())], "response": []}
    try:
        before = crm.stats["requests"]
        pages = list(
            crm.read_by_values("accounts", "accountnumber", [*numbers, "MANY-NONE"], select=["name"])
        )
        spent = crm.stats["requests"] - before
    finally:
        http.event_hooks = {"request": [], "response": []}
    assert spent == 1
    assert b"".join(bodies).count(b"GET ") == 2  # 1 000 values, then 201
    assert sorted(r["name"] for p in pages for r in p) == numbers


def test_a_folded_upsert_whose_answer_was_lost_writes_each_row_once_and_does_not_guess(
    sandbox: Any, crm: DataverseConnector, account_key: str
) -> None:
    """Sent again after a lost answer, the batch's reads may see rows its first attempt wrote."""
    _warm(crm, account_key)
    crm.write("accounts", [WriteOp(OpKind.UPSERT, {account_key: "FLOST-03"}, {"name": "Old"})])
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"FLOST-{n:02d}"}, {"name": f"Lost {n}"}) for n in range(8)]
    faults(sandbox, "crm", drop_every=2)
    try:
        crm.get("accounts", {account_key: "WARM-0"}, select=["name"])  # the first request goes through
        results = crm.write("accounts", ops)  # its answer dropped: sent again
    finally:
        faults(sandbox, "crm")
    assert crm.stats["retries"] > 0
    assert [r.action for r in results] == [WriteAction.UPSERTED] * 8
    assert _rows(crm, "FLOST-") == {f"FLOST-{n:02d}": f"Lost {n}" for n in range(8)}


@pytest.mark.parametrize("chunks", [4, 6])
def test_chunks_of_rows_the_crm_holds_already_go_at_once_none_refused(
    sandbox: Any, crm: DataverseConnector, http: httpx.Client, account_key: str, chunks: int
) -> None:
    """Before a table showed whether rows new to the caller are new to it, chunks of such rows go
    as read + upsert, side by side: into a CRM that holds their rows (unlinked) no request is
    refused and none waits for another — one $batch per chunk, four in flight from the start, with
    more chunks than threads too (six on four: an engine chunk of 5 000 rows into Dataverse)."""
    _warm(crm, account_key, new_rows_exist=None)  # as for a new connector: not learnt yet
    n_rows = chunks * 10
    crm.write(
        "accounts",
        [WriteOp(OpKind.UPSERT, {account_key: f"HELD-{n:02d}"}, {"name": "Old"}) for n in range(n_rows)],
    )
    crm.batch_size = 10  # sent on four threads
    ops = [
        WriteOp(OpKind.UPSERT, {account_key: f"HELD-{n:02d}"}, {"name": f"Held {n}"}, exists=False)
        for n in range(n_rows)
    ]
    faults(sandbox, "crm", latency_ms=150)  # the chunks overlap for sure
    flight = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def sent(_request: httpx.Request) -> None:
        with lock:
            flight["now"] += 1
            flight["peak"] = max(flight["peak"], flight["now"])

    def answered(_response: httpx.Response) -> None:
        with lock:
            flight["now"] -= 1

    http.event_hooks = {"request": [sent], "response": [answered]}
    try:
        before = crm.stats["requests"]
        results = crm.write("accounts", ops)
        spent = crm.stats["requests"] - before
    finally:
        http.event_hooks = {"request": [], "response": []}
        faults(sandbox, "crm")
    assert [r.action for r in results] == [WriteAction.UPDATED] * n_rows
    assert spent == chunks  # one $batch (read + UpsertMultiple) per chunk, none refused
    assert flight["peak"] == 4, flight  # the concurrency, from the first request on
    assert crm.table("accounts").new_rows_exist is True
    assert _rows(crm, "HELD-") == {f"HELD-{n:02d}": f"Held {n}" for n in range(n_rows)}


def test_chunks_of_new_rows_are_created_once_each_and_teach_the_table_they_are_new(
    crm: DataverseConnector, account_key: str
) -> None:
    _warm(crm, account_key, new_rows_exist=None)
    crm.batch_size = 10
    ops = [
        WriteOp(OpKind.UPSERT, {account_key: f"FRESH-{n:02d}"}, {"name": f"Fresh {n}"}, exists=False)
        for n in range(40)
    ]
    before = crm.stats["requests"]
    results = crm.write("accounts", ops)
    assert crm.stats["requests"] - before == 4  # a read + upsert per chunk, side by side
    assert [r.action for r in results] == [WriteAction.CREATED] * 40
    assert crm.table("accounts").new_rows_exist is False
    more = [
        WriteOp(OpKind.UPSERT, {account_key: f"FRESH-{n:02d}"}, {"name": f"Fresh {n}"}, exists=False)
        for n in range(40, 60)
    ]
    before = crm.stats["requests"]
    created = crm.write("accounts", more)
    assert crm.stats["requests"] - before == 2  # now a CreateMultiple per chunk, no read
    assert [r.action for r in created] == [WriteAction.CREATED] * 20
    assert all(r.target_key and r.target_key.get("accountid") for r in created)  # the Ids answered
    assert _rows(crm, "FRESH-") == {f"FRESH-{n:02d}": f"Fresh {n}" for n in range(60)}
