"""A refused write names the field the service complained about (the history shows record, field, reason).

Dataverse quotes the column's logical name; F&O's Infolog names the field's label and usually the
refused value. ``field_named`` turns either into the payload field; ``WriteResult.failed`` applies it.
"""

from __future__ import annotations

from typing import Any

import pytest

from p2c.connectors import DataverseConnector, FnoConnector, OpKind, WriteOp
from p2c.connectors.protocol_errors import field_named
from p2c.errors import RecordError

CUSTOMER = {"CustomerAccount": "C1", "CustomerGroupId": "99", "SiteId": "1", "SalesCurrencyCode": "USD"}


@pytest.mark.parametrize(
    ("message", "payload", "field"),
    [
        # Dataverse: the logical name in quotes (lookups arrive as nav@odata.bind)
        (
            "The length of the 'name' attribute of the 'account' entity exceeded the maximum",
            {"name": "x"},
            "name",
        ),
        (
            "Cannot convert the literal 'x' to the expected type 'Edm.Int32' of property 'quantitydecimal'.",
            {"quantitydecimal": "x", "name": "A"},
            "quantitydecimal",
        ),
        ("Invalid reference in 'defaultuomid'", {"defaultuomid@odata.bind": "/uoms(1)"}, "defaultuomid"),
        # F&O: label + value
        (
            "The value '99' in field 'Customer group' is not found in the relating table 'Customer groups'",
            CUSTOMER,
            "CustomerGroupId",
        ),
        (
            "The value '1' in field 'Site' is not found in the relating table 'Sites'",
            {**CUSTOMER, "CustomerGroupId": "1"},
            "SiteId",
        ),
        ("Field 'Currency' must be filled in", {**CUSTOMER}, "SalesCurrencyCode"),
        (
            "Field 'Terms of payment' must be filled in",
            {"PaymentTerms": "", "CustomerAccount": "C1"},
            "PaymentTerms",
        ),
        # nothing named, or not one field: no guess
        ("Something went wrong", CUSTOMER, None),
        ("Field 'Customer' must be filled in", CUSTOMER, None),  # CustomerAccount or CustomerGroupId?
    ],
)
def test_field_named(message: str, payload: dict[str, Any], field: str | None) -> None:
    assert field_named(message, payload) == field


def test_erp_refusal_names_the_customer_group_field(erp: FnoConnector) -> None:
    ops = [
        WriteOp(
            OpKind.UPSERT,
            {"dataAreaId": "usmf", "CustomerAccount": f"FLD-{n}"},
            {"OrganizationName": f"FLD {n}", "CustomerGroupId": "99" if n == 1 else "10"},
        )
        for n in range(3)
    ]
    results = erp.write("CustomersV3", ops)
    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert isinstance(error, RecordError) and error.field == "CustomerGroupId"
    assert "field CustomerGroupId" in str(error) and "99" in str(error)


def test_crm_refusal_names_the_column(crm: DataverseConnector) -> None:
    ops = [WriteOp(OpKind.CREATE, {}, {"name": "x" * 161}), WriteOp(OpKind.CREATE, {}, {"name": "fine"})]
    results = crm.write("accounts", ops)
    assert [r.ok for r in results] == [False, True]
    error = results[0].error
    assert isinstance(error, RecordError) and error.field == "name"
