"""Flow 5a, Sales orders CRM → ERP, header and lines.

An order flows once it is activated and all its products are externally maintained. It goes to
the ERP **once**: after activation the ERP owns the order (P2C.md), so a linked order header is
not written again from the CRM (``create_only``); its later changes come back from the ERP
(:mod:`p2c.flows.orders_from_erp`). Lines follow their header as quotes' do
(:class:`~p2c.flows.documents.DocumentsFlow`).
"""

from __future__ import annotations

from typing import ClassVar

from p2c.flows.base import FlowContext
from p2c.flows.documents import DocumentsFlow
from p2c.rules import FlowName

__all__ = ["OrdersToErpFlow"]


class OrdersToErpFlow(DocumentsFlow):
    name: ClassVar[FlowName] = FlowName.ORDERS_TO_ERP

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.create_only = self.header is not None
