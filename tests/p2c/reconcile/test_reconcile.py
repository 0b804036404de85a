"""`p2c reconcile` over HTTPS against the sandbox: after a sync both systems agree; each kind of drift
made by hand (a field changed in the ERP, a customer deleted, an account never synced, a target row
nobody wrote, a row that cannot be mapped) is found record by record; nothing is ever written."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from p2c.catalog import FieldSpec, FieldType
from p2c.engine import Connectors, Engine, open_connectors
from p2c.project import Project, load_project, write_sandbox_project
from p2c.reconcile import Drift, ReconcileReport, reconcile
from p2c.reconcile.compare import same
from p2c.settings import System
from p2c.setup import provision
from p2c.store import RunStatus, StateStore

EXIT_OK, EXIT_DRIFT, EXIT_CANNOT_RUN = 0, 1, 3
ENV = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
NOYES_YES = "Microsoft.Dynamics.DataEntities.NoYes'Yes'"


@dataclass
class World:
    """A provisioned sandbox project in ``dir``, synchronised once, with both connectors open."""

    dir: Path
    project: Project
    conns: Connectors
    crm: httpx.Client  # raw clients: drift is made the way a user would, not through p2c
    erp: httpx.Client

    def reconcile(self, *tasks: str, limit: int = 20) -> ReconcileReport:
        return reconcile(
            self.project,
            {System.CRM: self.conns.crm, System.ERP: self.conns.erp},
            list(tasks) or None,
            limit=limit,
        )

    def customer(self, account: str, *select: str) -> dict[str, Any]:
        path = f"CustomersV3(dataAreaId='usmf',CustomerAccount='{account}')"
        response = self.erp.get(path, params={"cross-company": "true", "$select": ",".join(select)})
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def etags(self) -> dict[str, set[str]]:
        """The ETag of every row reconcile reads: any write would change one."""
        out: dict[str, set[str]] = {}
        for client, entity in (
            (self.erp, "CustomersV3"),
            (self.crm, "accounts"),
            (self.crm, "products"),
            (self.crm, "productpricelevels"),
        ):
            params = {"cross-company": "true"} if client is self.erp else {}
            body = client.get(entity, params=params, headers={"Prefer": "odata.maxpagesize=5000"}).json()
            assert "@odata.nextLink" not in body
            out[entity] = {str(r["@odata.etag"]) for r in body["value"]}
        return out


@pytest.fixture
def world(sandbox: Any, tmp_path: Path) -> Iterator[World]:
    connections = tmp_path / "connections.yaml"
    sandbox.sb.write_connections(connections)
    # pinned to accounts and products; test_demo reconciles every template after the demo
    project = load_project(write_sandbox_project(tmp_path, connections, templates=["accounts", "products"]))
    with open_connectors(project.connections) as conns:
        report = provision(project, conns.crm, wait_seconds=30)
        assert report.ok, report.steps
        with StateStore(project.state_url) as store:
            run = Engine(project, store, {System.CRM: conns.crm, System.ERP: conns.erp}).run()
        assert run.status is RunStatus.SUCCEEDED, [(t.task, t.message) for t in run.tasks]
        yield World(tmp_path, project, conns, sandbox.crm(), sandbox.erp())


def p2c(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The ``p2c`` command as a user runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "p2c.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )


def _account(world: World, **values: Any) -> str:
    response = world.crm.post("accounts", json=values, headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.text
    return str(response.json()["accountid"])


def _make_drift(world: World) -> dict[str, Any]:
    """One customer renamed in the ERP, one deleted there, one account created in the CRM and not synced."""
    renamed, deleted = "C10100", "C10102"
    before = world.customer(renamed, "OrganizationName")["OrganizationName"]
    path = "CustomersV3(dataAreaId='usmf',CustomerAccount='{}')"
    params = {"cross-company": "true"}
    r = world.erp.patch(path.format(renamed), params=params, json={"OrganizationName": "Renamed In ERP"})
    assert r.status_code == 204, r.text
    r = world.erp.delete(path.format(deleted), params=params)
    assert r.status_code == 204, r.text
    unsynced = _account(world, name="Never Synced Ltd", accountnumber="NEW-0001")
    return {"renamed": renamed, "name": before, "deleted": deleted, "unsynced": unsynced}


# -- the engine function --------------------------------------------------------------------------------


def test_after_a_full_sync_every_task_is_in_sync_and_nothing_is_written(world: World) -> None:
    before = world.etags()
    started = time.perf_counter()
    report = world.reconcile()
    seconds = time.perf_counter() - started

    assert world.etags() == before  # read-only
    assert report.drift == 0 and not report.failed
    counts = {t.task: (t.source_rows, t.counts[Drift.IN_SYNC], t.drift) for t in report.tasks}
    assert counts == {"Accounts": (30, 30, 0), "Products": (17, 17, 0), "ProductPriceListItems": (17, 17, 0)}
    accounts = report.task("Accounts")
    # customers typed into the ERP (IsExternallyMaintained No) are outside the task's scope
    assert accounts.scope == {"PartyType": "Organization", "IsExternallyMaintained": "Yes"}
    assert accounts.scope_marked and accounts.target_rows > 30 and accounts.counts[Drift.ONLY_IN_TARGET] == 0
    # the pre-existing price list items carry no p2c marker: listed, not counted as drift
    items = report.task("ProductPriceListItems")
    assert not items.scope_marked and items.counts[Drift.ONLY_IN_TARGET] == 13 and items.drift == 0
    assert seconds < 5, seconds


def test_drift_is_found_record_by_record(world: World) -> None:
    made = _make_drift(world)
    report = world.reconcile()

    accounts = report.task("Accounts")
    assert {k: v for k, v in accounts.counts.items() if v} == {
        Drift.IN_SYNC: 28,
        Drift.DIFFERS: 1,
        Drift.MISSING_IN_TARGET: 2,
    }
    assert accounts.drift == 3 and report.drift == 3
    [differs] = accounts.examples[Drift.DIFFERS]
    assert differs.key == f"usmf,{made['renamed']}"
    [diff] = differs.fields
    assert (diff.field, diff.source, diff.target) == ("OrganizationName", made["name"], "Renamed In ERP")
    assert accounts.field_counts == {"OrganizationName": 1}
    missing = {r.key: r.source_key for r in accounts.examples[Drift.MISSING_IN_TARGET]}
    assert set(missing) == {f"usmf,{made['deleted']}", "usmf,NEW-0001"}
    assert missing["usmf,NEW-0001"] == made["unsynced"]  # the CRM account's id: what `p2c errors` shows too
    assert all(t.drift == 0 for t in report.tasks if t.task != "Accounts")
    short = world.reconcile("Accounts", limit=1).task("Accounts")
    assert short.counts[Drift.MISSING_IN_TARGET] == 2 and len(short.examples[Drift.MISSING_IN_TARGET]) == 1

    # an incremental run syncs the new account only: the two changed behind p2c's back compare equal
    # with what p2c last wrote, so only reconcile sees them; a --full run rewrites and repairs them
    engine_for = lambda store: Engine(  # noqa: E731
        world.project, store, {System.CRM: world.conns.crm, System.ERP: world.conns.erp}
    )
    with StateStore(world.project.state_url) as store:
        engine_for(store).run(["Accounts"])
    after = world.reconcile("Accounts").task("Accounts")
    assert [r.key for r in after.examples[Drift.DIFFERS]] == [f"usmf,{made['renamed']}"]
    assert [r.key for r in after.examples[Drift.MISSING_IN_TARGET]] == [f"usmf,{made['deleted']}"]
    with StateStore(world.project.state_url) as store:
        engine_for(store).run(["Accounts"], full=True)
    repaired = world.reconcile("Accounts").task("Accounts")
    assert repaired.drift == 0, repaired.as_dict()


def test_only_in_target_counts_rows_within_the_task_scope(world: World) -> None:
    params = {"cross-company": "true"}
    base = {"dataAreaId": "usmf", "CustomerGroupId": "10", "PartyType": "Organization"}
    for account, marked in (("ERP-MARKED", "Yes"), ("ERP-OWN", "No")):
        body = {
            **base,
            "CustomerAccount": account,
            "OrganizationName": account,
            "IsExternallyMaintained": marked,
        }
        r = world.erp.post("CustomersV3", params=params, json=body)
        assert r.status_code == 201, r.text

    accounts = world.reconcile("Accounts").task("Accounts")
    # only the one marked externally maintained looks like p2c's; the ERP's own customer is not drift
    assert accounts.counts[Drift.ONLY_IN_TARGET] == 1 and accounts.drift == 1
    [only] = accounts.examples[Drift.ONLY_IN_TARGET]
    assert only.key == "usmf,ERP-MARKED" and only.source_key is None


def test_unmappable_rows_and_rows_without_a_key(world: World) -> None:
    lost = _account(world, name="Lost City", accountnumber="XX-1", address1_country="Atlantis")
    nameless = _account(world, name="No Number Yet")

    accounts = world.reconcile("Accounts").task("Accounts")
    [bad] = accounts.examples[Drift.UNMAPPABLE]
    assert (bad.source_key, bad.field) == (lost, "AddressCountryRegionISOCode")
    assert "Atlantis" in (bad.reason or "") and "country" in (bad.reason or "")
    [missing] = accounts.examples[Drift.MISSING_IN_TARGET]
    assert missing.source_key == nameless and "accountnumber" in (missing.reason or "")
    assert accounts.drift == 2

    # two accounts with one number: neither is compared (a run reports them, never merges them)
    twin = _account(world, name="Adventure Twin", accountnumber="c10100")
    both = world.crm.get("accounts", params={"$filter": "accountnumber eq 'C10100'", "$select": "accountid"})
    [original] = [r["accountid"] for r in both.json()["value"] if r["accountid"] != twin]  # case-insensitive
    accounts = world.reconcile("Accounts").task("Accounts")
    dupes = {r.source_key: r for r in accounts.examples[Drift.UNMAPPABLE] if r.source_key != lost}
    assert set(dupes) == {twin, original}
    assert all("not unique" in (r.reason or "") and r.field == "accountnumber" for r in dupes.values())
    assert accounts.counts[Drift.UNMAPPABLE] == 3 and accounts.counts[Drift.IN_SYNC] == 29


def test_values_compare_as_the_target_stores_them(world: World) -> None:
    [product] = world.crm.get(
        "products", params={"$filter": "productnumber eq 'D0001'", "$select": "productid,price"}
    ).json()["value"]
    # the ERP's 199 and the CRM's 199.0 were equal (no drift after the sync); another price is not
    r = world.crm.patch(f"products({product['productid']})", json={"price": 1.5})
    assert r.status_code == 204, r.text
    products = world.reconcile("Products").task("Products")
    [differs] = products.examples[Drift.DIFFERS]
    [diff] = differs.fields
    assert (differs.key, diff.field, diff.target) == ("D0001", "price", Decimal("1.5"))
    assert diff.source == Decimal(repr(product["price"]))

    string = FieldSpec("LanguageId", FieldType.STRING)
    assert same("en-us", "en-US", string, System.ERP)  # F&O re-spells codes
    assert not same("Contoso", "CONTOSO", FieldSpec("OrganizationName", FieldType.STRING), System.ERP)
    assert same(None, "", FieldSpec("AddressState", FieldType.STRING), System.ERP)
    assert same(True, "Yes", FieldSpec("IsExternallyMaintained", FieldType.ENUM, enum="NoYes"), System.ERP)
    assert not same(
        "Yes", "No", FieldSpec("IsExternallyMaintained", FieldType.ENUM, enum="NoYes"), System.ERP
    )
    guid = "7A0071A9-3B4E-4972-8C21-AECB511609D7"
    assert same(("accounts", guid), guid.lower(), FieldSpec("customerid", FieldType.LOOKUP), System.CRM)
    assert same(
        "2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00", FieldSpec("x", FieldType.DATETIME), System.CRM
    )
    assert same(Decimal("3.335"), Decimal("3.34"), FieldSpec("x", FieldType.MONEY, precision=2), System.CRM)


def test_an_unknown_task_is_a_usage_error(world: World) -> None:
    from p2c.errors import ConfigError

    with pytest.raises(ConfigError, match="Acounts"):
        world.reconcile("Acounts")


# -- the command ------------------------------------------------------------------------------------------


def test_command_exit_codes_and_json(world: World) -> None:
    clean = p2c("reconcile", cwd=world.dir)
    assert clean.returncode == EXIT_OK, clean.stdout + clean.stderr
    assert "no drift" in clean.stdout

    made = _make_drift(world)
    text = p2c("reconcile", "--task", "Accounts", cwd=world.dir)
    assert text.returncode == EXIT_DRIFT, text.stdout + text.stderr
    assert f"Accounts differs usmf,{made['renamed']}" in text.stdout
    assert f"OrganizationName: source {made['name']!r}, target 'Renamed In ERP'" in text.stdout
    assert "Accounts missing_in_target usmf,NEW-0001" in text.stdout
    assert "drift: 3 record(s)" in text.stdout

    machine = p2c("reconcile", "--json", cwd=world.dir)
    assert machine.returncode == EXIT_DRIFT, machine.stderr
    data = json.loads(machine.stdout)
    expected = world.reconcile().as_dict()
    assert data["drift"] == expected["drift"] == 3
    by_task = {t["task"]: t for t in data["tasks"]}
    assert {n: t["counts"] for n, t in by_task.items()} == {t["task"]: t["counts"] for t in expected["tasks"]}
    accounts = by_task["Accounts"]
    assert accounts["counts"] == {
        "in_sync": 28,
        "differs": 1,
        "missing_in_target": 2,
        "only_in_target": 0,
        "unmappable": 0,
    }
    assert accounts["examples"]["differs"] == [
        {
            "key": f"usmf,{made['renamed']}",
            "source_key": accounts["examples"]["differs"][0]["source_key"],
            "fields": [{"field": "OrganizationName", "source": made["name"], "target": "Renamed In ERP"}],
        }
    ]
    assert by_task["ProductPriceListItems"]["counts"]["only_in_target"] == 13
    assert by_task["ProductPriceListItems"]["drift"] == 0


def test_command_exit_code_3_when_the_erp_cannot_be_reached(world: World) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once the socket is closed
    conns = yaml.safe_load((world.dir / "connections.yaml").read_text())
    conns["erp"].update(
        url=f"https://127.0.0.1:{closed}",
        api=f"https://127.0.0.1:{closed}/data/",
        authority=f"https://127.0.0.1:{closed}/{conns['erp']['tenant_id']}",
    )
    (world.dir / "unreachable.yaml").write_text(yaml.safe_dump(conns))
    project = yaml.safe_load((world.dir / "p2c.yaml").read_text())
    project["connections"] = "unreachable.yaml"
    (world.dir / "unreachable-p2c.yaml").write_text(yaml.safe_dump(project))

    result = p2c("reconcile", "--project", "unreachable-p2c.yaml", cwd=world.dir)
    assert result.returncode == EXIT_CANNOT_RUN, result.stdout + result.stderr
    assert f"127.0.0.1:{closed}" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
