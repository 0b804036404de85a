"""A task streams (p2c.engine.pipeline, p2c.engine.intake): commits interleave with the reading,
rows unchanged at their source cost no mapping, p2c's own write-backs are no change, and a
deletion never removes a target record another source record now holds."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from engine_helpers import erp_rows
from test_engine_p2c_orders import new_order, orders_project  # noqa: F401 (fixture)
from test_engine_p2c_quotes import external_products

from p2c.engine import Sender, TaskPipeline
from p2c.engine import pipeline as pipeline_module
from p2c.engine.context import RunContext
from p2c.engine.deletes import delete_records
from p2c.engine.intake import Intake
from p2c.engine.reading import Settle, SourceBatch
from p2c.engine.report import TaskReport
from p2c.engine.trial import LineTrial
from p2c.engine.writes import Batch, Recorder
from p2c.flows import SkipReason
from p2c.flows.accounts import AccountsFlow
from p2c.flows.numbers import SeenNumbers
from p2c.mapping import Mapper
from p2c.settings import System
from p2c.store import Action, Link, RunStatus, now
from p2c_sandbox.http import Request, Response

FLAG = "p2c_hasexternallymaintainedproductsonly"


class Watching(Sender):
    """The real write stage, noting each commit (how many records it recorded)."""

    def __init__(self, sender: Sender, events: list[tuple[str, int]]) -> None:
        super().__init__(sender.connectors, sender.store)
        self.events = events

    def commit(self, report: TaskReport, task_run_id: int, batch: Batch) -> None:
        self.events.append(("commit", sum(1 for o in batch.outcomes if o.operation is None)))
        super().commit(report, task_run_id, batch)


def test_a_task_commits_chunk_by_chunk_while_it_reads_holding_no_more_than_a_window(
    provisioned_project: Any,
) -> None:
    world = provisioned_project
    project = world.configure(settings={"chunks_in_flight": 2})
    page, chunk, depth = 4, 3, 2
    events: list[tuple[str, int]] = []
    with world.open(project) as h:
        h.crm.page_size = page  # the change feed in pages of 4 accounts
        conns = {System.CRM: h.crm, System.ERP: h.erp}
        ctx = RunContext.open(h.project, h.store, conns, h.redactor)
        ctx.trial = LineTrial(ctx)
        task = h.project.task("Accounts")
        run_id = h.store.start_run(h.project.name, [task.name], lease=timedelta(seconds=120))
        task_run = h.store.start_task(run_id, task.name)
        pipeline = TaskPipeline(ctx, task, Watching(Sender(conns, h.store), events), chunk=chunk)
        pages = pipeline.reader.pages

        def counted(
            select: Sequence[str], cursor: str | None, settle: Settle | None
        ) -> Iterator[SourceBatch]:
            for p in pages(select, cursor, settle):
                events.append(("read", len(p.rows) + len(p.filtered) + len(p.unchanged)))
                yield p

        pipeline.reader.pages = counted  # type: ignore[method-assign]
        report = pipeline.run(task_run)
        h.store.finish_task(task_run, report.status)
        h.store.finish_run(run_id, report.status)
        h.store.release_lock(h.project.name, run_id)
    assert report.status is RunStatus.SUCCEEDED and report.created == 30
    reads = [i for i, (kind, n) in enumerate(events) if kind == "read" and n]
    commits = [i for i, (kind, n) in enumerate(events) if kind == "commit" and n]
    assert len(reads) == 30 // page + 1
    assert commits[0] < reads[-1]  # records were committed before the read was over
    held = most = 0
    for kind, n in events:  # records read and not yet committed
        held += n if kind == "read" else -n
        most = max(most, held)
    assert held == 0  # every record committed, once
    assert most <= page + (depth + 1) * chunk, events  # a page, the window and one chunk committing


@pytest.mark.parametrize("window", [10, None])
def test_a_number_read_twice_fails_once_found_in_the_window_or_in_the_links(
    provisioned_project: Any, monkeypatch: pytest.MonkeyPatch, window: int | None
) -> None:
    """The numbers a read has seen are kept only for the rows whose links may not be committed
    (a page and the chunks in flight): the first account's number, given again to an account read
    30 rows later, is found in the links then, not in memory; with no bound, in memory."""
    world = provisioned_project
    project = world.configure(settings={"chunks_in_flight": 2})
    monkeypatch.setattr(pipeline_module, "AGAIN_PAGE", 4)  # 4 + (2 chunks in flight + 1 committing) x 3 = 13
    monkeypatch.setattr(pipeline_module, "CHUNK", 3)
    with world.open(project) as h:
        h.crm.page_size = 4
        first_page = next(iter(h.crm.changes("accounts", select=["accountid", "accountnumber"])))
        first = first_page.rows[0]
    crm = world.crm()
    if not first.get("accountnumber"):
        number = "WIN-1"
        assert crm.patch(f"accounts({first['accountid']})", json={"accountnumber": number}).status_code == 204
    else:
        number = first["accountnumber"]
    response = crm.post(
        "accounts",
        json={"name": "Twin, read last", "accountnumber": number},
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201, response.text
    twin = str(response.json()["accountid"])
    seen: list[int | None] = []
    real = SeenNumbers.__init__

    def noting(self: SeenNumbers, limit: int | None = None) -> None:
        seen.append(limit)
        real(self, limit if window else None)

    monkeypatch.setattr(SeenNumbers, "__init__", noting)
    with world.open(project) as h:
        h.crm.page_size = 4
        report = h.run("Accounts")
        failed = {o.source_key: o for o in h.store.outcomes(report.run_id, actions=[Action.FAILED])}
    assert seen == [13]
    assert set(failed) == {twin}, failed  # the first one read is written, the twin is not
    message = str(failed[twin].message)
    if window:
        assert f"already belongs to {first['accountid']}, synchronised before" in message, message
    else:
        assert "read earlier in this run" in message, message
    numbers = [
        r for r in erp_rows(world.erp(), "CustomersV3", ["CustomerAccount"]) if r["CustomerAccount"] == number
    ]
    assert len(numbers) == 1


def test_a_page_s_lookups_are_read_once_for_all_its_chunks(
    provisioned_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are small (written while the next is mapped), but a page's lookups are read for the
    whole page at once: the currency only the last chunk's account has is not asked on its own."""
    world = provisioned_project
    with world.open() as h:  # the account the feed gives last
        last = next(iter(h.crm.changes("accounts", select=["accountid"]))).rows[-1]["accountid"]
    crm = world.crm()
    eur = crm.get("transactioncurrencies", params={"$filter": "isocurrencycode eq 'EUR'"}).json()["value"]
    body = {"transactioncurrencyid@odata.bind": f"/transactioncurrencies({eur[0]['transactioncurrencyid']})"}
    assert crm.patch(f"accounts({last})", json=body).status_code == 204
    service = world.sandbox.crm_service
    handle = service.handle
    asked: list[str] = []

    def watching(req: Request) -> Response:
        if req.path.startswith("transactioncurrencies") or b"transactioncurrencies" in req.body:
            asked.append(req.path)
        return handle(req)

    monkeypatch.setattr(service, "handle", watching)
    monkeypatch.setattr(pipeline_module, "CHUNK", 3)  # 10 chunks of the one page of 30 accounts
    with world.open() as h:
        report = h.run("Accounts").tasks[0]
        linked = h.store.links("Accounts", [last])
    assert report.status is RunStatus.SUCCEEDED and report.created == 30, report
    assert len(asked) == 1, asked  # USD and EUR in one read, before the first chunk
    assert last in linked
    currencies = {r["SalesCurrencyCode"] for r in erp_rows(world.erp(), "CustomersV3", ["SalesCurrencyCode"])}
    assert {"USD", "EUR"} <= currencies


