"""Faults: a full cycle with 429s, 503s and dropped connections on both servers, against a clean one.

    .venv/bin/python bench/faults.py [--seed large:5000]

Runs the same cycle twice, each against a fresh sandbox seeded alike: first without faults, then
with 20% of requests answering 429 (Retry-After 1 s), 10% answering 503 and 5% cut off mid-body
on both servers. A cycle is full_cycle's initial load — provision, activate the CRM's orders, run
every task of all seven templates — then a second run that must write nothing. Faults are switched
on (admin API ``PUT /sandbox/faults``) after provisioning and activation, and off before counting.

Counted from the sandboxes' own data over plain HTTPS, for the faulted cycle — each must be 0:
failed (records still failed or waiting after the second run, from p2c's store), duplicated
(target rows sharing a natural key) and lost (natural keys present after the clean cycle but not
after the faulted one). Also: the slowdown (faulted wall time / clean wall time of the two runs)
and each connector's requests and retries.
"""

from __future__ import annotations

import argparse
import logging
import os
import ssl
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from full_cycle import activate_orders, failures  # bench/full_cycle.py
from p2c.connectors import Redactor
from p2c.engine import Engine, open_connectors
from p2c.project import load_project, write_sandbox_project
from p2c.settings import System
from p2c.setup import provision
from p2c.store import StateStore
from p2c_sandbox.process import api_client, cpu_of
from sandbox import start  # bench/sandbox.py: starts `p2c sandbox up` and waits for it

FAULTS: dict[str, Any] = {
    "throttle_rate": 0.2,
    "retry_after": 1,
    "error_rate": 0.1,
    "error_status": 503,
    "drop_rate": 0.05,
    "seed": 7,
}
# Every table the seven templates write: (label, service, entity set, natural key). A CRM lookup
# column (_x_value) is replaced by the natural value of the row it points to (RESOLVE), so keys
# compare across the two sandboxes, whose GUIDs differ.
TARGETS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("ERP customers", "erp", "CustomersV3", ("dataAreaId", "CustomerAccount")),
    (
        "ERP contact persons",
        "erp",
        "CDSContactPersonsV2",
        ("dataAreaId", "ContactPersonPartyNumber", "AssociatedContactType", "AssociatedContactNumber"),
    ),
    ("ERP quotation headers", "erp", "CDSSalesQuotationHeaders", ("dataAreaId", "SalesQuotationNumber")),
    (
        "ERP quotation lines",
        "erp",
        "CDSSalesQuotationLines",
        ("dataAreaId", "SalesQuotationNumber", "LineCreationSequenceNumber"),
    ),
    ("ERP order headers", "erp", "CDSSalesOrderHeaders", ("dataAreaId", "SalesOrderNumber")),
    (
        "ERP order lines",
        "erp",
        "CDSSalesOrderLines",
        ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"),
    ),
    ("CRM products", "crm", "products", ("productnumber",)),
    ("CRM price list items", "crm", "productpricelevels", ("_pricelevelid_value", "_productid_value")),
    ("CRM orders", "crm", "salesorders", ("ordernumber",)),
    ("CRM order lines", "crm", "salesorderdetails", ("_salesorderid_value", "sequencenumber")),
    ("CRM invoices", "crm", "invoices", ("invoicenumber",)),
    ("CRM invoice lines", "crm", "invoicedetails", ("_invoiceid_value", "sequencenumber")),
]
RESOLVE: dict[str, tuple[str, str, str]] = {  # lookup column -> (entity set, primary key, natural key)
    "_pricelevelid_value": ("pricelevels", "pricelevelid", "name"),
    "_productid_value": ("products", "productid", "productnumber"),
    "_salesorderid_value": ("salesorders", "salesorderid", "ordernumber"),
    "_invoiceid_value": ("invoices", "invoiceid", "invoicenumber"),
}
Key = tuple[object, ...]


@dataclass
class Cycle:
    seconds: float = 0.0  # wall time of the two runs
    second_run_written: int = 0
    still_failing: Counter[tuple[str, str]] = field(default_factory=Counter)
    first_run_failing: Counter[tuple[str, str]] = field(default_factory=Counter)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    injected: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    keys: dict[str, set[Key]] = field(default_factory=dict)


