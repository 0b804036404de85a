"""What happened in the ``migrated`` seed since Microsoft's templates last ran.

Changed, and due to travel: in the CRM an account's phone number and a contact person's e-mail;
in the ERP an order was picked (its status) and a confirmed order got a bigger quantity (its
total). Drifted (edited in the system that does not own them): a customer's name and a contact
person's phone number, both edited in the ERP.

Example::

    since_last_sync(migration)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from p2c_sandbox.migrated.documents import ERP_ORDER, ORDERS
from p2c_sandbox.migrated.erp import COMPANY

if TYPE_CHECKING:
    from p2c_sandbox.migrated.world import Migration

__all__ = ["CHANGED_ACCOUNT", "DRIFTED_ACCOUNT", "since_last_sync"]

CHANGED_ACCOUNT = 1  # by creation order
DRIFTED_ACCOUNT = 3
CHANGED_CONTACT = 5
DRIFTED_CONTACT = 7


def since_last_sync(w: Migration) -> None:
    accounts, contacts = w.crm.rows("account"), w.crm.rows("contact")
    # the CRM, the owner, changed these
    w.crm.update("account", accounts[CHANGED_ACCOUNT]["accountid"], {"telephone1": "+1 425 555 0199"})
    w.crm.update(
        "contact", contacts[CHANGED_CONTACT]["contactid"], {"emailaddress1": "new.address@example.com"}
    )
    # the ERP moved an order on and changed the quantity of one it owns
    confirmed = next(i for i, o in enumerate(ORDERS) if o[3] == "confirmed")
    order = w.crm.one("salesorder", name=ORDERS[confirmed][0])
    w.erp_service.actions.pick(COMPANY, str(order["ordernumber"]))
    customer = str(accounts[ERP_ORDER[0]]["accountnumber"])
    [header] = [
        r for r in w.erp.rows("CDSSalesOrderHeaders") if r["OrderingCustomerAccountNumber"] == customer
    ]
    number = str(header["SalesOrderNumber"])
    first = w.erp.order_lines(number)[0]
    w.erp.patch(
        "CDSSalesOrderLines",
        {"SalesOrderNumber": number, "LineCreationSequenceNumber": int(first["LineCreationSequenceNumber"])},
        {"OrderedSalesQuantity": 2},
    )
    w.erp_service.actions.calculate_totals(COMPANY, number)
    # drift: someone edited in the ERP what the CRM owns
    w.erp.patch(
        "CustomersV3",
        {"CustomerAccount": accounts[DRIFTED_ACCOUNT]["accountnumber"]},
        {"OrganizationName": "Renamed in the ERP"},
    )
    person = contacts[DRIFTED_CONTACT]
    w.erp.patch(
        "CDSContactPersonsV2",
        {
            "ContactPersonPartyNumber": person["msdynce_contactnumber"],
            "AssociatedContactType": "Customer",
            "AssociatedContactNumber": (w.account_of(person) or {})["accountnumber"],
        },
        {"PrimaryPhoneNumber": "+1 206 555 0000"},
    )
