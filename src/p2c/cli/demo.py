"""``p2c demo``: the whole product in one command, against a local sandbox.

Starts the sandbox (seeded ``demo``) on loopback, writes a project for it, provisions the CRM,
checks both environments, runs every task of every template with progress; then a user edits a
few CRM accounts, and an ERP user enters a few sales orders for the synchronised customers and
confirms and invoices them (the sandbox's admin API); a second, incremental run brings those
orders and their invoices into the CRM. Finally a summary and where to look next. The
directory it leaves (``p2c-demo/`` by default) holds the sandbox's data, ``p2c.yaml`` and the
state store, so ``p2c history --project p2c-demo/p2c.yaml`` works afterwards.

This is one of the two places p2c reaches into the sandbox package (DESIGN.md: the CLI starting
the sandbox for the demo).
"""

from __future__ import annotations

import shutil
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from p2c.connectors import OpKind, Redactor, WriteOp
from p2c.engine import Engine, RunReport, open_connectors
from p2c.errors import P2CError, PrerequisiteError
from p2c.project import load_project, write_sandbox_project
from p2c.settings import System
from p2c.store import StateStore, Trigger

__all__ = ["DemoResult", "run_demo"]

#: every shipped template, in dependency order
TEMPLATES = ["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp", "invoices"]
ERP_ORDERS = 3
SETS = {"quoteid": "quotes", "salesorderid": "salesorders"}
ORDER_ACTIVE = 100000001  # p2c_processingstatus: the user activated the order


@dataclass
class DemoResult:
    directory: Path
    project_file: Path
    runs: list[RunReport] = field(default_factory=list)
    seconds: float = 0.0
    urls: dict[str, str] = field(default_factory=dict)


