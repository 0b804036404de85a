"""The CRM side of the ``migrated`` seed: rows written with the emulator's own writer, so the Sales
rules (pricing, numbering, totals, line sequence numbers) ran on them as they did on the real CRM.

Example::

    crm = CrmWriter(service)
    crm.update("account", account_id, {"accountnumber": "ACC-01000-BVRCPS"})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from p2c_sandbox.dataverse.seed_data import Ids, create

if TYPE_CHECKING:
    from p2c_sandbox.dataverse.service import DataverseService
    from p2c_sandbox.store import Row

__all__ = ["PROCESSING", "CrmWriter"]

#: the ERP's SalesOrderProcessingStatus → the solution's msdynce_processingstatus option
PROCESSING = {
    "Active": 647390000,
    "Confirmed": 647390001,
    "Delivered": 647390002,
    "Invoiced": 647390003,
    "Picked": 647390004,
    "PartiallyPicked": 647390005,
    "PartiallyDelivered": 647390006,
    "Shipped": 647390007,
    "PartiallyShipped": 647390008,
    "PartiallyInvoiced": 647390009,
    "Canceled": 647390010,
}


class CrmWriter:
    """Creates, updates and reads rows of the emulated CRM."""

    def __init__(self, service: DataverseService, ids: Ids) -> None:
        self.org = service.org
        self.writer = service.writer
        self.ids = ids

    def create(self, table: str, fields: dict[str, Any]) -> Row:
        return create(self.writer, table, {f"{table}id": self.ids.new(), **fields})

    def update(self, table: str, pk: str, fields: dict[str, Any]) -> Row:
        row = self.org.get(table, pk)
        if row is None:
            raise LookupError(f"migrated seed: no {table} {pk}")
        return self.writer.update_fields(self.org.catalog.table(table), row, fields)

    def rows(self, table: str) -> list[Row]:
        """Every row of ``table``, in creation order (the seed's order: an update keeps a row's place)."""
        return list(self.org.rows(table).rows.values())

    def one(self, table: str, **match: Any) -> Row:
        found = [r for r in self.rows(table) if all(r.get(k) == v for k, v in match.items())]
        if len(found) != 1:
            raise LookupError(f"migrated seed: {len(found)} {table} rows match {match}")
        return found[0]

    def children(self, table: str, parent_field: str, parent_id: str) -> list[Row]:
        lines = [r for r in self.rows(table) if r.get(parent_field) == parent_id]
        return sorted(lines, key=lambda r: int(r.get("sequencenumber") or 0))
