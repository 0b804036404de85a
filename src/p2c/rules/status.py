"""Order progress: the ERP's processing status on the CRM's list, and the CRM order's state.

The CRM order has a custom choice column ``p2c_processingstatus`` (catalog.yaml) with the P2C list;
its option values are those of the catalog, 100000000 upwards in the list's order. The ERP's
``SalesOrderProcessingStatus`` (FNO.md §3) maps onto it like this (FNO.md §3's proposal):

==============================  =====================  ==========
ERP SalesOrderProcessingStatus  CRM processing status  option
==============================  =====================  ==========
Active (0)                      Active                 100000001
Confirmed (1)                   Confirmed              100000002
Picked (2)                      Picked                 100000005
PartiallyDelivered (3)          Partially shipped      100000009
Delivered (4)                   Shipped                100000008
Invoiced (5)                    Invoiced               100000004
PartiallyInvoiced (6)           Partially invoiced     100000010
Canceled (7)                    Cancelled              100000011
DeliveredPartiallyInvoiced (8)  Partially invoiced     100000010
==============================  =====================  ==========

Draft is the CRM's own (an order before activation); Packing slip, Partially picked and Partially
packed have no member in today's ERP enum and are never produced.

ERP → CRM orders flow when *confirmed or later*: every status but Active. Canceled counts as later
(an order confirmed, synchronised and then cancelled must reach the CRM as Cancelled; the CRM list
has Cancelled for that), which is also FNO.md §3's filter ``ne ...'Active'``::

    >>> processing_status_from_erp("PartiallyDelivered")
    <ProcessingStatus.PARTIALLY_SHIPPED: 'Partially shipped'>
    >>> ProcessingStatus.SHIPPED.option
    100000008
    >>> is_confirmed_or_later("Active"), is_confirmed_or_later("Canceled")
    (False, True)

The CRM order itself stays **Active** (statecode 0) while the ERP works on it, so later ERP updates
can still be written ("only active orders can be edited", DATAVERSE.md §3.5). When an invoice
arrives it becomes **Invoiced**: statecode 4 with statuscode 100003, the only status reason of that
state (DATAVERSE.md §3.5; catalog.yaml ``salesorders``)::

    >>> invoiced_order_state()
    {'statecode': 4, 'statuscode': 100003}
    >>> active_order_state(current_statuscode=2), active_order_state(current_statuscode=100003)
    ({'statecode': 0, 'statuscode': 2}, {'statecode': 0, 'statuscode': 1})
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Any

from p2c.errors import RecordError

__all__ = [
    "ACTIVE_ORDER_STATUSCODES",
    "CONFIRMED_OR_LATER_FILTER",
    "ERP_TO_CRM",
    "ORDER_STATECODE_ACTIVE",
    "ORDER_STATECODE_INVOICED",
    "ORDER_STATUSCODE_INVOICED",
    "ErpProcessingStatus",
    "ProcessingStatus",
    "active_order_state",
    "invoiced_order_state",
    "is_confirmed_or_later",
    "processing_status_from_erp",
]


class ProcessingStatus(StrEnum):
    """The CRM order's ``p2c_processingstatus``; the value is the label, ``option`` the choice value.

    >>> ProcessingStatus.from_option(100000003)
    <ProcessingStatus.PACKING_SLIP: 'Packing slip'>
    """

    DRAFT = "Draft"
    ACTIVE = "Active"
    CONFIRMED = "Confirmed"
    PACKING_SLIP = "Packing slip"
    INVOICED = "Invoiced"
    PICKED = "Picked"
    PARTIALLY_PICKED = "Partially picked"
    PARTIALLY_PACKED = "Partially packed"
    SHIPPED = "Shipped"
    PARTIALLY_SHIPPED = "Partially shipped"
    PARTIALLY_INVOICED = "Partially invoiced"
    CANCELLED = "Cancelled"

    @property
    def option(self) -> int:
        """The choice value in the CRM (catalog.yaml ``salesorders.p2c_processingstatus``)."""
        return _OPTIONS[self]

    @classmethod
    def from_option(cls, value: int) -> ProcessingStatus:
        for status, option in _OPTIONS.items():
            if option == value:
                return status
        raise ValueError(f"{value!r} is not a p2c_processingstatus option")


_OPTIONS: MappingProxyType[ProcessingStatus, int] = MappingProxyType(
    {status: 100_000_000 + i for i, status in enumerate(ProcessingStatus)}
)


class ErpProcessingStatus(StrEnum):
    """F&O ``SalesOrderProcessingStatus``: JSON carries the member name; ``number`` is its value.

    >>> ErpProcessingStatus.CANCELED.number
    7
    """

    ACTIVE = "Active"
    CONFIRMED = "Confirmed"
    PICKED = "Picked"
    PARTIALLY_DELIVERED = "PartiallyDelivered"
    DELIVERED = "Delivered"
    INVOICED = "Invoiced"
    PARTIALLY_INVOICED = "PartiallyInvoiced"
    CANCELED = "Canceled"
    DELIVERED_PARTIALLY_INVOICED = "DeliveredPartiallyInvoiced"

    @property
    def number(self) -> int:
        return list(ErpProcessingStatus).index(self)


ERP_TO_CRM: MappingProxyType[ErpProcessingStatus, ProcessingStatus] = MappingProxyType(
    {
        ErpProcessingStatus.ACTIVE: ProcessingStatus.ACTIVE,
        ErpProcessingStatus.CONFIRMED: ProcessingStatus.CONFIRMED,
        ErpProcessingStatus.PICKED: ProcessingStatus.PICKED,
        ErpProcessingStatus.PARTIALLY_DELIVERED: ProcessingStatus.PARTIALLY_SHIPPED,
        ErpProcessingStatus.DELIVERED: ProcessingStatus.SHIPPED,
        ErpProcessingStatus.INVOICED: ProcessingStatus.INVOICED,
        ErpProcessingStatus.PARTIALLY_INVOICED: ProcessingStatus.PARTIALLY_INVOICED,
        ErpProcessingStatus.CANCELED: ProcessingStatus.CANCELLED,
        ErpProcessingStatus.DELIVERED_PARTIALLY_INVOICED: ProcessingStatus.PARTIALLY_INVOICED,
    }
)

CONFIRMED_OR_LATER_FILTER = (
    "SalesOrderProcessingStatus ne Microsoft.Dynamics.DataEntities.SalesOrderProcessingStatus'Active'"
)
"""The ERP-side ``$filter`` equivalent of :func:`is_confirmed_or_later`."""

ORDER_STATECODE_ACTIVE = 0
ACTIVE_ORDER_STATUSCODES = frozenset({1, 2, 700970000})  # New, Pending, In Progress (DATAVERSE.md §3.5)
ORDER_STATECODE_INVOICED = 4
ORDER_STATUSCODE_INVOICED = 100003


def _erp(
    erp_status: Any, *, entity: str = "CDSSalesOrderHeaders", key: str | None = None
) -> ErpProcessingStatus:
    if isinstance(erp_status, ErpProcessingStatus):
        return erp_status
    if isinstance(erp_status, int) and not isinstance(erp_status, bool):
        members = list(ErpProcessingStatus)
        if 0 <= erp_status < len(members):
            return members[erp_status]
    elif isinstance(erp_status, str):
        wanted = erp_status.strip().casefold()
        for member in ErpProcessingStatus:
            if member.value.casefold() == wanted:
                return member
    raise RecordError(
        f"{erp_status!r} is not a SalesOrderProcessingStatus ({', '.join(ErpProcessingStatus)})",
        entity=entity,
        key=key,
        field="SalesOrderProcessingStatus",
    )


def processing_status_from_erp(
    erp_status: str | int, *, entity: str = "CDSSalesOrderHeaders", key: str | None = None
) -> ProcessingStatus:
    """The CRM processing status for an ERP ``SalesOrderProcessingStatus`` (member name or number).

    Names match case-insensitively; anything else is a :class:`~p2c.errors.RecordError`.

    >>> processing_status_from_erp(8).option
    100000010
    """
    return ERP_TO_CRM[_erp(erp_status, entity=entity, key=key)]


def is_confirmed_or_later(
    erp_status: str | int, *, entity: str = "CDSSalesOrderHeaders", key: str | None = None
) -> bool:
    """Whether an ERP order has gone past Active (the ERP → CRM order filter; Canceled included)."""
    return _erp(erp_status, entity=entity, key=key) is not ErpProcessingStatus.ACTIVE


def active_order_state(current_statuscode: int | None = None) -> dict[str, int]:
    """statecode/statuscode that keep a CRM order Active.

    A status reason the order already has within the Active state is kept (writing New over
    Pending would be a change nobody made); otherwise New (1), the state's default.
    """
    if current_statuscode is not None and current_statuscode in ACTIVE_ORDER_STATUSCODES:
        return {"statecode": ORDER_STATECODE_ACTIVE, "statuscode": current_statuscode}
    return {"statecode": ORDER_STATECODE_ACTIVE, "statuscode": 1}


def invoiced_order_state() -> dict[str, int]:
    """statecode 4 Invoiced, statuscode 100003 Invoiced: a CRM order whose invoice has arrived."""
    return {"statecode": ORDER_STATECODE_INVOICED, "statuscode": ORDER_STATUSCODE_INVOICED}
