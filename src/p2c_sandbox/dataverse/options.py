"""Option sets and column shorthands shared by the table definitions (``tables*.py``).

The choice values are the Sales defaults of DATAVERSE.md §3.2 (payment terms, shipping methods,
freight terms), the same on accounts, quotes, orders and invoices.
"""

from __future__ import annotations

from typing import Any

from p2c_sandbox.dataverse.schema import Required

__all__ = ["APP", "FREIGHT_TERMS", "PAYMENT_TERMS", "RO", "SHIPPING_METHODS", "SYS"]

APP = Required.APPLICATION
SYS = Required.SYSTEM
#: a column the system computes: not valid for create or update
RO: dict[str, Any] = {"create": False, "update": False}

PAYMENT_TERMS = {1: "Net 30", 2: "2% 10, Net 30", 3: "Net 45", 4: "Net 60"}
SHIPPING_METHODS = {
    1: "Airborne",
    2: "DHL",
    3: "FedEx",
    4: "UPS",
    5: "Postal Mail",
    6: "Full Load",
    7: "Will Call",
}
FREIGHT_TERMS = {1: "FOB", 2: "No Charge"}