def read_rows(
    client: httpx.Client, entity_set: str, columns: tuple[str, ...], erp: bool
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    url: str | None = f"{entity_set}?$select={','.join(columns)}" + ("&cross-company=true" if erp else "")
    while url:
        body = client.get(url, headers={"Prefer": "odata.maxpagesize=5000"}).raise_for_status().json()
        rows += body["value"]
        url = body.get("@odata.nextLink")
    return rows


def count_targets(crm: httpx.Client, erp: httpx.Client, out: Cycle) -> None:
    """Row count and set of natural keys of every target table, from the sandboxes' own data."""
    names = {
        col: {r[pk]: r[nat] for r in read_rows(crm, es, (pk, nat), erp=False)}
        for col, (es, pk, nat) in RESOLVE.items()
    }
    for label, service, entity_set, key in TARGETS:
        rows = read_rows(erp if service == "erp" else crm, entity_set, key, erp=service == "erp")
        out.rows[label] = len(rows)
        out.keys[label] = {tuple(names[c].get(r[c], r[c]) if c in names else r[c] for c in key) for r in rows}


def stats_of(conns: Any) -> dict[str, dict[str, int]]:
    return {"CRM": dict(conns.crm.stats), "ERP": dict(conns.erp.stats)}


def cycle(seed: str, work: Path, faults: dict[str, Any] | None) -> Cycle:
    out = Cycle()
    proc, sb = start(seed, work / "sandbox")
    try:
        project = load_project(write_sandbox_project(work, work / "sandbox" / "connections.yaml"))
        redactor = Redactor()
        crm, erp = api_client(sb["crm"]), api_client(sb["erp"])
        admins = {
            name: httpx.Client(
                base_url=f"{sb[name]['url']}/sandbox/",
                verify=ssl.create_default_context(cafile=sb[name]["ca_bundle"]),
                timeout=300,
            )
            for name in ("crm", "erp")
        }
        with (
            StateStore(project.state_url) as store,
            open_connectors(
                project.connections,
                redactor,
                batch_size=project.settings.batch_size,
                concurrency=project.settings.concurrency,
            ) as conns,
        ):
            setup = provision(project, conns.crm, wait_seconds=120)
            assert setup.ok, setup.failed
            print(f"  prepared: {activate_orders(crm)}")
            if faults:
                for admin in admins.values():
                    admin.put("faults", json=faults).raise_for_status()
            engine = Engine(project, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=redactor)
            before, cpu0, t0 = stats_of(conns), cpu_of(proc.proc.pid), time.perf_counter()
            first = engine.run()
            print(f"  first run: {time.perf_counter() - t0:.1f} s, status {first.status}")
            second = engine.run()
            out.seconds = time.perf_counter() - t0
            print(f"  second run: status {second.status}; sandbox CPU {cpu_of(proc.proc.pid) - cpu0:.1f} s")
            after = stats_of(conns)
            out.stats = {s: {k: v - before[s].get(k, 0) for k, v in after[s].items()} for s in after}
            out.second_run_written = sum(t.written for t in second.tasks)
            out.first_run_failing = failures(store, first)
            out.still_failing = failures(store, second)
        for name, admin in admins.items():
            out.injected[name.upper()] = admin.get("faults").raise_for_status().json()["injected"]
            admin.delete("faults").raise_for_status()  # count with faults off
            admin.close()
        count_targets(crm, erp, out)
        crm.close()
        erp.close()
    finally:
        proc.stop()
    return out


def verdict(ok: bool) -> str:
    return "ok" if ok else "NOT OK"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="large:5000")
    args = ap.parse_args()
    logging.getLogger("p2c").setLevel(logging.ERROR)  # one "retry in" line per fault; counted in stats
    with tempfile.TemporaryDirectory() as tmp:
        print(f"clean cycle, seed {args.seed}:")
        clean = cycle(args.seed, Path(tmp) / "clean", None)
        print(f"faulted cycle, seed {args.seed}, faults {FAULTS}:")
        hit = cycle(args.seed, Path(tmp) / "faulted", FAULTS)

    print(
        f"\n{'target table':<22} {'clean rows':>10} {'faulted rows':>12} {'duplicated':>10} {'lost':>5} {'extra':>5}"
    )
    duplicated = lost = 0
    for label, *_ in TARGETS:
        dup = hit.rows[label] - len(hit.keys[label])
        gone, extra = len(clean.keys[label] - hit.keys[label]), len(hit.keys[label] - clean.keys[label])
        duplicated, lost = duplicated + dup, lost + gone
        print(f"{label:<22} {clean.rows[label]:>10} {hit.rows[label]:>12} {dup:>10} {gone:>5} {extra:>5}")
        if clean.rows[label] != len(clean.keys[label]):
            print(f"  (the clean cycle has {clean.rows[label] - len(clean.keys[label])} rows sharing a key)")
    failed = sum(hit.still_failing.values())
    for (task, error), n in sorted(hit.first_run_failing.items()):
        print(f"  faulted, first run, not written: {task}: {n} x {error}")
    for (task, error), n in sorted(hit.still_failing.items()):
        print(f"  faulted, still not written after the second run: {task}: {n} x {error}")
    for name, cyc in (("clean", clean), ("faulted", hit)):
        for service, s in cyc.stats.items():
            print(
                f"{name} {service}: {s.get('requests', 0)} requests, {s.get('retries', 0)} retries, "
                f"{s.get('throttled', 0)} throttled; sandbox injected {cyc.injected.get(service, {})}"
            )
    ratio = hit.seconds / clean.seconds if clean.seconds else float("inf")
    print(f"failed records (faulted, after the second run): {failed} ({verdict(failed == 0)})")
    print(f"duplicated records (faulted): {duplicated} ({verdict(duplicated == 0)})")
    print(f"lost records (faulted vs clean): {lost} ({verdict(lost == 0)})")
    for name, cyc in (("clean", clean), ("faulted", hit)):
        print(
            f"second run writes nothing ({name}): {cyc.second_run_written} written "
            f"({verdict(cyc.second_run_written == 0)})"
        )
    print(f"slowdown: {hit.seconds:.1f} s faulted / {clean.seconds:.1f} s clean = {ratio:.2f}x")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
