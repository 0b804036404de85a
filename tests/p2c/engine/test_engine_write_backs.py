"""An order's write-backs to the CRM — its lines' numbers and the derived products flag — reach the
CRM as one update per row per run, each keeping its own outcome; a refused update fails every
write-back it carried, saying which and why. An account's generated number, refused, keeps the
account from the ERP.

Over HTTPS against the sandbox. What the CRM received is counted inside the sandbox (every request
its Dataverse service handles, ``$batch`` parts included), not taken from what p2c says it sent.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from engine_helpers import crm_rows, erp_rows, numberless_accounts
from test_engine_p2c_orders import add_line, new_order, orders_project  # noqa: F401 (fixture)
from test_engine_p2c_quotes import external_products

from p2c.connectors import OpKind, WriteOp
from p2c.engine import RunReport
from p2c.engine.writes import coalesce
from p2c.flows import SideWrite, SideWriteKind
from p2c.settings import System
from p2c.store import Action, OutcomeRecord, RunStatus
from p2c_sandbox.http import Request, Response

FLAG = "p2c_hasexternallymaintainedproductsonly"
GUID = re.compile(r"\(([0-9a-f-]{36})\)")


class Received:
    """The write requests the sandbox's CRM handled, by (method, entity set, row id); a row's
    update inside an ``UpdateMultiple`` counts as its PATCH (one update of the row either way)."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.handle: Callable[[Request], Response] = service.handle
        self.seen: Counter[tuple[str, str, str]] = Counter()
        self.before: dict[str, Callable[[], None]] = {}  # row id → what happens just before its PATCH

    def __call__(self, req: Request) -> Response:
        if req.method == "POST" and req.path.endswith("UpdateMultiple"):  # updates by id, in bulk
            entity_set = req.path.split("/")[0]
            pk = entity_set[:-1] + "id"  # salesorders → salesorderid
            for target in json.loads(req.body or b"{}").get("Targets", []):
                self.seen[("PATCH", entity_set, str(target.get(pk)))] += 1
                if str(target.get(pk)) in self.before:
                    self.before.pop(str(target.get(pk)))()
        found = GUID.search(req.path)
        if req.method in ("PATCH", "POST", "PUT", "DELETE") and found:
            row = found.group(1)
            self.seen[(req.method, req.path.split("(")[0], row)] += 1
            if req.method == "PATCH" and row in self.before:
                self.before.pop(row)()
        return self.handle(req)

    def patches(self, entity_set: str, row: str) -> int:
        return self.seen[("PATCH", entity_set, row)]


@pytest.fixture
def received(orders_project: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Received]:  # noqa: F811
    service = orders_project.sandbox.crm_service
    counter = Received(service)
    # the service's own handler: ``$batch`` parts come through it too
    monkeypatch.setattr(service, "handle", counter)
    yield counter


def _numberless_order(crm: Any, quantities: list[int]) -> tuple[str, list[str]]:
    """An activated order whose lines have no sequence number (as migrated ones may): (order, lines)."""
    products = external_products(crm)
    order, _number = new_order(crm, [])
    lines = [add_line(crm, order, {"product": products[i], "quantity": q}) for i, q in enumerate(quantities)]
    for line in lines:
        r = crm.patch(f"salesorderdetails({line})", json={"sequencenumber": None})
        assert r.status_code == 204, r.text
    return order, lines


def _run(world: Any, order: str, *tasks: str) -> tuple[RunReport, list[OutcomeRecord]]:
    """Run ``tasks``: the report, and the outcomes recorded for ``order`` (side writes included)."""
    with world.open() as h:
        report = h.run(*tasks)
        side = [o for o in h.store.outcomes(report.run_id, operations=True) if o.source_key == order]
    return report, side


def test_a_lines_number_and_flag_reach_the_crm_as_one_update_of_the_row(
    orders_project: Any,  # noqa: F811
    received: Received,
) -> None:
    world = orders_project
    crm = world.crm()
    order, lines = _numberless_order(crm, [1, 2])
    received.seen.clear()
    report, side = _run(world, order, "OrderHeader", "OrderLine")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    # each line: numbered and flagged — two write-backs, each recorded — in one PATCH
    for line in lines:
        assert received.patches("salesorderdetails", line) == 1, received.seen
        mine = sorted(o.operation or "" for o in side if o.target_key == f"salesorderdetails {line}")
        assert mine == [SideWriteKind.LINE_NUMBER, SideWriteKind.PRODUCTS_FLAG]
    assert received.patches("salesorders", order) == 1, received.seen  # the header's flag
    assert all(o.action is Action.UPDATED for o in side), side
    got = crm_rows(crm, "salesorderdetails", ["sequencenumber", FLAG], f"_salesorderid_value eq {order}")
    assert sorted((r["sequencenumber"], r[FLAG]) for r in got) == [(1, True), (2, True)]

    # the values are there now: the next run writes nothing back
    received.seen.clear()
    with world.open() as h:
        again = h.run("OrderHeader", "OrderLine")
    assert sum(t.side_writes for t in again.tasks) == 0, again.tasks
    assert not [k for k in received.seen if k[0] == "PATCH"], received.seen