def test_the_next_page_is_read_while_a_page_is_processed(
    provisioned_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = provisioned_project
    service = world.sandbox.crm_service
    handle = service.handle
    second = threading.Event()  # the service was asked for the feed's second page

    def watching(req: Request) -> Response:
        if req.method == "GET" and req.path.startswith("accounts") and "skiptoken" in req.raw_query:
            second.set()
        return handle(req)

    waited: list[bool] = []

    def processing(flow: AccountsFlow, rows: list[dict[str, Any]]) -> list[Any]:
        if not waited:  # the first page: held until the second is asked for (or 10 s)
            waited.append(second.wait(10))
        return []

    monkeypatch.setattr(service, "handle", watching)
    monkeypatch.setattr(AccountsFlow, "before_filter", processing)
    with world.open() as h:
        h.crm.page_size = 4  # the change feed in pages of 4 accounts
        report = h.run("Accounts").tasks[0]
    assert waited == [True]
    assert report.status is RunStatus.SUCCEEDED and report.created == 30, report


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source rows the mappers map (the real mapper, counted)."""
    calls: list[str] = []
    original = Mapper.map

    def counting(self: Mapper, row: dict[str, Any], related: Any) -> dict[str, Any]:
        calls.append(self.task.name)
        return original(self, row, related)

    monkeypatch.setattr(Mapper, "map", counting)
    return calls


def test_rows_unchanged_at_the_source_and_p2c_write_backs_are_not_mapped(
    provisioned_project: Any, mapped: list[str]
) -> None:
    world = provisioned_project
    with world.open() as h:
        first = h.run("Accounts", "Products")
        assert first.status is RunStatus.SUCCEEDED
        assert mapped.count("Accounts") == 30 and mapped.count("Products") > 0
        mapped.clear()
        # the 15 numbers written back changed those accounts in the CRM: the task read them back
        # as it ended (Intake.catch_up), unchanged, so the next run has no account to read; the
        # ERP products are read whole again: unchanged, unmapped
        again = h.run("Accounts", "Products")
        accounts, products = again.tasks
        assert accounts.read == 0, accounts
        assert products.read > 0 and products.unchanged == products.read, products
        assert mapped == []
    crm = world.crm()
    row = crm.get("accounts", params={"$select": "accountid", "$top": "1"}).json()["value"][0]
    crm.patch(f"accounts({row['accountid']})", json={"name": "Renamed by a person"}).raise_for_status()
    with world.open() as h:
        changed = h.run("Accounts").tasks[0]
        assert (changed.updated, changed.unchanged, mapped.count("Accounts")) == (1, 0, 1), changed
        mapped.clear()
        full = h.run("Accounts", full=True).tasks[0]  # --full maps (and writes) every record
    assert mapped.count("Accounts") == 30 and full.failed == 0


def test_write_backs_are_left_in_the_feed_when_a_person_changed_a_record_meanwhile(
    provisioned_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read past a task's own write-backs moves its cursor only over rows all unchanged: an
    account a person renamed while the task ran (after its read, before that feed is read) stays
    in the feed, and so do the write-backs."""
    world = provisioned_project
    crm = world.crm()
    row = crm.get("accounts", params={"$select": "accountid", "$top": "1"}).json()["value"][0]
    renamed: list[str] = []
    catch_up = Intake.catch_up

    def rename_first(intake: Intake, cursor: str) -> Any:
        crm.patch(f"accounts({row['accountid']})", json={"name": "Renamed meanwhile"}).raise_for_status()
        renamed.append(row["accountid"])
        return catch_up(intake, cursor)

    monkeypatch.setattr(Intake, "catch_up", rename_first)
    with world.open() as h:
        assert h.run("Accounts").tasks[0].created == 30
        monkeypatch.setattr(Intake, "catch_up", catch_up)
        again = h.run("Accounts").tasks[0]
    assert renamed and again.updated == 1 and again.read >= 15, again


def test_a_change_made_while_the_last_chunks_are_written_is_not_lost(provisioned_project: Any) -> None:
    """The feed past a task's own write-backs is read while its last chunks are written: an
    account a person renames after that read (as the chunk's commit reports progress) is past the
    cursor the task keeps, so the next run reads it — that one alone — and writes it."""
    world = provisioned_project
    crm = world.crm()
    row = crm.get("accounts", params={"$select": "accountid", "$top": "1"}).json()["value"][0]
    renamed: list[str] = []

    def rename(report: TaskReport) -> None:
        if not renamed:  # once the first chunk is written: after the read, before the task ends
            crm.patch(f"accounts({row['accountid']})", json={"name": "Renamed meanwhile"}).raise_for_status()
            renamed.append(row["accountid"])

    with world.open() as h:
        h.engine.progress = rename
        assert h.run("Accounts").tasks[0].created == 30
        h.engine.progress = None
        again = h.run("Accounts").tasks[0]
    assert renamed and again.updated == 1, again
    customer = erp_rows(world.erp(), "CustomersV3", ["CustomerAccount", "OrganizationName"])
    assert "Renamed meanwhile" in {c["OrganizationName"] for c in customer}


def test_an_order_back_in_the_feed_only_for_p2cs_write_back_costs_no_read_of_its_lines(
    orders_project: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = orders_project
    crm = world.crm()
    order, _number = new_order(crm, [{"product": external_products(crm)[0], "quantity": 1}])
    with world.open() as h:
        first = h.run("OrderHeader").tasks[0]
    assert first.created == 1, first
    # p2c derived the order's products flag from its lines and wrote it back: a change in the CRM
    assert crm.get(f"salesorders({order})").json()[FLAG] is True
    service = world.sandbox.crm_service
    handle = service.handle
    line_reads: list[str] = []  # reads of the order's lines, inside the sandbox ($batch parts too)

    def counting(req: Request) -> Response:
        if (
            req.method == "GET"
            and req.path.startswith("salesorderdetails")
            and order in unquote(req.raw_query)
        ):
            line_reads.append(req.raw_query)
        return handle(req)

    monkeypatch.setattr(service, "handle", counting)
    with world.open() as h:
        again = h.run("OrderHeader").tasks[0]
    # back in the change feed, unchanged as read: its lines are not read to derive the flag again
    assert (again.unchanged, again.written) == (1, 0), again
    assert line_reads == []
    crm.patch(f"salesorders({order})", json={"name": "Renamed by a person"}).raise_for_status()
    with world.open() as h:
        changed = h.run("OrderHeader").tasks[0]
    # a change of its own: the flow looks at it (its lines read); create-only, it is not written
    assert changed.written == 0 and line_reads, changed


def test_a_line_added_to_a_synced_order_is_looked_at_though_the_header_reads_the_same(
    orders_project: Any,  # noqa: F811
) -> None:
    world = orders_project
    crm = world.crm()
    order, _number = new_order(crm, [{"product": external_products(crm)[0], "quantity": 1}])
    with world.open() as h:
        assert h.run("OrderHeader").tasks[0].created == 1
    assert crm.get(f"salesorders({order})").json()[FLAG] is True
    # a write-in line: only the header's totals change, not a field the task maps
    body = {"isproductoverridden": True, "productdescription": "Write-in", "priceperunit": 10, "quantity": 1}
    line = crm.post("salesorderdetails", json={"salesorderid@odata.bind": f"/salesorders({order})", **body})
    assert line.status_code in (201, 204), line.text
    with world.open() as h:
        again = h.run("OrderHeader").tasks[0]
    # not unchanged as read: the flag is derived again (No: a write-in) and written back
    assert again.unchanged == 0 and again.side_writes > 0, again
    assert crm.get(f"salesorders({order})").json()[FLAG] is False


def test_a_record_read_again_on_purpose_is_mapped_though_its_source_did_not_change(
    provisioned_project: Any, mapped: list[str]
) -> None:
    world = provisioned_project
    with world.open() as h:
        assert h.run("Accounts").status is RunStatus.SUCCEEDED
        key = next(iter(h.store.all_links("Accounts"))).source_key
        conns = {System.CRM: h.crm, System.ERP: h.erp}
        ctx = RunContext.open(h.project, h.store, conns, h.redactor)
        mapped.clear()
        # read by its key, as a retry (or a pending record) is: mapped and compared, not skipped unread
        plan = TaskPipeline(ctx, h.project.task("Accounts"), Recorder(ctx.resolver)).run(0, only_keys={key})
    assert mapped == ["Accounts"] and plan.unchanged == 1


def test_a_changed_mapping_maps_every_record_again(provisioned_project: Any, mapped: list[str]) -> None:
    world = provisioned_project
    with world.open() as h:
        assert h.run("Products").status is RunStatus.SUCCEEDED
    mapped.clear()
    project = world.configure(settings={"number_start": 1001})  # not part of the mapping: still skipped
    with world.open(project) as h:
        h.run("Products")
    assert mapped == []
    changed = world.configure(tasks={"Products": {"fields": {"description": "ProductName"}}})
    with world.open(changed) as h:
        report = h.run("Products").tasks[0]
    assert report.read > 0 and mapped.count("Products") == report.read, report


def test_a_deletion_keeps_the_target_record_another_source_record_now_holds(provisioned_project: Any) -> None:
    world = provisioned_project
    with world.open() as h:
        conns = {System.CRM: h.crm, System.ERP: h.erp}
        ctx = RunContext.open(h.project, h.store, conns, h.redactor)
        task = h.project.task("Accounts")
        pipeline = TaskPipeline(ctx, task, Recorder(ctx.resolver))
        earlier = now() - timedelta(minutes=5)
        # a line deleted at the source, and another added reusing its key at the target
        h.store.save_links(
            [
                Link(task.name, "old", '["usmf","C-1"]', "h1", earlier),
                Link(task.name, "new", '["usmf","C-1"]', "h2", now()),
            ]
        )
        sent: list[Any] = []
        stage = Recorder(ctx.resolver)
        stage.send = lambda system, entity, ops: sent.extend(ops) or []  # type: ignore[method-assign]
        out, dropped = delete_records(
            task,
            ["old"],
            follow=True,
            binder=pipeline.binder,
            store=h.store,
            target=pipeline.tgt,
            table=pipeline.table,
            stage=stage,
            outcomes=pipeline.outcomes,
            report=pipeline.report,
        )
    assert sent == []  # nothing deleted at the target
    assert dropped == [(task.name, "old")]
    (outcome,) = out
    assert outcome.action is Action.SKIPPED and outcome.reason == SkipReason.SOURCE_DELETED
    assert "now the target of new" in (outcome.message or "")


def test_the_documents_written_in_a_run_leave_no_feed_for_the_next(orders_project: Any) -> None:  # noqa: F811
    """A run that refreshed the documents' customers and then wrote to the orders (the products
    flag written back) reads the orders' feed once more as it ends: the next run finds it empty."""
    world = orders_project
    crm = world.crm()
    new_order(crm, [{"product": external_products(crm)[0], "quantity": 1}])
    with world.open() as h:
        report = h.run("Contacts", "ContactToCustomer", "OrderHeader")
        assert report.status is RunStatus.SUCCEEDED and report.tasks[-1].created == 1, report.tasks
        assert report.tasks[-1].side_writes >= 1, report.tasks  # the flag, written back to the order
        cursor = h.store.cursor("#customers:salesorders")
        feed = h.crm.changes("salesorders", select=["_customerid_value"], cursor=cursor)
        assert [r for page in feed for r in page.rows] == []
