"""--erp-release: older releases lack entity sets, properties and the P2C one-time jobs' results."""

from __future__ import annotations

import pytest

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.fno import FnoService
from p2c_sandbox.http import Request, Response, loads

ROOT = "https://erp.test/data/"


def _service(release: str) -> FnoService:
    return FnoService(SandboxConfig(data_dir=None, erp_release=release), None)


def _get(svc: FnoService, path: str, **query: str) -> Response:
    return svc.handle(Request("GET", path, list(query.items()), service_root=ROOT))


def _values(resp: Response) -> list[dict]:
    assert resp.status == 200, resp.body
    return list(loads(resp.body)["value"])


def test_unknown_release_is_refused() -> None:
    with pytest.raises(ValueError, match=r"known: 10\.0\.40"):
        _service("6.0")


def test_release_8_1_lacks_the_dual_write_entities_and_newer_fields() -> None:
    svc = _service("8.1")
    assert _get(svc, "CDSSalesOrderLinesV2").status == 404
    assert _get(svc, "CDSContactPersonsV2").status == 404
    assert _get(svc, "CDSSalesOrderLines").status == 200
    header = _values(_get(svc, "CDSSalesOrderHeaders"))[0]
    assert "SkipGlobalUnifiedPricingCalculation" not in header
    metadata = _get(svc, "$metadata").body.decode()
    assert "CDSSalesOrderLineV2" not in metadata and "SkipGlobalUnifiedPricingCalculation" not in metadata
    assert (
        _get(svc, "CDSSalesOrderHeaders", **{"$select": "SkipGlobalUnifiedPricingCalculation"}).status == 400
    )
    names = {s["name"] for s in loads(_get(svc, "").body)["value"]}
    assert "CDSSalesOrderLinesV2" not in names and "CustomersV3" in names


def test_release_7_3_starts_before_the_one_time_jobs() -> None:
    svc = _service("7.3")
    assert _get(svc, "CustomersV3").status == 404
    assert len(_values(_get(svc, "CustomersV2"))) == 5
    assert _values(_get(svc, "SellableReleasedProducts")) == []
    lines = _values(_get(svc, "CDSSalesOrderLines"))
    assert lines and {ln["LineCreationSequenceNumber"] for ln in lines} == {0}
    assert svc.populate_distinct_products() > 0
    assert len(_values(_get(svc, "SellableReleasedProducts"))) == 18
    assert svc.populate_prospect_to_cash() == len(lines) + 2  # + the quotation lines
    lines = _values(_get(svc, "CDSSalesOrderLines", **{"$filter": "SalesOrderNumber eq '000002'"}))
    assert [ln["LineCreationSequenceNumber"] for ln in lines] == [1, 2, 3, 4, 5]


def test_release_7_2_has_no_cds_sales_order_entities() -> None:
    svc = _service("7.2")
    assert _get(svc, "CDSSalesOrderHeaders").status == 404
    assert _get(svc, "CDSSalesQuotationHeaders").status == 200


def test_clearing_and_refilling_line_numbers_on_the_default_release() -> None:
    svc = _service("10.0.40")
    assert svc.clear_line_sequence_numbers() == 9
    assert {ln["LineCreationSequenceNumber"] for ln in _values(_get(svc, "CDSSalesQuotationLines"))} == {0}
    svc.populate_prospect_to_cash()
    assert [ln["LineCreationSequenceNumber"] for ln in _values(_get(svc, "CDSSalesQuotationLines"))] == [1, 2]


def test_release_endpoint(admin) -> None:
    body = admin.get("release").json()
    assert body["release"] == "10.0.40" and body["missing_sets"] == []