def _ports_free(host: str, ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def run_demo(
    directory: Path,
    *,
    port_base: int = 8440,
    say: Callable[[str], None] = print,
    show: Callable[[Any], None] | None = None,
    progress: Callable[[Any], None] | None = None,
    serve: Callable[[DemoResult], None] | None = None,
) -> DemoResult:
    """The demo (see the module docstring); ``serve``, when given, is called with the result while
    the sandbox still runs (``p2c demo --serve``: the service, until it is stopped)."""
    from p2c.doctor import diagnose
    from p2c.setup import provision
    from p2c_sandbox.config import SandboxConfig
    from p2c_sandbox.server import Sandbox

    started = time.perf_counter()
    show = show or (lambda obj: say(str(obj)))
    directory = directory.resolve()
    if directory.exists():
        shutil.rmtree(directory)  # a demo starts from a clean slate every time
    directory.mkdir(parents=True)
    ports = [port_base, port_base + 1, port_base + 2] if port_base else [0, 0, 0]  # 0: any free ports
    if port_base and not _ports_free("127.0.0.1", ports):
        say(f"ports {ports[0]}-{ports[2]} are busy (is `p2c sandbox up` running?): using free ports instead")
        ports = [0, 0, 0]
    say("1/6 starting the sandbox (emulated Entra ID, Dataverse and F&O, seeded 'demo')")
    sandbox = Sandbox(
        SandboxConfig(
            data_dir=directory / "sandbox",
            seed="demo",
            identity_port=ports[0],
            crm_port=ports[1],
            erp_port=ports[2],
        )
    )
    sandbox.start()
    result = DemoResult(
        directory,
        directory / "p2c.yaml",
        urls={"crm": sandbox.crm_url, "erp": sandbox.erp_url, "identity": sandbox.identity_url},
    )
    try:
        say("2/6 writing the project " + str(result.project_file))
        write_sandbox_project(
            directory, directory / "sandbox" / "connections.yaml", name="demo", overwrite=True
        )
        project = load_project(result.project_file)
        redactor = Redactor()
        with StateStore(project.state_url) as store, open_connectors(project.connections, redactor) as conns:
            say("3/6 provisioning the CRM (custom columns, alternate keys, change tracking)")
            setup = provision(project, conns.crm)
            for step in setup.steps:
                say(f"     {step.kind} {step.entity}.{step.name}: {step.action}")
            say("4/6 checking both environments")
            report = diagnose(project, conns.crm, conns.erp)
            for check in report.checks:
                if str(check.status) != "ok":
                    say(f"     {check.status}: {check.name}: {check.detail}")
            if report.blocking:
                raise PrerequisiteError("p2c doctor found problems that block a run (listed above)")
            engine = Engine(
                project,
                store,
                {System.CRM: conns.crm, System.ERP: conns.erp},
                redactor=redactor,
                progress=progress,
            )
            say("5/6 first run: every task in dependency order")
            result.runs.append(engine.run(trigger=Trigger.DEMO))
            say(
                "6/6 a user edits three accounts and enters a quote and an order in the CRM; the ERP confirms and invoices "
                f"{ERP_ORDERS} new orders; the next run reads only the changes and brings them back"
            )
            _edit_accounts(conns.crm, 3)
            _crm_documents(conns.crm)
            say("     a quote and an order of ERP products entered and activated in the CRM")
            numbers = _erp_orders(conns.crm, conns.erp, sandbox.erp_url, sandbox.ca_path, ERP_ORDERS)
            say(f"     ERP orders confirmed and invoiced: {', '.join(numbers)}")
            result.runs.append(engine.run(trigger=Trigger.DEMO))
        result.seconds = time.perf_counter() - started
        if serve is not None:
            serve(result)
    finally:
        sandbox.stop()
    if serve is None:
        result.seconds = time.perf_counter() - started
    return result


def _edit_accounts(crm: Any, n: int) -> None:
    rows: list[dict[str, Any]] = next(
        iter(crm.read("accounts", select=["accountid", "telephone1"], page_size=n)), []
    )
    rows = rows[:n]
    ops = [
        WriteOp(OpKind.UPDATE, {"accountid": r["accountid"]}, {"telephone1": f"+1 425 555 01{i:02d}"})
        for i, r in enumerate(rows)
    ]
    for res in crm.write("accounts", ops):
        if not res.ok:
            raise P2CError(f"the demo could not edit an account: {res.error}")


def _create(crm: Any, entity: str, payload: dict[str, Any]) -> str:
    [res] = crm.write(entity, [WriteOp(OpKind.CREATE, {}, payload)])
    if not res.ok or not res.target_key:
        raise P2CError(f"the demo could not create a {entity} record: {res.error}")
    return str(next(v for k, v in res.target_key.items() if k.endswith("id")))


def _first_page(crm: Any, entity: str, select: list[str], flt: str) -> list[dict[str, Any]]:
    page: list[dict[str, Any]] = next(iter(crm.read(entity, select=select, filter=flt)), [])
    return page


def _crm_documents(crm: Any) -> None:
    """A sales rep quotes and sells ERP products: an activated quote and an activated order.

    One order line carries a 10.00 discount on 3 units, which the ERP receives as 3.33 per unit
    plus a -0.01 charge (P2C.md).
    """
    accounts = _first_page(crm, "accounts", ["accountid"], "accountnumber ne null")
    lists = _first_page(crm, "pricelevels", ["pricelevelid"], "name eq 'CRM Service USA (sample)'")
    products = _first_page(
        crm,
        "products",
        ["productid", "_defaultuomid_value"],
        "p2c_isexternallymaintained eq true and statecode eq 0",
    )
    if not accounts or not lists or len(products) < 2:
        raise P2CError("the demo found no synchronised account, price list or products to sell")
    header = {
        "customerid_account@odata.bind": f"/accounts({accounts[0]['accountid']})",
        "pricelevelid@odata.bind": f"/pricelevels({lists[0]['pricelevelid']})",
    }

    def line(parent: str, parent_id: str, product: dict[str, Any], **values: Any) -> dict[str, Any]:
        return {
            f"{parent}@odata.bind": f"/{SETS[parent]}({parent_id})",
            "productid@odata.bind": f"/products({product['productid']})",
            "uomid@odata.bind": f"/uoms({product['_defaultuomid_value']})",
            **values,
        }

    quote = _create(crm, "quotes", {"name": "Demo quote: speakers", **header})
    _create(crm, "quotedetails", line("quoteid", quote, products[0], quantity=2))
    _create(crm, "quotedetails", line("quoteid", quote, products[1], quantity=1))
    order = _create(crm, "salesorders", {"name": "Demo order: speakers", **header})
    _create(
        crm,
        "salesorderdetails",
        line("salesorderid", order, products[0], quantity=3, manualdiscountamount=10),
    )
    _create(crm, "salesorderdetails", line("salesorderid", order, products[1], quantity=1))
    updates = (
        ("quotes", {"quoteid": quote}, {"statecode": 1, "statuscode": 2}),
        ("salesorders", {"salesorderid": order}, {"p2c_processingstatus": ORDER_ACTIVE}),
    )
    for entity, key, values in updates:
        [res] = crm.write(entity, [WriteOp(OpKind.UPDATE, key, values)])
        if not res.ok:
            raise P2CError(f"the demo could not activate its {entity[:-1]}: {res.error}")


def _erp_orders(crm: Any, erp: Any, erp_url: str, ca: Path | None, n: int) -> list[str]:
    """Sales orders an ERP user enters for synchronised customers, then confirms and invoices."""
    customers: list[dict[str, Any]] = next(
        iter(crm.read("accounts", select=["accountnumber"], filter="accountnumber ne null", page_size=n)), []
    )
    products: list[dict[str, Any]] = next(
        iter(crm.read("products", select=["productnumber"], filter="p2c_isexternallymaintained eq true")), []
    )
    if not customers or len(products) < 2:
        raise P2CError("the demo found no synchronised customers or products to order")
    numbers = [f"DEMO-{i + 1:04d}" for i in range(min(n, len(customers)))]
    headers = [
        WriteOp(
            OpKind.UPSERT,
            {"dataAreaId": "usmf", "SalesOrderNumber": no},
            {"SalesOrderName": f"Demo order {i + 1}", "OrderingCustomerAccountNumber": c["accountnumber"]},
        )
        for i, (no, c) in enumerate(zip(numbers, customers, strict=False))
    ]
    lines = [
        WriteOp(
            OpKind.UPSERT,
            {"dataAreaId": "usmf", "SalesOrderNumber": no, "LineCreationSequenceNumber": seq},
            {
                "ProductNumber": products[(i + seq) % len(products)]["productnumber"],
                "OrderedSalesQuantity": seq + i,
            },
        )
        for i, no in enumerate(numbers)
        for seq in (1, 2)
    ]
    for entity, ops in (("CDSSalesOrderHeaders", headers), ("CDSSalesOrderLines", lines)):
        for res in erp.write(entity, ops):
            if not res.ok:
                raise P2CError(f"the demo could not enter an ERP order: {res.error}")
    verify = ssl.create_default_context(cafile=str(ca)) if ca else True
    with httpx.Client(base_url=f"{erp_url}/sandbox/", verify=verify, timeout=60) as admin:
        for no in numbers:
            for action in ("confirm", "calculate-totals", "invoice"):
                admin.post(f"orders/usmf/{no}/{action}", json={}).raise_for_status()
    return numbers
