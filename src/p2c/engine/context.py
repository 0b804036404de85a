"""Everything the tasks of one run share: the project, the store, both connectors, the run's caches.

Example::

    ctx = RunContext.open(project, store, connectors, redactor)
    TaskPipeline(ctx, task, Sender(connectors, store)).run(task_run_id)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from p2c.connectors import Connector, Redactor
from p2c.engine.binder import encode_key
from p2c.engine.customers import StoredCustomers
from p2c.engine.reads import ConnectorReads
from p2c.engine.related import RelatedResolver
from p2c.flows import RunCache, TrialMap
from p2c.mapping import LookupSpec
from p2c.mapping.expression import lookups
from p2c.project import Project, Task
from p2c.rules import RuleName
from p2c.settings import System
from p2c.store import Link, StateStore

__all__ = ["RunContext", "StoreView"]


class StoreView:
    """The view of the store flows get (:class:`p2c.flows.LinkView`): read-only, but for the
    number sequences of a part of a split load (``shared``), which other processes number from
    at the same time: there numbers are taken from the store at once (:meth:`reserve`)."""

    def __init__(self, store: StateStore, *, shared: bool = False) -> None:
        self._store = store
        self.shared = shared

    def links(self, task: str, source_keys: Sequence[str]) -> dict[str, Link]:
        return self._store.links(task, list(source_keys)) if source_keys else {}

    def linked_targets(self, task: str, target_keys: Sequence[Sequence[Any]]) -> dict[tuple[str, ...], str]:
        encoded = {encode_key(k): tuple(str(v).casefold() for v in k) for k in target_keys}
        found = self._store.links_by_target(task, list(encoded)) if encoded else {}
        return {encoded[text]: link.source_key for text, link in found.items()}

    def sequence(self, name: str) -> int | None:
        return self._store.sequence(name)

    def reserve(self, name: str, floor: int, count: int) -> int:
        return self._store.reserve_sequence(name, floor, count)


@dataclass
class RunContext:
    project: Project
    store: StateStore
    connectors: Mapping[System, Connector]
    redactor: Redactor
    resolver: RelatedResolver
    reads: ConnectorReads
    cache: RunCache
    view: StoreView
    #: maps other tasks' records without writing (a header checks its lines); set by the engine
    trial: TrialMap | None = None
    #: set to stop the run after the chunk being written (the service shutting down)
    stop: threading.Event = field(default_factory=threading.Event)
    #: the customers of CRM documents (also ``cache.customers``), when a contact task derives the flag
    customers: StoredCustomers | None = None

    def ahead(self, tasks: Sequence[Task]) -> AbstractContextManager[None]:
        """Within: what the run's tasks share and no task writes for them, read from the start on
        threads of their own (:meth:`StoredCustomers.ahead`); on leaving, those reads have ended."""
        if self.customers is None:
            return nullcontext()
        return self.customers.ahead(t.name for t in tasks)

    @classmethod
    def open(
        cls,
        project: Project,
        store: StateStore,
        connectors: Mapping[System, Connector],
        redactor: Redactor,
        *,
        shared: bool = False,
    ) -> RunContext:
        """The context of one run (``shared``: of one part of a split load, see :class:`StoreView`)."""
        resolver = RelatedResolver(project.catalog, connectors, _lookups(project))
        reads = ConnectorReads(connectors, resolver.learn)
        # the contact tasks deriving "is active customer" share the customers kept in the store
        deriving = [t for t in project.enabled_tasks() if RuleName.DERIVE_IS_ACTIVE_CUSTOMER in t.rules]
        customers = None
        if deriving and System.CRM in connectors:
            flag: str | None = project.crm_schema.column("contacts", "p2c_isactivecustomer")
            if project.catalog.entity(System.CRM, "contacts").field(flag or "") is None:
                flag = None  # a CRM without the column: nothing to compare on the first build
            customers = StoredCustomers(store, connectors[System.CRM], [t.name for t in deriving], flag)
        return cls(
            project,
            store,
            connectors,
            redactor,
            resolver,
            reads,
            RunCache(reads, customers),
            StoreView(store, shared=shared),
            customers=customers,
        )


def _lookups(project: Project) -> list[LookupSpec]:
    """The lookups of the project's tasks: rows a task writes may answer another's
    (:meth:`RelatedResolver.learn`)."""
    return [
        spec for task in project.enabled_tasks() for expr in task.fields.values() for spec in lookups(expr)
    ]
