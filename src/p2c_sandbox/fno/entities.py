"""The emulated entity sets: properties, keys, types, navigations, and the table behind each set.

Several sets can be views of one stored table (CustomersV2/V3 over ``CustTable``, CDSContactPersons
V1/V2 over ``ContactPerson``, CDSSalesOrderLines V1/V2 over ``SalesLine``); a set's ``view`` names
a row filter the service applies (sellable products, invoices of externally maintained customers).
Rows are stored *sparse*: a property absent from the stored dict has its type's default value.

Example::

    >>> es = ENTITY_SETS["CustomersV3"]
    >>> es.keys, es.type_name, es.prop("CreditLimit").kind
    (('dataAreaId', 'CustomerAccount'), 'CustomerV3', <Kind.DECIMAL: 'Edm.Decimal'>)
    >>> es.prop("CustomerAccount").max_length
    20
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from p2c_sandbox.fno.catalog import SETS, SPECS, UTC_DATETIME
from p2c_sandbox.fno.enums import ENUMS, NAMESPACE

__all__ = ["EMPTY_DATE", "EMPTY_UTC", "ENTITY_SETS", "EntitySet", "Kind", "Navigation", "Prop", "label_of"]

EMPTY_DATE = "1900-01-01T12:00:00Z"
EMPTY_UTC = "1900-01-01T00:00:00Z"


class Kind(StrEnum):
    STRING = "Edm.String"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    DECIMAL = "Edm.Decimal"
    DATE = "Edm.DateTimeOffset"  # an X++ date: written at noon UTC
    UTC = "Edm.DateTimeOffset "  # an X++ utcdatetime (the trailing space only keeps the members distinct)
    ENUM = "enum"


# The members again as plain module globals, for code that runs per value: on Python 3.11 an
# attribute of an Enum class goes through EnumType's __getattr__ hook (``Kind.STRING`` ~100 ns,
# a global a few), and a $batch of creates asks for tens of thousands of them.
STRING, INT32, INT64, DECIMAL = Kind.STRING, Kind.INT32, Kind.INT64, Kind.DECIMAL
DATE, UTC, ENUM = Kind.DATE, Kind.UTC, Kind.ENUM


_KIND_CODES = {"S": Kind.STRING, "I32": Kind.INT32, "I64": Kind.INT64, "Dec": Kind.DECIMAL}

# EDT string lengths of the identifier-like fields (a longer value is rejected with a 400).
_MAX_LENGTH = {
    "dataAreaId": 4,
    "CustomerAccount": 20,
    "InvoiceAccount": 20,
    "OrderingCustomerAccountNumber": 20,
    "InvoiceCustomerAccountNumber": 20,
    "RequestingCustomerAccountNumber": 20,
    "AssociatedContactNumber": 20,
    "CustomerGroupId": 10,
    "SalesOrderNumber": 20,
    "SalesOrderNumberHeader": 20,
    "SalesQuotationNumber": 20,
    "QuotationNumber": 20,
    "GeneratedSalesOrderNumber": 20,
    "ProductNumber": 70,
    "InvoiceNumber": 20,
    "LedgerVoucher": 20,
    "PartyNumber": 40,
    "ContactPersonPartyNumber": 40,
    "AssociatedPartyNumber": 40,
    "ContactPersonId": 20,
    "CurrencyCode": 3,
    "SalesCurrencyCode": 3,
    "LanguageId": 7,
    "SiteId": 10,
    "WarehouseId": 10,
    "ShippingSiteId": 10,
    "ShippingWarehouseId": 10,
    "DefaultShippingSiteId": 10,
    "DefaultShippingWarehouseId": 10,
    "OperationalSiteId": 10,
    "UnitSymbol": 10,
    "SalesUnitSymbol": 10,
    "InventoryUnitSymbol": 10,
    "PaymentTerms": 10,
    "PaymentTermsName": 10,
    "PaymentTermId": 10,
    "NameAlias": 20,
    "OrganizationName": 100,
    "PersonFirstName": 25,
    "PersonMiddleName": 25,
    "PersonLastName": 25,
    "FirstName": 25,
    "MiddleName": 25,
    "LastName": 25,
    "LegalEntityId": 4,
    "PrimaryContactEmail": 255,
    "PrimaryEmailAddress": 255,
    "Email": 255,
}
_MAX_LENGTH_SUFFIX = {"ZipCode": 10, "CountryRegionId": 10, "CountryRegionISOCode": 2, "City": 60}

# Field labels for Infolog messages (what the real messages show instead of the property name).
_LABELS = {
    "dataAreaId": "Company",
    "CustomerAccount": "Customer account",
    "CustomerGroupId": "Customer group",
    "SalesCurrencyCode": "Currency",
    "CurrencyCode": "Currency",
    "PaymentTerms": "Terms of payment",
    "PaymentTermsName": "Terms of payment",
    "SalesOrderNumber": "Sales order",
    "SalesQuotationNumber": "Quotation",
    "ProductNumber": "Product number",
    "OrderingCustomerAccountNumber": "Customer account",
    "InvoiceCustomerAccountNumber": "Invoice account",
    "RequestingCustomerAccountNumber": "Customer account",
    "InvoiceAccount": "Invoice account",
    "SalesUnitSymbol": "Unit",
    "SiteId": "Site",
    "WarehouseId": "Warehouse",
    "ShippingSiteId": "Site",
    "ShippingWarehouseId": "Warehouse",
    "DefaultShippingSiteId": "Site",
    "DefaultShippingWarehouseId": "Warehouse",
    "LineCreationSequenceNumber": "Line creation sequence number",
}


def label_of(name: str) -> str:
    """The Infolog label of a property: known labels, else the name split into words.

    >>> label_of("AssociatedContactNumber")
    'Associated contact number'
    """
    if name in _LABELS:
        return _LABELS[name]
    words: list[str] = []
    for ch in name:
        if ch.isupper() and words and not words[-1][-1:].isupper():
            words.append(ch)
        elif words:
            words[-1] += ch
        else:
            words.append(ch)
    text = " ".join(words)
    return text[:1].upper() + text[1:].lower()


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    kind: Kind
    enum: str | None = None
    max_length: int | None = None
    key: bool = False

    @property
    def edm_type(self) -> str:
        if self.kind is Kind.ENUM:
            return f"{NAMESPACE}.{self.enum}"
        return "Edm.DateTimeOffset" if self.kind is Kind.UTC else self.kind.value

    @property
    def nullable(self) -> bool:
        """Strings and enums are nullable, other scalars not; key properties never (FNO.md §1.1)."""
        return not self.key and self.kind in (Kind.STRING, Kind.ENUM)

    @property
    def default(self) -> Any:
        """The value of an unset property, in the emulator's in-memory type."""
        return _DEFAULTS[self.kind] if self.kind is not Kind.ENUM else self.enum_default

    @property
    def enum_default(self) -> str | None:
        if self.enum is None or self.enum == "Timezone":
            return None  # some nullable enums come back as null (FNO.md §1.5)
        members = ENUMS[self.enum]
        return min(members, key=lambda m: members[m])


