"""Which CRM columns p2c uses: its own (``crm_schema: p2c``, the default) or those of Microsoft's
P2C solution (``crm_schema: microsoft``). One mapping, applied once when the project loads.

**Facts about Microsoft's P2C solution** (source: p2c issue 12, "run on an environment that has
Microsoft's P2C solution"). The solution, installed in the CRM with Microsoft's Prospect-to-cash
Data Integrator templates, adds these columns (prefix ``msdynce_``); :data:`SOLUTION_COLUMNS`
holds them with the p2c column each stands for:

==================  ==============================================  ===========  =====================================
table               column                                          type         p2c's column
==================  ==============================================  ===========  =====================================
contact             msdynce_contactnumber                           text         p2c_contactnumber
contact             msdynce_isactivecustomer                        yes/no       p2c_isactivecustomer
product             msdynce_ismaintainedexternally                  yes/no       p2c_isexternallymaintained
quote               msdynce_hasexternallymaintainedproductsonly     yes/no       p2c_hasexternallymaintainedproductsonly
quote               msdynce_ismaintainedexternally                  yes/no       (none)
quotedetail         msdynce_quotehasexternalmaintainedproductsonly  yes/no       p2c_hasexternallymaintainedproductsonly
salesorder          msdynce_hasexternallymaintainedproductsonly     yes/no       p2c_hasexternallymaintainedproductsonly
salesorder          msdynce_ismaintainedexternally                  yes/no       p2c_isexternallymaintained
salesorder          msdynce_processingstatus                        choice       p2c_processingstatus
salesorder          msdynce_misctax                                 money        (none)
salesorderdetail    msdynce_orderhasexternalmaintainedproductsonly  yes/no       p2c_hasexternallymaintainedproductsonly
salesorderdetail    msdynce_orderissubmitted                        yes/no       (none)
invoice             msdynce_misctax                                 money        (none)
invoice             msdynce_invoicedate                             date [1]_    p2c_invoicedate
==================  ==============================================  ===========  =====================================

.. [1] the issue names the column without its type; p2c treats it as a date.

``msdynce_processingstatus`` options (:data:`MICROSOFT_PROCESSING_STATUS`): Active 647390000,
Confirmed 647390001, Packing Slip 647390002, Invoiced 647390003, Picked 647390004, Partially
Picked 647390005, Partially Packed 647390006, Shipped 647390007, Partially Shipped 647390008,
Partially Invoiced 647390009, Cancelled 647390010, Draft 647390011 (the default of a new order).
p2c's own ``p2c_processingstatus`` has the same list from 100000000 with Draft first.

With the solution, a user activates an order with its **Activate** button, which sets the
processing status to Active and ``msdynce_orderissubmitted`` on every line of the order.

**What the mapping does** with ``crm_schema: microsoft`` (:meth:`CrmSchema.apply_catalog`,
:meth:`CrmSchema.apply_draft`): in the catalog, each p2c column with a counterpart becomes the
solution's (not ``custom``: ``p2c setup`` checks it, never creates it) and the solution's other
columns are added; in every task, target fields, defaults, keys, source fields, lookups
(``by``/``field``) and filters name the solution's columns, and processing status values in
filters are the solution's; flows ask :meth:`CrmSchema.column` and :meth:`CrmSchema.option`.
p2c's columns without a counterpart (``invoices.p2c_isexternallymaintained``) stay p2c's and are
still provisioned. Names inside ``expr`` arithmetic are not translated (no p2c column is numeric).

    >>> ms = crm_schema("microsoft")
    >>> ms.column("salesorderdetails", "p2c_hasexternallymaintainedproductsonly")
    'msdynce_orderhasexternalmaintainedproductsonly'
    >>> ms.option("salesorders", "p2c_processingstatus", 100000000)   # Draft
    647390011
    >>> ms.filter("salesorders", "statecode eq 0 and p2c_processingstatus eq 100000001")
    'statecode eq 0 and msdynce_processingstatus eq 647390000'
    >>> crm_schema("p2c").column("contacts", "p2c_contactnumber")
    'p2c_contactnumber'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from p2c.catalog import Catalog, FieldSpec, FieldType
from p2c.mapping.arithmetic import ExpressionError
from p2c.mapping.expression import (
    Concat,
    Defaulted,
    Expr,
    First,
    Lookup,
    Source,
    Split,
    ValueMapped,
    parse_expression,
)
from p2c.settings import System

if TYPE_CHECKING:
    from p2c.project.build import TaskDraft

__all__ = [
    "MICROSOFT_PROCESSING_STATUS",
    "SOLUTION_COLUMNS",
    "CrmSchema",
    "CrmSchemaName",
    "SolutionColumn",
    "crm_schema",
]

SETTING = "crm_schema"
SOLUTION = "Microsoft's P2C solution"


class CrmSchemaName(StrEnum):
    """The ``crm_schema`` setting of a project."""

    P2C = "p2c"  # p2c's own columns, provisioned by p2c setup
    MICROSOFT = "microsoft"  # the msdynce_ columns of Microsoft's P2C solution


#: msdynce_processingstatus: option value → label (issue 12)
MICROSOFT_PROCESSING_STATUS: Mapping[int, str] = MappingProxyType(
    {
        647390000: "Active",
        647390001: "Confirmed",
        647390002: "Packing Slip",
        647390003: "Invoiced",
        647390004: "Picked",
        647390005: "Partially Picked",
        647390006: "Partially Packed",
        647390007: "Shipped",
        647390008: "Partially Shipped",
        647390009: "Partially Invoiced",
        647390010: "Cancelled",
        647390011: "Draft",
    }
)
MICROSOFT_DRAFT = 647390011
MICROSOFT_ACTIVE = 647390000


@dataclass(frozen=True)
class SolutionColumn:
    """A column of Microsoft's P2C solution on a CRM entity set, and the p2c column it replaces."""

    entity: str
    name: str
    type: FieldType
    label: str
    replaces: str | None = None
    options: Mapping[int, str] = field(default_factory=dict)


