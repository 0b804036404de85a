"""contacts.yaml (flow 3): CRM contacts → ERP contact persons (Contacts) or customers (ContactToCustomer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from p2c.errors import WaitingForParentError
from p2c.project import Project, load_project, load_template
from p2c.settings import System

ACCOUNT_NUMBER = ("accounts", "accountid", "accountnumber")
CURRENCY = ("transactioncurrencies", "transactioncurrencyid", "isocurrencycode")
RULES = ("generate_contact_number", "derive_is_active_customer", "route_contact")


@pytest.fixture
def project(write: Callable[..., Path]) -> Project:
    return load_project(
        write("name: p2c\nconnections: connections.yaml\ntemplates: [accounts, products, contacts]\n")
    )


def test_contacts_template_follows_p2c() -> None:
    t = load_template("contacts")
    persons, customers = t.tasks
    assert (persons.name, persons.source.system, persons.source.entity) == (
        "Contacts",
        System.CRM,
        "contacts",
    )
    assert (persons.target.system, persons.target.entity) == (System.ERP, "CDSContactPersonsV2")
    assert persons.key_source == customers.key_source == ("p2c_contactnumber",)
    assert persons.key_target == (
        "dataAreaId", "ContactPersonPartyNumber", "AssociatedContactType", "AssociatedContactNumber",
    )  # fmt: skip
    assert (customers.name, customers.target.entity) == ("ContactToCustomer", "CustomersV3")
    assert customers.key_target == ("dataAreaId", "CustomerAccount")
    assert persons.rules == customers.rules == RULES
    assert persons.depends_on == customers.depends_on == ("Accounts",)
    assert persons.filter is None and customers.filter is None  # the route_contact rule decides
    assert dict(customers.defaults) == {"CustomerGroupId": "10", "LanguageId": "en-us"}  # no site/warehouse
    # the rules' inputs are selected: contact id, number, parent and the stored flag
    assert {"contactid", "p2c_contactnumber", "_parentcustomerid_value", "p2c_isactivecustomer"} <= (
        persons.source_fields()
    )
    assert not any(f.startswith("$") for f in persons.source_fields())


def test_contact_person_payload(project: Project) -> None:
    row = {
        "contactid": "c1", "p2c_contactnumber": "CON-01000-BVRCPS", "firstname": "Ann", "middlename": None,
        "lastname": "Lee", "jobtitle": "Buyer", "department": "Purchasing", "emailaddress1": "ann@contoso.com",
        "telephone1": "555-0100", "fax": "", "description": "Prefers e-mail",
        "address1_line1": "1 Main St", "address1_line2": "Floor 3", "address1_city": "Redmond",
        "address1_stateorprovince": "WA", "address1_postalcode": "98052", "address1_country": "",
        "_parentcustomerid_value": "a1", "$contact_route": "contact_person", "$parent_account_id": "a1",
    }  # fmt: skip
    out = project.mapper("Contacts", "USMF").map(row, {ACCOUNT_NUMBER: {"a1": "ACC-01000-ABCDEF"}})
    assert out == {
        "dataAreaId": "usmf",
        "ContactPersonPartyNumber": "CON-01000-BVRCPS",
        "ContactPersonId": "CON-01000-BVRCPS",
        "AssociatedContactType": "Customer",
        "AssociatedContactNumber": "ACC-01000-ABCDEF",
        "IsContactPersonExternallyMaintained": "Yes",
        "FirstName": "Ann",
        "MiddleName": None,
        "LastName": "Lee",
        "EmploymentProfession": "Buyer",
        "EmploymentDepartment": "Purchasing",
        "PrimaryEmailAddress": "ann@contoso.com",
        "PrimaryPhoneNumber": "555-0100",
        "PrimaryFaxNumber": "",
        "Notes": "Prefers e-mail",
        "PrimaryAddressStreet": "1 Main St\nFloor 3",
        "PrimaryAddressCity": "Redmond",
        "PrimaryAddressStateId": "WA",
        "PrimaryAddressZipCode": "98052",
        "PrimaryAddressCountryRegionISOCode": "US",  # blank country → US
    }


def test_contact_person_waits_for_its_account(project: Project) -> None:
    row = {
        "contactid": "c1",
        "p2c_contactnumber": "CON-01000-BVRCPS",
        "lastname": "Lee",
        "$parent_account_id": "a9",
    }
    with pytest.raises(WaitingForParentError) as info:
        project.mapper("Contacts", "usmf").map(row, {ACCOUNT_NUMBER: {"a1": "ACC-1"}})
    assert info.value.field == "AssociatedContactNumber" and info.value.key == "CON-01000-BVRCPS"


def test_contact_to_customer_payload(project: Project) -> None:
    row = {
        "contactid": "c2", "p2c_contactnumber": "CON-01001-QWERTY", "firstname": "Bo", "middlename": "J",
        "lastname": "Berg", "emailaddress1": "bo@example.com", "telephone1": "555-0101", "fax": None,
        "address1_line1": "2 Side Rd", "address1_city": "Toronto", "address1_stateorprovince": "ON",
        "address1_postalcode": "M5V", "address1_county": None, "address1_country": "canada",
        "_transactioncurrencyid_value": None, "$contact_route": "customer", "$is_active_customer": True,
    }  # fmt: skip
    out = project.mapper("ContactToCustomer", "usmf").map(row, {CURRENCY: {}})
    assert out == {
        "dataAreaId": "usmf",
        "CustomerAccount": "CON-01001-QWERTY",
        "PartyNumber": "CON-01001-QWERTY",  # on create only: the catalog marks it create_only
        "PartyType": "Person",
        "PersonFirstName": "Bo",
        "PersonMiddleName": "J",
        "PersonLastName": "Berg",
        "IsExternallyMaintained": "Yes",
        "SalesCurrencyCode": "USD",
        "AddressStreet": "2 Side Rd",
        "AddressCity": "Toronto",
        "AddressState": "ON",
        "AddressZipCode": "M5V",
        "AddressCounty": None,
        "AddressCountryRegionISOCode": "CA",
        "PrimaryContactPhone": "555-0101",
        "PrimaryContactEmail": "bo@example.com",
        "PrimaryContactFax": None,
        "CustomerGroupId": "10",
        "LanguageId": "en-us",
    }
