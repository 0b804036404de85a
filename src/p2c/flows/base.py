"""What every flow shares: the hooks the pipeline calls, and the planned writes they return.

A flow is the behaviour of one Prospect-to-cash flow around the engine's pipeline (read →
prepare → resolve → map → compare → write → record). It never writes: each hook returns what it
wants written as :class:`SideWrite` values — a generated number written back to the CRM, a
derived flag, a Freight Tax line, an order marked Invoiced — and the engine sends, records and
plans every one of them the way it does the task's own records. It reads through
:class:`Reads`, which has no write method, and keeps what it learns once per run in
:class:`~p2c.flows.cache.RunCache`.

The hooks, in the order a task run calls them::

    requires()            source fields the flow reads besides the mapped ones
    before_filter(rows)   each page of a CRM read, before the task's filter (derive what it filters on)
    revisit()             source keys to read again although they did not change (asked as the read starts)
    prepare_read(rows)    each page of the read: numbers, duplicates, derived flags (fail / skip / write back)
    prepare_chunk(rows)   each chunk: routes, parents, ``$`` pseudo-fields the mappings read
    consequence(row)      what the record's consequences depend on (part of its content hash)
    before_write(rows)    the records about to be written (changed, mapped): hold some back
    after_write(written)  consequences on other records of the records just written

Example::

    flow = flow_for(FlowContext(project, task, reads, cache, links))
    prepared = flow.prepare_read(rows)
    prepared.writes          # [SideWrite(kind=NUMBER_WRITE_BACK, ...)], for the engine to send
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from p2c.connectors import WriteOp
from p2c.errors import P2CError
from p2c.project import Project, Task
from p2c.rules import FLOW_RULES, FlowName, RuleName
from p2c.settings import System
from p2c.store import Link

__all__ = [
    "Flow",
    "FlowContext",
    "LinkView",
    "Prepared",
    "Reads",
    "SideWrite",
    "SideWriteKind",
    "Skip",
    "SkipReason",
    "TrialMap",
    "Written",
]


class SideWriteKind(StrEnum):
    """What a side write does; stored as the ``operation`` of its outcome."""

    NUMBER_WRITE_BACK = "number_write_back"  # a generated account or contact number, to the CRM
    ACTIVE_CUSTOMER_FLAG = "active_customer_flag"  # "is active customer", to the CRM contact
    PRODUCTS_FLAG = "products_flag"  # "externally maintained products only", to a CRM quote/order
    LINE_NUMBER = "line_number"  # a line's sequence number, to the CRM line
    ACTIVATE_PRODUCT = "activate_product"  # a product the sync created, made Active
    KEEP_ORDER_ACTIVE = "keep_order_active"  # an order from the ERP moved back to Active
    FREIGHT_TAX_LINE = "freight_tax_line"  # the order's header tax as a write-in line
    ORDER_INVOICED = "order_invoiced"  # the order of an arriving invoice marked Invoiced


class SkipReason(StrEnum):
    """Why a record is not written; the outcome's message adds the particulars."""

    OTHER_ROUTE = "other_route"  # a contact synchronised by the other contact task
    NOT_ROUTED = "not_routed"  # a contact neither route takes
    PARENT_NOT_SYNCED = "parent_not_synced"  # a line whose header the header task leaves out
    CLOSED_DOCUMENT = "closed_document"  # the CRM document refuses changes (Invoiced, Won, ...)
    CREATE_ONLY = "create_only"  # written once; the target owns it since (CRM orders in the ERP)
    SOURCE_DELETED = "source_deleted"  # deleted at the source; the target record is kept
    NO_LEGAL_ENTITY = "no_legal_entity"  # a CRM record of a business unit no company of the project maps


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    message: str


@dataclass(frozen=True)
class SideWrite:
    """One planned write besides a task's own records.

    ``record`` is the source key of the task's record it belongs to (its failure fails that
    record when ``blocking``), or None when it belongs to none (a line's number). ``what`` says in
    words what the write does, for errors (``could not <what>``) and the plan."""

    kind: SideWriteKind
    system: System
    entity: str
    op: WriteOp
    what: str
    record: str | None = None
    blocking: bool = False
    field: str | None = None