_BOOL, _CHOICE, _MONEY = FieldType.BOOL, FieldType.CHOICE, FieldType.MONEY
_PRODUCTS_ONLY = "p2c_hasexternallymaintainedproductsonly"
_EXTERNAL = "p2c_isexternallymaintained"

SOLUTION_COLUMNS: tuple[SolutionColumn, ...] = (
    SolutionColumn("contacts", "msdynce_contactnumber", FieldType.STRING, "Contact Number", "p2c_contactnumber"),
    SolutionColumn("contacts", "msdynce_isactivecustomer", _BOOL, "Is Active Customer", "p2c_isactivecustomer"),
    SolutionColumn("products", "msdynce_ismaintainedexternally", _BOOL, "Is Maintained Externally", _EXTERNAL),
    SolutionColumn(
        "quotes", "msdynce_hasexternallymaintainedproductsonly", _BOOL, "Has Externally Maintained Products Only",
        _PRODUCTS_ONLY,
    ),
    SolutionColumn("quotes", "msdynce_ismaintainedexternally", _BOOL, "Is Maintained Externally"),
    SolutionColumn(
        "quotedetails", "msdynce_quotehasexternalmaintainedproductsonly", _BOOL,
        "Quote Has External Maintained Products Only", _PRODUCTS_ONLY,
    ),
    SolutionColumn(
        "salesorders", "msdynce_hasexternallymaintainedproductsonly", _BOOL,
        "Has Externally Maintained Products Only", _PRODUCTS_ONLY,
    ),
    SolutionColumn("salesorders", "msdynce_ismaintainedexternally", _BOOL, "Is Maintained Externally", _EXTERNAL),
    SolutionColumn(
        "salesorders", "msdynce_processingstatus", _CHOICE, "Processing Status", "p2c_processingstatus",
        MICROSOFT_PROCESSING_STATUS,
    ),
    SolutionColumn("salesorders", "msdynce_misctax", _MONEY, "Misc Tax"),
    SolutionColumn(
        "salesorderdetails", "msdynce_orderhasexternalmaintainedproductsonly", _BOOL,
        "Order Has External Maintained Products Only", _PRODUCTS_ONLY,
    ),
    SolutionColumn("salesorderdetails", "msdynce_orderissubmitted", _BOOL, "Order Is Submitted"),
    SolutionColumn("invoices", "msdynce_misctax", _MONEY, "Misc Tax"),
    SolutionColumn("invoices", "msdynce_invoicedate", FieldType.DATE, "Invoice Date", "p2c_invoicedate"),
)  # fmt: skip


