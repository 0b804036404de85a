"""CRM orders that can never go to the ERP under the project's ``order_activation``.

With ``order_activation: processing_status`` (the default) an order goes once its processing status
is Active (``OrderHeader``'s filter). Orders created before ``p2c setup`` gave the column its
default (Draft), or while the column had none, have no processing status at all: nobody using a
CRM without Microsoft's "Activate" step will ever set it, so they never qualify. The check counts
the open ones (Active or Submitted) and names the setting that sends them with the standard
Submit instead. With ``submitted`` every open order can still be submitted: nothing to warn about.
"""

from __future__ import annotations

from collections.abc import Iterator

from p2c.doctor.base import Check, CheckStatus, DoctorContext
from p2c.errors import P2CError
from p2c.rules import FlowName, OrderActivation
from p2c.rules.activation import PROCESSING_STATUS

__all__ = ["check_order_activation", "sends_crm_orders"]

NAME = "order activation"


def never_active(column: str) -> str:
    """Open CRM orders (Active or Submitted) without a processing status (``column``: the
    environment's, p2c's or Microsoft's solution's), so not from the ERP either."""
    return f"(statecode eq 0 or statecode eq 1) and {column} eq null"


def sends_crm_orders(ctx: DoctorContext) -> bool:
    return any(
        t.flow is FlowName.ORDERS_TO_ERP and t.source.entity == "salesorders"
        for t in ctx.project.enabled_tasks()
    )


def check_order_activation(ctx: DoctorContext) -> Iterator[Check]:
    activation = ctx.project.settings.order_activation
    if activation is OrderActivation.SUBMITTED:
        yield Check(
            NAME, CheckStatus.OK, "order_activation: submitted — an order goes when a user submits it"
        )
        return
    try:
        count = sum(
            len(page)
            for page in ctx.crm.read(
                "salesorders",
                select=["salesorderid"],
                filter=never_active(ctx.project.crm_schema.column("salesorders", PROCESSING_STATUS)),
            )
        )
    except P2CError:
        return  # no processing status column: the entity check says so, with p2c setup as the fix
    if not count:
        yield Check(
            NAME, CheckStatus.OK, "order_activation: processing_status — every open order has a status"
        )
        return
    orders = "order has" if count == 1 else "orders have"
    yield Check(
        NAME,
        CheckStatus.WARN,
        f"{count} open CRM {orders} no processing status, so with order_activation: processing_status"
        " they never go to the ERP (OrderHeader sends orders whose processing status is Active)",
        f"set their processing status to Active when they are ready, or set settings.order_activation:"
        f" submitted in {ctx.project.path} so the standard Submit sends an order",
    )
