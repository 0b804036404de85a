"""The Prospect-to-cash flows, one module each: the behaviour of a flow around the engine's pipeline.

A template names its flow (``flow: orders_from_erp``); every task of it runs with that flow's
hooks (:class:`Flow`), which return planned writes (:class:`SideWrite`) and never write
themselves. Where each flow's rules live:

============================  ==========================================================
``accounts``                  :mod:`p2c.flows.accounts` (numbers: :mod:`p2c.flows.numbers`)
``products``                  :mod:`p2c.flows.products`
``contacts``                  :mod:`p2c.flows.contacts`
``quotes``, ``orders_to_erp``  :mod:`p2c.flows.quotes`, :mod:`p2c.flows.orders_to_erp`
                              (both on :mod:`p2c.flows.documents`)
``orders_from_erp``           :mod:`p2c.flows.orders_from_erp`
``invoices``                  :mod:`p2c.flows.invoices`
============================  ==========================================================

Example::

    flow = flow_for(FlowContext(project, task, reads, RunCache(reads), store_view))
"""

from p2c.flows.accounts import AccountsFlow
from p2c.flows.base import (
    Flow,
    FlowContext,
    LinkView,
    Prepared,
    Reads,
    SideWrite,
    SideWriteKind,
    Skip,
    SkipReason,
    TrialMap,
    Written,
)
from p2c.flows.cache import Currencies, RunCache
from p2c.flows.companies import OWNING_UNIT, CompanyRouter
from p2c.flows.contacts import ContactsFlow
from p2c.flows.invoices import InvoicesFlow
from p2c.flows.orders_from_erp import OrdersFromErpFlow
from p2c.flows.orders_to_erp import OrdersToErpFlow
from p2c.flows.products import ProductsFlow
from p2c.flows.quotes import QuotesFlow
from p2c.rules import FlowName

__all__ = [
    "FLOWS",
    "OWNING_UNIT",
    "CompanyRouter",
    "Currencies",
    "Flow",
    "FlowContext",
    "LinkView",
    "Prepared",
    "Reads",
    "RunCache",
    "SideWrite",
    "SideWriteKind",
    "Skip",
    "SkipReason",
    "TrialMap",
    "Written",
    "flow_for",
]

#: the flow module of each flow name
FLOWS: dict[FlowName, type[Flow]] = {
    FlowName.GENERIC: Flow,
    FlowName.ACCOUNTS: AccountsFlow,
    FlowName.PRODUCTS: ProductsFlow,
    FlowName.CONTACTS: ContactsFlow,
    FlowName.QUOTES: QuotesFlow,
    FlowName.ORDERS_TO_ERP: OrdersToErpFlow,
    FlowName.ORDERS_FROM_ERP: OrdersFromErpFlow,
    FlowName.INVOICES: InvoicesFlow,
}


def flow_for(ctx: FlowContext) -> Flow:
    """The flow of ``ctx.task`` (its template's ``flow:``), bound to this run."""
    return FLOWS[ctx.task.flow](ctx)