@dataclass(frozen=True)
class CrmSchema:
    """p2c's CRM column names → the ones this environment uses, per entity set, and choice values.

    ``renames``: (entity set, p2c column) → column; ``values``: (entity set, p2c column) →
    {p2c option value → option value}. Both empty for ``crm_schema: p2c``.
    """

    name: CrmSchemaName = CrmSchemaName.P2C
    renames: Mapping[tuple[str, str], str] = field(default_factory=dict)
    values: Mapping[tuple[str, str], Mapping[int, int]] = field(default_factory=dict)

    def column(self, entity: str, name: str) -> str:
        """The column this environment has for p2c's column ``name`` on ``entity``."""
        return self.renames.get((entity, name), name)

    def columns(self, entity: str) -> dict[str, str]:
        """Every renamed column of ``entity``: p2c's name → this environment's."""
        return {p2c: used for (e, p2c), used in self.renames.items() if e == entity}

    def option(self, entity: str, name: str, value: int) -> int:
        """The option value of p2c's choice ``value`` of column ``name`` (p2c's name) on ``entity``."""
        return self.values.get((entity, name), {}).get(value, value)

    def solution_columns(self) -> tuple[SolutionColumn, ...]:
        return SOLUTION_COLUMNS if self.name is CrmSchemaName.MICROSOFT else ()

    # -- applied when the project loads ----------------------------------------------------------

    def apply_catalog(self, catalog: Catalog) -> Catalog:
        """``catalog`` with the solution's columns in place of p2c's (see the module docstring)."""
        if not self.solution_columns():
            return catalog
        entities = dict(catalog.entities)
        for col in self.solution_columns():
            entity = entities[(System.CRM, col.entity)]
            fields = dict(entity.fields)
            old = fields.pop(col.replaces, None) if col.replaces else None
            spec = FieldSpec(
                col.name, col.type, options=MappingProxyType(dict(col.options)), solution=True, label=col.label,
                description=(old.description if old else "") or f"A column of {SOLUTION}.",
            )  # fmt: skip
            fields[col.name] = spec
            keys = {
                k: tuple(self.column(col.entity, c) for c in cols)
                for k, cols in entity.alternate_keys.items()
            }
            entities[(System.CRM, col.entity)] = replace(
                entity, fields=MappingProxyType(fields), alternate_keys=MappingProxyType(keys)
            )
        return replace(catalog, entities=MappingProxyType(entities))

    def apply_draft(self, draft: TaskDraft) -> None:
        """Rename p2c's columns in a task's pieces (before they are parsed and checked)."""
        if not self.renames:
            return
        m = draft.model
        src, tgt = m.source.entity, m.target.entity
        draft.fields = {
            self.column(tgt, t): (self.expression(raw, src), origin)
            for t, (raw, origin) in draft.fields.items()
        }
        draft.defaults = {self.column(tgt, t): v for t, v in draft.defaults.items()}
        key = m.key.model_copy(
            update={
                "source": [self.column(src, n) for n in m.key.source],
                "target": [self.column(tgt, n) for n in m.key.target],
            }
        )
        draft.model = m.model_copy(
            update={"key": key, "filter": self.filter(src, m.filter) if m.filter else None}
        )
        if draft.extra_filter:
            text, origin = draft.extra_filter
            draft.extra_filter = (self.filter(src, text), origin)
        draft.columns = self.columns(src)

    def expression(self, raw: Any, source_entity: str) -> Any:
        """The raw expression parsed, its source fields and lookups renamed; ``raw`` itself when it
        does not parse (the task's checks report that at its place)."""
        try:
            expr = parse_expression(raw)
        except ExpressionError:
            return raw
        return self._rename(expr, source_entity)

    def _rename(self, expr: Expr, src: str) -> Expr:
        if isinstance(expr, Source):
            return Source(self.column(src, expr.field))
        if isinstance(expr, Lookup):
            s = expr.spec
            by = self.column(s.entity, s.by) if s.by else None
            return Lookup(
                replace(s, source=self.column(src, s.source), by=by, field=self.column(s.entity, s.field))
            )
        if isinstance(expr, Concat | First):
            return replace(expr, items=tuple(self._rename(e, src) for e in expr.items))
        if isinstance(expr, Split | ValueMapped):
            return replace(expr, input=self._rename(expr.input, src))
        if isinstance(expr, Defaulted) and expr.input is not None:
            return replace(expr, input=self._rename(expr.input, src))
        return expr

    def filter(self, entity: str, text: str) -> str:
        """``text`` (Dataverse ``$filter``) with p2c's columns renamed and the literal compared
        with a mapped choice column (``p2c_processingstatus eq 100000001``) translated."""
        from p2c.odata.lex import TokenKind, tokenize

        renames = self.columns(entity)
        if not renames:
            return text
        out: list[str] = []
        last, pending = 0, None
        for token in tokenize(text):
            replacement = None
            if token.kind is TokenKind.IDENT and token.text in renames:
                replacement = renames[token.text]
                pending = self.values.get((entity, token.text))
            elif pending is not None and token.kind is TokenKind.NUMBER:
                replacement = str(pending.get(int(token.text), token.text))
            elif not (token.kind.value in _PASS or token.text in _OPERATORS):
                pending = None  # the comparison (or the in-list) of the choice column is over
            if replacement is not None:
                out += [text[last : token.pos], replacement]
                last = token.pos + len(token.text)
        return "".join([*out, text[last:]])


_OPERATORS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "in"})
_PASS = frozenset({"(", ","})


def _status_values() -> dict[int, int]:
    """p2c's processing status options → the solution's, matched by label."""
    from p2c.rules.status import ProcessingStatus

    by_label = {label.casefold(): value for value, label in MICROSOFT_PROCESSING_STATUS.items()}
    return {s.option: by_label[s.value.casefold()] for s in ProcessingStatus}


def crm_schema(name: CrmSchemaName | str) -> CrmSchema:
    """The schema mapping of the ``crm_schema`` setting ``name``."""
    kind = CrmSchemaName(name)
    if kind is CrmSchemaName.P2C:
        return CrmSchema()
    renames = {(c.entity, c.replaces): c.name for c in SOLUTION_COLUMNS if c.replaces}
    values = {("salesorders", "p2c_processingstatus"): MappingProxyType(_status_values())}
    return CrmSchema(kind, MappingProxyType(renames), MappingProxyType(values))
