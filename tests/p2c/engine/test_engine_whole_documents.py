"""Documents are never half-written when the failure is known beforehand (issue 8 §5): an order
whose line cannot be sent waits whole, naming the line; lines the ERP would wrongly accept fail
before anything is sent. Over HTTPS against the sandbox."""

from __future__ import annotations

from typing import Any

from engine_helpers import crm_rows, erp_rows
from test_engine_p2c_orders import add_line, new_order, orders_project  # noqa: F401 (a fixture)
from test_engine_p2c_quotes import external_products

from p2c.errors import WaitingForLinesError
from p2c.store import Action, RunStatus

TO_ERP = ("OrderHeader", "OrderLine")
UNMAPPED_UNIT = "Dozen"  # no entry in the template's unit_to_erp value map


def _unmapped_unit(crm: Any, product: dict[str, Any]) -> str:
    """A CRM unit, in the product's unit group, that the project's unit value map does not know."""
    [unit] = crm_rows(
        crm, "uoms", ["uomid", "_uomscheduleid_value"], f"uomid eq {product['_defaultuomid_value']}"
    )
    r = crm.post(
        "uoms",
        json={
            "name": UNMAPPED_UNIT,
            "quantity": 12,
            "uomscheduleid@odata.bind": f"/uomschedules({unit['_uomscheduleid_value']})",
            "baseuom@odata.bind": f"/uoms({unit['uomid']})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["uomid"])


def _erp_order(world: Any, number: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    erp = world.erp()
    flt = f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{number}'"
    return erp_rows(erp, "CDSSalesOrderHeaders", ["SalesOrderNumber"], flt), erp_rows(
        erp, "CDSSalesOrderLines", ["LineCreationSequenceNumber"], flt
    )


def test_an_order_with_a_line_that_cannot_be_mapped_waits_whole_naming_the_line(
    orders_project: Any,  # noqa: F811
) -> None:
    world = orders_project
    crm = world.crm()
    products = external_products(crm)
    dozen = _unmapped_unit(crm, products[2])
    order, number = new_order(
        crm,
        [{"product": products[0], "quantity": 1}, {"product": products[1], "quantity": 2}],
        activate=False,
    )
    unmapped = {"product": {**products[2], "_defaultuomid_value": dozen}, "quantity": 1}
    third = add_line(crm, order, {**unmapped, "ispriceoverridden": True, "priceperunit": 12})
    assert crm.patch(f"salesorders({order})", json={"p2c_processingstatus": 100000001}).status_code == 204

    with world.open() as h:
        report = h.run(*TO_ERP)
        header = [
            o for o in h.store.outcomes(report.run_id, actions=[Action.WAITING]) if o.task == "OrderHeader"
        ]
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    [waiting] = header
    assert waiting.source_key == order and waiting.error_class == WaitingForLinesError.__name__
    assert f"line {third}" in (waiting.message or "") and "SalesUnitSymbol" in (waiting.message or "")
    assert _erp_order(world, number) == ([], [])  # nothing of the order reached the ERP

    # the unit is added to the project's value map: the whole order goes, header and three lines
    world.configure(value_maps={"unit_to_erp": {UNMAPPED_UNIT: "ea"}})
    with world.open() as h:
        again = h.run(*TO_ERP)
    assert again.status is RunStatus.SUCCEEDED, again.tasks
    headers, lines = _erp_order(world, number)
    assert len(headers) == 1 and sorted(x["LineCreationSequenceNumber"] for x in lines) == [1, 2, 3]


def test_lines_without_quantity_or_with_a_discount_above_their_amount_fail_before_anything_is_sent(
    orders_project: Any,  # noqa: F811
) -> None:
    world = orders_project
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(
        crm,
        [
            {"product": products[0], "quantity": 0},
            {
                "product": products[1],
                "quantity": 1,
                "priceperunit": 10,
                "ispriceoverridden": True,
                "manualdiscountamount": 25,
            },
        ],
    )
    with world.open() as h:
        report = h.run(*TO_ERP)
        outcomes = h.store.outcomes(report.run_id, actions=[Action.FAILED, Action.WAITING])
    by_field = {o.field: o for o in outcomes if o.task == "OrderLine"}
    assert "quantity" in by_field and "must be above 0" in (by_field["quantity"].message or "")
    assert "manualdiscountamount" in by_field and "larger than the line's amount" in (
        by_field["manualdiscountamount"].message or ""
    )
    [head] = [o for o in outcomes if o.task == "OrderHeader"]
    assert head.action is Action.WAITING and head.source_key == order
    assert _erp_order(world, number) == ([], [])
