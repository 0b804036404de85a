"""Sandbox throughput: paged reads and bulk writes, over HTTPS, against `p2c sandbox up` in its own process.

    .venv/bin/python bench/sandbox.py [--seed large:20000]

Prints rows/s for 5 000-row pages on the CRM and 10 000-row pages on the ERP, and for
UpsertMultiple / $batch writes of 1 000 rows. Targets (this 2-core machine): reads >= 20 000
rows/s, writes >= 5 000 rows/s — the sandbox must never be what makes p2c look slow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from p2c.connectors.multipart import ChangeSet, HttpPart, parse_batch, render_batch
from p2c_sandbox.process import SandboxProcess, api_client

READ_TARGET, WRITE_TARGET = 20_000, 5_000


def start(seed: str, data: Path) -> tuple[SandboxProcess, dict[str, Any]]:
    """`p2c sandbox up --seed SEED` in its own process, ready to serve."""
    sandbox = SandboxProcess.start(data, seed=seed)
    print(f"sandbox up with seed {seed}: {sandbox.seconds_to_ready:.1f} s (includes seeding)")
    return sandbox, sandbox.connections


def read_all(c: httpx.Client, url: str, headers: dict[str, str]) -> tuple[int, float, int]:
    rows = pages = 0
    started = time.perf_counter()
    next_url: str | None = url
    while next_url:
        r = c.get(next_url, headers=headers)
        r.raise_for_status()
        body = r.json()
        rows += len(body["value"])
        pages += 1
        next_url = body.get("@odata.nextLink")
    return rows, time.perf_counter() - started, pages


def batch_post(client: httpx.Client, url: str, bodies: list[dict[str, Any]], content_type: str) -> float:
    """POST every body in one $batch of change sets of 100; seconds taken. Every part must succeed."""
    parts = [
        HttpPart.request(
            "POST", url, {"content-type": content_type}, json.dumps(b).encode(), content_id=str(i + 1)
        )
        for i, b in enumerate(bodies)
    ]
    ctype, body = render_batch(
        [ChangeSet(parts[i : i + 100]) for i in range(0, len(parts), 100)], kind="request"
    )
    started = time.perf_counter()
    r = client.post("$batch", content=body, headers={"Content-Type": ctype})
    r.raise_for_status()
    secs = time.perf_counter() - started
    ok = sum(
        1
        for item in parse_batch(r.headers["content-type"], r.content)
        for p in (item.parts if isinstance(item, ChangeSet) else [item])
        if p.status and p.status < 300
    )
    assert ok == len(bodies), f"{ok} of {len(bodies)} parts succeeded"
    return secs


def report(label: str, rows: int, seconds: float, target: int) -> None:
    rate = rows / seconds if seconds else float("inf")
    verdict = "ok" if rate >= target else "BELOW TARGET"
    print(
        f"{label:<52} {rows:>7} rows {seconds:>7.2f} s {rate:>10,.0f} rows/s  (target {target:,}: {verdict})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="large:20000")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, conns = start(args.seed, Path(tmp))
        try:
            crm, erp = api_client(conns["crm"]), api_client(conns["erp"])
            rows, secs, pages = read_all(crm, "accounts", {"Prefer": "odata.maxpagesize=5000"})
            report(f"CRM read accounts, 5 000-row pages ({pages} pages)", rows, secs, READ_TARGET)
            rows, secs, pages = read_all(
                crm,
                "accounts?$select=name,accountnumber,telephone1,address1_city",
                {"Prefer": "odata.maxpagesize=5000"},
            )
            report(f"CRM read accounts $select 4 cols ({pages} pages)", rows, secs, READ_TARGET)
            rows, secs, pages = read_all(erp, "CustomersV3?cross-company=true", {})
            report(f"ERP read CustomersV3, 10 000-row pages ({pages} pages)", rows, secs, READ_TARGET)
            rows, secs, pages = read_all(erp, "CDSSalesOrderLines?cross-company=true", {})
            report(f"ERP read CDSSalesOrderLines ({pages} pages)", rows, secs, READ_TARGET)

            # Upsert by alternate key needs the key, as on a real org.
            key = {
                "SchemaName": "bench_accountnumber",
                "KeyAttributes": ["accountnumber"],
                "DisplayName": {"LocalizedLabels": [{"Label": "bench", "LanguageCode": 1033}]},
            }
            crm.post("EntityDefinitions(LogicalName='account')/Keys", json=key).raise_for_status()
            while True:
                keys = crm.get("EntityDefinitions(LogicalName='account')/Keys").json()["value"]
                status = {k["SchemaName"]: k["EntityKeyIndexStatus"] for k in keys}["bench_accountnumber"]
                if status == "Active":
                    break
                if status == "Failed":
                    raise SystemExit("alternate key failed to build")
                time.sleep(0.1)
            run = uuid.uuid4().hex[:6]
            for label, prefix in (
                ("CRM UpsertMultiple 1 000 accounts (create)", "B"),
                ("CRM UpsertMultiple 1 000 accounts (update)", "B"),
            ):
                targets = [
                    {
                        "@odata.type": "Microsoft.Dynamics.CRM.account",
                        "@odata.id": f"accounts(accountnumber='{prefix}{run}-{i:05}')",
                        "name": f"Bench {i} {label[-7:-1]}",
                        "telephone1": f"555-{i:04}",
                    }
                    for i in range(1000)
                ]
                started = time.perf_counter()
                r = crm.post("accounts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": targets})
                r.raise_for_status()
                report(label, 1000, time.perf_counter() - started, WRITE_TARGET)

            crm_bodies = [{"name": f"Batched {i}"} for i in range(1000)]
            secs = batch_post(
                crm, f"{conns['crm']['api']}accounts", crm_bodies, "application/json; type=entry"
            )
            report("CRM $batch 1 000 POSTs (10 change sets of 100)", 1000, secs, WRITE_TARGET)
            erp_bodies = [
                {
                    "dataAreaId": "usmf",
                    "CustomerAccount": f"BEN{run}{i:05}",
                    "OrganizationName": f"Bench {i}",
                    "CustomerGroupId": "10",
                    "SalesCurrencyCode": "USD",
                }
                for i in range(1000)
            ]
            secs = batch_post(erp, f"{conns['erp']['api']}CustomersV3", erp_bodies, "application/json")
            report("ERP $batch 1 000 customer POSTs (10 change sets)", 1000, secs, WRITE_TARGET)
        finally:
            proc.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
