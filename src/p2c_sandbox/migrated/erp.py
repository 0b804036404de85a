"""The ERP side of the ``migrated`` seed: what Microsoft's templates wrote into F&O.

Every write goes through the emulator's own OData service (:meth:`FnoService.handle`), as the
templates' writes did, so defaults, validation and computed fields are the ERP's. Values follow
the mappings Microsoft documents for its templates (the same ones ``docs/templates.md`` lists):
an account's number is the customer account, the contact number is the contact person id and
party number, the CRM line's sequence number is the LineCreationSequenceNumber.

Example::

    erp = ErpWriter(service)
    erp.post("CustomersV3", {"dataAreaId": "usmf", "CustomerAccount": "C10100", ...})
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from p2c_sandbox.fno.entities import ENTITY_SETS
from p2c_sandbox.http import Request

if TYPE_CHECKING:
    from p2c_sandbox.fno import FnoService
    from p2c_sandbox.store import Row

__all__ = ["COMPANY", "NO_DATE", "ErpWriter", "iso_country"]

COMPANY = "usmf"
#: the templates' default for a date the CRM leaves empty
NO_DATE = "1900-01-01T00:00:00Z"
_ROOT = "https://erp.sandbox/data/"
_COUNTRIES = {"": "US", "US": "US", "USA": "US", "United States": "US", "United States of America": "US"}


def iso_country(text: str | None) -> str:
    """The country value map of the templates (CRM country text → ISO code); blank means US."""
    return _COUNTRIES.get((text or "").strip(), "US")


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


class ErpWriter:
    """Writes and reads of the emulated ERP through its OData service, in company ``usmf``."""

    def __init__(self, service: FnoService) -> None:
        self.service = service

    def post(self, entity_set: str, values: dict[str, Any]) -> None:
        body = {k: _json(v) for k, v in values.items() if v is not None}
        body.setdefault("dataAreaId", COMPANY)
        self._send("POST", entity_set, body)

    def patch(self, entity_set: str, key: dict[str, Any], values: dict[str, Any]) -> None:
        literal = ",".join(
            f"{k}={v}" if isinstance(v, int) else f"{k}='{quote(str(v))}'"
            for k, v in {"dataAreaId": COMPANY, **key}.items()
        )
        self._send("PATCH", f"{entity_set}({literal})", {k: _json(v) for k, v in values.items()})

    def _send(self, method: str, path: str, body: dict[str, Any]) -> None:
        req = Request(
            method,
            path,
            query=[("cross-company", "true")],
            headers={"content-type": "application/json"},
            body=json.dumps(body).encode(),
            base_url=_ROOT,
            service_root=_ROOT,
        )
        resp = self.service.handle(req)
        if resp.status >= 300:
            raise RuntimeError(f"migrated seed: {method} {path} answered {resp.status}: {resp.body!r}")

    def rows(self, entity_set: str) -> list[Row]:
        return self.service.data.rows(ENTITY_SETS[entity_set], COMPANY)

    def one(self, entity_set: str, **key: Any) -> Row:
        found = [r for r in self.rows(entity_set) if all(r.get(k) == v for k, v in key.items())]
        if len(found) != 1:
            raise LookupError(f"migrated seed: {len(found)} {entity_set} rows match {key}")
        return found[0]

    def order_lines(self, number: str) -> list[Row]:
        lines = [r for r in self.rows("CDSSalesOrderLines") if r.get("SalesOrderNumber") == number]
        return sorted(lines, key=lambda r: int(r.get("LineCreationSequenceNumber") or 0))