def test_a_refused_update_fails_every_write_back_it_carried(
    orders_project: Any,  # noqa: F811
    received: Received,
) -> None:
    world = orders_project
    crm = world.crm()
    order, lines = _numberless_order(crm, [1, 2])
    gone = lines[0]
    received.seen.clear()
    # a user deletes the line while p2c runs: between p2c's read and its write-back
    received.before[gone] = lambda: _delete_line(received, gone)
    report, side = _run(world, order, "OrderHeader")
    # one update of the row, carrying both write-backs: in the lines' UpdateMultiple, refused all
    # or nothing, then alone to tell which row it was (the other line's went through alone)
    assert received.patches("salesorderdetails", gone) == 2, received.seen
    assert received.patches("salesorderdetails", lines[1]) == 2, received.seen
    failed = {o.operation: o for o in side if o.target_key == f"salesorderdetails {gone}"}
    assert set(failed) == {SideWriteKind.LINE_NUMBER, SideWriteKind.PRODUCTS_FLAG}, side
    for kind, other in (
        (SideWriteKind.LINE_NUMBER, "write the derived products flag back"),
        (SideWriteKind.PRODUCTS_FLAG, "number the line"),
    ):
        o = failed[kind]
        assert o.action is Action.FAILED, o
        message = o.message or ""
        assert "salesorderdetails" in message and order in message, message  # entity and record
        assert "could not" in message and "does not exist" in message.lower(), message  # the reason
        assert f"one update of the row, which would also {other}" in message, message
    # the other line's write-backs and the header's went through; a write-back does not block its order
    kept = [o for o in side if o.target_key != f"salesorderdetails {gone}"]
    assert kept and all(o.action is Action.UPDATED for o in kept), kept
    assert report.tasks[0].created == 1, report.tasks


def test_an_account_whose_number_the_crm_refuses_is_not_written_and_the_others_are(
    orders_project: Any,  # noqa: F811
    received: Received,
) -> None:
    """A number write-back blocks its record: refused (the account deleted between p2c's read and
    its write-back), the account fails, naming why, and goes no further; the page's other new
    account is numbered and written."""
    world = orders_project
    crm = world.crm()
    ids = numberless_accounts(crm)
    gone, kept = ids
    received.before[gone] = lambda: _delete_row(received, "accounts", gone)
    with world.open() as h:
        report = h.run("Accounts")
        outcomes = {o.source_key: o for o in h.store.outcomes(report.run_id) if o.source_key in ids}
        erp_accounts = {
            r["CustomerAccount"] for p in h.erp.read("CustomersV3", select=["CustomerAccount"]) for r in p
        }
    # the bulk update failed as a whole, then each row went on its own
    assert received.patches("accounts", gone) >= 1 and received.patches("accounts", kept) >= 1, received.seen
    failed = outcomes[gone]
    assert failed.action is Action.FAILED, failed
    assert failed.field == "accountnumber" and "could not write the generated number" in (
        failed.message or ""
    )
    (task,) = report.tasks
    assert task.failed == 1 and task.created == 1, task
    number = crm_rows(crm, "accounts", ["accountnumber"], f"accountid eq {kept}")[0]["accountnumber"]
    assert outcomes[kept].action is Action.CREATED and number in erp_accounts


def _new_accounts(crm: Any, label: str, count: int) -> tuple[list[str], str]:
    """``count`` new CRM accounts with a number (``P2C-<label>-n``) and one without: the numbers,
    and the numberless one's id."""
    numbers = [f"P2C-{label}-{n}" for n in range(count)]
    for number in numbers:
        r = crm.post("accounts", json={"name": f"{label.title()} {number}", "accountnumber": number})
        assert r.status_code == 204, r.text
    (new,) = numberless_accounts(crm, [f"Numberless {label.title()}"])
    return numbers, new


