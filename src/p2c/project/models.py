"""The raw shapes of template and project files (pydantic), before expressions and the catalog.

Unknown keys are errors everywhere (a typo must not be silently ignored). Field expressions stay
raw here; :mod:`p2c.project` parses them with :mod:`p2c.mapping.expression` and checks them
against the catalog.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from p2c.project.crm_schema import CrmSchemaName
from p2c.rules.activation import OrderActivation
from p2c.settings import LegalEntity, System, legal_entities_data

__all__ = [
    "BudgetLimits",
    "EndpointModel",
    "KeyModel",
    "ProjectModel",
    "ProjectSettings",
    "RequestBudgets",
    "TaskModel",
    "TaskOverrideModel",
    "TemplateModel",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointModel(_Model):
    system: System
    entity: str = Field(min_length=1)


class KeyModel(_Model):
    source: list[str] = Field(min_length=1)
    target: list[str] = Field(min_length=1)


class TaskModel(_Model):
    """One task of a template: source → target, key, built-in filter, dependencies, rules, fields."""

    title: str = ""
    description: str = ""
    source: EndpointModel
    target: EndpointModel
    key: KeyModel
    filter: str | None = None
    depends_on: list[str] = []
    rules: list[str] = []
    #: an ERP date or date-time field the read is narrowed on (p2c.project.watermark), and its overlap
    watermark: str | None = None
    watermark_overlap: str | int | None = None
    defaults: dict[str, Any] = {}
    fields: dict[str, Any] = Field(min_length=1)


class TemplateModel(_Model):
    name: str = Field(min_length=1)
    flow: str | None = None  # a p2c.rules.FlowName; checked with the tasks' rules
    title: str = ""
    description: str = ""
    value_maps: dict[str, dict[Any, Any]] = {}
    tasks: dict[str, TaskModel] = Field(min_length=1)


class TaskOverrideModel(_Model):
    """A project's changes to one task: an extra filter (ANDed), defaults and fields merged over,
    a watermark (``watermark: null`` turns a template's off)."""

    filter: str | None = None
    watermark: str | None = None
    watermark_overlap: str | int | None = None
    defaults: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    disabled: bool = False


class BudgetLimits(_Model):
    """A service's protection limits as one budget shared by every worker (``p2c worker``):
    Dataverse's and F&O's user limits by default (DATAVERSE.md §2.12, FNO.md §1.9)."""

    requests_per_window: int = Field(default=6000, ge=1)
    window_seconds: float = Field(default=300.0, gt=0)
    max_concurrent: int = Field(default=52, ge=1)


class RequestBudgets(_Model):
    crm: BudgetLimits = BudgetLimits()
    erp: BudgetLimits = BudgetLimits()


class ProjectSettings(_Model):
    """Run settings of a project (``settings:``); an unknown setting is an error."""

    # records per write request; None: each connector's own (1 000 into the CRM, whose bulk
    # messages and $batch take that many; 200 into the ERP, whose $batch should stay small)
    batch_size: int | None = Field(default=None, ge=1, le=1000)
    concurrency: int = Field(default=4, ge=1, le=52)
    # tasks of a run with no dependency between them run at the same time, up to this many
    parallel_tasks: int = Field(default=4, ge=1, le=16)
    page_size: int | None = Field(default=None, ge=1, le=10000)
    products_created_active: bool = True
    # what sends a CRM order to the ERP: processing status Active, or the standard state Submitted
    order_activation: OrderActivation = OrderActivation.PROCESSING_STATUS
    price_list: str | None = None
    account_number_prefix: str = Field(default="ACC", min_length=1, max_length=8)
    contact_number_prefix: str = Field(default="CON", min_length=1, max_length=8)
    number_start: int = Field(default=1000, ge=0, le=99999)
    # how long a run on another host may commit nothing before its project lock is taken over
    lock_lease_seconds: int = Field(default=120, ge=10, le=86400)
    # chunk writes of a task in flight at once, while the next chunks are mapped (p2c.engine.flight)
    chunks_in_flight: int = Field(default=4, ge=1, le=16)
    # p2c serve: history kept, and when the service pauses a project by itself (null: never)
    history_days: int = Field(default=45, ge=1, le=3650)
    pause_after_failed_records: int | None = Field(default=None, ge=1)
    pause_after_failed_runs: int | None = Field(default=5, ge=1)
    # p2c worker: one request budget per environment, shared by every worker (p2c.scale.budget)
    request_budget: RequestBudgets = RequestBudgets()
    # p2c serve: send this project's runs to p2c worker processes (the broker: --queue or P2C_BROKER)
    queue: bool = False
    # p2c worker: a queued run splits a task's large load (its initial load: no record linked yet;
    # or a --full run) into this many items, each writing a share of the records, then a closing
    # item (p2c.engine.share); 1: a task is one item
    parts: int = Field(default=1, ge=1, le=64)


class ProjectModel(_Model):
    name: str = Field(min_length=1)
    connections: Any
    #: ERP company → CRM business unit: ``{usmf: Contoso US}`` or ``{usmf: {business_unit: Contoso US,
    #: owning_team: US Sales}}`` (:class:`p2c.settings.LegalEntity`); default: the connection set's
    legal_entities: dict[str, LegalEntity] | None = None
    templates: list[str] = Field(min_length=1)
    #: whose CRM columns: p2c's own (provisioned by p2c setup) or Microsoft's P2C solution's (msdynce_)
    crm_schema: CrmSchemaName = CrmSchemaName.P2C
    state: str | None = None
    settings: ProjectSettings = ProjectSettings()
    custom_fields: dict[str, dict[str, Any]] = {}
    value_maps: dict[str, dict[Any, Any]] = {}
    tasks: dict[str, TaskOverrideModel] = {}
    schedule: Any = None  # a cron expression or {cron|every, tasks}: p2c.project.schedule
    alerts: Any = None  # p2c serve's alerts: p2c.alerts.AlertSettings

    @field_validator("legal_entities", mode="before")
    @classmethod
    def _legal_entities(cls, value: Any) -> Any:
        return legal_entities_data(value)
