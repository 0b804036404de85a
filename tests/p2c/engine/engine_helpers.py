"""Helpers of the engine tests (a uniquely named module: ``conftest`` names collide).

They read what *arrived* in the emulated services over plain HTTPS (the sandbox's raw OData
clients), never through the connectors under test, and change source data the way a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

ACCOUNT_NUMBER = r"ACC-\d{5}-[A-Z]{6}"
ENV = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def numberless_accounts(
    client: httpx.Client, names: Sequence[str] = ("Numberless One", "Numberless Two")
) -> list[str]:
    """New CRM accounts without an account number (p2c generates theirs): their ids."""
    ids = []
    for name in names:
        r = client.post("accounts", json={"name": name}, headers={"Prefer": "return=representation"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["accountid"])
    return ids


def crm_rows(
    client: httpx.Client, entity: str, select: Sequence[str] | None = None, filter: str | None = None
) -> list[dict[str, Any]]:
    """Every row of a CRM entity set (following next links)."""
    params: dict[str, str] = {}
    if select:
        params["$select"] = ",".join(select)
    if filter:
        params["$filter"] = filter
    rows: list[dict[str, Any]] = []
    response = client.get(entity, params=params, headers={"Prefer": "odata.maxpagesize=5000"})
    while True:
        response.raise_for_status()
        body = response.json()
        rows.extend(body["value"])
        link = body.get("@odata.nextLink")
        if not link:
            return rows
        response = client.get(link, headers={"Prefer": "odata.maxpagesize=5000"})


def erp_rows(
    client: httpx.Client, entity: str, select: Sequence[str] | None = None, filter: str | None = None
) -> list[dict[str, Any]]:
    """Every row of an ERP entity set across companies (following next links)."""
    params: dict[str, str] = {"cross-company": "true"}
    if select:
        params["$select"] = ",".join(select)
    if filter:
        params["$filter"] = filter
    rows: list[dict[str, Any]] = []
    response = client.get(entity, params=params)
    while True:
        response.raise_for_status()
        body = response.json()
        rows.extend(body["value"])
        link = body.get("@odata.nextLink")
        if not link:
            return rows
        response = client.get(link)


def synced_customers(erp: httpx.Client, select: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """usmf customers marked externally maintained (the ones p2c wrote), by customer account."""
    fields = ["CustomerAccount", *select]
    rows = erp_rows(
        erp,
        "CustomersV3",
        fields,
        "dataAreaId eq 'usmf' and IsExternallyMaintained eq Microsoft.Dynamics.DataEntities.NoYes'Yes'",
    )
    return {r["CustomerAccount"]: r for r in rows}


def etags(rows: Sequence[Mapping[str, Any]], *key: str) -> dict[tuple[Any, ...], str]:
    return {tuple(r[k] for k in key): str(r["@odata.etag"]) for r in rows}


def snapshot(crm: httpx.Client, erp: httpx.Client) -> dict[str, dict[tuple[Any, ...], str]]:
    """The ETag of every row p2c reads or writes in both services: any write changes one."""
    return {
        "customers": etags(
            erp_rows(erp, "CustomersV3", ["dataAreaId", "CustomerAccount"]), "dataAreaId", "CustomerAccount"
        ),
        "accounts": etags(crm_rows(crm, "accounts", ["accountid"]), "accountid"),
        "products": etags(crm_rows(crm, "products", ["productid"]), "productid"),
        "price_list_items": etags(
            crm_rows(crm, "productpricelevels", ["productpricelevelid"]), "productpricelevelid"
        ),
    }


def p2c(*args: str, cwd: Path, timeout: float = 120, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """The ``p2c`` command as a user runs it, in its own process, on a console ``columns`` wide."""
    return subprocess.run(
        [sys.executable, "-m", "p2c.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**ENV, "COLUMNS": str(columns)},
    )


def boxed_product(world: Any) -> None:
    """ERP product B0001 sold in "box", a unit the CRM does not have: it cannot be mapped there."""
    created = world.sandbox.admin("erp").post(
        "products",
        json={
            "dataAreaId": "usmf",
            "ProductNumber": "B0001",
            "ProductName": "Boxed set",
            "SalesUnitSymbol": "box",
            "SalesPrice": 25,
            "CurrencyCode": "USD",
            "IsSalesStopped": "No",
        },
    )
    assert created.status_code == 200, created.text


def count_tables(text: str) -> list[list[dict[str, str]]]:
    """The count tables (`p2c run | plan | history | demo`) printed in ``text``: per table, its rows
    as header → cell. A task name wrapped over several lines is joined back."""
    lines = text.splitlines()
    tables: list[list[dict[str, str]]] = []
    for i, line in enumerate(lines):
        if not line.strip() or set(line.strip()) != {"─"} or i == 0:
            continue
        header = lines[i - 1].split()
        rows: list[dict[str, str]] = []
        for body in lines[i + 1 :]:
            cells = body.split()
            if not cells:
                break
            if len(cells) == 1 and rows:  # the rest of a wrapped task name
                first = header[0]
                rows[-1][first] += cells[0]
                continue
            if "started" in header and len(cells) == len(header) + 1:  # the date and time of a run
                at = header.index("started")
                cells[at : at + 2] = [" ".join(cells[at : at + 2])]
            if len(cells) != len(header):
                break
            rows.append(dict(zip(header, cells, strict=True)))
        tables.append(rows)
    return tables
