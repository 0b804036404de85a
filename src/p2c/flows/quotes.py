"""Flow 4, Sales quotations (CRM → ERP), header and lines.

Only active quotes whose products are all externally maintained flow (the template's filters on
the derived "has externally maintained products only"); lines are matched by their sequence
number. What quotes share with orders going to the ERP — the derived flag, line numbers, lines
that follow their header, the split discount — is :class:`~p2c.flows.documents.DocumentsFlow`.
"""

from __future__ import annotations

from typing import ClassVar

from p2c.flows.documents import DocumentsFlow
from p2c.rules import FlowName

__all__ = ["QuotesFlow"]


class QuotesFlow(DocumentsFlow):
    name: ClassVar[FlowName] = FlowName.QUOTES
