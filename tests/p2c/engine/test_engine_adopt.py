"""``p2c adopt``: records another integration already synchronised are linked by natural key, only
the real differences are written, nothing twice — and the next run writes nothing."""

from __future__ import annotations

from typing import Any

from engine_helpers import count_tables, erp_rows, p2c, snapshot, synced_customers

from p2c.store import StateStore


def test_adopt_links_what_is_already_there_and_writes_only_the_differences(provisioned_project: Any) -> None:
    world = provisioned_project
    assert p2c("run", cwd=world.dir).returncode == 0  # both systems now hold the synchronised data...
    world.write(state="adopting.db")  # ...which this store knows nothing of, like Microsoft's templates'
    erp = world.erp()
    [drifted] = erp_rows(erp, "CustomersV3", ["dataAreaId", "CustomerAccount"], "CustomerAccount eq 'C10104'")
    path = f"CustomersV3(dataAreaId='{drifted['dataAreaId']}',CustomerAccount='C10104')"
    assert erp.patch(path, json={"OrganizationName": "Changed in the ERP"}).status_code == 204
    before = snapshot(world.crm(), erp)

    dry = p2c("adopt", cwd=world.dir)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert snapshot(world.crm(), erp) == before  # a dry run writes nothing anywhere...
    with StateStore(world.project().state_url) as store:
        assert store.runs() == [] and list(store.all_links("Accounts")) == []  # ...not even links
    rows = {r["task"]: r for r in _adopt_table(dry.stdout)}
    assert (rows["Accounts"]["to link"], rows["Accounts"]["differ"], rows["Accounts"]["missing"]) == (
        "29",
        "1",
        "0",
    )
    assert rows["Products"]["to link"] == "17" and rows["ProductPriceListItems"]["to link"] == "17"
    assert "C10104" in dry.stdout and "OrganizationName" in dry.stdout

    applied = p2c("adopt", "--apply", cwd=world.dir)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    [run] = [t for t in count_tables(applied.stdout) if t]
    written = {r["task"]: (r["new"], r["updated"]) for r in run}
    assert written == {"Accounts": ("0", "1"), "Products": ("0", "0"), "ProductPriceListItems": ("0", "0")}
    customers = synced_customers(erp, ["OrganizationName"])
    assert len(customers) == 30 and customers["C10104"]["OrganizationName"] != "Changed in the ERP"

    again = p2c("run", cwd=world.dir)  # adopted: the next run has nothing to write
    assert again.returncode == 0, again.stdout + again.stderr
    with StateStore(world.project().state_url) as store:
        last = store.runs(limit=1)[0]
        assert sum(t.counts.written for t in last.task_runs) == 0
        assert store.outcomes(last.id, operations=True) == []  # no side write either
    twice = p2c("adopt", cwd=world.dir)
    assert {r["task"]: r["already"] for r in _adopt_table(twice.stdout)} == {
        "Accounts": "30",
        "Products": "17",
        "ProductPriceListItems": "17",
    }


def _adopt_table(text: str) -> list[dict[str, str]]:
    """The rows of p2c adopt's table, header → cell."""
    lines = [ln.replace("┃", "│") for ln in text.splitlines() if ln[:1] in "│┃" and "─" not in ln]
    header = [c.strip() for c in lines[0].strip("│").split("│")]
    return [dict(zip(header, [c.strip() for c in ln.strip("│").split("│")], strict=True)) for ln in lines[1:]]