def test_accounts_with_a_number_go_to_the_erp_while_the_others_numbers_are_written_back(
    orders_project: Any,  # noqa: F811
    received: Received,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page's accounts that have a number wait for no write-back: with every CRM request 300 ms
    slow and the ERP quick, the ERP has the numbered accounts before the CRM takes the new
    account's number (written after it, they would reach the ERP only after its answer); then
    every account is written, the new one with its generated number."""
    world = orders_project
    crm = world.crm()
    numbers, new = _new_accounts(crm, "AHEAD", 3)
    erp = world.sandbox.erp_service
    handle = erp.handle
    when: dict[str, float] = {}

    def erp_handle(req: Request) -> Response:
        if req.method == "POST" and all(n.encode() in (req.body or b"") for n in numbers):
            when.setdefault("erp", time.monotonic())  # the $batch of the three (one chunk)
        return handle(req)

    monkeypatch.setattr(erp, "handle", erp_handle)
    received.before[new] = lambda: when.setdefault("write-back", time.monotonic())
    world.sandbox.admin("crm").put("faults", json={"latency_ms": 300}).raise_for_status()
    try:
        with world.open() as h:
            report = h.run("Accounts")
            outcomes = {o.source_key: o for o in h.store.outcomes(report.run_id)}
            erp_accounts = {
                r["CustomerAccount"] for p in h.erp.read("CustomersV3", select=["CustomerAccount"]) for r in p
            }
    finally:
        world.sandbox.admin("crm").put("faults", json={"latency_ms": 0}).raise_for_status()
    assert when["erp"] < when["write-back"], when
    (task,) = report.tasks
    assert task.failed == 0, [o.message for o in outcomes.values() if o.action is Action.FAILED]
    number = crm_rows(crm, "accounts", ["accountnumber"], f"accountid eq {new}")[0]["accountnumber"]
    assert number and outcomes[new].action is Action.CREATED
    assert {*numbers, number} <= erp_accounts


def test_a_pages_accounts_go_to_the_erp_in_whole_requests_around_the_write_backs(
    orders_project: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The numbered accounts of a page go before the write-backs and the others after them; the
    cut leaves no part-full request before them: 7 numbered accounts and 1 without a number, 3 a
    request, take 3 requests (3 and 3, then the seventh with the new one), not 4 (3, 3, 1, then 1)."""
    world = orders_project
    world.write(settings={"batch_size": 3, "concurrency": 1})
    crm = world.crm()
    numbers, new = _new_accounts(crm, "WHOLE", 7)
    erp = world.sandbox.erp_service
    handle = erp.handle
    sent: list[int] = []  # customers per $batch

    def erp_handle(req: Request) -> Response:
        if req.method == "POST" and req.path.endswith("$batch"):
            customers = (req.body or b"").count(b"POST ")
            if customers:
                sent.append(customers)
        return handle(req)

    monkeypatch.setattr(erp, "handle", erp_handle)
    with world.open() as h:
        report = h.run("Accounts")
    (task,) = report.tasks
    assert task.failed == 0 and task.created == 8, task
    assert sorted(sent) == [2, 3, 3], sent
    number = crm_rows(crm, "accounts", ["accountnumber"], f"accountid eq {new}")[0]["accountnumber"]
    erp_accounts = {r["CustomerAccount"] for r in erp_rows(world.erp(), "CustomersV3", ["CustomerAccount"])}
    assert {*numbers, number} <= erp_accounts


def _delete_row(received: Received, entity_set: str, row: str) -> None:
    root = received.service.root_path
    response = received.handle(Request("DELETE", f"{entity_set}({row})", service_root=root))
    assert response.status == 204, response.body


def _delete_line(received: Received, line: str) -> None:
    root = received.service.root_path
    response = received.handle(Request("DELETE", f"salesorderdetails({line})", service_root=root))
    assert response.status == 204, response.body


def _w(
    kind: SideWriteKind, entity: str, op_kind: OpKind, key: dict[str, Any], payload: dict[str, Any]
) -> SideWrite:
    return SideWrite(kind, System.CRM, entity, WriteOp(op_kind, key, payload), str(kind), record="H")


def test_updates_of_one_row_merge_in_the_place_of_the_last_and_nothing_else_does() -> None:
    line = {"salesorderdetailid": "AB"}
    number = _w(SideWriteKind.LINE_NUMBER, "salesorderdetails", OpKind.UPDATE, line, {"sequencenumber": 1})
    header = _w(
        SideWriteKind.PRODUCTS_FLAG, "salesorders", OpKind.UPDATE, {"salesorderid": "H"}, {FLAG: True}
    )
    flag = _w(
        SideWriteKind.PRODUCTS_FLAG,
        "salesorderdetails",
        OpKind.UPDATE,
        {"salesorderdetailid": "ab"},
        {FLAG: True},
    )
    again = _w(SideWriteKind.PRODUCTS_FLAG, "salesorderdetails", OpKind.UPDATE, line, {FLAG: False})
    create = _w(SideWriteKind.FREIGHT_TAX_LINE, "salesorderdetails", OpKind.CREATE, line, {"priceperunit": 1})
    units = coalesce([number, header, flag, again, create, create])
    assert [u.carried for u in units] == [(header,), (number, flag, again), (create,), (create,)]
    # the later value of a field wins, as sending them in turn would have left it
    assert units[1].op.payload == {"sequencenumber": 1, FLAG: False}
    assert units[1].op.key == line
    # an update made conditional on another version of the row is not merged with one that is not
    pinned = SideWrite(
        SideWriteKind.LINE_NUMBER,
        System.CRM,
        "salesorderdetails",
        WriteOp(OpKind.UPDATE, line, {}, etag='W/"7"'),
        "x",
    )
    assert len(coalesce([number, pinned])) == 2
    assert [u.carried for u in coalesce([number, pinned, flag])] == [(number,), (pinned,), (flag,)]
    # nor across another kind of write to the row: the order of a delete and the updates stays
    delete = _w(SideWriteKind.FREIGHT_TAX_LINE, "salesorderdetails", OpKind.DELETE, line, {})
    assert [u.carried for u in coalesce([number, delete, flag])] == [(number,), (delete,), (flag,)]
