"""A split load (``settings.parts``, :mod:`p2c.engine.share`): the parts of a task write their
share of its records side by side, and its closing pass finds what they wrote unchanged, reads
again what failed, and saves the cursor. In-process here (``run_item`` on threads, the sandbox and
a SQLite store); ``test_scale_workers.py`` runs a split load on two ``p2c worker`` processes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine_helpers import crm_rows, p2c, synced_customers
from serve_helpers import serve
from test_console_pages import login

from p2c.engine import TaskReport
from p2c.engine.items import run_item
from p2c.engine.share import Share, split_key
from p2c.store import Action, RunStatus


def _account(crm: Any, name: str, number: str | None) -> str:
    response = crm.post(
        "accounts", json={"name": name, "accountnumber": number}, headers={"Prefer": "return=representation"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["accountid"])


def test_split_key_is_the_natural_key_when_there_is_one() -> None:
    assert split_key({"accountnumber": " Twin-1 "}, ["accountnumber"], "id-1") == "twin-1"
    assert split_key({"accountnumber": "TWIN-1"}, ["accountnumber"], "id-2") == "twin-1"
    assert split_key({"accountnumber": None}, ["accountnumber"], "id-3") == "id-3"  # a number to come
    shares = Share.all_of(4)
    assert [s.holds("twin-1") for s in shares].count(True) == 1
    held = {k: next(s for s in shares if s.holds(k)) for k in (f"k{n}" for n in range(400))}
    assert all(60 < list(held.values()).count(s) < 140 for s in shares)  # spread, not all in one


def test_parts_write_their_shares_once_and_the_closing_pass_finds_them_unchanged(
    provisioned_project: Any,
) -> None:
    world = provisioned_project
    crm = world.crm()
    unnumbered = [_account(crm, f"Unnumbered {n}", None) for n in range(12)]
    twins = {_account(crm, "Twin one", "TWIN-1"), _account(crm, "Twin two", "twin-1 ")}
    # each CRM request answers late, so the three parts read, number and write back in step: a part
    # that numbered from the stored sequence, not from a block it took, would reuse another's
    faults = world.sandbox.admin("crm")
    with world.open() as h:
        run_id = h.store.start_run(h.project.name, ["Accounts"])

        def part(share: Share) -> TaskReport:
            return run_item(h.engine, run_id, "Accounts", share=share).tasks[0]

        faults.put("faults", json={"latency_ms": 150}).raise_for_status()
        try:
            with ThreadPoolExecutor(3) as pool:  # side by side, numbering from one sequence
                parts = list(pool.map(part, Share.all_of(3)))
        finally:
            faults.put("faults", json={"latency_ms": 0}).raise_for_status()
        assert h.store.cursor("Accounts") is None  # no part moves the cursor
        closing = run_item(h.engine, run_id, "Accounts").tasks[0]
        cursor = h.store.cursor("Accounts")
        history = h.store.task_runs(run_id)
        failed = h.store.outcomes(run_id, actions=[Action.FAILED])
    accounts = {
        r["accountid"]: r["accountnumber"] for r in crm_rows(crm, "accounts", ["accountid", "accountnumber"])
    }
    # every account in exactly one part, each part with some
    assert sum(p.read for p in parts) == len(accounts) and all(p.read for p in parts), parts
    assert all(p.read == p.accounted for p in parts), parts
    # the history tells the parts from the closing pass by their task runs' part, not their message
    assert sorted((str(t.part), t.message) for t in history[:3]) == [(f"{n}/3", None) for n in (1, 2, 3)]
    assert [p.part for p in parts] == ["1/3", "2/3", "3/3"]  # each part's report, in Share order
    assert (history[-1].part, history[-1].label, closing.part) == (None, "Accounts", None)
    # the twins met in one part (by their number, not their ids) and failed there, naming each other
    assert [p.failed for p in parts].count(2) == 1 and sum(p.failed for p in parts) == 2, parts
    first_try = [o for o in failed if o.task_run_id != history[-1].id]
    assert {o.source_key for o in first_try} == twins and all(
        "not unique" in str(o.message) for o in first_try
    )
    # numbers from the three parts at once: every one new, from blocks of the sequence none shares
    generated = [accounts[k] for k in unnumbered]
    assert all(generated) and len({int(n.split("-")[1]) for n in generated}) == len(generated), generated
    # in the ERP once each, under the number its account holds
    written = {n for k, n in accounts.items() if k not in twins}
    assert sum(p.created for p in parts) == len(written) and set(synced_customers(world.erp())) == written
    # the closing pass: what the parts wrote is unchanged, the twins fail again, the cursor is saved
    assert (closing.created, closing.updated, closing.unchanged, closing.failed) == (0, 0, len(written), 2)
    assert closing.read == len(accounts) and cursor is not None


def test_the_parts_of_a_split_load_are_told_apart_in_the_history_the_api_and_the_console(
    provisioned_project: Any,
) -> None:
    """Each part's task run records which part it ran (``task_runs.part``), the closing pass none:
    ``p2c history RUN``, the API's run and the console's run page all say so."""
    world = provisioned_project
    with world.open() as h:
        run_id = h.store.start_run(h.project.name, ["Accounts"])
        for share in Share.all_of(2):
            run_item(h.engine, run_id, "Accounts", share=share)
        run_item(h.engine, run_id, "Accounts")  # the closing pass
        h.store.finish_run(run_id, RunStatus.SUCCEEDED)
        recorded = [(t.part, t.message) for t in h.store.task_runs(run_id)]
    assert recorded == [("1/2", None), ("2/2", None), (None, None)]

    shown = p2c("history", str(run_id), cwd=world.dir)
    assert shown.returncode == 0, shown.stderr
    assert "Accounts (part 1/2)" in shown.stdout and "Accounts (part 2/2)" in shown.stdout, shown.stdout
    assert "of a split load" not in shown.stdout

    with serve(world.path) as s:
        run = s.get(f"/runs/{run_id}")
        assert [(t["task"], t["part"]) for t in run["task_runs"]] == [
            ("Accounts", "1/2"),
            ("Accounts", "2/2"),
            ("Accounts", None),
        ]
        client = login(s)
        try:
            page = client.get(f"/projects/{s.project}/runs/{run_id}")
        finally:
            client.close()
        assert page.status_code == 200
        assert page.text.count('<span class="small part">part 1/2</span>') == 1
        assert page.text.count('<span class="small part">part 2/2</span>') == 1
        assert ">Accounts 1/2</text>" in page.text  # the chart's label, and its bars' titles
        assert "<title>Accounts 1/2: " in page.text and "<title>Accounts: " in page.text
