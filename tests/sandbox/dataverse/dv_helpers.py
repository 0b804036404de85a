"""Helpers shared by the Dataverse contract tests (imported as ``dv_helpers``)."""

from __future__ import annotations

import time
from typing import Any

import httpx

ANNOTATIONS = {"Prefer": 'odata.include-annotations="*"'}


def first(crm: httpx.Client, entity_set: str, query: str = "") -> dict[str, Any]:
    """The first row of ``entity_set`` matching ``query`` (``$filter=...`` etc.)."""
    sep = "&" if query else ""
    resp = crm.get(f"{entity_set}?{query}{sep}$top=1")
    assert resp.status_code == 200, resp.text
    rows = resp.json()["value"]
    assert rows, f"no {entity_set} row for {query!r}"
    return rows[0]  # type: ignore[no-any-return]


def entity_id(resp: httpx.Response) -> str:
    """The GUID in the ``OData-EntityId`` header of a create."""
    url = resp.headers["OData-EntityId"]
    return url[url.rindex("(") + 1 : -1]


def error_of(resp: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` of a Dataverse error body."""
    body = resp.json()
    return body["error"]["code"], body["error"]["message"]


def make_key(crm: httpx.Client, table: str, attributes: list[str], name: str | None = None) -> dict[str, Any]:
    """Create an alternate key and wait until it is no longer Pending; returns its metadata."""
    schema = name or f"p2c_{table}_{'_'.join(attributes)}"
    resp = crm.post(
        f"EntityDefinitions(LogicalName='{table}')/Keys",
        json={"SchemaName": schema, "KeyAttributes": attributes},
    )
    assert resp.status_code == 204, resp.text
    deadline = time.monotonic() + 10
    while True:
        key = crm.get(f"EntityDefinitions(LogicalName='{table}')/Keys(LogicalName='{schema.lower()}')").json()
        if key["EntityKeyIndexStatus"] != "Pending" or time.monotonic() > deadline:
            return key  # type: ignore[no-any-return]
        time.sleep(0.05)
