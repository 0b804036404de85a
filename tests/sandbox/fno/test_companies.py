"""Companies: dataAreaId, the default company and cross-company=true (FNO.md §1.2)."""

from __future__ import annotations


def _companies(rows: list[dict]) -> set[str]:
    return {r["dataAreaId"] for r in rows}


def test_reads_return_only_the_default_company(erp) -> None:
    rows = erp.get("CustomersV3", params={"$select": "dataAreaId,CustomerAccount"}).json()["value"]
    assert _companies(rows) == {"usmf"}
    assert [r["CustomerAccount"] for r in rows] == ["US-001", "US-002", "US-003", "US-004", "US-005"]


def test_cross_company_returns_every_company(erp) -> None:
    rows = erp.get("CustomersV3", params={"cross-company": "true", "$select": "dataAreaId"}).json()["value"]
    assert _companies(rows) == {"usmf", "demf"}
    only_demf = erp.get(
        "CustomersV3", params={"cross-company": "true", "$filter": "dataAreaId eq 'demf'"}
    ).json()["value"]
    assert {r["CustomerAccount"] for r in only_demf} == {"DE-001", "DE-002"}


def test_key_of_another_company_needs_cross_company(erp) -> None:
    url = "CustomersV3(dataAreaId='demf',CustomerAccount='DE-001')"
    assert erp.get(url).status_code == 404
    r = erp.get(url, params={"cross-company": "true"})
    assert r.status_code == 200
    assert r.json()["OrganizationName"] == "Elektronik Berlin GmbH"


def test_data_area_id_is_case_insensitive_in_requests_and_lower_case_in_responses(erp) -> None:
    r = erp.get("CustomersV3(dataAreaId='USMF',CustomerAccount='US-001')")
    assert r.status_code == 200
    assert r.json()["dataAreaId"] == "usmf"
    created = erp.post(
        "CustomerGroups", json={"dataAreaId": "DEMF", "CustomerGroupId": "40", "Description": "Export"}
    )
    assert created.status_code == 201
    assert created.json()["dataAreaId"] == "demf"


def test_post_without_data_area_id_goes_to_the_default_company(erp) -> None:
    r = erp.post("CustomerGroups", json={"CustomerGroupId": "41"})
    assert r.status_code == 201
    assert r.json()["dataAreaId"] == "usmf"


def test_post_to_an_unknown_company_fails(erp) -> None:
    r = erp.post("CustomerGroups", json={"dataAreaId": "zzzz", "CustomerGroupId": "41"})
    assert r.status_code == 400
    assert "zzzz" in r.json()["error"]["innererror"]["message"]


def test_shared_entities_have_no_data_area_id(erp) -> None:
    units = erp.get("UnitsOfMeasure").json()["value"]
    assert {u["UnitSymbol"] for u in units} >= {"ea", "pcs"}
    assert all("dataAreaId" not in u for u in units)
    assert erp.get("UnitsOfMeasure('ea')").status_code == 200
    assert erp.get("Currencies(CurrencyCode='EUR')").json()["Name"] == "Euro"
    assert {e["LegalEntityId"] for e in erp.get("LegalEntities").json()["value"]} == {"usmf", "demf"}


def test_each_company_has_its_own_lookups_and_products(erp) -> None:
    demf = erp.get(
        "SellableReleasedProducts", params={"cross-company": "true", "$filter": "dataAreaId eq 'demf'"}
    ).json()["value"]
    assert {p["CurrencyCode"] for p in demf} == {"EUR"}
    assert "D0001" in {p["ProductNumber"] for p in demf}
    warehouses = erp.get("Warehouses", params={"cross-company": "true"}).json()["value"]
    assert len(warehouses) == 6
