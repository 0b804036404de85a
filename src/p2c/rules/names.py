"""The closed vocabularies templates use: the flows of Prospect to cash and the rules each applies.

A template names its flow (``flow: orders_from_erp``) and each task its rules
(``rules: [freight_tax_line]``); both are checked when the template loads, so a misspelt or
misplaced rule is a :class:`~p2c.errors.ConfigError` naming the file and line, never a surprise
at run time::

    >>> RuleName("freight_tax_line") in FLOW_RULES[FlowName.ORDERS_FROM_ERP]
    True
    >>> flows_of(RuleName.LINES_FOLLOW_HEADERS)
    ['quotes', 'orders_to_erp', 'orders_from_erp', 'invoices']
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = ["FLOW_RULES", "FlowName", "RuleName", "flows_of"]


class FlowName(StrEnum):
    """One Prospect-to-cash flow (P2C.md §1), implemented by one module of :mod:`p2c.flows`."""

    GENERIC = "generic"  # a user's own template: mapping only, no business rules
    ACCOUNTS = "accounts"
    PRODUCTS = "products"
    CONTACTS = "contacts"
    QUOTES = "quotes"
    ORDERS_TO_ERP = "orders_to_erp"
    ORDERS_FROM_ERP = "orders_from_erp"
    INVOICES = "invoices"


class RuleName(StrEnum):
    """A business rule a task can name; :data:`p2c.rules.RULES` describes each."""

    GENERATE_ACCOUNT_NUMBER = "generate_account_number"
    REPORT_DUPLICATE_NUMBERS = "report_duplicate_numbers"
    CHOOSE_PRICE_LIST = "choose_price_list"
    SET_PRODUCT_STATE = "set_product_state"
    GENERATE_CONTACT_NUMBER = "generate_contact_number"
    DERIVE_IS_ACTIVE_CUSTOMER = "derive_is_active_customer"
    ROUTE_CONTACT = "route_contact"
    SPLIT_LINE_DISCOUNT = "split_line_discount"
    RESTORE_LINE_DISCOUNT = "restore_line_discount"
    MAP_PROCESSING_STATUS = "map_processing_status"
    KEEP_ORDER_ACTIVE = "keep_order_active"
    FREIGHT_TAX_LINE = "freight_tax_line"
    INVOICE_MARKS_ORDER = "invoice_marks_order"
    ORDER_OWNER = "order_owner"
    INVOICE_LINE_TAX = "invoice_line_tax"
    INVOICE_LINE_DISCOUNT = "invoice_line_discount"
    LINES_FOLLOW_HEADERS = "lines_follow_headers"
    COMPANY_OWNER = "company_owner"


R = RuleName

#: The rules each flow applies (its module in :mod:`p2c.flows` implements exactly these).
FLOW_RULES: Mapping[FlowName, frozenset[RuleName]] = MappingProxyType(
    {
        FlowName.GENERIC: frozenset(),
        FlowName.ACCOUNTS: frozenset({R.GENERATE_ACCOUNT_NUMBER, R.REPORT_DUPLICATE_NUMBERS}),
        FlowName.PRODUCTS: frozenset({R.SET_PRODUCT_STATE, R.CHOOSE_PRICE_LIST}),
        FlowName.CONTACTS: frozenset(
            {R.GENERATE_CONTACT_NUMBER, R.DERIVE_IS_ACTIVE_CUSTOMER, R.ROUTE_CONTACT}
        ),
        FlowName.QUOTES: frozenset({R.LINES_FOLLOW_HEADERS, R.SPLIT_LINE_DISCOUNT}),
        FlowName.ORDERS_TO_ERP: frozenset({R.LINES_FOLLOW_HEADERS, R.SPLIT_LINE_DISCOUNT}),
        FlowName.ORDERS_FROM_ERP: frozenset(
            {
                R.MAP_PROCESSING_STATUS,
                R.KEEP_ORDER_ACTIVE,
                R.FREIGHT_TAX_LINE,
                R.RESTORE_LINE_DISCOUNT,
                R.LINES_FOLLOW_HEADERS,
                R.COMPANY_OWNER,
            }
        ),
        FlowName.INVOICES: frozenset(
            {
                R.INVOICE_MARKS_ORDER,
                R.ORDER_OWNER,
                R.INVOICE_LINE_TAX,
                R.INVOICE_LINE_DISCOUNT,
                R.LINES_FOLLOW_HEADERS,
                R.COMPANY_OWNER,
            }
        ),
    }
)


def flows_of(rule: RuleName) -> list[str]:
    """The flows that apply ``rule``, in flow order."""
    return [f.value for f, rules in FLOW_RULES.items() if rule in rules]
