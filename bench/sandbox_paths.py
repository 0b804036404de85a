"""The requests p2c makes of the sandbox, one function per kind, for bench/sandbox.py.

Each function sends what p2c's connectors send (src/p2c/connectors) for one chunk of 1 000 rows —
``UpsertMultiple`` by alternate key, continue-on-error ``$batch`` of single PATCH/POST parts, F&O
``$batch`` with one change set per operation, existence lookups as ``key_filters`` GETs inside one
``$batch``, change-tracking and paged reads — and returns how many rows it wrote or read. The
caller measures the sandbox process's CPU around each call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from p2c.connectors.multipart import ChangeSet, HttpPart, parse_batch, render_batch
from p2c.connectors.protocol_odata import key_filters

JSON = "application/json"


def read_all(c: httpx.Client, url: str, headers: dict[str, str] | None = None) -> tuple[int, str | None]:
    """Follow next links to the end; (rows, the delta link of the last page if any)."""
    rows = 0
    next_url: str | None = url
    delta = None
    while next_url:
        r = c.get(next_url, headers=headers or {})
        r.raise_for_status()
        body = r.json()
        rows += len(body["value"])
        next_url = body.get("@odata.nextLink")
        delta = body.get("@odata.deltaLink", delta)
    return rows, delta


def _parts_ok(r: httpx.Response) -> int:
    return sum(
        1
        for item in parse_batch(r.headers["content-type"], r.content)
        for p in (item.parts if isinstance(item, ChangeSet) else [item])
        if p.status and p.status < 300
    )


def batch(
    c: httpx.Client,
    parts: list[HttpPart],
    *,
    change_sets: bool,
    prefer: str | None = None,
    expect_ok: bool = True,
) -> int:
    """One ``$batch``: each part in its own change set (F&O, as p2c sends) or bare (Dataverse)."""
    items: list[Any] = [ChangeSet([p]) for p in parts] if change_sets else list(parts)
    ctype, body = render_batch(items, kind="request")
    headers = {"Content-Type": ctype}
    if prefer:
        headers["Prefer"] = prefer
    r = c.post("$batch", content=body, headers=headers)
    r.raise_for_status()
    ok = _parts_ok(r)
    if expect_ok:
        assert ok == len(parts), f"{ok} of {len(parts)} parts succeeded: {r.text[:2000]}"
    return ok


def part(method: str, url: str, body: dict[str, Any] | None, cid: int, **headers: str) -> HttpPart:
    h = {"content-type": JSON, **headers} if body is not None else dict(headers)
    return HttpPart.request(method, url, h, json.dumps(body).encode() if body is not None else b"", str(cid))


# -- Dataverse ----------------------------------------------------------------------------------


def ensure_key(crm: httpx.Client, entity: str, name: str, columns: list[str]) -> None:
    """An alternate key on ``entity``, waited for until Active (Dataverse builds them asynchronously)."""
    keys = crm.get(f"EntityDefinitions(LogicalName='{entity}')/Keys").json()["value"]
    if not any(sorted(k["KeyAttributes"]) == sorted(columns) for k in keys):
        body = {
            "SchemaName": name,
            "KeyAttributes": columns,
            "DisplayName": {"LocalizedLabels": [{"Label": name, "LanguageCode": 1033}]},
        }
        crm.post(f"EntityDefinitions(LogicalName='{entity}')/Keys", json=body).raise_for_status()
    while True:
        keys = crm.get(f"EntityDefinitions(LogicalName='{entity}')/Keys").json()["value"]
        status = next(
            k["EntityKeyIndexStatus"] for k in keys if sorted(k["KeyAttributes"]) == sorted(columns)
        )
        if status == "Active":
            return
        if status == "Failed":
            raise SystemExit(f"alternate key {name} failed to build")
        import time

        time.sleep(0.1)


def enable_tracking(crm: httpx.Client, entity: str) -> None:
    """Change tracking on for ``entity`` (PUT of its definition with the flag set, as p2c setup does)."""
    path = f"EntityDefinitions(LogicalName='{entity}')"
    definition = {k: v for k, v in crm.get(path).json().items() if not k.startswith("@odata.context")}
    definition["ChangeTrackingEnabled"] = True
    crm.put(path, json=definition, headers={"MSCRM.MergeLabels": "true"}).raise_for_status()


def upsert_multiple(crm: httpx.Client, entity_set: str, logical: str, targets: list[dict[str, Any]]) -> int:
    """``UpsertMultiple`` of ``targets`` (each with its ``@odata.id``), as p2c's Dataverse writer."""
    for t in targets:
        t["@odata.type"] = f"Microsoft.Dynamics.CRM.{logical}"
    r = crm.post(f"{entity_set}/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": targets})
    if r.status_code >= 300:
        raise SystemExit(f"UpsertMultiple {entity_set}: {r.status_code} {r.text[:1000]}")
    return len(targets)


