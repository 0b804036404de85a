"""Every record's fate: read = created + updated + deleted + unchanged + filtered + skipped +
waiting + failed for every task, and each counted record listed with its reason."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from engine_helpers import count_tables, crm_rows, p2c

from p2c.cli.demo import run_demo
from p2c.store import COUNTERS, Action, StateStore

LISTED = ("created", "updated", "deleted", "filtered", "skipped", "waiting", "failed")


def _adds_up(tasks: Any) -> None:
    for t in tasks:
        counts = t.counts if hasattr(t, "counts") else t
        assert counts.read == counts.accounted, t


def test_every_task_of_the_demo_accounts_for_every_record_it_read(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", port_base=0, say=lambda _text: None)
    seen: Counter[str] = Counter()
    for report in result.runs:
        _adds_up(report.tasks)
        for t in report.tasks:
            seen.update({name: getattr(t, name) for name in COUNTERS})
    # the demo has a record of each of these fates (waiting and failed: the next test)
    assert all(seen[k] > 0 for k in ("read", "created", "updated", "unchanged", "filtered", "skipped")), seen
    with StateStore(str(tmp_path / "demo" / "p2c.db")) as store:
        runs = store.runs()
        assert len(runs) == 2
        for run in runs:  # the history holds the same counts, and they add up there too
            _adds_up(run.task_runs)
            [report] = [r for r in result.runs if r.run_id == run.id]
            # by task: tasks without a dependency between them run at once, in any order
            assert {t.task: t.counts.read for t in run.task_runs} == {t.task: t.read for t in report.tasks}
            assert len(run.task_runs) == len(report.tasks)


def _bad_account_and_waiting_contact(world: Any) -> tuple[str, str]:
    crm = world.crm()
    response = crm.post(
        "accounts",
        json={"name": "Unmapped Land Ltd", "accountnumber": "XX-9", "address1_country": "Atlantis"},
        headers={"Prefer": "return=representation"},
    )
    account = response.json()["accountid"]
    response = crm.post(
        "contacts",
        json={"lastname": "Waiting", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
        headers={"Prefer": "return=representation"},
    )
    return account, response.json()["contactid"]


def test_each_counted_record_is_listed_with_its_reason(every_flow_project: Any) -> None:
    world = every_flow_project
    account, contact = _bad_account_and_waiting_contact(world)
    with world.open() as h:
        report = h.run()
    _adds_up(report.tasks)
    totals = {name: sum(getattr(t, name) for t in report.tasks) for name in COUNTERS}
    assert all(totals[k] > 0 for k in ("unchanged", "filtered", "skipped", "waiting", "failed")), totals

    listed = p2c("records", str(report.run_id), "--json", "--limit", "100000", cwd=world.dir)
    assert listed.returncode == 0, listed.stderr
    records = [r for r in json.loads(listed.stdout) if r["operation"] is None]
    by_fate = Counter((r["task"], r["action"]) for r in records)
    for t in report.tasks:  # every counted record (but the unchanged ones) is there, once
        for fate in LISTED:
            assert by_fate[(t.task, fate)] == getattr(t, fate), (t.task, fate)
    for r in records:
        if r["action"] == "filtered":
            assert r["message"].startswith("left out by the task's filter: "), r
        if r["action"] == "skipped":
            assert r["reason"] and r["message"], r
    failed = [r for r in records if r["action"] == "failed"]
    waiting = [r for r in records if r["action"] == "waiting"]
    assert [r["source_key"] for r in failed] == [account] and "Atlantis" in failed[0]["message"]
    assert contact in [r["source_key"] for r in waiting]

    # one task, one fate, for people: the reason in words
    skipped = p2c("records", str(report.run_id), "--task", "Contacts", "--action", "skipped", cwd=world.dir)
    assert skipped.returncode == 0, skipped.stderr
    assert "not_routed: " in skipped.stdout and "unchanged since the last write" not in skipped.stdout
    assert p2c("records", str(report.run_id), "--task", "Nope", cwd=world.dir).returncode == 2
    assert p2c("records", "999", cwd=world.dir).returncode == 2

    # the failing account is deleted in the CRM: the next run reads the deletion and says so
    assert world.crm().delete(f"accounts({account})").status_code == 204
    with world.open() as h:
        after = h.run("Accounts")
        _adds_up(after.tasks)
        [gone] = h.store.outcomes(after.run_id, actions=[Action.SKIPPED])
        assert (gone.source_key, gone.reason) == (account, "source_deleted")
        assert account not in {o.source_key for o in h.store.pending("Accounts")}


def test_a_retried_record_that_left_the_filter_is_filtered_not_pending(every_flow_project: Any) -> None:
    world = every_flow_project
    world.configure(tasks={"Accounts": {"filter": "statecode eq 0"}})  # active accounts only
    account, _contact = _bad_account_and_waiting_contact(world)
    with world.open() as h:
        first = h.run("Accounts")
    assert first.failed == 1, first.tasks
    # the account is made inactive: the Accounts task's filter leaves it out from now on
    assert (
        world.crm().patch(f"accounts({account})", json={"statecode": 1, "statuscode": 2}).status_code == 204
    )
    retry = p2c("retry", str(first.run_id), cwd=world.dir)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    with world.open() as h:
        [run] = h.store.runs(limit=1)
        _adds_up(run.task_runs)
        [out] = h.store.outcomes(run.id)
        assert (out.source_key, out.action) == (account, Action.FILTERED)
        assert h.store.pending("Accounts") == []


def test_plan_lists_skips_and_filtered_records_with_reasons_at_80_columns(every_flow_project: Any) -> None:
    world = every_flow_project
    quotes = crm_rows(world.crm(), "quotes", ["quoteid"])
    assert quotes
    plan = p2c("plan", "--task", "Contacts", "--task", "QuoteHeader", cwd=world.dir, columns=80)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    said = " ".join(plan.stdout.split())  # long lines wrap at 80 columns
    left_out = r"QuoteHeader: would leave out \d+ record\(s\): left out by the task's filter: statecode eq 1"
    assert re.search(left_out, said), said
    assert re.search(r"Contacts: would skip \(source \S+\): not synchronised: .{10,}", said), said
    [table] = count_tables(plan.stdout)
    assert [r["task"] for r in table] == ["Contacts", "QuoteHeader"]
    for row in table:  # read = every fate shown (short headers at 80 columns)
        assert int(row["read"]) == sum(
            int(v) for k, v in row.items() if k not in ("task", "read", "secs", "status")
        )

    assert p2c("run", cwd=world.dir).returncode in (0, 1)
    for args in (("history",), ("history", "2"), ("plan",)):
        out = p2c(*args, cwd=world.dir, columns=80)
        assert out.returncode in (0, 1), out.stdout + out.stderr
        too_wide = [line for line in out.stdout.splitlines() if len(line) > 80]
        assert too_wide == [] and "…" not in out.stdout, out.stdout
    one = p2c("history", "2", cwd=world.dir, columns=80)
    [tasks] = count_tables(one.stdout)
    assert {r["task"] for r in tasks} >= {"ContactToCustomer", "ProductPriceListItems", "OrderHeaderFromERP"}
