"""Microsoft's Prospect-to-cash templates, replayed once over the ``demo`` data of both emulators.

:class:`Migration` takes a CRM seeded ``demo+microsoft`` and an ERP seeded ``demo`` and does what
months of Microsoft's templates would have left behind, in the order they run: numbers the
accounts and the contacts they synchronise, creates a customer per account, contact persons and
person customers, brings the ERP's sellable products to the CRM with price list items, sends
quotes and activated orders to the ERP (LineCreationSequenceNumber = the CRM line's sequence
number), lets the ERP confirm and invoice some of them, brings those back (processing status,
invoices, the solution's Freight Tax line for header tax), then applies a few changes made since
the last synchronisation (:mod:`~p2c_sandbox.migrated.since`).

Both emulators run it — each on its own data and a scratch copy of the other — so they agree
without talking to each other; everything is deterministic.

Example::

    Migration(crm_service, erp_service).run()
"""

from __future__ import annotations

import random
import string
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from p2c_sandbox.dataverse.seed_data import CONTOSO_US_ID, USD_ID, Ids
from p2c_sandbox.dataverse.solution import activate_order
from p2c_sandbox.migrated.crm import CrmWriter
from p2c_sandbox.migrated.documents import Documents
from p2c_sandbox.migrated.erp import NO_DATE, ErpWriter, iso_country

if TYPE_CHECKING:
    from p2c_sandbox.dataverse.service import DataverseService
    from p2c_sandbox.fno import FnoService
    from p2c_sandbox.store import Row

__all__ = ["Migration"]

PRICE_LIST = "CRM Service USA (sample)"


