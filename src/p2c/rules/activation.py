"""When a CRM order is ready for the ERP: the ``order_activation`` setting (P2C.md flow 5).

P2C sends an order once it is *activated*. Microsoft's solution adds an "Activate" step that sets
the order's processing status to Active; ``OrderHeader``'s built-in filter reads that status
(``p2c_processingstatus eq 100000001``). A CRM without the solution's form has no such button, so
a project may choose the standard state instead:

- ``processing_status`` (the default): an order flows when its processing status is Active.
- ``submitted``: an order flows when its ``statecode`` is Submitted (1), which a sales user reaches
  with the standard Submit (a state change). Its processing status is not needed: a submitted order
  whose status is empty or Draft counts as Active for the filter. An order that came from the ERP
  carries the ERP's status (Confirmed or later) and never counts, so nothing echoes.

:func:`activation_status` is the processing status the filter reads::

    >>> order = {"statecode": 1, "p2c_processingstatus": None}
    >>> activation_status(order, OrderActivation.SUBMITTED)
    100000001
    >>> activation_status(order, OrderActivation.PROCESSING_STATUS) is None
    True
    >>> activation_status({"statecode": 0, "p2c_processingstatus": 100000000}, OrderActivation.SUBMITTED)
    100000000
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from p2c.rules.status import ProcessingStatus

__all__ = ["ORDER_STATECODE_SUBMITTED", "PROCESSING_STATUS", "OrderActivation", "activation_status"]

#: the CRM order's column p2c provisions for the ERP's progress (and Microsoft's "Activate")
PROCESSING_STATUS = "p2c_processingstatus"
ORDER_STATECODE_SUBMITTED = 1


class OrderActivation(StrEnum):
    """What makes a CRM order ready for the ERP (``settings.order_activation``)."""

    PROCESSING_STATUS = "processing_status"
    SUBMITTED = "submitted"


def activation_status(
    order: Mapping[str, Any],
    activation: OrderActivation,
    *,
    column: str = PROCESSING_STATUS,
    draft: int = ProcessingStatus.DRAFT.option,
    active: int = ProcessingStatus.ACTIVE.option,
) -> Any:
    """The processing status ``OrderHeader``'s filter reads for ``order`` under ``activation``;
    ``column``, ``draft`` and ``active`` are the environment's (Microsoft's P2C solution names the
    column and numbers the options its own way: :mod:`p2c.project.crm_schema`)."""
    status = order.get(column)
    if (
        activation is OrderActivation.SUBMITTED
        and order.get("statecode") == ORDER_STATECODE_SUBMITTED
        and status in (None, draft)
    ):
        return active
    return status
