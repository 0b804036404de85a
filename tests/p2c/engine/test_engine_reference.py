"""Reference tables (the catalog's ``reference``: currencies, unit groups, units, price lists) read
whole beside a task's first source read, so its first page's lookups cost no round trip."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

import p2c.engine.related as related_module
from p2c.store import RunStatus

REFERENCE = ("transactioncurrencies", "uomschedules", "uoms")  # what Products looks up


def _listen(client: httpx.Client) -> list[tuple[str, str, bytes]]:
    sent: list[tuple[str, str, bytes]] = []
    client.event_hooks = {
        "request": [lambda r: sent.append((r.method, str(r.url), r.read()))],
        "response": [],
    }
    return sent


def _gets(sent: list[tuple[str, str, bytes]]) -> list[list[str]]:
    """The URLs each request asked for: a GET's own, or the GETs inside a ``$batch``."""
    out: list[list[str]] = []
    for method, url, body in sent:
        if method == "GET":
            out.append([unquote(url)])
        elif method == "POST" and url.endswith("$batch"):
            out.append(
                [unquote(u) for u in re.findall(rb"^GET (\S+) HTTP/1\.1", body, re.M) for u in [u.decode()]]
            )
    return [urls for urls in out if urls]


def _asked(sent: list[tuple[str, str, bytes]], *, whole: bool) -> set[str]:
    """The reference tables read whole (no filter) or asked by value (a filter)."""
    return {
        name
        for urls in _gets(sent)
        for url in urls
        for name in REFERENCE
        if f"/{name}?" in url and ("$filter" not in url) is whole
    }


def _whole_reads(sent: list[tuple[str, str, bytes]]) -> set[str]:
    return _asked(sent, whole=True)


def _by_value(sent: list[tuple[str, str, bytes]]) -> set[str]:
    return _asked(sent, whole=False)


def test_a_first_run_reads_the_reference_tables_whole_and_asks_no_value(provisioned_project: Any) -> None:
    world = provisioned_project
    with world.open() as h:
        sent = _listen(h.crm._client)
        report = h.run("Products")
        (task,) = report.tasks
        assert report.status is RunStatus.SUCCEEDED and task.created > 0 and task.failed == 0
        assert _whole_reads(sent) == set(REFERENCE)
        whole = [urls for urls in _gets(sent) if any("$filter" not in u and "/uoms?" in u for u in urls)]
        assert len(whole) == 1 and len(whole[0]) == len(REFERENCE)  # the three tables in one request
        assert _by_value(sent) == set()  # the lookups found every value in the tables read whole
        products = world.crm().get(
            "products", params={"$select": "productnumber,_transactioncurrencyid_value,_defaultuomid_value"}
        )
        currencies = world.crm().get("transactioncurrencies", params={"$select": "transactioncurrencyid"})
        known = {c["transactioncurrencyid"] for c in currencies.json()["value"]}
        written = [p for p in products.json()["value"] if p["_transactioncurrencyid_value"]]
        assert len(written) >= task.created and {p["_transactioncurrencyid_value"] for p in written} <= known
        assert all(p["_defaultuomid_value"] for p in written)

        # a later run (links exist) asks by value, and only for what it maps: no table read whole
        sent.clear()
        report = h.run("Products", full=True)
        assert report.status is RunStatus.SUCCEEDED and report.tasks[0].failed == 0
        assert _whole_reads(sent) == set()
        assert _by_value(sent) == set(REFERENCE)


def test_a_reference_table_larger_than_the_bound_is_asked_by_value(
    provisioned_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(related_module, "REFERENCE_ROWS", 1)  # every table here holds more than one unit
    with provisioned_project.open() as h:
        sent = _listen(h.crm._client)
        report = h.run("Products")
        assert report.status is RunStatus.SUCCEEDED and report.tasks[0].failed == 0
        assert report.tasks[0].created > 0
        assert "uoms" in _whole_reads(sent) and "uoms" in _by_value(sent)  # read, too large, then asked
