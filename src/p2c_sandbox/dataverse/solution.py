"""Microsoft's P2C solution in the emulated CRM: its ``msdynce_`` columns and its Activate button.

Source of the facts: p2c issue 12 ("run on an environment that has Microsoft's P2C solution").
The solution, installed beside Microsoft's Prospect-to-cash Data Integrator templates, adds:

- contact: ``msdynce_contactnumber`` (text), ``msdynce_isactivecustomer`` (yes/no);
- product: ``msdynce_ismaintainedexternally`` (yes/no);
- quote: ``msdynce_hasexternallymaintainedproductsonly``, ``msdynce_ismaintainedexternally``;
  quotedetail: ``msdynce_quotehasexternalmaintainedproductsonly``;
- salesorder: ``msdynce_hasexternallymaintainedproductsonly``, ``msdynce_ismaintainedexternally``,
  ``msdynce_processingstatus`` (choice, below; a new order is Draft), ``msdynce_misctax`` (money);
  salesorderdetail: ``msdynce_orderhasexternalmaintainedproductsonly``, ``msdynce_orderissubmitted``;
- invoice: ``msdynce_misctax`` (money), ``msdynce_invoicedate`` (the issue gives no type: a date
  here).

Yes/no columns default to No. Processing status options: Active 647390000, Confirmed 647390001,
Packing Slip 647390002, Invoiced 647390003, Picked 647390004, Partially Picked 647390005,
Partially Packed 647390006, Shipped 647390007, Partially Shipped 647390008, Partially Invoiced
647390009, Cancelled 647390010, Draft 647390011.

An order is activated by the solution's **Activate** button: the processing status becomes Active
and ``msdynce_orderissubmitted`` is set on every line. The sandbox has no command bar, so the admin
API does what the button does: ``POST /sandbox/salesorders/{id}/activate`` (:func:`activate_order`).

The solution is installed by the seed modifier ``+microsoft`` (``demo+microsoft``,
``empty+microsoft``), before the seed's rows are written, so seeded rows carry the defaults.

Example::

    >>> sorted(MICROSOFT_P2C_COLUMNS)[:2]
    ['contact', 'invoice']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request
from p2c_sandbox.dataverse.schema import Column, boolean, datetime_, money, picklist, string
from p2c_sandbox.dataverse.values import parse_guid

if TYPE_CHECKING:
    from p2c_sandbox.dataverse.org import Org
    from p2c_sandbox.dataverse.write import Writer

__all__ = [
    "MICROSOFT_P2C_COLUMNS",
    "PROCESSING_STATUS",
    "SOLUTIONS",
    "activate_order",
    "install_solution",
]

PROCESSING_STATUS = {
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
ACTIVE, DRAFT = 647390000, 647390011


def _yes_no(name: str, label: str) -> Column:
    return boolean(name, default=False, label=label, custom=True)


MICROSOFT_P2C_COLUMNS: dict[str, list[Column]] = {
    "contact": [
        string("msdynce_contactnumber", 100, label="Contact Number", custom=True),
        _yes_no("msdynce_isactivecustomer", "Is Active Customer"),
    ],
    "product": [_yes_no("msdynce_ismaintainedexternally", "Is Maintained Externally")],
    "quote": [
        _yes_no("msdynce_hasexternallymaintainedproductsonly", "Has Externally Maintained Products Only"),
        _yes_no("msdynce_ismaintainedexternally", "Is Maintained Externally"),
    ],
    "quotedetail": [
        _yes_no(
            "msdynce_quotehasexternalmaintainedproductsonly", "Quote Has External Maintained Products Only"
        )
    ],
    "salesorder": [
        _yes_no("msdynce_hasexternallymaintainedproductsonly", "Has Externally Maintained Products Only"),
        _yes_no("msdynce_ismaintainedexternally", "Is Maintained Externally"),
        picklist(
            "msdynce_processingstatus",
            PROCESSING_STATUS,
            default=DRAFT,
            label="Processing Status",
            custom=True,
        ),
        money("msdynce_misctax", label="Misc Tax", custom=True),
    ],
    "salesorderdetail": [
        _yes_no(
            "msdynce_orderhasexternalmaintainedproductsonly", "Order Has External Maintained Products Only"
        ),
        _yes_no("msdynce_orderissubmitted", "Order Is Submitted"),
    ],
    "invoice": [
        money("msdynce_misctax", label="Misc Tax", custom=True),
        datetime_("msdynce_invoicedate", date_only=True, label="Invoice Date", custom=True),
    ],
}

#: seed modifiers: ``<seed>+<solution>``
SOLUTIONS = {"microsoft": MICROSOFT_P2C_COLUMNS}


def install_solution(org: Org, name: str) -> None:
    """Add the columns of solution ``name`` (a key of :data:`SOLUTIONS`) to the org's tables."""
    if name not in SOLUTIONS:
        raise ValueError(f"unknown solution '{name}': use {', '.join(SOLUTIONS)}")
    for table, columns in SOLUTIONS[name].items():
        for column in columns:
            if column.name not in org.catalog.table(table).columns:
                org.catalog.add_column(table, column)


def activate_order(org: Org, writer: Writer, order_id: str) -> dict[str, Any]:
    """The solution's Activate button on order ``order_id``: processing status Active, every line
    submitted. Refused (400) without the solution, 404 for an unknown order."""
    t = org.catalog.table("salesorder")
    if "msdynce_processingstatus" not in t.columns:
        raise bad_request("The Activate button belongs to Microsoft's P2C solution, which this org lacks.")
    pk = parse_guid(order_id)
    if pk is None:
        raise bad_request(f"'{order_id}' is not an order id.")
    order = org.get("salesorder", pk)
    if order is None:
        raise DataverseError(404, Code.NOT_FOUND_BY_ID, f"salesorder With Id = {pk} Does Not Exist")
    lines_table = org.catalog.table("salesorderdetail")
    with org.transaction():
        lines = [
            r for r in list(org.rows("salesorderdetail").rows.values()) if r.get("_salesorderid_value") == pk
        ]
        for line in lines:
            writer.update_fields(lines_table, line, {"msdynce_orderissubmitted": True})
        row = writer.update_fields(
            t, org.get("salesorder", pk) or order, {"msdynce_processingstatus": ACTIVE}
        )
    return {
        "salesorderid": pk,
        "msdynce_processingstatus": row.get("msdynce_processingstatus"),
        "lines": len(lines),
    }
