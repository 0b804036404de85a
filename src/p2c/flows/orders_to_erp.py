"""Flow 5a, Sales orders CRM → ERP, header and lines.

An order flows once it is activated and all its products are externally maintained. What
"activated" means is the project's ``order_activation`` (:mod:`p2c.rules.activation`): processing
status Active (the default), or the standard state Submitted, in which case a submitted order
without an ERP status counts as Active for ``OrderHeader``'s filter (:meth:`qualify`, applied to
the header rows before the filter, and by the line task to the headers it checks). It goes to
the ERP **once**: after activation the ERP owns the order (P2C.md), so a linked order header is
not written again from the CRM (``create_only``); its later changes come back from the ERP
(:mod:`p2c.flows.orders_from_erp`). Lines follow their header as quotes' do
(:class:`~p2c.flows.documents.DocumentsFlow`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from p2c.flows.base import FlowContext
from p2c.flows.documents import DocumentsFlow
from p2c.rules import FlowName, OrderActivation, activation_status
from p2c.rules.activation import PROCESSING_STATUS
from p2c.rules.status import ProcessingStatus

__all__ = ["OrdersToErpFlow"]


class OrdersToErpFlow(DocumentsFlow):
    name: ClassVar[FlowName] = FlowName.ORDERS_TO_ERP

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.create_only = self.header is not None
        self.activation: OrderActivation = ctx.project.settings.order_activation
        schema = ctx.project.crm_schema
        self.status = schema.column("salesorders", PROCESSING_STATUS)
        self.draft = schema.option("salesorders", PROCESSING_STATUS, ProcessingStatus.DRAFT.option)
        self.active = schema.option("salesorders", PROCESSING_STATUS, ProcessingStatus.ACTIVE.option)

    def requires(self) -> set[str]:
        out = super().requires()
        if self.header is not None:
            out |= {"statecode", self.status}
        return out

    def qualify(self, header: dict[str, Any]) -> dict[str, Any]:
        if self.activation is OrderActivation.PROCESSING_STATUS or self.status not in header:
            return header
        status = activation_status(
            header, self.activation, column=self.status, draft=self.draft, active=self.active
        )
        return {**header, self.status: status}
