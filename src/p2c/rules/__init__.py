"""The Prospect-to-cash business rules: pure functions the engine applies around mapping.

A task names its rules (``rules: [generate_account_number]``, members of :class:`RuleName`);
:data:`RULES` says what each one reads (``requires``: source fields the engine must select) and
what it adds to every source row (``provides``: ``$`` pseudo-fields that expressions may read,
e.g. ``$price_list``). The flow modules of :mod:`p2c.flows` apply them; the pure functions live in
the modules below::

    >>> RULES[RuleName.CHOOSE_PRICE_LIST].provides
    ('$price_list',)
    >>> RULES[RuleName.SPLIT_LINE_DISCOUNT].requires
    ('quantity', 'manualdiscountamount')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from p2c.rules.activation import OrderActivation, activation_status
from p2c.rules.contacts import (
    LOOKUP_TYPE,
    ContactRoute,
    Routing,
    customer_contact_ids,
    is_active_customer,
    normalize_ids,
    route_contact,
)
from p2c.rules.discounts import restore_line_discount, split_line_discount
from p2c.rules.duplicates import find_duplicates
from p2c.rules.freight import (
    FREIGHT_TAX_DESCRIPTION,
    FREIGHT_TAX_SEQUENCE,
    freight_tax_line,
    is_freight_tax_line,
)
from p2c.rules.invoices import (
    invoice_header_tax_excluding_charges,
    invoice_line_discount,
    invoice_line_tax,
    invoice_order_update,
    order_owner,
)
from p2c.rules.lines import LineDiff, diff_lines, index_lines, next_sequence_number, number_lines
from p2c.rules.names import FLOW_RULES, FlowName, RuleName, flows_of
from p2c.rules.numbering import NumberGenerator, generate_number, next_sequence
from p2c.rules.pricelist import choose_price_list
from p2c.rules.status import (
    ErpProcessingStatus,
    ProcessingStatus,
    active_order_state,
    invoiced_order_state,
    is_confirmed_or_later,
    processing_status_from_erp,
)

__all__ = [
    "FLOW_RULES",
    "FREIGHT_TAX_DESCRIPTION",
    "FREIGHT_TAX_SEQUENCE",
    "LOOKUP_TYPE",
    "RULES",
    "ContactRoute",
    "ErpProcessingStatus",
    "FlowName",
    "LineDiff",
    "NumberGenerator",
    "OrderActivation",
    "ProcessingStatus",
    "Routing",
    "Rule",
    "RuleName",
    "activation_status",
    "active_order_state",
    "choose_price_list",
    "customer_contact_ids",
    "diff_lines",
    "find_duplicates",
    "flows_of",
    "freight_tax_line",
    "generate_number",
    "index_lines",
    "invoice_header_tax_excluding_charges",
    "invoice_line_discount",
    "invoice_line_tax",
    "invoice_order_update",
    "invoiced_order_state",
    "is_active_customer",
    "is_confirmed_or_later",
    "is_freight_tax_line",
    "next_sequence",
    "next_sequence_number",
    "normalize_ids",
    "number_lines",
    "order_owner",
    "processing_status_from_erp",
    "restore_line_discount",
    "route_contact",
    "split_line_discount",
]


@dataclass(frozen=True)
class Rule:
    """A named business rule as templates refer to it."""

    name: RuleName
    summary: str
    function: Callable[..., Any] | None = None
    requires: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()


def _rules(*rules: Rule) -> Mapping[RuleName, Rule]:
    return MappingProxyType({r.name: r for r in rules})


RULES: Mapping[RuleName, Rule] = _rules(
    Rule(
        RuleName.GENERATE_ACCOUNT_NUMBER,
        "An account without an account number gets ACC-<5-digit sequence>-<6 capitals>, written back to the CRM.",
        generate_number,
        requires=("accountid", "accountnumber"),
    ),
    Rule(
        RuleName.REPORT_DUPLICATE_NUMBERS,
        "Account numbers used by several CRM accounts fail every account involved; nothing is merged.",
        find_duplicates,
        requires=("accountid", "accountnumber"),
    ),
    Rule(
        RuleName.CHOOSE_PRICE_LIST,
        "$price_list = the first price list (by name) in the product's currency, or the project's price_list.",
        choose_price_list,
        requires=("CurrencyCode",),
        provides=("$price_list",),
    ),
    Rule(
        RuleName.SET_PRODUCT_STATE,
        "A product the sync creates is left Draft or activated, per the products_created_active setting.",
    ),
    Rule(
        RuleName.GENERATE_CONTACT_NUMBER,
        "A contact without a contact number gets CON-<5-digit sequence>-<6 capitals>, written back to the CRM.",
        generate_number,
        requires=("contactid", "p2c_contactnumber"),
    ),
    Rule(
        RuleName.DERIVE_IS_ACTIVE_CUSTOMER,
        "$is_active_customer = Yes exactly when the contact is the customer of a quote, order or invoice;"
        " p2c_isactivecustomer is kept in step in the CRM.",
        is_active_customer,
        requires=("contactid", "p2c_isactivecustomer"),
        provides=("$is_active_customer",),
    ),
    Rule(
        RuleName.ROUTE_CONTACT,
        "Active customer → ERP customer (PartyType Person); else parent account → contact person of its"
        " customer; else not synced, with the reason.",
        route_contact,
        requires=("contactid", "_parentcustomerid_value"),
        provides=("$contact_route", "$parent_account_id"),
    ),
    Rule(
        RuleName.SPLIT_LINE_DISCOUNT,
        "CRM whole-line discount → ERP per-unit discount (rounded half up to the currency precision)"
        " + a line charge holding the exact remainder (quantity 3, discount 10.00 → 3.33 and −0.01).",
        split_line_discount,
        requires=("quantity", "manualdiscountamount"),
        provides=("$discount_per_unit", "$discount_charge"),
    ),
    Rule(
        RuleName.RESTORE_LINE_DISCOUNT,
        "ERP per-unit discount and line charge → the CRM's whole-line discount, exactly"
        " (3 × 3.33 + 0.01 = 10.00).",
        restore_line_discount,
        requires=("OrderedSalesQuantity", "LineDiscountAmount", "FixedPriceCharges"),
        provides=("$line_discount",),
    ),
    Rule(
        RuleName.MAP_PROCESSING_STATUS,
        "$processing_status = the CRM processing status option for the ERP's SalesOrderProcessingStatus.",
        processing_status_from_erp,
        requires=("SalesOrderProcessingStatus",),
        provides=("$processing_status",),
    ),
    Rule(
        RuleName.KEEP_ORDER_ACTIVE,
        "An order from the ERP stays Active in the CRM (statecode 0) so later ERP updates can be written.",
        active_order_state,
    ),
    Rule(
        RuleName.FREIGHT_TAX_LINE,
        "Header-level tax from the ERP becomes a write-in CRM order line 'Freight Tax' (quantity 1, price = tax).",
        freight_tax_line,
        requires=("OrderHeaderTaxAmount",),
    ),
    Rule(
        RuleName.INVOICE_MARKS_ORDER,
        "An arriving invoice makes its CRM order Invoiced (statecode 4, statuscode 100003); the order's"
        " owner does not change.",
        invoice_order_update,
        requires=("SalesOrderNumber",),
    ),
    Rule(
        RuleName.ORDER_OWNER,
        "$order_owner_user / $order_owner_team = the owner of the invoice's CRM sales order (a user or a"
        " team), which the template maps to the new invoice's ownerid; no order: both empty.",
        order_owner,
        requires=("SalesOrderNumber",),
        provides=("$order_owner_user", "$order_owner_team"),
    ),
    Rule(
        RuleName.INVOICE_LINE_TAX,
        "$line_tax = the ERP line's LineTotalTaxAmount (line charge tax included); header charge tax is not synced.",
        invoice_line_tax,
        requires=("LineTotalTaxAmount",),
        provides=("$line_tax",),
    ),
    Rule(
        RuleName.INVOICE_LINE_DISCOUNT,
        "$invoice_line_discount = the ERP line's discount with a split discount's rounding remainder charge folded"
        " back (9.99 + 0.01 = 10.00); a real line charge is not synced.",
        invoice_line_discount,
        requires=("InvoicedQuantity", "LineTotalDiscountAmount", "LineTotalChargeAmount", "CurrencyCode"),
        provides=("$invoice_line_discount",),
    ),
    Rule(
        RuleName.COMPANY_OWNER,
        "$owning_team = the owning team of the record's company (legal_entities: owning_team, else the"
        " business unit's default team), given on create; $linked_account = the CRM account linked to"
        " the record's company and customer (one account number may be a customer of several companies).",
        requires=("dataAreaId",),
        provides=("$owning_team", "$linked_account"),
    ),
    Rule(
        RuleName.LINES_FOLLOW_HEADERS,
        "Lines added, changed or removed at the source are added, changed or removed at the target,"
        " matched by sequence number.",
        diff_lines,
    ),
)
