"""Crash safety of side writes: ``kill -9`` of ``p2c run`` while it writes the consequences of
orders (Freight Tax lines) or of invoices (orders marked Invoiced), then a new run: every
consequence exists exactly once, nothing is lost, nothing is written twice.

The CRM answers slowly (sandbox latency) and the project writes in small batches, one at a time,
so the run can be caught between its first and its last consequence — after the records were
written, before their outcomes were recorded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from engine_helpers import ENV, crm_rows, erp_rows, p2c
from test_engine_p2c_quotes import external_products
from test_engine_p2c_two_way import confirmed_erp_order, erp_action

from p2c.rules import FREIGHT_TAX_SEQUENCE
from p2c.store import RunStatus, StateStore

ORDERS = 24
SLOW = {"latency_ms": 150}


def _orders(world: Any) -> list[str]:
    """``ORDERS`` confirmed ERP orders of synced customers, each with a taxed header charge."""
    crm = world.crm()
    product = external_products(crm)[0]["productnumber"]
    customers = [
        a["accountnumber"] for a in crm_rows(crm, "accounts", ["accountnumber"], "accountnumber ne null")
    ]
    numbers = []
    for i in range(ORDERS):
        number = confirmed_erp_order(world, customers[i % 5], [product], quantity=1 + i % 3)
        erp_action(world, number, "header-charge", {"amount": "10.00", "tax": f"{1 + i}.25"})
        erp_action(world, number, "calculate-totals")
        numbers.append(number)
    return numbers


def _kill_between(world: Any, task: str, progress: Callable[[], int]) -> int:
    """Run ``task`` in a child process and kill it with SIGKILL once ``progress()`` is between
    0 and ``ORDERS`` (some consequences written, not all); what ``progress()`` said then."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "p2c.cli", "run", "--task", task],
        cwd=world.dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + 90
        seen = 0
        while not 0 < seen < ORDERS:
            assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr}"
            assert time.monotonic() < deadline, "no consequence arrived"
            seen = progress()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    return seen


def _runs(world: Any) -> list[RunStatus]:
    with StateStore(world.project().state_url) as store:
        return [r.status for r in store.runs(limit=2)]


def _freight_lines(world: Any) -> Counter[str]:
    rows = crm_rows(
        world.crm(), "salesorderdetails", ["_salesorderid_value"], f"sequencenumber eq {FREIGHT_TAX_SEQUENCE}"
    )
    return Counter(str(r["_salesorderid_value"]) for r in rows)


@pytest.mark.slow
def test_a_run_killed_while_writing_freight_tax_lines_resumes_without_doubles(
    every_flow_project: Any,
) -> None:
    world = every_flow_project
    world.write(settings={"batch_size": 3, "concurrency": 1})
    numbers = _orders(world)
    world.sandbox.admin("crm").put("faults", json=SLOW)
    try:
        at_kill = _kill_between(world, "OrderHeaderFromERP", lambda: len(_freight_lines(world)))
    finally:
        world.sandbox.admin("crm").put("faults", json={})
    assert 0 < at_kill < ORDERS

    done = p2c("run", "--task", "OrderHeaderFromERP", cwd=world.dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _runs(world) == [RunStatus.SUCCEEDED, RunStatus.CRASHED]
    orders = {
        o["ordernumber"]: str(o["salesorderid"])
        for o in crm_rows(
            world.crm(), "salesorders", ["salesorderid", "ordernumber"], "p2c_isexternallymaintained eq true"
        )
    }
    assert set(numbers) <= set(orders)
    lines = _freight_lines(world)
    assert {n: lines[orders[n]] for n in numbers} == dict.fromkeys(numbers, 1)  # one each, none twice
    again = p2c("run", "--task", "OrderHeaderFromERP", cwd=world.dir)
    assert again.returncode == 0 and _freight_lines(world) == lines


@pytest.mark.slow
def test_a_run_killed_while_marking_orders_invoiced_resumes_without_doubles(every_flow_project: Any) -> None:
    world = every_flow_project
    world.write(settings={"batch_size": 3, "concurrency": 1})
    numbers = _orders(world)
    assert p2c("run", "--task", "OrderHeaderFromERP", cwd=world.dir).returncode == 0
    for number in numbers:
        erp_action(world, number, "invoice")
    invoices = {
        i["InvoiceNumber"]
        for i in erp_rows(world.erp(), "ExternallyMaintainedCustomerSalesInvoiceHeaders", ["InvoiceNumber"])
    }

    def invoiced() -> int:
        rows = crm_rows(world.crm(), "salesorders", ["ordernumber", "statecode"], "statecode eq 4")
        return len({r["ordernumber"] for r in rows} & set(numbers))

    world.sandbox.admin("crm").put("faults", json=SLOW)
    try:
        at_kill = _kill_between(world, "SalesInvoiceHeader", invoiced)
    finally:
        world.sandbox.admin("crm").put("faults", json={})
    assert 0 < at_kill < ORDERS

    done = p2c("run", "--task", "SalesInvoiceHeader", cwd=world.dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _runs(world) == [RunStatus.SUCCEEDED, RunStatus.CRASHED]
    assert invoiced() == ORDERS
    crm_invoices = Counter(r["invoicenumber"] for r in crm_rows(world.crm(), "invoices", ["invoicenumber"]))
    assert {n: crm_invoices[n] for n in invoices} == dict.fromkeys(invoices, 1)  # each invoice once
    again = p2c("run", "--task", "SalesInvoiceHeader", cwd=world.dir)
    assert again.returncode == 0, again.stdout + again.stderr
    with StateStore(world.project().state_url) as store:
        last = store.runs(limit=1)[0]
    assert last.counts.written == 0 and last.counts.failed == 0
