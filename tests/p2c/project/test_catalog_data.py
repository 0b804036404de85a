"""The catalog: every entity the flows use, faithful property lists, custom columns, filter schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from p2c.catalog import FieldType, load_catalog
from p2c.odata.filter import Dialect, FilterError, compile_filter, parse_filter
from p2c.settings import System

CRM = [
    "accounts", "contacts", "products", "productpricelevels", "pricelevels", "uoms", "uomschedules",
    "transactioncurrencies", "quotes", "quotedetails", "salesorders", "salesorderdetails", "invoices",
    "invoicedetails",
]  # fmt: skip
ERP = [
    "CustomersV3", "CDSContactPersonsV2", "SellableReleasedProducts", "CDSSalesQuotationHeaders",
    "CDSSalesQuotationLines", "CDSSalesOrderHeaders", "CDSSalesOrderLines",
    "ExternallyMaintainedCustomerSalesInvoiceHeaders", "ExternallyMaintainedCustomerSalesInvoiceLines",
    "CustomerGroups",
]  # fmt: skip
FNO_MD = Path(__file__).parents[4] / "shared" / "FNO.md"


def test_every_entity_of_the_flows_is_there() -> None:
    cat = load_catalog()
    assert set(CRM) <= set(cat.names(System.CRM))
    assert set(ERP) <= set(cat.names(System.ERP))
    assert load_catalog() is cat  # parsed once


def test_crm_fields_follow_dataverse_md() -> None:
    cat = load_catalog()
    account = cat.entity("crm", "accounts")
    assert account.field("accountnumber").max_length == 20  # type: ignore[union-attr]
    assert account.field("name").max_length == 160  # type: ignore[union-attr]
    assert account.primary_key == "accountid" and account.key == ("accountid",)
    cur = account.field("_transactioncurrencyid_value")
    assert cur is not None and cur.type is FieldType.LOOKUP
    assert dict(cur.targets) == {"transactioncurrencies": "transactioncurrencyid"}
    assert account.field("_name_value") is None  # only lookups have a _x_value spelling
    customer = cat.entity("crm", "salesorders").field("customerid")
    assert customer is not None and dict(customer.targets) == {
        "accounts": "customerid_account",
        "contacts": "customerid_contact",
    }
    line = cat.entity("crm", "salesorderdetails")
    assert line.field("extendedamount").read_only  # type: ignore[union-attr]
    assert line.field("isproductoverridden").update is False  # type: ignore[union-attr]
    assert line.field("quantity").type is FieldType.DECIMAL  # type: ignore[union-attr]
    assert line.field("priceperunit").type is FieldType.MONEY  # type: ignore[union-attr]
    product = cat.entity("crm", "products")
    assert product.field("pricelevelid").create is False  # type: ignore[union-attr]
    assert (product.field("quantitydecimal").min, product.field("quantitydecimal").max) == (0, 5)  # type: ignore[union-attr]
    state = product.field("statecode")
    assert state is not None and dict(state.options) == {
        0: "Active",
        1: "Retired",
        2: "Draft",
        3: "Under Revision",
    }


def test_customers_v3_has_every_property_fno_md_names() -> None:
    spec = load_catalog().entity(System.ERP, "CustomersV3")
    named = [
        "CustomerAccount",
        "PartyType",
        "PartyNumber",
        "OrganizationName",
        "NameAlias",
        "PersonFirstName",
        "PersonMiddleName",
        "PersonLastName",
        "PersonGender",
        "KnownAs",
        "CustomerGroupId",
        "SalesCurrencyCode",
        "PaymentTerms",
        "PaymentMethod",
        "PaymentSchedule",
        "PaymentDay",
        "CreditLimit",
        "CreditLimitIsMandatory",
        "OnHoldStatus",
        "SalesTaxGroup",
        "InvoiceAccount",
        "DeliveryMode",
        "DeliveryTerms",
        "LanguageId",
        "SiteId",
        "WarehouseId",
        "SalesMemo",
        "IsOneTimeCustomer",
        "ContactPersonId",
        "VendorAccount",
        "TaxExemptNumber",
        "IdentificationNumber",
        "IsExternallyMaintained",
        "AddressCountryRegionId",
        "AddressCountryRegionISOCode",
        "AddressCity",
        "AddressStreet",
        "AddressStreetNumber",
        "AddressZipCode",
        "AddressState",
        "AddressCounty",
        "AddressDescription",
        "AddressLocationRoles",
        "AddressLatitude",
        "AddressLongitude",
        "AddressValidFrom",
        "AddressValidTo",
        "FullPrimaryAddress",
        "PrimaryContactEmail",
        "PrimaryContactPhone",
        "PrimaryContactPhoneExtension",
        "PrimaryContactFax",
        "PrimaryContactURL",
        "PrimaryContactTwitter",
        "PrimaryContactFacebook",
        "PrimaryContactLinkedIn",
    ]
    assert [n for n in named if spec.field(n) is None] == []
    assert spec.key == ("dataAreaId", "CustomerAccount")
    em = spec.field("IsExternallyMaintained")
    assert em is not None and em.type is FieldType.ENUM and em.enum == "NoYes"
    assert spec.field("AddressValidFrom").type is FieldType.DATETIME  # type: ignore[union-attr]


@pytest.mark.skipif(
    not FNO_MD.exists(),
    reason="needs ../shared/FNO.md beside the repository (there in CI and on developer machines)",
)
def test_erp_property_lists_are_fno_md_section_2_8_verbatim() -> None:
    text = FNO_MD.read_text()
    section = text[text.index("### 2.8") : text.index("## 3. Enumerations")]
    cat = load_catalog()
    types = {"S": FieldType.STRING, "Dec": FieldType.DECIMAL, "I32": FieldType.INT, "I64": FieldType.INT}
    checked = 0
    for block in section.split("\n#### ")[1:]:
        head, body = block.split("\n", 1)
        name = head.split()[0]
        spec = cat.get(System.ERP, name)
        if spec is None:
            continue
        keys = re.search(r"KEY\(([^)]*)\)", head).group(1).split(",")  # type: ignore[union-attr]
        props = re.findall(r"([A-Za-z_0-9]+):([A-Za-z0-9]+)", body)
        assert list(spec.key) == keys, name
        assert list(spec.fields)[len(keys) :] == [p for p, _ in props], name
        for prop, t in props:
            f = spec.fields[prop]
            if t in types:
                assert f.type is types[t], (name, prop)
            elif t == "DTO":
                assert f.type in (FieldType.DATE, FieldType.DATETIME), (name, prop)
            else:
                assert f.type is FieldType.ENUM and f.enum == t, (name, prop)
        checked += 1
    assert checked >= 10


def test_custom_columns_and_keys_p2c_provisions() -> None:
    cat = load_catalog()
    custom = {(e.name, f.name): f for e, f in cat.custom_columns()}
    em = custom[("products", "p2c_isexternallymaintained")]
    assert em.type is FieldType.BOOL and em.schema_name == "p2c_IsExternallyMaintained" and em.label
    assert custom[("contacts", "p2c_contactnumber")].max_length == 20
    status = custom[("salesorders", "p2c_processingstatus")]
    assert list(status.options.values())[:3] == ["Draft", "Active", "Confirmed"]
    assert len(status.options) == 12
    assert all(e.system is System.CRM for e, _ in cat.custom_columns())
    keys = {(e.name, k): cols for e, k, cols in cat.alternate_keys()}
    assert keys[("accounts", "p2c_accountnumber_key")] == ("accountnumber",)
    assert keys[("products", "p2c_productnumber_key")] == ("productnumber",)
    assert keys[("contacts", "p2c_contactnumber_key")] == ("p2c_contactnumber",)


def test_enums_and_filter_schema() -> None:
    cat = load_catalog()
    assert cat.enum_members("SalesStatus") == ("None", "Backorder", "Delivered", "Invoiced", "Canceled")
    products = cat.entity("erp", "SellableReleasedProducts")
    schema = products.filter_schema(cat.enums)
    match = compile_filter(
        parse_filter(
            "IsSalesStopped eq Microsoft.Dynamics.DataEntities.NoYes'No' and SalesPrice gt 10", Dialect.FNO
        ),
        schema,
        Dialect.FNO,
    )
    assert match({"IsSalesStopped": "No", "SalesPrice": 12}) and not match(
        {"IsSalesStopped": "Yes", "SalesPrice": 12}
    )
    accounts = cat.entity("crm", "accounts").filter_schema(cat.enums)
    tree = parse_filter(
        "_transactioncurrencyid_value eq 8a2b1c3d-0000-0000-0000-000000000001", Dialect.DATAVERSE
    )
    compile_filter(tree, accounts, Dialect.DATAVERSE)
    with pytest.raises(FilterError, match="bogus"):
        compile_filter(parse_filter("bogus eq 1", Dialect.DATAVERSE), accounts, Dialect.DATAVERSE)
