"""The engine commands as a user runs them (``p2c`` in its own process): plan, run, history, errors,
retry, their exit codes — and no secret in their output or in the history they leave."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import yaml
from engine_helpers import (
    ACCOUNT_NUMBER,
    boxed_product,
    count_tables,
    crm_rows,
    p2c,
    snapshot,
    synced_customers,
)

from p2c.store import StateStore

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3
JWT = re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}")


def _break_one_account(world: Any) -> dict[str, Any]:
    """The customer group comes from the CRM's ticker symbol; C10104's is one the ERP does not have."""
    world.configure(tasks={"Accounts": {"fields": {"CustomerGroupId": "tickersymbol"}}})
    crm = world.crm()
    [bad] = crm_rows(crm, "accounts", ["accountid", "name"], "accountnumber eq 'C10104'")
    assert crm.patch(f"accounts({bad['accountid']})", json={"tickersymbol": "99"}).status_code == 204
    return bad


def _table(text: str) -> list[list[str]]:
    """The body rows of the rich tables in ``text``, as lists of cells."""
    return [
        [c.strip() for c in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.strip().startswith("│") and "─" not in line
    ]


def _last_run(world: Any) -> int:
    with StateStore(world.project().state_url) as store:
        return store.runs(limit=1)[0].id


def test_plan_lists_what_would_be_written_and_writes_nothing(provisioned_project: Any) -> None:
    world = provisioned_project
    before = snapshot(world.crm(), world.erp())
    plan = p2c("plan", cwd=world.dir)
    assert plan.returncode == EXIT_OK, plan.stdout + plan.stderr
    assert snapshot(world.crm(), world.erp()) == before
    [table] = count_tables(plan.stdout)
    rows = {r["task"]: [r["read"], r["new"], r["updated"], r["unchanged"]] for r in table}
    assert rows == {
        "Accounts": ["30", "30", "0", "0"],
        "Products": ["17", "17", "0", "0"],
        "ProductPriceListItems": ["17", "17", "0", "0"],
    }
    assert "Accounts: would create usmf,C10100" in plan.stdout
    assert "would create D0001" in plan.stdout
    # side writes too: numbers written back to the CRM, new products activated
    assert re.search(
        rf"Accounts: would write the generated number {ACCOUNT_NUMBER} back to the CRM \(accounts [0-9a-f-]{{36}}, for ",
        plan.stdout,
    ), plan.stdout
    assert "Products: would activate the new product (products " in plan.stdout
    with StateStore(world.project().state_url) as store:
        assert store.runs() == []  # a plan is not a run


def test_history_lists_every_run_with_its_counts(provisioned_project: Any) -> None:
    world = provisioned_project
    assert p2c("run", cwd=world.dir).returncode == EXIT_OK
    assert p2c("run", "--task", "Accounts", cwd=world.dir).returncode == EXIT_OK
    history = p2c("history", cwd=world.dir)
    assert history.returncode == EXIT_OK, history.stderr
    [rows] = count_tables(history.stdout)
    assert [r["run"] for r in rows] == ["2", "1"]  # newest first
    assert [r["status"] for r in rows] == ["succeeded", "succeeded"]
    assert [r["by"] for r in rows] == ["cli", "cli"]
    # run 1 created 30 customers, 17 products and 17 price-list items (and read back the accounts
    # it wrote a generated number to as it ended); run 2 found no account changed since
    assert (rows[1]["read"], rows[1]["new"], rows[1]["unchanged"]) == ("64", "64", "0")
    assert (rows[0]["read"], rows[0]["new"], rows[0]["unchanged"]) == ("0", "0", "0")

    one = p2c("history", "1", cwd=world.dir)
    assert one.returncode == EXIT_OK, one.stderr
    [tasks] = count_tables(one.stdout)
    assert {r["task"]: r["new"] for r in tasks} == {
        "Accounts": "30",
        "Products": "17",
        "ProductPriceListItems": "17",
    }
    assert p2c("history", "99", cwd=world.dir).returncode == 2


def test_errors_then_retry_after_the_fix(provisioned_project: Any) -> None:
    world = provisioned_project
    bad = _break_one_account(world)

    run = p2c("run", "--task", "Accounts", cwd=world.dir)
    assert run.returncode == EXIT_PARTIAL, run.stdout + run.stderr
    run_id = _last_run(world)
    assert f"p2c errors {run_id}" in run.stdout

    shown = p2c("errors", str(run_id), cwd=world.dir)
    assert shown.returncode == EXIT_OK
    assert bad["accountid"] in shown.stdout and "CustomerGroupId" in shown.stdout and "failed" in shown.stdout
    [record] = json.loads(p2c("errors", str(run_id), "--json", cwd=world.dir).stdout)
    assert (record["source_key"], record["field"], record["action"]) == (
        bad["accountid"],
        "CustomerGroupId",
        "failed",
    )
    assert "The value '99' in field 'Customer group' is not found" in record["message"]

    # still broken: retrying fails the same record again (partial), and writes nothing else
    assert p2c("retry", str(run_id), cwd=world.dir).returncode == EXIT_PARTIAL
    crm = world.crm()
    assert crm.patch(f"accounts({bad['accountid']})", json={"tickersymbol": "20"}).status_code == 204
    retry = p2c("retry", str(run_id), cwd=world.dir)
    assert retry.returncode == EXIT_OK, retry.stdout + retry.stderr
    with StateStore(world.project().state_url) as store:
        counts = store.run(_last_run(world)).counts  # type: ignore[union-attr]
    assert (counts.read, counts.created, counts.failed) == (1, 1, 0)  # only the failed record, read fresh
    customers = synced_customers(world.erp(), ["CustomerGroupId"])
    assert customers["C10104"]["CustomerGroupId"] == "20" and len(customers) == 30


def test_exit_code_3_when_the_crm_cannot_be_reached(provisioned_project: Any, tmp_path: Path) -> None:
    world = provisioned_project
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once the socket is closed
    conns = yaml.safe_load(world.connections.read_text())
    conns["crm"].update(
        url=f"https://127.0.0.1:{closed}",
        api=f"https://127.0.0.1:{closed}/api/data/v9.2/",
        authority=f"https://127.0.0.1:{closed}/{conns['crm']['tenant_id']}",
    )
    (world.dir / "unreachable.yaml").write_text(yaml.safe_dump(conns))
    project = yaml.safe_load(world.path.read_text())
    project["connections"] = "unreachable.yaml"
    (world.dir / "unreachable-p2c.yaml").write_text(yaml.safe_dump(project))

    result = p2c("run", "--project", "unreachable-p2c.yaml", cwd=world.dir, timeout=60)
    assert result.returncode == EXIT_CANNOT_RUN, result.stdout + result.stderr
    assert f"127.0.0.1:{closed}" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_run_refuses_within_seconds_when_the_crm_does_not_answer(provisioned_project: Any) -> None:
    """Entra issues tokens, the CRM cuts every connection without an HTTP answer (as a host that is
    down): the run says so after a quick check instead of backing off for a minute in every task,
    and records no run."""
    world = provisioned_project
    with StateStore(world.project().state_url) as store:
        runs_before = len(store.runs(limit=100))
    assert world.sandbox.admin("crm").put("faults", json={"drop_every": 1}).status_code == 200
    started = time.monotonic()
    result = p2c("run", cwd=world.dir, timeout=120)
    elapsed = time.monotonic() - started
    world.sandbox.admin("crm").put("faults", json={})
    assert result.returncode == EXIT_CANNOT_RUN, result.stdout + result.stderr
    crm_api = yaml.safe_load(world.connections.read_text())["crm"]["api"]
    assert f"no answer from {crm_api}" in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 15, elapsed  # one quick retry, not the run's minute of back-off
    with StateStore(world.project().state_url) as store:
        assert len(store.runs(limit=100)) == runs_before


def test_exit_code_2_for_a_bad_project_file(provisioned_project: Any) -> None:
    world = provisioned_project
    world.write(tasks={"Accounts": {"fields": {"CustomerGroup": "tickersymbol"}}})
    before = snapshot(world.crm(), world.erp())
    result = p2c("run", cwd=world.dir)
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert (
        "p2c.yaml" in result.stderr
        and "CustomerGroup" in result.stderr
        and "CustomerGroupId" in result.stderr
    )
    assert snapshot(world.crm(), world.erp()) == before
    missing = p2c("run", "--project", "nowhere.yaml", cwd=world.dir)
    assert missing.returncode == EXIT_USAGE and "p2c init" in missing.stderr


def test_no_secret_or_token_in_the_history_or_the_output(provisioned_project: Any) -> None:
    world = provisioned_project
    _break_one_account(world)
    run = p2c("run", cwd=world.dir)
    run_id = _last_run(world)
    outputs = [run, p2c("errors", str(run_id), "--json", cwd=world.dir), p2c("history", cwd=world.dir)]
    assert run.returncode == EXIT_PARTIAL

    with StateStore(world.project().state_url) as store:
        outcomes = store.outcomes(run_id)
        infos = store.runs()
    assert any(o.message for o in outcomes)  # there is a failure with its payload and source row
    stored = repr(outcomes) + repr(infos)
    database = (world.dir / "p2c.db").read_bytes().decode("utf-8", "replace")
    for text in (stored, database, *(o.stdout + o.stderr for o in outputs)):
        assert world.secret not in text
        assert "Bearer " not in text and not JWT.search(text)


def test_plan_exits_1_when_records_would_fail(provisioned_project: Any) -> None:
    world = provisioned_project
    boxed_product(world)
    plan = p2c("plan", "--task", "Products", cwd=world.dir)
    assert plan.returncode == EXIT_PARTIAL, plan.stdout + plan.stderr
    assert "would fail" in plan.stdout and "B0001" in plan.stdout


def test_init_on_an_existing_project_names_the_flag_that_replaces_it(provisioned_project: Any) -> None:
    world = provisioned_project
    again = p2c("init", "--connections", str(world.connections), cwd=world.dir)
    assert again.returncode == 2, again.stdout + again.stderr
    assert "p2c init --force" in again.stderr and "overwrite=True" not in again.stderr
    forced = p2c("init", "--connections", str(world.connections), "--force", cwd=world.dir)
    assert forced.returncode == EXIT_OK, forced.stdout + forced.stderr


def test_wrong_secret_and_untrusted_certificate_name_the_connection_and_file(
    provisioned_project: Any,
) -> None:
    world = provisioned_project
    conns = yaml.safe_load(world.connections.read_text())
    conns["crm"]["client_secret"] = "not-the-secret"
    wrong = world.dir / "wrong_secret.yaml"
    wrong.write_text(yaml.safe_dump(conns))
    world.write(connections=str(wrong))
    refused = p2c("run", "--task", "Accounts", cwd=world.dir)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    text = " ".join(refused.stderr.split())  # rich wraps long lines
    assert "crm connection's credentials were refused" in text and "AADSTS7000215" in text
    assert f"client_secret (or the variable it names) of crm in {wrong}" in text
    assert "not-the-secret" not in refused.stdout + refused.stderr

    conns = yaml.safe_load(world.connections.read_text())
    del conns["erp"]["ca_bundle"]
    untrusted = world.dir / "no_ca.yaml"
    untrusted.write_text(yaml.safe_dump(conns))
    world.write(connections=str(untrusted))
    tls = p2c("run", "--task", "Accounts", cwd=world.dir)
    assert tls.returncode == 2, tls.stdout + tls.stderr
    text = " ".join(tls.stderr.split())
    assert f"{untrusted}: erp.ca_bundle: the erp connection: the TLS certificate of" in text
    assert "is not trusted" in text and "set ca_bundle" in text