class Migration:
    """The state Microsoft's templates leave behind (module docstring)."""

    def __init__(self, crm: DataverseService, erp: FnoService) -> None:
        self.rng = random.Random(20240601)
        self.crm = CrmWriter(crm, Ids(random.Random(20240602)))
        self.erp = ErpWriter(erp)
        self.erp_service = erp
        self.price_list = self.crm.one("pricelevel", name=PRICE_LIST)["pricelevelid"]
        self.team = self.crm.one("team", _businessunitid_value=CONTOSO_US_ID)["teamid"]

    def run(self) -> None:
        from p2c_sandbox.migrated.since import since_last_sync

        self.number_accounts()
        self.products()
        docs = Documents(self)
        docs.create_in_crm()
        self.number_contacts()
        self.customers()
        self.contact_persons()
        docs.send_to_erp()
        docs.process_in_erp()
        docs.bring_back()
        since_last_sync(self)

    # -- numbers -------------------------------------------------------------------------------

    def _generated(self, prefix: str, n: int) -> str:
        """A number like the solution generates: ``ACC-01000-BVRCPS``."""
        suffix = "".join(self.rng.choice(string.ascii_uppercase) for _ in range(6))
        return f"{prefix}-{n:05d}-{suffix}"

    def number_accounts(self) -> None:
        n = 1000
        for account in self.crm.rows("account"):
            if not account.get("accountnumber"):
                self.crm.update("account", account["accountid"], {"accountnumber": self._generated("ACC", n)})
                n += 1

    def active_customers(self) -> set[str]:
        """Contacts with a quote, order or invoice of their own."""
        ids: set[str] = set()
        for table in ("quote", "salesorder", "invoice"):
            ids.update(
                str(r["_customerid_value"])
                for r in self.crm.rows(table)
                if self.crm.org.get("contact", r.get("_customerid_value")) is not None
            )
        return ids

    def account_of(self, contact: Row) -> Row | None:
        return self.crm.org.get("account", contact.get("_parentcustomerid_value"))

    def number_contacts(self) -> None:
        """The contacts the templates synchronise get numbers; active customers are flagged."""
        active = self.active_customers()
        n = 1000
        for contact in self.crm.rows("contact"):
            is_active = contact["contactid"] in active
            if not is_active and self.account_of(contact) is None:
                continue  # neither a customer nor a contact person: never synchronised
            fields: dict[str, Any] = {"msdynce_contactnumber": self._generated("CON", n)}
            if is_active:
                fields["msdynce_isactivecustomer"] = True
            self.crm.update("contact", contact["contactid"], fields)
            n += 1

    # -- reference data ------------------------------------------------------------------------

    def products(self) -> None:
        """The ERP's sellable released products (not stopped for sales), Active, with a price list
        item on the first USD price list."""
        group = self.crm.one("uomschedule", name="Default Unit")["uomscheduleid"]
        types = {"Item": 1, "Service": 3}
        for p in self.erp.rows("SellableReleasedProducts"):
            if p.get("IsSalesStopped") == "Yes":
                continue
            unit = self.crm.one("uom", name=p["SalesUnitSymbol"])["uomid"]
            row = self.crm.create(
                "product",
                {
                    "productnumber": p["ProductNumber"],
                    "name": p["ProductName"],
                    "description": p.get("ProductDescription"),
                    "producttypecode": types.get(str(p.get("ProductType")), 1),
                    "quantitydecimal": int(p.get("SalesUnitDecimalPrecision") or 0),
                    "price": Decimal(str(p["SalesPrice"])),
                    "_transactioncurrencyid_value": USD_ID,
                    "_defaultuomscheduleid_value": group,
                    "_defaultuomid_value": unit,
                    "msdynce_ismaintainedexternally": True,
                },
            )
            self.crm.create(
                "productpricelevel",
                {
                    "_pricelevelid_value": self.price_list,
                    "_productid_value": row["productid"],
                    "_uomid_value": unit,
                    "_uomscheduleid_value": group,
                    "amount": Decimal(str(p["SalesPrice"])),
                    "pricingmethodcode": 1,
                },
            )
            self.crm.update("product", row["productid"], {"statecode": 0, "statuscode": 1})

    def customers(self) -> None:
        """A customer per account, and a person customer per active-customer contact."""
        for a in self.crm.rows("account"):
            self.erp.post(
                "CustomersV3",
                {
                    "CustomerAccount": a["accountnumber"],
                    "OrganizationName": a["name"],
                    "PartyType": "Organization",
                    **self._customer_common(a),
                },
            )
        for c in self.crm.rows("contact"):
            if c.get("msdynce_isactivecustomer"):
                self.erp.post(
                    "CustomersV3",
                    {
                        "CustomerAccount": c["msdynce_contactnumber"],
                        "PartyType": "Person",
                        "PersonFirstName": c.get("firstname"),
                        "PersonMiddleName": c.get("middlename"),
                        "PersonLastName": c.get("lastname"),
                        **self._customer_common(c),
                    },
                )

    def _customer_common(self, r: Row) -> dict[str, Any]:
        lines = [r.get(f"address1_line{i}") for i in (1, 2, 3)]
        return {
            "IsExternallyMaintained": "Yes",
            "SalesCurrencyCode": "USD",
            "CustomerGroupId": "10",
            "LanguageId": "en-us",
            "AddressStreet": "\n".join(x for x in lines if x) or None,
            "AddressCity": r.get("address1_city"),
            "AddressState": r.get("address1_stateorprovince"),
            "AddressZipCode": r.get("address1_postalcode"),
            "AddressCountryRegionISOCode": iso_country(r.get("address1_country")),
            "PrimaryContactPhone": r.get("telephone1"),
            "PrimaryContactEmail": r.get("emailaddress1"),
            **({"SiteId": "1", "WarehouseId": "13"} if "accountid" in r else {}),
        }

    def contact_persons(self) -> None:
        """Contacts of accounts that are not customers themselves: contact persons of the account."""
        for c in self.crm.rows("contact"):
            account = self.account_of(c)
            if account is None or c.get("msdynce_isactivecustomer"):
                continue
            number = c["msdynce_contactnumber"]
            self.erp.post(
                "CDSContactPersonsV2",
                {
                    "ContactPersonPartyNumber": number,
                    "ContactPersonId": number,
                    "AssociatedContactType": "Customer",
                    "AssociatedContactNumber": account["accountnumber"],
                    "IsContactPersonExternallyMaintained": "Yes",
                    "FirstName": c.get("firstname"),
                    "LastName": c.get("lastname"),
                    "EmploymentProfession": c.get("jobtitle"),
                    "PrimaryEmailAddress": c.get("emailaddress1"),
                    "PrimaryPhoneNumber": c.get("telephone1"),
                    "PrimaryAddressCity": c.get("address1_city"),
                    "PrimaryAddressCountryRegionISOCode": iso_country(c.get("address1_country")),
                },
            )

    def activate(self, order_id: str) -> None:
        activate_order(self.crm.org, self.crm.writer, order_id)

    no_date = NO_DATE