_DEFAULTS: dict[Kind, Any] = {
    Kind.STRING: "",
    Kind.INT32: 0,
    Kind.INT64: 0,
    Kind.DECIMAL: Decimal(0),
    Kind.DATE: EMPTY_DATE,
    Kind.UTC: EMPTY_UTC,
}


@dataclass(frozen=True, slots=True)
class Navigation:
    """A navigation property: ``pairs`` map this set's properties to the target's."""

    name: str
    target: str
    many: bool
    pairs: tuple[tuple[str, str], ...]


@dataclass
class EntitySet:
    name: str
    type_name: str
    aot: str
    table: str
    table_label: str
    keys: tuple[str, ...]
    props: tuple[Prop, ...]
    company: bool = True
    read_only: bool = False
    view: str | None = None
    navigations: tuple[Navigation, ...] = ()
    by_name: dict[str, Prop] = field(default_factory=dict, repr=False)
    #: the key properties in ``keys`` order with their unset values (``Prop.default`` is computed
    #: on each access); derived from ``keys`` and ``props``, which never change after construction
    key_defaults: tuple[tuple[Prop, Any], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.by_name = {p.name: p for p in self.props}
        self.key_defaults = tuple((self.by_name[k], self.by_name[k].default) for k in self.keys)

    def prop(self, name: str) -> Prop:
        return self.by_name[name]

    def navigation(self, name: str) -> Navigation | None:
        return next((n for n in self.navigations if n.name == name), None)

    @property
    def qualified_type(self) -> str:
        return f"{NAMESPACE}.{self.type_name}"


def _parse(
    keys: str, props: str, *, drop: frozenset[str] = frozenset()
) -> tuple[tuple[str, ...], tuple[Prop, ...]]:
    key_names: list[str] = []
    out: list[Prop] = []
    for is_key, text in ((True, keys), (False, props)):
        for item in text.split():
            name, _, code = item.partition(":")
            if name in drop:
                continue
            length = _MAX_LENGTH.get(name)
            if length is None:
                length = next((v for s, v in _MAX_LENGTH_SUFFIX.items() if name.endswith(s)), None)
            if code == "DTO":
                kind, enum = (Kind.UTC if name in UTC_DATETIME else Kind.DATE), None
            elif code in _KIND_CODES:
                kind, enum = _KIND_CODES[code], None
            else:
                if code not in ENUMS:
                    raise KeyError(f"unknown enum type {code} of {name}")
                kind, enum = Kind.ENUM, code
            out.append(Prop(name, kind, enum, length if kind is Kind.STRING else None, is_key))
            if is_key:
                key_names.append(name)
    return tuple(key_names), tuple(out)


_NAVIGATIONS: dict[str, tuple[Navigation, ...]] = {
    "CDSSalesOrderHeaders": (
        Navigation(
            "SalesOrderLines",
            "CDSSalesOrderLines",
            True,
            (("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber")),
        ),
        Navigation(
            "SalesQuotationHeader",
            "CDSSalesQuotationHeaders",
            False,
            (("dataAreaId", "dataAreaId"), ("QuotationNumber", "SalesQuotationNumber")),
        ),
    ),
    "CDSSalesOrderLines": (
        Navigation(
            "SalesOrderHeader",
            "CDSSalesOrderHeaders",
            False,
            (("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber")),
        ),
    ),
    "CDSSalesQuotationHeaders": (
        Navigation(
            "SalesQuotationLines",
            "CDSSalesQuotationLines",
            True,
            (("dataAreaId", "dataAreaId"), ("SalesQuotationNumber", "SalesQuotationNumber")),
        ),
        Navigation(
            "SalesOrderHeaders",
            "CDSSalesOrderHeaders",
            True,
            (("dataAreaId", "dataAreaId"), ("SalesQuotationNumber", "QuotationNumber")),
        ),
    ),
    "CDSSalesQuotationLines": (
        Navigation(
            "SalesQuotationHeader",
            "CDSSalesQuotationHeaders",
            False,
            (("dataAreaId", "dataAreaId"), ("SalesQuotationNumber", "SalesQuotationNumber")),
        ),
    ),
    "ExternallyMaintainedCustomerSalesInvoiceHeaders": (
        Navigation(
            "SalesInvoiceLines",
            "ExternallyMaintainedCustomerSalesInvoiceLines",
            True,
            (
                ("dataAreaId", "dataAreaId"),
                ("InvoiceNumber", "InvoiceNumber"),
                ("InvoiceDate", "InvoiceDate"),
                ("LedgerVoucher", "LedgerVoucher"),
            ),
        ),
    ),
}


def _build() -> dict[str, EntitySet]:
    out: dict[str, EntitySet] = {}
    for name, type_name, aot, table, label, flags in SETS:
        keys_text, props_text = SPECS[flags.get("spec", name)]
        if "extra" in flags:
            props_text = props_text + " " + flags["extra"]
        keys, props = _parse(keys_text, props_text, drop=flags.get("drop", frozenset()))
        out[name] = EntitySet(
            name,
            type_name,
            aot,
            table,
            label,
            keys,
            props,
            company=flags.get("company", True),
            read_only=flags.get("read_only", False),
            view=flags.get("view"),
            navigations=_NAVIGATIONS.get(name, ()),
        )
    # V2 lines navigate like V1 lines
    out["CDSSalesOrderLinesV2"].navigations = _NAVIGATIONS["CDSSalesOrderLines"]
    return out


ENTITY_SETS: dict[str, EntitySet] = _build()