def account_targets(prefix: str, label: str, n: int = 1000) -> list[dict[str, Any]]:
    return [
        {
            "@odata.id": f"accounts(accountnumber='{prefix}-{i:05}')",
            "name": f"Bench {i} {label}",
            "telephone1": f"555-{i:04}",
            "address1_city": "Springfield",
            "creditlimit": 1000 + i,
        }
        for i in range(n)
    ]


def product_targets(crm: httpx.Client, prefix: str, n: int = 1000) -> list[dict[str, Any]]:
    """New products bound to the unit group and unit of an existing one (as p2c's lookups resolve)."""
    first = crm.get(
        "products?$top=1&$select=_defaultuomscheduleid_value,_defaultuomid_value&$filter=productnumber ne null"
    ).json()["value"][0]
    return [
        {
            "@odata.id": f"products(productnumber='{prefix}-{i:05}')",
            "name": f"Bench product {i}",
            "defaultuomscheduleid@odata.bind": f"uomschedules({first['_defaultuomscheduleid_value']})",
            "defaultuomid@odata.bind": f"uoms({first['_defaultuomid_value']})",
            "quantitydecimal": 2,
        }
        for i in range(n)
    ]


def price_item_targets(crm: httpx.Client, prefix: str) -> list[dict[str, Any]]:
    """One price list item per product ``prefix-*`` on the seed's price list, by a new primary key."""
    level = crm.get("pricelevels?$top=1&$select=pricelevelid").json()["value"][0]["pricelevelid"]
    products = []
    url: str | None = (
        f"products?$select=productid,_defaultuomid_value&$filter=startswith(productnumber,'{prefix}-')"
    )
    while url:
        body = crm.get(url, headers={"Prefer": "odata.maxpagesize=5000"}).json()
        products += body["value"]
        url = body.get("@odata.nextLink")
    return [
        {
            "@odata.id": f"productpricelevels({uuid.uuid4()})",
            "pricelevelid@odata.bind": f"pricelevels({level})",
            "productid@odata.bind": f"products({p['productid']})",
            "uomid@odata.bind": f"uoms({p['_defaultuomid_value']})",
            "amount": 10 + i,
            "pricingmethodcode": 1,
        }
        for i, p in enumerate(products)
    ]


def account_ids(crm: httpx.Client, prefix: str) -> list[str]:
    ids: list[str] = []
    url: str | None = f"accounts?$select=accountid&$filter=startswith(accountnumber,'{prefix}-')"
    while url:
        body = crm.get(url, headers={"Prefer": "odata.maxpagesize=5000"}).json()
        ids += [r["accountid"] for r in body["value"]]
        url = body.get("@odata.nextLink")
    return ids


def crm_batch_patch(crm: httpx.Client, api: str, ids: list[str], label: str) -> int:
    """Continue-on-error ``$batch`` of one PATCH per row (update-only, representation asked)."""
    parts = [
        part(
            "PATCH",
            f"{api}accounts({i})",
            {"fax": f"{label}-{n}"},
            n + 1,
            **{"If-Match": "*", "Prefer": "return=representation"},
        )
        for n, i in enumerate(ids)
    ]
    return batch(crm, parts, change_sets=False, prefer="odata.continue-on-error")


