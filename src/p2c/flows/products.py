"""Flow 2, Products (ERP → CRM): sellable released products become CRM products with prices.

- ``set_product_state``: a product the sync creates is activated when the project's
  ``products_created_active`` says so (a consequence of its creation: an update of its state).
  So is a product new to p2c that the CRM held already (a user's, or one a run stopped before
  saving its links created), unless the write found it Active: activating it changes nothing,
  and skipping it saves a request per chunk on an initial load into a CRM holding the catalogue.
- ``choose_price_list`` (price-list items): ``$price_list`` = the first price list, by name, in the
  product's currency, or the project's ``price_list`` (:func:`p2c.rules.choose_price_list`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from p2c.connectors import OpKind, WriteOp
from p2c.errors import RecordError
from p2c.flows.base import Flow, Prepared, SideWrite, SideWriteKind, Written
from p2c.rules import FlowName, RuleName, choose_price_list

__all__ = ["ProductsFlow"]

ACTIVE = (0, 1)  # a product's statecode and statuscode when Active (DATAVERSE.md §3.1)


class ProductsFlow(Flow):
    name: ClassVar[FlowName] = FlowName.PRODUCTS

    def prepare_chunk(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        out = Prepared()
        if not self.ctx.has(RuleName.CHOOSE_PRICE_LIST):
            return out
        lists = self.ctx.cache.price_lists
        preferred = self.ctx.project.settings.price_list
        for row in rows:
            try:
                row["$price_list"] = choose_price_list(
                    lists, row.get("CurrencyCode"), preferred, entity=self.task.target.entity
                )
            except RecordError as exc:
                out.fail(row, exc)
        return out

    def after_write(self, written: Sequence[Written]) -> list[SideWrite]:
        if (
            not self.ctx.has(RuleName.SET_PRODUCT_STATE)
            or not self.ctx.project.settings.products_created_active
        ):
            return []
        return [
            SideWrite(
                SideWriteKind.ACTIVATE_PRODUCT,
                self.task.target.system,
                self.task.target.entity,
                WriteOp(
                    OpKind.UPDATE,
                    {k: w.payload.get(k) for k in self.task.key_target},
                    dict(zip(("statecode", "statuscode"), ACTIVE, strict=True)),
                    ref=w.key,
                ),
                "activate the new product",
                record=w.key,
                blocking=True,
                field="statecode",
            )
            for w in written
            if w.created and not _active(w.found)
        ]


def _active(found: Mapping[str, Any] | None) -> bool:
    """The product was Active before the write (which does not change its state)."""
    return found is not None and (found.get("statecode"), found.get("statuscode")) == ACTIVE
