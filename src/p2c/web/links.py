"""Links that open a record in the CRM or the ERP, in the form the real products use.

- Dynamics 365 Sales: ``<org>/main.aspx?etn=<logical name>&id=<guid>&pagetype=entityrecord``;
- Finance and Operations: ``<env>/?cmp=<company>&mi=<menu item>&<key field>=<value>...`` — the
  menu item of the form that shows the data entity's records (``CustTable`` for customers...); an
  entity without a known menu item is linked by ``entity=<entity set>`` (the sandbox answers both).

A record gets a CRM link when its key there is a GUID (a CRM source record, or a CRM target record
p2c knows the id of), and an ERP link when its ERP key fields are known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

__all__ = ["MENU_ITEMS", "crm_link", "erp_link"]

#: data entity → the menu item of the form showing its records
MENU_ITEMS = {
    "CustomersV3": "CustTable",
    "CDSContactPersonsV2": "ContactPerson",
    "CDSSalesQuotationHeaders": "SalesQuotationTable",
    "CDSSalesOrderHeaders": "SalesTable",
    "ExternallyMaintainedCustomerSalesInvoiceHeaders": "CustInvoiceJour",
    "SellableReleasedProducts": "EcoResProductDetailsExtended",
}
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")


def crm_link(base: str | None, logical_name: str, key: str | None) -> str | None:
    """The CRM record URL, or None when ``key`` is no GUID (or the table is unknown)."""
    if not base or not logical_name or not key or not _GUID.match(key.strip()):
        return None
    query = urlencode({"etn": logical_name, "id": key.strip("{} "), "pagetype": "entityrecord"})
    return f"{base.rstrip('/')}/main.aspx?{query}"


def erp_link(base: str | None, entity: str, key_fields: Sequence[str], key: str | None) -> str | None:
    """The ERP record URL from a key shown as ``usmf,C10104`` (values in ``key_fields`` order), or
    None when the key does not name the company and every key field."""
    if not base or not key:
        return None
    values = key.split(",", len(key_fields) - 1)
    if len(values) != len(key_fields) or "dataAreaId" not in key_fields:
        return None
    fields: Mapping[str, str] = dict(zip(key_fields, values, strict=True))
    query: dict[str, str] = {"cmp": fields["dataAreaId"]}
    item = MENU_ITEMS.get(entity)
    query.update({"mi": item} if item else {"entity": entity})
    query.update({k: v for k, v in fields.items() if k != "dataAreaId"})
    return f"{base.rstrip('/')}/?{urlencode(query)}"
