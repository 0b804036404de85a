"""Failed records are not forgotten: every run reads them again until they go through or a person
dismisses them; ``p2c run`` exits 1 while any is open and says since when; ``p2c status`` shows
them per task. Over HTTPS against the sandbox, ``p2c`` in its own process."""

from __future__ import annotations

import re
from typing import Any

from engine_helpers import p2c, synced_customers
from test_engine_cli import EXIT_OK, EXIT_PARTIAL, _break_one_account, _last_run, _table

from p2c.store import Action, StateStore


def test_a_failed_record_is_read_again_until_it_goes_through(provisioned_project: Any) -> None:
    world = provisioned_project
    bad = _break_one_account(world)
    first = p2c("run", "--task", "Accounts", cwd=world.dir)
    assert first.returncode == EXIT_PARTIAL, first.stdout + first.stderr
    failed_in = _last_run(world)

    # nothing changed at the source, yet the next run reads the failed record again and says so
    again = p2c("run", "--task", "Accounts", cwd=world.dir)
    assert again.returncode == EXIT_PARTIAL, again.stdout + again.stderr
    assert _last_run(world) == failed_in + 1
    with StateStore(world.project().state_url) as store:
        [rec] = store.outcomes(failed_in + 1, actions=[Action.FAILED])
    assert rec.source_key == bad["accountid"]

    # a run that fails nothing itself still exits 1 while the old failure is open, and says since when
    products = p2c("run", "--task", "Products", cwd=world.dir)
    assert products.returncode == EXIT_PARTIAL, products.stdout + products.stderr
    assert f"1 record(s) still failing since run {failed_in}" in products.stdout

    status = p2c("status", cwd=world.dir)
    assert status.returncode == EXIT_OK, status.stdout + status.stderr
    rows = {cells[0]: cells[1:] for cells in _table(status.stdout)}
    assert rows["Accounts"][:2] == ["1", "0"] and rows["Accounts"][2].startswith("never")
    assert rows["Products"][:2] == ["0", "0"] and re.match(r"run \d+ ", rows["Products"][2])

    # fixed at the source: the next run reads it again on its own (no `p2c retry`) and it goes through
    crm = world.crm()
    assert crm.patch(f"accounts({bad['accountid']})", json={"tickersymbol": "20"}).status_code == 204
    fixed = p2c("run", "--task", "Accounts", cwd=world.dir)
    assert fixed.returncode == EXIT_OK, fixed.stdout + fixed.stderr
    assert synced_customers(world.erp(), ["CustomerGroupId"])["C10104"]["CustomerGroupId"] == "20"
    assert "still failing" not in fixed.stdout


def test_a_dismissed_failure_is_no_longer_read_nor_counted(provisioned_project: Any) -> None:
    world = provisioned_project
    bad = _break_one_account(world)
    assert p2c("run", "--task", "Accounts", cwd=world.dir).returncode == EXIT_PARTIAL
    failed_in = _last_run(world)
    assert p2c("dismiss", str(failed_in), "--task", "Nope", cwd=world.dir).returncode == 2
    dismissed = p2c("dismiss", str(failed_in), "--task", "Accounts", cwd=world.dir)
    assert dismissed.returncode == EXIT_OK, dismissed.stdout + dismissed.stderr
    assert "1 record(s) of run" in dismissed.stdout

    after = p2c("run", "--task", "Accounts", cwd=world.dir)
    assert after.returncode == EXIT_OK, after.stdout + after.stderr
    with StateStore(world.project().state_url) as store:
        assert store.run(_last_run(world)).counts.failed == 0  # type: ignore[union-attr]
        assert store.outcomes(_last_run(world), actions=[Action.FAILED]) == []
        assert store.open_failures(["Accounts"]) == []
        [mark] = store.outcomes(failed_in, actions=[Action.DISMISSED])
    assert mark.source_key == bad["accountid"]
    # a change at the source brings it back, and if it fails again it is open again
    crm = world.crm()
    assert crm.patch(f"accounts({bad['accountid']})", json={"name": "Still broken"}).status_code == 204
    assert p2c("run", "--task", "Accounts", cwd=world.dir).returncode == EXIT_PARTIAL


def test_a_failure_can_be_dismissed_by_its_key_without_naming_the_run(provisioned_project: Any) -> None:
    world = provisioned_project
    bad = _break_one_account(world)
    assert p2c("run", "--task", "Accounts", cwd=world.dir).returncode == EXIT_PARTIAL
    assert p2c("dismiss", cwd=world.dir).returncode == 2  # which records? refused, nothing dismissed
    assert p2c("dismiss", "--key", "no-such-record", cwd=world.dir).stdout.startswith("0 record(s)")
    by_key = p2c("dismiss", "--key", bad["accountid"], cwd=world.dir)
    assert by_key.returncode == EXIT_OK and by_key.stdout.startswith("1 record(s) dismissed"), by_key.stdout
    with StateStore(world.project().state_url) as store:
        assert store.open_failures(["Accounts"]) == []
