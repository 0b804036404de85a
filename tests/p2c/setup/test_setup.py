"""`p2c setup` over HTTPS against the sandbox, whose CRM starts without p2c's columns, keys and tracking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from p2c.catalog import FieldSpec, FieldType
from p2c.connectors.dataverse import DataverseConnector
from p2c.engine.connect import open_connectors
from p2c.project import Project, load_project, write_sandbox_project
from p2c.settings import System
from p2c.setup import SetupStep, StepAction, StepKind, provision
from p2c.setup.columns import UnsupportedColumn, attribute_body
from p2c.setup.plan import requirements


def _project(sandbox: Any, tmp_path: Path, *, tasks: str = "", extra: str = "") -> Project:
    """The `p2c init` project for the sandbox, with task overrides and extra top-level keys."""
    conn = tmp_path / "connections.yaml"
    sandbox.sb.write_connections(conn)
    # these tests pin the accounts and products flows; test_demo covers setup for every template
    path = write_sandbox_project(tmp_path, conn, overwrite=True, templates=["accounts", "products"])
    text = path.read_text()
    if tasks:
        text = text.replace("tasks: {}", "tasks:\n" + tasks, 1)
    path.write_text(text + extra)
    return load_project(tmp_path)


@pytest.fixture
def project(sandbox: Any, tmp_path: Path) -> Project:
    return _project(sandbox, tmp_path)


@pytest.fixture
def crm(project: Project) -> Iterator[DataverseConnector]:
    with open_connectors(project.connections) as pair:
        yield pair.crm


def _admin_keys(sandbox: Any) -> dict[tuple[str, str], str]:
    body = sandbox.admin("crm").get("keys").json()
    return {(k["table"], k["SchemaName"]): k["EntityKeyIndexStatus"] for k in body["value"]}


def _product(sandbox: Any, number: str, name: str) -> str:
    crm = sandbox.crm()
    group = crm.get("uomschedules", params={"$filter": "name eq 'Default Unit'"}).json()["value"][0]
    unit = crm.get("uoms", params={"$filter": "name eq 'ea'"}).json()["value"][0]
    r = crm.post(
        "products",
        json={
            "name": name,
            "productnumber": number,
            "quantitydecimal": 0,
            "defaultuomscheduleid@odata.bind": f"/uomschedules({group['uomscheduleid']})",
            "defaultuomid@odata.bind": f"/uoms({unit['uomid']})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["productid"])


def test_setup_creates_what_the_tasks_need_and_a_second_run_creates_nothing(
    sandbox: Any, project: Project, crm: DataverseConnector
) -> None:
    assert crm.attributes("product") and "p2c_isexternallymaintained" not in {
        a["LogicalName"] for a in crm.attributes("product")
    }
    seen: list[SetupStep] = []
    report = provision(project, crm, progress=seen.append, wait_seconds=30)

    assert report.ok, report.failed
    assert seen == report.steps
    got = {(s.kind, s.entity, s.name): s.action for s in report.steps}
    assert got == {
        (StepKind.COLUMN, "products", "p2c_isexternallymaintained"): StepAction.CREATED,
        (StepKind.KEY, "products", "p2c_productnumber_key"): StepAction.CREATED,
        (StepKind.KEY, "productpricelevels", "p2c_pricelistitem_key"): StepAction.CREATED,
        (StepKind.CHANGE_TRACKING, "accounts", "account"): StepAction.ENABLED,
    }
    # really there, seen through the metadata API and the sandbox's own admin view
    column = {a["LogicalName"]: a for a in crm.attributes("product")}["p2c_isexternallymaintained"]
    assert column["AttributeType"] == "Boolean"
    keys = _admin_keys(sandbox)
    assert keys[("product", "p2c_productnumber_key")] == "Active"
    assert keys[("productpricelevel", "p2c_pricelistitem_key")] == "Active"
    assert sandbox.admin("crm").get("settings").json()["change_tracking"]["account"] is True
    assert crm.change_tracking_enabled("account")

    again = provision(project, crm, wait_seconds=30)
    assert again.ok and again.created == []
    assert [s.action for s in again.steps] == [StepAction.EXISTS] * 4
    assert again.step("key", "products", "p2c_productnumber_key").detail == "Active on productnumber"
    assert again.as_dict()["ok"] is True


def test_a_key_over_duplicate_values_is_reported_failed_with_the_values(
    sandbox: Any, project: Project, crm: DataverseConnector
) -> None:
    _product(sandbox, "DUP-1", "first")
    second = _product(sandbox, "dup-1", "second (differs only in case)")

    report = provision(project, crm, wait_seconds=30)

    step = report.step("key", "products", "p2c_productnumber_key")
    assert step.action is StepAction.FAILED
    assert "Failed" in step.detail and "productnumber 'DUP-1' (2 rows)" in step.detail
    assert "run `p2c setup` again" in step.detail
    assert report.step("key", "productpricelevels", "p2c_pricelistitem_key").action is StepAction.CREATED
    assert _admin_keys(sandbox)[("product", "p2c_productnumber_key")] == "Failed"

    # still duplicated: reported again, nothing rebuilt
    again = provision(project, crm, wait_seconds=30)
    assert again.step("key", "products", "p2c_productnumber_key").action is StepAction.FAILED

    # duplicates resolved: the Failed key is rebuilt and becomes Active
    assert sandbox.crm().delete(f"products({second})").status_code == 204
    fixed = provision(project, crm, wait_seconds=30)
    assert fixed.ok, fixed.failed
    assert fixed.step("key", "products", "p2c_productnumber_key").action is StepAction.CREATED
    assert _admin_keys(sandbox)[("product", "p2c_productnumber_key")] == "Active"


def test_a_refused_column_names_entity_column_and_the_service_message(sandbox: Any, tmp_path: Path) -> None:
    # a project column the CRM refuses (too long), mapped in the Products task so it is needed
    project = _project(
        sandbox,
        tmp_path,
        tasks="  Products:\n    fields: {p2c_region: ProductName}\n",
        extra="custom_fields:\n  products:\n    p2c_region: {type: string, max_length: 5000}\n",
    )
    with open_connectors(project.connections) as pair:
        report = provision(project, pair.crm, wait_seconds=30)
    step = report.step("column", "products", "p2c_region")
    assert step.action is StepAction.FAILED
    assert "product.p2c_region" in step.detail
    assert "MaxLength must be a whole number between 1 and 4000" in step.detail
    # the rest is provisioned all the same
    assert report.step("column", "products", "p2c_isexternallymaintained").action is StepAction.CREATED
    assert report.step("change_tracking", "accounts", "account").action is StepAction.ENABLED


def test_requirements_come_from_the_enabled_tasks(sandbox: Any, tmp_path: Path) -> None:
    project = _project(sandbox, tmp_path)
    req = requirements(project)
    assert [(c.entity.name, c.spec.name) for c in req.columns] == [("products", "p2c_isexternallymaintained")]
    assert [(k.entity.name, k.name, k.columns) for k in req.keys] == [
        ("products", "p2c_productnumber_key", ("productnumber",)),
        ("productpricelevels", "p2c_pricelistitem_key", ("pricelevelid", "productid")),
    ]
    assert [t.entity.name for t in req.tracking] == ["accounts"]
    # lookups resolved on the target side with missing: fail are what doctor checks against data
    assert {(n.task, n.target_field) for n in req.lookups} >= {
        ("Products", "defaultuomid"),
        ("ProductPriceListItems", "uomid"),
    }
    # the built-in filter's field counts as a used source field
    assert "IsSalesStopped" in req.fields[(System.ERP, "SellableReleasedProducts")]

    disabled = "  Products: {disabled: true}\n  ProductPriceListItems: {disabled: true}\n"
    only_accounts = requirements(_project(sandbox, tmp_path, tasks=disabled))
    assert only_accounts.columns == () and only_accounts.keys == ()
    assert [t.entity.name for t in only_accounts.tracking] == ["accounts"]


def test_attribute_bodies_follow_the_metadata_api() -> None:
    body = attribute_body(
        FieldSpec("p2c_flag", FieldType.BOOL, schema_name="p2c_Flag", label="Flag", default=False)
    )
    assert body["@odata.type"] == "Microsoft.Dynamics.CRM.BooleanAttributeMetadata"
    assert body["OptionSet"]["TrueOption"]["Value"] == 1 and body["DefaultValue"] is False
    assert body["DisplayName"]["LocalizedLabels"][0]["Label"] == "Flag"
    choice = attribute_body(
        FieldSpec("p2c_s", FieldType.CHOICE, options={100000000: "Draft", 100000001: "Active"})
    )
    assert [o["Value"] for o in choice["OptionSet"]["Options"]] == [100000000, 100000001]
    assert choice["DefaultFormValue"] == -1  # no default
    draft = attribute_body(
        FieldSpec("p2c_s", FieldType.CHOICE, options={100000000: "Draft"}, default=100000000)
    )
    assert draft["DefaultFormValue"] == 100000000
    assert attribute_body(FieldSpec("p2c_d", FieldType.DATE))["Format"] == "DateOnly"
    with pytest.raises(UnsupportedColumn, match="relationship"):
        attribute_body(FieldSpec("p2c_l", FieldType.LOOKUP))
