"""The engine end to end: a sandbox project (``p2c init``'s p2c.yaml), provisioned, and the Engine on it.

``provisioned_project`` is the one place that knows how the CRM gets what p2c needs (the custom
column, the product-number key, change tracking on accounts): through ``p2c.setup.provision`` when
it is there, else through the metadata API directly, as ``p2c setup`` does. Tests only ever see
:class:`EngineWorld`.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from browser_helpers import browser  # noqa: F401  (the console's browser tests)

from p2c.connectors import DataverseConnector, FnoConnector, Redactor, RetryPolicy
from p2c.engine import Engine, RunReport
from p2c.project import Project, load_project, write_sandbox_project
from p2c.settings import System
from p2c.store import RunStatus, StateStore

# quick backoff for 5xx and network errors; a 429 still waits what its Retry-After says
FAST_RETRY = {"base": 0.02, "cap": 0.2, "max_attempts": 12}


@dataclass
class Harness:
    """An engine on a project with its store and both connectors (closed when the block ends)."""

    project: Project
    engine: Engine
    store: StateStore
    crm: DataverseConnector
    erp: FnoConnector
    redactor: Redactor

    def run(self, *tasks: str, **options: Any) -> RunReport:
        return self.engine.run(list(tasks) or None, **options)

    def plan(self, *tasks: str, **options: Any) -> RunReport:
        return self.engine.plan(list(tasks) or None, **options)


class EngineWorld:
    """A sandbox project in a temporary directory, provisioned; see the module docstring."""

    def __init__(self, sandbox: Any, directory: Path) -> None:
        self.sandbox = sandbox
        self.dir = directory
        self.connections = directory / "connections.yaml"
        sandbox.sb.write_connections(self.connections)
        self.path = write_sandbox_project(directory, self.connections)
        self.write(templates=["accounts", "products"])  # the two flows these tests are about
        self.secret: str = sandbox.credentials.client_secret

    # -- the project file ---------------------------------------------------------------------

    def configure(self, **changes: Any) -> Project:
        """Merge ``changes`` (settings=..., value_maps=..., tasks=...) into p2c.yaml; the loaded project."""
        self.write(**changes)
        return self.project()

    def write(self, **changes: Any) -> None:
        """Merge ``changes`` into p2c.yaml without loading it (it may be wrong on purpose)."""
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        _merge(data, changes)
        self.path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def project(self) -> Project:
        return load_project(self.path)

    # -- the services -------------------------------------------------------------------------

    def crm(self) -> httpx.Client:
        return self.sandbox.crm()  # type: ignore[no-any-return]

    def erp(self) -> httpx.Client:
        return self.sandbox.erp()  # type: ignore[no-any-return]

    def reseed(self, seed: str) -> None:
        """Both services wiped and seeded with ``seed`` (which drops provisioning), then provisioned."""
        self.sandbox.reset(seed)
        self.provision()

    def provision(self) -> None:
        with self.open() as h:
            provision(h.project, h.crm)

    @contextmanager
    def open(
        self, project: Project | None = None, *, retry: Mapping[str, float] | None = None
    ) -> Iterator[Harness]:
        project = project or self.project()
        redactor = Redactor([self.secret])
        conns = project.connections
        policy = RetryPolicy(rng=random.Random(7), **(retry or FAST_RETRY))  # type: ignore[arg-type]
        common: dict[str, Any] = {
            "client_id": conns.crm.client_id,
            "client_secret": self.secret,
            "ca_bundle": str(self.sandbox.ca_path),
            "redactor": redactor,
            "retry": policy,
            "batch_size": project.settings.batch_size,
            "concurrency": project.settings.concurrency,
        }
        crm = DataverseConnector.from_settings(
            url=conns.crm.api or "", authority=conns.crm.authority or "", **common
        )
        erp = FnoConnector.from_settings(
            url=conns.erp.api or "", authority=conns.erp.authority or "", **common
        )
        try:
            with StateStore(project.state_url) as store:
                engine = Engine(project, store, {System.CRM: crm, System.ERP: erp}, redactor=redactor)
                yield Harness(project, engine, store, crm, erp, redactor)
        finally:
            crm.close()
            erp.close()


def _merge(into: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def provision(project: Project, crm: DataverseConnector) -> None:
    """What ``p2c setup`` provisions: ``p2c.setup.provision`` once it exists, the metadata API until then."""
    if importlib.util.find_spec("p2c.setup") is not None:
        from p2c.setup import provision as setup

        report = setup(project, crm, wait_seconds=30)
        assert not report.failed, report.failed
        return
    crm.create_key("product", "p2c_productnumber", ["productnumber"])
    crm.wait_for_key("product", "p2c_productnumber", timeout=30, poll=0.1)
    label = {"LocalizedLabels": [{"Label": "Is externally maintained", "LanguageCode": 1033}]}
    crm.create_attribute(
        "product",
        {
            "@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
            "SchemaName": "p2c_IsExternallyMaintained",
            "DisplayName": label,
            "OptionSet": {
                "TrueOption": {
                    "Value": 1,
                    "Label": {"LocalizedLabels": [{"Label": "Yes", "LanguageCode": 1033}]},
                },
                "FalseOption": {
                    "Value": 0,
                    "Label": {"LocalizedLabels": [{"Label": "No", "LanguageCode": 1033}]},
                },
            },
        },
    )
    crm.enable_change_tracking("account")


@pytest.fixture
def provisioned_project(sandbox: Any, tmp_path: Path) -> EngineWorld:
    """The demo sandbox with a fresh ``p2c init`` project in ``tmp_path``, provisioned."""
    world = EngineWorld(sandbox, tmp_path)
    world.provision()
    return world


ALL_TEMPLATES = ["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp", "invoices"]
REFERENCE_TASKS = ("Accounts", "Products", "ProductPriceListItems", "Contacts", "ContactToCustomer")


@pytest.fixture
def every_flow_project(provisioned_project: EngineWorld) -> EngineWorld:
    """Every shipped template, provisioned, with the reference data (accounts, products, contacts)
    synchronised: ready for documents in either direction."""
    world = provisioned_project
    world.write(templates=ALL_TEMPLATES)
    world.provision()
    with world.open() as h:
        report = h.run(*REFERENCE_TASKS)
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    return world