def crm_batch_post(crm: httpx.Client, api: str, n: int = 1000) -> int:
    parts = [part("POST", f"{api}accounts", {"name": f"Batched {i}"}, i + 1) for i in range(n)]
    return batch(crm, parts, change_sets=False, prefer="odata.continue-on-error")


# -- F&O ----------------------------------------------------------------------------------------

CROSS = "?cross-company=true"


def customers(prefix: str, n: int = 1000) -> list[dict[str, Any]]:
    return [
        {
            "dataAreaId": "usmf",
            "CustomerAccount": f"{prefix}{i:05}",
            "OrganizationName": f"Bench {i}",
            "CustomerGroupId": "10",
            "SalesCurrencyCode": "USD",
            "AddressCity": "Springfield",
        }
        for i in range(n)
    ]


def erp_post(erp: httpx.Client, api: str, entity: str, bodies: list[dict[str, Any]]) -> int:
    parts = [
        part("POST", f"{api}{entity}{CROSS}", b, i + 1, Prefer="return=minimal") for i, b in enumerate(bodies)
    ]
    return batch(erp, parts, change_sets=True)


def erp_patch(
    erp: httpx.Client, api: str, entity: str, keys: list[dict[str, Any]], change: dict[str, Any]
) -> int:
    parts = []
    for i, k in enumerate(keys):
        pred = ",".join(f"{n}='{v}'" if isinstance(v, str) else f"{n}={v}" for n, v in k.items())
        parts.append(part("PATCH", f"{api}{entity}({quote(pred, safe='=,()')}){CROSS}", change, i + 1))
    return batch(erp, parts, change_sets=True)


def erp_lookup(erp: httpx.Client, api: str, entity: str, keys: list[dict[str, Any]], select: str) -> int:
    """p2c's existence check: ``key_filters`` GETs (company first) sent together in one ``$batch``."""
    parts = [
        part(
            "GET",
            f"{api}{entity}{CROSS}&$select={select}&$filter={quote(f, safe='')}",
            None,
            i + 1,
        )
        for i, f in enumerate(key_filters(keys, company_first=True))
    ]
    ctype, body = render_batch(parts, kind="request")
    r = erp.post("$batch", content=body, headers={"Content-Type": ctype})
    r.raise_for_status()
    found = 0
    for p in parse_batch(r.headers["content-type"], r.content):
        assert isinstance(p, HttpPart) and p.status == 200, p
        found += len(json.loads(p.body)["value"])
    return found


def order_headers(prefix: str, accounts: list[str], n: int = 1000) -> list[dict[str, Any]]:
    """Sales order headers as the OrderHeader task maps them (customer, currency, ship-to)."""
    return [
        {
            "dataAreaId": "usmf",
            "SalesOrderNumber": f"{prefix}{i:05}",
            "SalesOrderName": f"Bench order {i}",
            "OrderingCustomerAccountNumber": accounts[i % len(accounts)],
            "InvoiceCustomerAccountNumber": accounts[i % len(accounts)],
            "CurrencyCode": "USD",
            "RequestedReceiptDate": "2026-12-24T12:00:00Z",
            "DeliveryAddressName": "Bench",
            "DeliveryAddressStreet": "1 Main St",
            "DeliveryAddressCity": "Springfield",
            "DeliveryAddressZipCode": "12345",
            "DeliveryAddressCountryRegionISOCode": "US",
        }
        for i in range(n)
    ]


def order_lines(
    prefix: str, orders: int, products: list[str], per_order: int = 5
) -> Iterator[dict[str, Any]]:
    for i in range(orders):
        for seq in range(1, per_order + 1):
            yield {
                "dataAreaId": "usmf",
                "SalesOrderNumber": f"{prefix}{i:05}",
                "LineCreationSequenceNumber": seq,
                "ProductNumber": products[(i * per_order + seq) % len(products)],
                "LineDescription": f"Line {seq}",
                "OrderedSalesQuantity": seq,
                "SalesUnitSymbol": "ea",
                "SalesPrice": 12.5,
                "LineDiscountAmount": 0.33,
                "FixedPriceCharges": -0.01,
            }
