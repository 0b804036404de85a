"""The F&O enumerations the emulated entities use (FNO.md §3), with their ``$metadata`` member values.

On the wire an enum is its member *name* (``"Backorder"``); in ``$filter`` it is a qualified literal
(``Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'``). The member values only appear in
``$metadata``. The emulator's business code uses the :class:`~enum.StrEnum` classes below so that
statuses are never bare strings.

Example::

    >>> SalesOrderProcessingStatus.CONFIRMED.value
    'Confirmed'
    >>> ENUMS["SalesStatus"]["Canceled"]
    4
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ENUMS",
    "NAMESPACE",
    "NoYes",
    "SalesOrderProcessingStatus",
    "SalesQuotationStatus",
    "SalesStatus",
]

NAMESPACE = "Microsoft.Dynamics.DataEntities"


class NoYes(StrEnum):
    NO = "No"
    YES = "Yes"


class SalesStatus(StrEnum):
    """SalesOrderStatus / SalesOrderLineStatus; note the spelling *Canceled*."""

    NONE = "None"
    BACKORDER = "Backorder"
    DELIVERED = "Delivered"
    INVOICED = "Invoiced"
    CANCELED = "Canceled"


class SalesOrderProcessingStatus(StrEnum):
    """The CDS entities' processing status; a new order is ``Active`` (there is no Draft)."""

    ACTIVE = "Active"
    CONFIRMED = "Confirmed"
    PICKED = "Picked"
    PARTIALLY_DELIVERED = "PartiallyDelivered"
    DELIVERED = "Delivered"
    INVOICED = "Invoiced"
    PARTIALLY_INVOICED = "PartiallyInvoiced"
    CANCELED = "Canceled"
    DELIVERED_PARTIALLY_INVOICED = "DeliveredPartiallyInvoiced"


class SalesQuotationStatus(StrEnum):
    """Quotation status; note the spelling *Cancelled* (unlike SalesStatus)."""

    CREATED = "Created"
    SENT = "Sent"
    CONFIRMED = "Confirmed"
    LOST = "Lost"
    CANCELLED = "Cancelled"


# Member name -> value, as $metadata declares them. Types marked [UNVERIFIED] in DEVIATIONS.md have
# guessed values (FNO.md lists only the P2C ones).
ENUMS: dict[str, dict[str, int]] = {
    "NoYes": {"No": 0, "Yes": 1},
    "SalesStatus": {"None": 0, "Backorder": 1, "Delivered": 2, "Invoiced": 3, "Canceled": 4},
    "SalesOrderProcessingStatus": {
        "Active": 0,
        "Confirmed": 1,
        "Picked": 2,
        "PartiallyDelivered": 3,
        "Delivered": 4,
        "Invoiced": 5,
        "PartiallyInvoiced": 6,
        "Canceled": 7,
        "DeliveredPartiallyInvoiced": 8,
    },
    "SalesQuotationStatus": {
        "Created": 0,
        "Sent": 1,
        "Confirmed": 2,
        "Lost": 3,
        "Cancelled": 4,
        "Reset": 5,
        "Modified": 6,
        "Submitted": 7,
        "Approved": 8,
        "Revised": 9,
    },
    "SalesQuotationCreationMethod": {"SCM": 0, "Dynamics365Sales": 1},
    "SalesOriginType": {"NotSpecified": 0, "SalesOrderIntegration": 1, "WorkOrderIntegration": 2},
    "EcoResProductType": {"Item": 1, "Service": 2},
    "EcoResFieldServiceProductType": {"NotApplicable": 0, "Inventory": 1, "NonInventory": 2, "Service": 3},
    "SmmContactPersonCdsAssociatedContactType": {
        "Customer": 0,
        "Vendor": 1,
        "Contact": 2,
        "NotSupported": 3,
        "Prospect": 4,
    },
    "InvoiceOrderAccount": {"InvoiceAccount": 0, "OrderAccount": 1},
    "SalesDeliveryDateControlType": {
        "None": 0,
        "SalesLeadTime": 1,
        "ATP": 2,
        "ATPPlusIssueMargin": 3,
        "CTP": 4,
        "FullRunCTP": 5,
    },
    "CustVendorBlocked": {
        "No": 0,
        "Invoice": 1,
        "All": 2,
        "Payment": 3,
        "Requisition": 4,
        "Never": 5,
        "PurchOrder": 6,
    },
    "Gender": {"Unknown": 0, "Male": 1, "Female": 2, "NonSpecific": 3},
    "DirPersonMaritalStatus": {
        "None": 0,
        "Single": 1,
        "Married": 2,
        "Divorced": 3,
        "Widowed": 4,
        "Cohabiting": 5,
    },
    "MonthsOfYear": {
        "None": 0,
        "January": 1,
        "February": 2,
        "March": 3,
        "April": 4,
        "May": 5,
        "June": 6,
        "July": 7,
        "August": 8,
        "September": 9,
        "October": 10,
        "November": 11,
        "December": 12,
    },
    "SalesExternalWorkOrderStatus": {"None": 0, "Open": 1, "Scheduled": 2, "Completed": 3, "Posted": 4},
    "InventLocationType": {"Standard": 0, "Quarantine": 1, "Transit": 2},
    # A subset of the 100+ Windows time zones (the values are those of the real $metadata).
    "Timezone": {
        "GMTMINUS1000HAWAII": 39,
        "GMTMINUS0900ALASKA": 2,
        "GMTMINUS0800PACIFICTIME": 58,
        "GMTMINUS0700MOUNTAINTIME": 47,
        "GMTMINUS0600CENTRALTIME": 21,
        "GMTMINUS0500EASTERNTIME": 29,
        "GMT_COORDINATEDUNIVERSALTIME": 89,
        "GMT_DUBLIN_EDINBURGH_LISBON_LONDON": 35,
        "GMTPLUS0100_AMSTERDAM_BERLIN_BERN_ROME": 79,
        "GMTPLUS0100BRUSSELS_COPENHAGEN_MADRID": 60,
    },
}
