"""Flow 2, Products (ERP → CRM): sellable released products become CRM products with prices.

- ``set_product_state``: a product the sync creates is activated when the project's
  ``products_created_active`` says so (a consequence of its creation: an update of its state).
- ``choose_price_list`` (price-list items): ``$price_list`` = the first price list, by name, in the
  product's currency, or the project's ``price_list`` (:func:`p2c.rules.choose_price_list`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from p2c.connectors import OpKind, WriteOp
from p2c.errors import RecordError
from p2c.flows.base import Flow, Prepared, SideWrite, SideWriteKind, Written
from p2c.rules import FlowName, RuleName, choose_price_list

__all__ = ["ProductsFlow"]


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
                    {"statecode": 0, "statuscode": 1},
                    ref=w.key,
                ),
                "activate the new product",
                record=w.key,
                blocking=True,
                field="statecode",
            )
            for w in written
            if w.created
        ]
