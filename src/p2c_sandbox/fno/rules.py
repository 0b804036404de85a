"""Business rules on OData writes, the shared machinery plus parties (customers, contact persons) and lookups.

A write runs F&O's order (FNO.md §1.6): values set per field, then ``defaultRow`` (the ``defaults``
hook fills what was not sent: number sequences, values copied from the customer), then
``validateWrite`` (the ``validate`` hook: related records must exist). Failures collect into one
Infolog text like the real one::

    Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value '99' in
    field 'Customer group' is not found in the relating table 'Customer groups'.; Warning:
    validateWrite failed on data source 'Customers (CustTable)'.

Example::

    >>> normalise_language("en-us"), normalise_language("DE")
    ('en-US', 'de')
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from p2c_sandbox.fno.entities import ENTITY_SETS, EntitySet, label_of
from p2c_sandbox.fno.errors import write_failed

if TYPE_CHECKING:
    from p2c_sandbox.fno.data import Data
    from p2c_sandbox.store import Row

__all__ = [
    "COUNTRIES",
    "Checker",
    "Rules",
    "company_currency",
    "normalise_language",
    "party_rules",
    "sync_country_codes",
]

# ISO-2 -> F&O country/region id (the 3-letter code)
COUNTRIES = {
    "US": "USA",
    "CA": "CAN",
    "MX": "MEX",
    "DE": "DEU",
    "GB": "GBR",
    "FR": "FRA",
    "NL": "NLD",
    "DK": "DNK",
    "SE": "SWE",
    "IT": "ITA",
    "ES": "ESP",
    "JP": "JPN",
    "CN": "CHN",
    "AU": "AUS",
}
_ISO_OF = {v: k for k, v in COUNTRIES.items()}
_COMPANY_DEFAULTS = {"usmf": ("USD", "en-US", "US"), "demf": ("EUR", "de", "DE")}
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{2,4}))?$")
_RELATED_LABEL = {
    "CustomerGroups": "Customer groups",
    "Currencies": "Currency",
    "PaymentTerms": "Terms of payment",
    "OperationalSites": "Sites",
    "Warehouses": "Warehouses",
    "UnitsOfMeasure": "Units",
    "CustomersV3": "Customers",
    "SellableReleasedProducts": "Released products",
    "CDSSalesOrderHeaders": "Sales orders",
    "CDSSalesQuotationHeaders": "Sales quotations",
}


def company_currency(company: str) -> str:
    return _COMPANY_DEFAULTS.get(company, ("USD", "en-US", "US"))[0]


def company_language(company: str) -> str:
    return _COMPANY_DEFAULTS.get(company, ("USD", "en-US", "US"))[1]


def account_prefix(company: str) -> str:
    return _COMPANY_DEFAULTS.get(company, ("USD", "en-US", company.upper()))[2]


def normalise_language(value: str) -> str | None:
    """F&O language ids: lower-case language, upper-case region (``en-us`` comes back ``en-US``)."""
    m = _LANGUAGE.match(value.strip())
    if m is None:
        return None
    lang, region = m.group(1).lower(), m.group(2)
    return f"{lang}-{region.upper()}" if region else lang


def sync_country_codes(values: dict[str, Any], prefix: str) -> None:
    """Fill ``<prefix>CountryRegionId`` from ``...ISOCode`` and back, when only one of them was given."""
    iso_name, id_name = f"{prefix}CountryRegionISOCode", f"{prefix}CountryRegionId"
    iso, cid = values.get(iso_name, ""), values.get(id_name, "")
    if iso and not cid and iso.upper() in COUNTRIES:
        values[id_name] = COUNTRIES[iso.upper()]
    elif cid and not iso and cid.upper() in _ISO_OF:
        values[iso_name] = _ISO_OF[cid.upper()]


class Checker:
    """Collects Infolog warnings for one row; :meth:`done` raises them together.

    A plain class with slots (not a dataclass): every write makes one, a $batch of creates 1 000.
    """

    __slots__ = ("company", "data", "es", "messages")

    def __init__(self, data: Data, es: EntitySet, company: str) -> None:
        self.data = data
        self.es = es
        self.company = company
        self.messages: list[str] = []

    def require(self, values: dict[str, Any], name: str) -> bool:
        if values.get(name) in (None, ""):
            self.messages.append(f"Field '{label_of(name)}' must be filled in")
            return False
        return True

    def exists(self, values: dict[str, Any], name: str, set_name: str, *, company: bool = True) -> Row | None:
        """The related row named by ``values[name]`` in ``set_name``; a warning when it is missing."""
        value = values.get(name)
        if value in (None, ""):
            return None
        row = self.data.get(set_name, self.company if company else None, value)
        if row is None:
            self.fail_relation(name, value, set_name)
        return row

    def fail_relation(self, name: str, value: Any, set_name: str) -> None:
        self.messages.append(
            f"The value '{value}' in field '{label_of(name)}' is not found in the relating table "
            f"'{_RELATED_LABEL.get(set_name, set_name)}'"
        )

    def warn(self, message: str) -> None:
        self.messages.append(message)

    def done(self) -> None:
        if self.messages:
            raise write_failed(self.es.aot, self.messages, table=f"{self.es.table} ({self.es.table})")


class Rules:
    """Per-table write behaviour; the base class accepts anything (lookup tables)."""

    #: read-only computed properties: values sent by a client are ignored
    computed: frozenset[str] = frozenset()

    def defaults(self, data: Data, es: EntitySet, company: str, values: dict[str, Any]) -> None:
        """Fill what the client did not send (``values`` holds the sent ones and is completed in place)."""

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        """Check the full row about to be written (``old`` is None on insert); raise FnoError."""

    def on_delete(self, data: Data, es: EntitySet, row: Row) -> None:
        """Refuse (raise) or cascade before ``row`` is deleted."""

    def after_write(self, data: Data, es: EntitySet, old: Row | None, new: Row | None) -> None:
        """Side effects on other rows (headers learn about their lines)."""


class LookupRules(Rules):
    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        if es.name == "Warehouses":
            check.exists(row, "OperationalSiteId", "OperationalSites")
        if es.name == "CustomerGroups":
            check.exists(row, "PaymentTermId", "PaymentTerms")
        check.done()


class CustomerRules(Rules):
    def defaults(self, data: Data, es: EntitySet, company: str, values: dict[str, Any]) -> None:
        if not values.get("CustomerAccount"):
            prefix = account_prefix(company)
            values["CustomerAccount"] = _unused(
                data,
                es,
                company,
                "CustomerAccount",
                lambda: data.next_number(company, "CustomerAccount", lambda n: f"{prefix}-{n:03d}"),
            )
        if not values.get("PartyNumber"):
            values["PartyNumber"] = data.next_number("", "PartyNumber", lambda n: f"{n:09d}")
        values.setdefault("PartyType", "Organization")
        if not values.get("NameAlias"):
            name = values.get("OrganizationName") or " ".join(
                v for v in (values.get("PersonFirstName"), values.get("PersonLastName")) if v
            )
            if name:
                values["NameAlias"] = name[:20]
        if not values.get("SalesCurrencyCode"):
            values["SalesCurrencyCode"] = company_currency(company)
        if not values.get("LanguageId"):
            values["LanguageId"] = company_language(company)
        for prefix in ("Address", "DeliveryAddress", "InvoiceAddress"):
            sync_country_codes(values, prefix)
        _format_address(values)

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        if check.require(row, "CustomerGroupId"):
            check.exists(row, "CustomerGroupId", "CustomerGroups")
        if row.get("PartyType") not in ("Organization", "Person"):
            check.warn(f"Party type '{row.get('PartyType')}' is not valid; use Organization or Person")
        language = normalise_language(row.get("LanguageId", ""))
        if language is None:
            check.warn(f"Language '{row.get('LanguageId')}' does not exist")
        else:
            row["LanguageId"] = language
        check.exists(row, "SalesCurrencyCode", "Currencies", company=False)
        check.exists(row, "PaymentTerms", "PaymentTerms")
        site = check.exists(row, "SiteId", "OperationalSites")
        warehouse = check.exists(row, "WarehouseId", "Warehouses")
        if (
            site is not None
            and warehouse is not None
            and warehouse.get("OperationalSiteId") != site["SiteId"]
        ):
            check.warn(f"Warehouse {warehouse['WarehouseId']} is not associated with site {site['SiteId']}")
        if (
            row.get("InvoiceAccount")
            and str(row["InvoiceAccount"]).casefold() != str(row["CustomerAccount"]).casefold()
        ):
            check.exists(row, "InvoiceAccount", "CustomersV3")
        check.done()

    def on_delete(self, data: Data, es: EntitySet, row: Row) -> None:
        company, account = row["dataAreaId"], row["CustomerAccount"]
        if data.children("SalesTable", company, "OrderingCustomerAccountNumber", account) or data.children(
            "CustInvoiceJour", company, "InvoiceCustomerAccountNumber", account
        ):
            raise write_failed(
                es.aot,
                [f"Customer {account} has transactions and cannot be deleted"],
                level="Error",
            )


class ContactRules(Rules):
    def defaults(self, data: Data, es: EntitySet, company: str, values: dict[str, Any]) -> None:
        if not values.get("ContactPersonPartyNumber"):
            values["ContactPersonPartyNumber"] = data.next_number("", "PartyNumber", lambda n: f"{n:09d}")
        if not values.get("ContactPersonId"):
            values["ContactPersonId"] = data.next_number(company, "ContactPersonId", lambda n: f"CP-{n:06d}")
        values.setdefault("ContactPersonPartyType", "Person")
        values.setdefault("AssociatedContactType", "Customer")
        customer: Row | None = None
        if es.name == "CDSContactPersons" and values.get("AssociatedPartyNumber"):
            found = data.children("CustTable", company, "PartyNumber", values["AssociatedPartyNumber"])
            customer = found[0] if found else None
            if customer is not None:
                values["AssociatedContactNumber"] = customer["CustomerAccount"]
        elif values.get("AssociatedContactNumber"):
            customer = data.get("CustomersV3", company, values["AssociatedContactNumber"])
            if customer is not None:
                values["AssociatedPartyNumber"] = customer["PartyNumber"]
        sync_country_codes(values, "PrimaryAddress")

    def validate(self, data: Data, es: EntitySet, company: str, row: dict[str, Any], old: Row | None) -> None:
        check = Checker(data, es, company)
        if es.name == "CDSContactPersons":
            if check.require(row, "AssociatedPartyNumber") and not row.get("AssociatedContactNumber"):
                check.warn(f"Party {row['AssociatedPartyNumber']} is not a customer in company {company}")
        else:
            if row.get("AssociatedContactType") != "Customer":
                check.warn(
                    f"Associated contact type '{row.get('AssociatedContactType')}' is not supported by the sandbox"
                )
            elif check.require(row, "AssociatedContactNumber"):
                check.exists(row, "AssociatedContactNumber", "CustomersV3")
        check.done()


def _unused(data: Data, es: EntitySet, company: str, name: str, generate: Any) -> str:
    """A generated key value not already taken (rows created with explicit keys may sit on its path)."""
    while True:
        value = str(generate())
        if data.find(es, {"dataAreaId": company, name: value}) is None:
            return value


def _format_address(values: dict[str, Any]) -> None:
    street = " ".join(
        v for v in (values.get("AddressStreet", ""), values.get("AddressStreetNumber", "")) if v
    )
    city_line = ", ".join(v for v in (values.get("AddressCity", ""), values.get("AddressState", "")) if v)
    if values.get("AddressZipCode"):
        city_line = f"{city_line} {values['AddressZipCode']}".strip()
    lines = [x for x in (street, city_line, values.get("AddressCountryRegionId", "")) if x]
    if lines and not values.get("FullPrimaryAddress"):
        values["FullPrimaryAddress"] = "\n".join(lines)


_LOOKUP = LookupRules()


def party_rules() -> dict[str, Rules]:
    """Rules by stored table for the party and lookup tables."""
    out: dict[str, Rules] = {es.table: _LOOKUP for es in ENTITY_SETS.values()}
    out["CustTable"] = CustomerRules()
    out["ContactPerson"] = ContactRules()
    return out


def raise_if(condition: bool, es: EntitySet, message: str) -> None:
    if condition:
        raise write_failed(es.aot, [message], level="Error")