@dataclass
class Prepared:
    """What a prepare hook decided: per row a failure or a skip, and the writes to make first."""

    failures: dict[int, P2CError] = field(default_factory=dict)
    skips: dict[int, Skip] = field(default_factory=dict)
    writes: list[SideWrite] = field(default_factory=list)
    #: a number sequence advanced by this read: (name, highest value used), stored with the writes
    sequence: tuple[str, int] | None = None

    def fail(self, row: Mapping[str, Any], error: P2CError) -> None:
        self.failures.setdefault(id(row), error)

    def skip(self, row: Mapping[str, Any], reason: SkipReason, message: str) -> None:
        self.skips.setdefault(id(row), Skip(reason, message))

    def merge(self, other: Prepared) -> Prepared:
        for rid, error in other.failures.items():
            self.failures.setdefault(rid, error)
        for rid, skip in other.skips.items():
            self.skips.setdefault(rid, skip)
        self.writes.extend(other.writes)
        self.sequence = other.sequence or self.sequence
        return self

    def failure(self, row: Mapping[str, Any]) -> P2CError | None:
        return self.failures.get(id(row))

    def skipped(self, row: Mapping[str, Any]) -> Skip | None:
        return self.skips.get(id(row))


@dataclass(frozen=True)
class Written:
    """A record of the task just written: its source key, source row and payload; ``created``
    when it had no link before (new to p2c); ``found``: the target row as the writer found it
    before writing (:attr:`p2c.connectors.WriteResult.found`: its id and state), None when it
    did not read it (the row was new, or the writer did not need to look)."""

    key: str
    row: Mapping[str, Any]
    payload: Mapping[str, Any]
    created: bool
    found: Mapping[str, Any] | None = None


class Reads(Protocol):
    """Read-only access to both systems, for flows (the engine's implementation batches and pages)."""

    def rows(
        self, system: System, entity: str, select: Sequence[str], filter: str | None = None
    ) -> Iterator[dict[str, Any]]: ...

    def by_values(
        self,
        system: System,
        entity: str,
        field: str,
        values: Iterable[Any],
        select: Sequence[str],
        filter: str | None = None,
    ) -> Iterator[dict[str, Any]]: ...


class TrialMap(Protocol):
    """Maps another task's records without writing them, to learn beforehand what would fail."""

    def problems(self, task: str, field: str, values: Sequence[str]) -> dict[str, str]:
        """For the source records of ``task`` whose ``field`` is one of ``values``: by that value
        (lowercase), why one of them could not be sent now (the first found), naming the record."""
        ...


class LinkView(Protocol):
    """View of the state store: other tasks' links and the number sequences, read-only but for
    :meth:`reserve` when ``shared`` (other processes number from the same sequences at once)."""

    shared: bool

    def links(self, task: str, source_keys: Sequence[str]) -> dict[str, Link]: ...

    def linked_targets(
        self, task: str, target_keys: Sequence[Sequence[Any]]
    ) -> dict[tuple[str, ...], str]: ...

    def sequence(self, name: str) -> int | None: ...

    def reserve(self, name: str, floor: int, count: int) -> int: ...


@dataclass
class FlowContext:
    project: Project
    task: Task
    reads: Reads
    cache: Any  # p2c.flows.cache.RunCache (Any here: the cache imports this module)
    store: LinkView
    trial: TrialMap | None = None
    #: the most rows of this read whose links may not be committed yet (a page and the writes in
    #: flight); a record read before them is linked, or failed. None: no bound known, keep all
    unsettled: int | None = None

    def has(self, rule: RuleName) -> bool:
        return rule in self.task.rules

    @property
    def crm_source(self) -> bool:
        return self.task.source.system is System.CRM


class Flow:
    """The hooks of a flow; this base does nothing, so a template without rules is pure mapping."""

    name: ClassVar[FlowName] = FlowName.GENERIC

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self.task = ctx.task
        unknown = set(ctx.task.rules) - FLOW_RULES[self.name]
        assert not unknown, f"{type(self).__name__} does not apply {sorted(unknown)}"  # load checks it

    #: a linked record is not written again (the target owns it since its first write)
    create_only: bool = False
    #: source deletes are deleted at the target too (lines that follow their header)
    deletes_follow: bool = False

    def requires(self) -> set[str]:
        return set()

    def side_targets(self) -> set[tuple[System, str]]:
        """The tables this flow's side writes may go to (a number written back to the source):
        the engine learns how to write to them as a first run of the task starts (beside its
        first read), else once the first rows to process are read, while the flow prepares them."""
        return set()

    def before_filter(self, rows: list[dict[str, Any]]) -> list[SideWrite]:
        return []

    def revisit(self) -> set[str]:
        return set()

    def prepare_read(
        self, rows: list[dict[str, Any]], key_of: Callable[[Mapping[str, Any]], str]
    ) -> Prepared:
        return Prepared()

    def prepare_chunk(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        return Prepared()

    def consequence(self, row: Mapping[str, Any]) -> Any:
        return None

    def before_write(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        """A last look at the records that will be written now (mapped, and changed since their last
        write): a failure here holds the record back (it is not sent)."""
        return Prepared()

    def after_write(self, written: Sequence[Written]) -> list[SideWrite]:
        return []
