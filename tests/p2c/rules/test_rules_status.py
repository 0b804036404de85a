"""ERP processing status → the CRM's list; which ERP orders flow; the CRM order's state pairs."""

from __future__ import annotations

import pytest

from p2c.catalog import load_catalog
from p2c.errors import RecordError
from p2c.rules.status import (
    CONFIRMED_OR_LATER_FILTER,
    ERP_TO_CRM,
    ErpProcessingStatus,
    ProcessingStatus,
    active_order_state,
    invoiced_order_state,
    is_confirmed_or_later,
    processing_status_from_erp,
)
from p2c.settings import System

P = ProcessingStatus


def test_crm_list_and_options_match_the_catalog() -> None:
    catalog = load_catalog()
    options = catalog.entity(System.CRM, "salesorders").field("p2c_processingstatus").options
    assert {s.option: s.value for s in ProcessingStatus} == dict(options)
    assert [s.value for s in ProcessingStatus] == [
        "Draft", "Active", "Confirmed", "Packing slip", "Invoiced", "Picked", "Partially picked",
        "Partially packed", "Shipped", "Partially shipped", "Partially invoiced", "Cancelled",
    ]  # fmt: skip
    assert P.DRAFT.option == 100_000_000 and P.CANCELLED.option == 100_000_011
    assert P.from_option(100_000_004) is P.INVOICED
    with pytest.raises(ValueError):
        P.from_option(5)
    assert tuple(ErpProcessingStatus) == catalog.enum_members("SalesOrderProcessingStatus")
    assert [m.number for m in ErpProcessingStatus] == list(range(9))  # FNO.md §3 member values


def test_mapping_table() -> None:
    assert {erp.value: crm.value for erp, crm in ERP_TO_CRM.items()} == {
        "Active": "Active",
        "Confirmed": "Confirmed",
        "Picked": "Picked",
        "PartiallyDelivered": "Partially shipped",
        "Delivered": "Shipped",
        "Invoiced": "Invoiced",
        "PartiallyInvoiced": "Partially invoiced",
        "Canceled": "Cancelled",
        "DeliveredPartiallyInvoiced": "Partially invoiced",
    }
    assert processing_status_from_erp("Confirmed") is P.CONFIRMED
    assert processing_status_from_erp(" partiallydelivered ") is P.PARTIALLY_SHIPPED
    assert processing_status_from_erp(4) is P.SHIPPED
    assert processing_status_from_erp(ErpProcessingStatus.CANCELED) is P.CANCELLED
    never = {P.DRAFT, P.PACKING_SLIP, P.PARTIALLY_PICKED, P.PARTIALLY_PACKED}
    assert set(ERP_TO_CRM.values()) == set(ProcessingStatus) - never


@pytest.mark.parametrize("bad", ["Cancelled", "", None, 9, -1, True, "Draft", 1.0])
def test_unknown_erp_status_is_a_record_error(bad: object) -> None:
    with pytest.raises(RecordError) as e:
        processing_status_from_erp(bad, key="000042")  # type: ignore[arg-type]
    assert (e.value.entity, e.value.key, e.value.field) == (
        "CDSSalesOrderHeaders",
        "000042",
        "SalesOrderProcessingStatus",
    )
    with pytest.raises(RecordError):
        is_confirmed_or_later(bad)  # type: ignore[arg-type]


def test_confirmed_or_later() -> None:
    assert not is_confirmed_or_later("Active") and not is_confirmed_or_later(0)
    later = [m for m in ErpProcessingStatus if m is not ErpProcessingStatus.ACTIVE]
    assert all(is_confirmed_or_later(m.value) for m in later) and len(later) == 8
    assert is_confirmed_or_later("Canceled")
    assert CONFIRMED_OR_LATER_FILTER.endswith("SalesOrderProcessingStatus'Active'")


def test_order_states_match_the_catalog() -> None:
    spec = load_catalog().entity(System.CRM, "salesorders")
    assert invoiced_order_state() == {"statecode": 4, "statuscode": 100003}
    assert spec.field("statecode").options[4] == "Invoiced"
    assert spec.field("statuscode").options[100003] == "Invoiced"
    assert spec.field("statecode").options[0] == "Active"
    assert active_order_state() == {"statecode": 0, "statuscode": 1}
    assert active_order_state(2) == {"statecode": 0, "statuscode": 2}  # Pending is kept
    assert active_order_state(700970000) == {"statecode": 0, "statuscode": 700970000}
    assert active_order_state(100003) == {"statecode": 0, "statuscode": 1}  # not an Active reason
