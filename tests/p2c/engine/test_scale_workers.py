"""Scale-out end to end: ``p2c run --queue`` and two real ``p2c worker`` processes, the sandbox,
PostgreSQL and Redis: a run split across both workers, dependencies first, within one request
budget; a second delivery of a leased item doing nothing; ``kill -9`` of a worker mid-item → the
item finishes on the other, nothing lost, nothing written twice; and ``p2c serve --queue`` sending
an API run to a worker through RabbitMQ."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from engine_helpers import crm_rows, p2c, synced_customers
from scale_helpers import RABBITMQ, REDIS, Workers, holders, pid_of, postgres_schema, sandbox_stats
from serve_helpers import serve
from sqlalchemy import text

from p2c.scale.budget import budget_key
from p2c.scale.queue import celery_app, send_item
from p2c.store import RunStatus, StateStore

TASKS = ("Accounts", "Products", "ProductPriceListItems")
IN_FLIGHT = 4  # a task's chunk writes in flight at once (settings.chunks_in_flight)


@pytest.fixture
def scale_world(provisioned_project: Any) -> Iterator[Any]:
    """The provisioned sandbox project with its state in a fresh PostgreSQL schema."""
    with postgres_schema() as url:
        provisioned_project.write(state=url)
        yield provisioned_project


@pytest.fixture
def workers(scale_world: Any) -> Iterator[Workers]:
    w = Workers(scale_world.dir, REDIS)
    try:
        yield w
    finally:
        w.stop()


def _run_args() -> list[str]:
    return [a for t in TASKS for a in ("--task", t)]


@pytest.mark.slow
def test_a_run_split_across_two_workers_keeps_to_one_budget(scale_world: Any, workers: Workers) -> None:
    """Accounts and Products side by side on the two workers, ProductPriceListItems once Products
    ended; a second delivery of each running item does nothing; the sandbox's limits (100 and
    200 requests per 2 s) are never exceeded by the two together (without the budget they are)."""
    world = scale_world
    workers.start(2, "--lease", "6", "--budget", os.environ.get("P2C_TEST_BUDGET", REDIS), wait=False)
    world.reseed("large:1000")  # 1 000 accounts (ERP writes), 250 products (CRM writes)
    limits = {
        "crm": {"requests_per_window": 100, "window_seconds": 2},
        "erp": {"requests_per_window": 200, "window_seconds": 2},
    }
    world.write(settings={"batch_size": 5, "request_budget": limits})
    for which, limit in limits.items():
        world.sandbox.admin(which).put("limits", json={"max_concurrent": 52, **limit}).raise_for_status()
    before = sandbox_stats(world.sandbox)
    workers.ready()
    run = workers.start_run(*_run_args())
    project = world.project()
    app = celery_app(REDIS)
    with StateStore(project.state_url) as store:
        resent: set[int] = set()  # a second delivery of each item while its worker holds it
        deadline = time.monotonic() + 90
        while run.poll() is None and time.monotonic() < deadline:
            runs = store.runs(limit=1)
            for item in store.items(runs[0].id) if runs else []:
                if item.status == "running" and item.id not in resent:
                    send_item(app, item.id, project.name, str(project.path), queue=workers.queue)
                    resent.add(item.id)
            time.sleep(0.1)
        out, errs = run.communicate(timeout=60)
        assert run.returncode == 0, out + errs
        info = store.runs(limit=1)[0]
        items = store.items(info.id)
    after = sandbox_stats(world.sandbox)
    assert resent, "no item was seen running"
    assert info.status is RunStatus.SUCCEEDED
    runs = {t.task: t for t in info.task_runs}
    products, prices = runs["Products"], runs["ProductPriceListItems"]
    assert products.finished_at is not None and prices.started_at >= products.finished_at  # deps first
    assert sorted(t.task for t in info.task_runs) == sorted(TASKS)  # one task run each: no doubles
    assert [i.attempts for i in items] == [1, 1, 1]
    by_task = {i.task: i for i in items}
    assert pid_of(by_task["Accounts"].holder) != pid_of(by_task["Products"].holder)  # side by side
    assert holders(items) == {p.pid for p in workers.procs}
    assert by_task["Accounts"].wave == by_task["Products"].wave == 0
    assert by_task["ProductPriceListItems"].wave == 1
    logs = workers.log(0) + workers.log(1)
    assert logs.count("this delivery does nothing") >= len(resent), logs[-3000:]
    accounts = crm_rows(world.crm(), "accounts", ["accountnumber"])
    assert len(synced_customers(world.erp())) == len(accounts) == 1000
    shown = p2c("history", str(info.id), cwd=world.dir)  # the queued run shows as a local one
    assert shown.returncode == 0, shown.stderr
    assert all(task in shown.stdout for task in TASKS), shown.stdout
    # the budget: more than a window's worth to each service, from both workers, and no 429
    sent = {s: after[s]["requests"] - before[s]["requests"] for s in limits}
    throttled = {s: after[s]["throttled"] - before[s]["throttled"] for s in limits}
    by_item = {s: [(i.requests or {})["http"][s]["requests"] for i in items[:2]] for s in limits}
    for service, limit in limits.items():
        assert sent[service] > limit["requests_per_window"] and min(by_item[service]) > 0, (sent, by_item)
    assert throttled == {"crm": 0, "erp": 0}, (sent, throttled, by_item)


def _slow_accounts_run(world: Any, workers: Workers, accounts: int, **settings: Any) -> Any:
    """``p2c run --queue --task Accounts`` of ``accounts`` accounts on two workers, slow enough to be
    caught in the middle: each ERP request takes 0.3 s more and one goes at a time (unloaded, the
    run had ended before the first look), and the requests a killed worker had in flight, which
    the service completes after the kill, leave some undone. Redis delivers a message
    unacknowledged for 4 s again (a duplicate the lease stops)."""
    options = ("--lease", "5", "--visibility-timeout", "4", "--restore-every", "1", "--budget", REDIS)
    workers.start(2, *options, wait=False)
    world.reseed(f"large:{accounts}")
    world.sandbox.admin("erp").patch("faults", json={"latency_ms": 300}).raise_for_status()
    world.write(settings={"concurrency": 1, **settings})
    workers.ready()
    return workers.start_run("--task", "Accounts")


@pytest.mark.slow
def test_a_killed_worker_item_finishes_on_the_other_once(scale_world: Any) -> None:
    world = scale_world
    accounts = 3000
    workers = Workers(world.dir, REDIS)
    try:
        run = _slow_accounts_run(world, workers, accounts)
        project = world.project()
        erp = world.erp()
        with StateStore(project.state_url) as store:
            deadline = time.monotonic() + 60
            victim = None
            while victim is None:
                assert run.poll() is None, run.communicate()
                assert time.monotonic() < deadline, "the item never got going"
                runs = store.runs(limit=1)
                items = store.items(runs[0].id) if runs else []
                written = int(erp.get("CustomersV3/$count", params=_synced()).text)
                if items and items[0].status == "running" and written >= 1500 and written % 1000:
                    victim = pid_of(items[0].holder)
                time.sleep(0.05)
            killed = next(p for p in workers.procs if p.pid == victim)
            killed.send_signal(signal.SIGKILL)
            killed.wait(10)  # reaped, as its service manager would: a zombie's pid still answers
            at_kill = int(erp.get("CustomersV3/$count", params=_synced()).text)
            out, errs = run.communicate(timeout=90)
            assert run.returncode == 0, out + errs
            info = store.runs(limit=1)[0]
            items = store.items(info.id)
        assert 0 < at_kill < accounts
        assert info.status is RunStatus.SUCCEEDED
        [item] = items
        assert item.attempts == 2 and pid_of(item.holder) != victim
        statuses = [t.status for t in info.task_runs]
        assert statuses == [RunStatus.CRASHED, RunStatus.SUCCEEDED]  # the dead attempt, then the redo
        redo = info.task_runs[1].counts
        # resumed: the chunks the dead attempt committed compare equal; those it had in flight (up
        # to chunks_in_flight, written side by side, maybe none of them finished) go again, once
        assert redo.unchanged >= at_kill - IN_FLIGHT * 1000, (at_kill, redo)
        assert redo.created + redo.updated + redo.unchanged == accounts and redo.failed == 0, redo
        rows = crm_rows(world.crm(), "accounts", ["accountid", "accountnumber"])
        numbers = [a["accountnumber"] for a in rows]
        assert None not in numbers and len(set(numbers)) == accounts  # no account got two numbers
        customers = synced_customers(erp)
        assert len(customers) == accounts and set(customers) == set(numbers)  # 0 lost, 0 twice
        with StateStore(project.state_url) as store:  # recorded once: a link per account, to its customer
            links = list(store.all_links("Accounts"))
        assert sorted(lk.source_key for lk in links) == sorted(a["accountid"] for a in rows)
        assert sorted(json.loads(lk.target_key)[-1] for lk in links) == sorted(numbers)
    finally:
        workers.stop()


@pytest.mark.slow
def test_a_split_load_runs_its_parts_on_both_workers_and_survives_a_kill(scale_world: Any) -> None:
    """``settings.parts: 2``: Accounts' initial load is two parts, one on each worker, then its
    closing pass. ``kill -9`` of one worker in the middle of its part: that part is taken over by
    the other worker (its dead attempt's task run CRASHED, the other part's untouched), resumed,
    and every account arrives once; the closing pass finds them unchanged (but for what the dead
    attempt left in flight) and saves the cursor."""
    world = scale_world
    accounts = 3000
    workers = Workers(world.dir, REDIS)
    try:
        run = _slow_accounts_run(world, workers, accounts, parts=2)
        erp = world.erp()
        with StateStore(world.project().state_url) as store:
            deadline = time.monotonic() + 60
            held: dict[str, int] = {}
            while len(held) < 2 or int(erp.get("CustomersV3/$count", params=_synced()).text) < 600:
                assert run.poll() is None, run.communicate()
                assert time.monotonic() < deadline, "the parts never got going"
                runs = store.runs(limit=1)
                items = store.items(runs[0].id) if runs else []
                held = {i.part: pid_of(i.holder) for i in items if i.part and i.status == "running"}
                time.sleep(0.05)
            victim = held["1/2"]
            killed = next(p for p in workers.procs if p.pid == victim)
            killed.send_signal(signal.SIGKILL)
            killed.wait(10)
            out, errs = run.communicate(timeout=120)
            assert run.returncode == 0, out + errs
            info = store.runs(limit=1)[0]
            items = {i.part: i for i in store.items(info.id)}
            cursor = store.cursor("Accounts")
            links = list(store.all_links("Accounts"))
        assert held["2/2"] != victim  # the parts ran side by side, one on each worker
        assert info.status is RunStatus.SUCCEEDED
        assert set(items) == {"1/2", "2/2", ""}
        assert items["1/2"].attempts == 2 and pid_of(items["1/2"].holder) != victim
        assert items["2/2"].attempts == 1 and items[""].attempts == 1
        runs = {t.id: t for t in info.task_runs}
        statuses = sorted((str(t.part), str(t.status), str(t.message)[:8]) for t in info.task_runs)
        assert statuses == [
            ("1/2", "crashed", "the work"),  # the dead attempt
            ("1/2", "succeeded", "None"),  # the part taken over
            ("2/2", "succeeded", "None"),  # the other part: not marked crashed by the takeover
            ("None", "succeeded", "None"),  # the closing pass
        ], statuses
        closing = runs[items[""].task_run_id or 0]
        parts = [runs[items[p].task_run_id or 0] for p in ("1/2", "2/2")]
        assert closing.started_at >= max(p.finished_at or closing.started_at for p in parts)
        # the closing pass finds unchanged what the parts wrote; what the dead attempt had in flight
        # after numbering it (its number now puts it in the other share, read before) it writes
        done = closing.counts
        assert done.created + done.updated + done.unchanged == accounts and done.failed == 0, done
        assert done.unchanged >= accounts - IN_FLIGHT * 1000, done
        assert cursor is not None
        rows = crm_rows(world.crm(), "accounts", ["accountid", "accountnumber"])
        numbers = [a["accountnumber"] for a in rows]
        assert None not in numbers and len(set(numbers)) == accounts
        assert set(synced_customers(erp)) == set(numbers)  # 0 lost, 0 twice
        assert sorted(lk.source_key for lk in links) == sorted(a["accountid"] for a in rows)
    finally:
        workers.stop()


def _synced() -> dict[str, str]:
    return {
        "$filter": "dataAreaId eq 'usmf' and IsExternallyMaintained eq Microsoft.Dynamics.DataEntities.NoYes'Yes'"
    }


@pytest.mark.slow
def test_serve_queue_sends_an_api_run_to_a_worker_through_rabbitmq(scale_world: Any) -> None:
    world = scale_world  # the demo seed: 30 accounts
    workers = Workers(world.dir, RABBITMQ)  # RabbitMQ as broker, the budget in the state's PostgreSQL
    try:
        _serve_queue(world, workers)
    finally:
        workers.stop()


def _serve_queue(world: Any, workers: Workers) -> None:
    workers.start(1, wait=False)  # no --budget: with RabbitMQ, the budget is the project's state
    with serve(world.path, "--queue", env=workers.env) as s:
        workers.ready()
        accepted = s.post("/runs", expect=202, json={"tasks": ["Accounts"]})
        run = s.wait_run(accepted["run_id"])
    assert run["status"] == "succeeded", run
    assert [t["task"] for t in run["task_runs"]] == ["Accounts"]
    assert run["counts"]["created"] == len(synced_customers(world.erp())) > 0
    with StateStore(world.project().state_url) as store:
        [item] = store.items(accepted["run_id"])
        with store.engine.connect() as conn:  # the worker's and the run's requests took tokens there
            envs = dict(
                conn.execute(text("SELECT env, COUNT(*) FROM p2c_budget_requests GROUP BY env")).all()
            )
    assert pid_of(item.holder) == workers.procs[0].pid and item.attempts == 1
    roots = {budget_key(world.sandbox.crm_url), budget_key(world.sandbox.erp_url)}
    assert set(envs) == roots and min(envs.values()) > 0, envs


def test_a_queued_run_needs_postgresql(provisioned_project: Any) -> None:
    done = p2c("run", "--queue", "--broker", REDIS, cwd=provisioned_project.dir)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "scale-out needs its state in PostgreSQL" in done.stderr
    worker = p2c("worker", "--broker", REDIS, "--store", "sqlite:///x.db", cwd=provisioned_project.dir)
    assert worker.returncode == 2 and "not sqlite://" in worker.stderr, worker.stderr
    nobroker = p2c("run", "--queue", cwd=provisioned_project.dir)
    assert nobroker.returncode == 2 and "queued runs need a broker" in nobroker.stderr, nobroker.stderr
